"""One outbox reader per process, handing new events to the connected streams.

Why: when every stream queried the outbox itself, each commit woke all the
streams and cost one query per connected desktop — 500 queries per commit,
p99 above half a second on two cores. Here one reader task per event loop
fetches the new ``events`` rows once per wake-up and puts each row on the
queue of every stream subscribed to its channel (``user:<id>``, ``floor``).
Streams read the database only for their backlog (a reconnection with
``Last-Event-ID``, a page's ``after``) and after their queue overflowed.

The hand-over from backlog to queue leaves no gap and no duplicate: a stream
subscribes first and gets ``mark``, the reader's position at that instant;
every row with a greater id goes on its queue, because the reader only moves
its position by handing rows to the streams subscribed at that moment (the
position and the subscriptions change in the event loop, never across an
``await``). The stream reads its backlog up to ``mark`` from the database,
then takes its queue and drops any id it has already sent.

Ids go out in ascending order, and a row is handed out only when every id
below it is settled: on PostgreSQL a transaction takes its id at insert and may
commit after a later one, so the reader holds the rows after a missing id until
it appears (its commit wakes the bus) or ``GAP_WAIT_S`` has passed (rolled back).

The database stays the source of truth: a reader that fails logs and starts
again from its position, a queue that grows past ``QUEUE_LIMIT`` (a stream that
cannot keep up) is emptied and the stream catches up from the database, and
the reader polls every ``POLL_S`` so rows committed by another process (``plateau
simulate --live``) arrive without a wake-up from this one's bus.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import datetime
from typing import Iterable, NamedTuple

from sqlalchemy import func, select

from ..bus.local import LocalBus
from ..services.context import Context
from ..store.models import Event

log = logging.getLogger(__name__)

BATCH = 200
#: how often the reader looks at the outbox without a wake-up (other processes' commits)
POLL_S = 1.0
#: how long a failed reader waits before it starts again
RESTART_S = 1.0
#: rows waiting for one stream before it is told to catch up from the database instead
QUEUE_LIMIT = 1000
#: how long the reader waits for a missing id below a committed one (PostgreSQL: a transaction that
#: took its id earlier and has not committed yet) before it takes it for rolled back and goes on
GAP_WAIT_S = 2.0


class Delivery(NamedTuple):
    """One outbox row, as streams send it (the id is the SSE id)."""

    id: int
    channel: str
    type: str
    payload: dict


class Overflow:
    """Put on a stream's queue in place of the rows it dropped: read them from the database."""


OVERFLOW = Overflow()

#: the reader's position: a row (id, channel, type, created_at), so that it can tell that row still
#: being there from an outbox emptied and filled again (ids start again: tests wipe the database)
Anchor = tuple[int, str, str, datetime | None]
EMPTY: Anchor = (0, "", "", None)
_ANCHOR = (Event.id, Event.channel, Event.type, Event.created_at)


def newest_id(ctx: Context) -> int:
    with ctx.read() as session:
        return session.scalar(select(func.max(Event.id))) or 0


def _newest_anchor(ctx: Context) -> Anchor:
    with ctx.read() as session:
        row = session.execute(select(*_ANCHOR).order_by(Event.id.desc()).limit(1)).first()
    return tuple(row) if row else EMPTY


def read_outbox(ctx: Context, channels: Iterable[str], after: int, upto: int) -> list[Delivery]:
    """Up to ``BATCH`` rows of ``channels`` with ``after < id <= upto``, in id order (a stream's backlog:
    ``upto`` is where the reader was, so ids below it are settled)."""
    query = select(Event.id, Event.channel, Event.type, Event.payload).where(
        Event.channel.in_(list(channels)), Event.id > after, Event.id <= upto)
    with ctx.read() as session:
        return [Delivery(*row) for row in session.execute(query.order_by(Event.id).limit(BATCH))]


class Subscription:
    """One stream's queue: the rows of its channels with an id above ``mark``, in id order."""

    __slots__ = ("channels", "mark", "_queue", "_limit")

    def __init__(self, channels: tuple[str, ...], mark: int, limit: int) -> None:
        self.channels = channels
        self.mark = mark
        self._queue: asyncio.Queue[Delivery | Overflow] = asyncio.Queue()
        self._limit = limit

    def put(self, delivery: Delivery) -> None:
        """Called by the reader, in the event loop. Never blocks the reader: a stream
        that fell ``limit`` rows behind loses its queue and is told to catch up."""
        if self._queue.qsize() < self._limit:
            self._queue.put_nowait(delivery)
            return
        while not self._queue.empty():
            self._queue.get_nowait()
        # every dropped row (and this one) is committed already: the catch-up read sees it
        self._queue.put_nowait(OVERFLOW)

    async def get(self, timeout: float) -> Delivery | Overflow | None:
        """The next row, ``OVERFLOW``, or None after ``timeout`` seconds of silence."""
        if not self._queue.empty():
            return self._queue.get_nowait()
        try:
            async with asyncio.timeout(timeout):
                return await self._queue.get()
        except TimeoutError:
            return None


class EventHub:
    """The reader of one process (one event loop) and the streams it feeds."""

    def __init__(self, ctx: Context, poll_s: float = POLL_S, restart_s: float = RESTART_S,
                 queue_limit: int = QUEUE_LIMIT, gap_wait_s: float = GAP_WAIT_S) -> None:
        self.ctx = ctx
        self.poll_s = poll_s
        self.restart_s = restart_s
        self.queue_limit = queue_limit
        self.gap_wait_s = gap_wait_s
        self._gap: tuple[int, float] | None = None  # the first missing id, since when
        #: the highest outbox id handed to the streams (None until the reader first looked)
        self.last: int | None = None
        self._anchor: Anchor = EMPTY
        self._by_channel: dict[str, set[Subscription]] = {}
        self._subscriptions: set[Subscription] = set()
        self._starting = asyncio.Lock()
        self._task: asyncio.Task | None = None

    @property
    def streams(self) -> int:
        """Subscriptions alive (for tests and diagnostics: a closed stream must leave none)."""
        return len(self._subscriptions)

    @property
    def channels(self) -> int:
        return len(self._by_channel)

    async def subscribe(self, channels: Iterable[str]) -> Subscription:
        if self.last is None:
            async with self._starting:
                if self.last is None:
                    self._anchor = await asyncio.to_thread(_newest_anchor, self.ctx)
                    self.last = self._anchor[0]
        self.ensure_running()
        # no await from here on: ``mark`` and the registration are one step for the reader
        subscription = Subscription(tuple(channels), self.last, self.queue_limit)
        for channel in subscription.channels:
            self._by_channel.setdefault(channel, set()).add(subscription)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)
        for channel in subscription.channels:
            subscribers = self._by_channel.get(channel)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._by_channel[channel]

    def ensure_running(self) -> None:
        """Start the reader if it is not running (first stream, or it ended unexpectedly)."""
        if self._task is not None and not self._task.done():
            return
        if self._task is not None and not self._task.cancelled() and self._task.exception() is not None:
            log.error("the outbox reader ended", exc_info=self._task.exception())
        self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox reader")

    async def _run(self) -> None:
        while True:
            try:
                await self._follow()
            except Exception:  # a database error, a bug: the streams wait, the reader starts again
                log.exception("the outbox reader failed; it starts again in %.0f s", self.restart_s)
                await asyncio.sleep(self.restart_s)

    async def _follow(self) -> None:
        bus: LocalBus = self.ctx.bus
        while True:
            seen = bus.generation  # before the query: a commit after it makes ``wait`` return at once
            rows = await asyncio.to_thread(self._read_new, self._anchor)
            if rows is None:  # the outbox was emptied (tests wipe the database): ids start again
                self.last, self._anchor = 0, EMPTY
                continue
            ready = self._ready(rows, time.monotonic())
            self._dispatch(ready)
            if len(ready) < len(rows):  # held at a gap: its commit wakes the bus, else it times out
                await bus.wait(min(self.poll_s, self._gap[1] + self.gap_wait_s - time.monotonic()), seen)
            elif len(rows) < BATCH:
                await bus.wait(self.poll_s, seen)

    def _ready(self, rows: list[tuple], now: float) -> list[tuple]:
        """The rows that can be handed out: up to the first missing id, unless it has been missing
        for ``gap_wait_s``. Ids are handed out in order and streams drop what is not above their
        last id, so a row committed late below a row already handed out would never reach them.
        On SQLite writers take turns and ids come in commit order: there are no gaps."""
        expected = self.last + 1
        for index, row in enumerate(rows):
            if row[0] != expected:
                if self._gap is None or self._gap[0] != expected:
                    self._gap = (expected, now)
                if now - self._gap[1] < self.gap_wait_s:
                    return rows[:index]
                log.warning("outbox ids %d to %d not committed after %.1f s: handed out without them",
                            expected, row[0] - 1, self.gap_wait_s)
            expected = row[0] + 1
        self._gap = None
        return rows

    def _read_new(self, anchor: Anchor) -> list[tuple] | None:
        """Up to ``BATCH`` rows after ``anchor`` (every channel), or None if ``anchor`` is not in the
        outbox any more. One query: the anchor row comes back first, to be recognised."""
        query = select(*_ANCHOR, Event.payload).where(Event.id >= anchor[0]).order_by(Event.id).limit(BATCH + 1)
        with self.ctx.read() as session:
            rows = session.execute(query).all()
        if anchor == EMPTY:
            return rows[:BATCH]
        if not rows or tuple(rows[0][:4]) != anchor:
            return None
        return rows[1:]

    def _dispatch(self, rows: list[tuple]) -> None:
        for id_, channel, type_, created_at, payload in rows:
            delivery = Delivery(id_, channel, type_, payload)
            for subscription in self._by_channel.get(channel, ()):
                subscription.put(delivery)
            self.last, self._anchor = id_, (id_, channel, type_, created_at)


_hubs: dict[tuple[asyncio.AbstractEventLoop, LocalBus], EventHub] = {}
_hubs_lock = threading.Lock()


def hub_for(ctx: Context) -> EventHub:
    """The hub of this event loop for ``ctx``'s bus (created on the first stream).

    Keyed by loop because the reader is a task of one loop; hubs of closed loops
    (a test client's) are dropped here.
    """
    loop = asyncio.get_running_loop()
    with _hubs_lock:
        for key in [key for key in _hubs if key[0].is_closed()]:
            del _hubs[key]
        hub = _hubs.get((loop, ctx.bus))
        if hub is None:
            hub = _hubs[(loop, ctx.bus)] = EventHub(ctx)
    return hub


def hubs(bus: LocalBus) -> list[EventHub]:
    """The hubs woken by ``bus``, in every loop (for tests and diagnostics)."""
    with _hubs_lock:
        return [hub for (_loop, hub_bus), hub in _hubs.items() if hub_bus is bus]
