"""The event stream over real HTTP: events arrive in order, and a reconnection
with Last-Event-ID gets exactly what was missed; the one outbox reader per
process hands every stream exactly its channels' rows (no gap, no duplicate, no
lost wake-up), survives its own failures and leaves nothing behind a closed
stream."""

import asyncio
import json
import logging
import random
import threading

import httpx
import pytest
from sqlalchemy import select

from plateau.bus.local import LocalBus
from plateau.services import agents
from plateau.services.context import FLOOR, emit, user_channel
from plateau.services.users import actor_for
from plateau.store.models import Event
from plateau.web import events as events_module
from plateau.web.event_hub import OVERFLOW, Delivery, EventHub, Subscription, hubs
from tests.helpers import PASSWORD, csrf_of, make_user


def _run(coroutine):
    """``asyncio.run`` in a thread of its own: in the full suite the browser tests' Playwright
    (sync API) leaves an event loop running in the main thread, where ``asyncio.run`` refuses."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _login(client: httpx.Client, username: str) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code in (200, 303)


def _read(client: httpx.Client, headers: dict, count: int, after: int | None = None) -> list[tuple[str, str, dict]]:
    """Read ``count`` events (id, type, data) from the stream, then close it."""
    events, current = [], {}
    params = {"after": after} if after is not None else {}
    with client.stream("GET", "/events", headers=headers, params=params, timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("id:"):
                current["id"] = line[3:].strip()
            elif line.startswith("event:"):
                current["event"] = line[6:].strip()
            elif line.startswith("data:"):
                current["data"] = json.loads(line[5:].strip())
            elif line == "" and "event" in current:
                events.append((current["id"], current["event"], current["data"]))
                current = {}
                if len(events) == count:
                    break
    return events


def test_events_resume_after_last_event_id(live):
    user = make_user(live.ctx, "amina")
    actor = actor_for(user)
    with httpx.Client(base_url=live.url) as client:
        _login(client, "amina")
        agents.set_state(live.ctx, actor, "available")
        agents.set_state(live.ctx, actor, "paused", "lunch")
        agents.set_state(live.ctx, actor, "available")
        first = _read(client, {}, 2, after=0)
        assert [(e[1], e[2]["state"]) for e in first] == [("agent_state", "available"), ("agent_state", "paused")]
        rest = _read(client, {"Last-Event-ID": first[-1][0]}, 1)
        assert rest[0][2]["state"] == "available" and int(rest[0][0]) > int(first[-1][0])


def test_the_stream_needs_a_login(live):
    with httpx.Client(base_url=live.url) as client:
        assert client.get("/events", follow_redirects=False).status_code in (303, 401)


# --- the one outbox reader and the streams it feeds -------------------------------------------
#
# Streams below run in this process's own event loop (httpx.AsyncClient), against the live server
# (uvicorn in a thread, SQLite); writers commit from worker threads as the services do.

#: how long a test waits for something that should happen at once (a hang fails instead of blocking)
PATIENCE_S = 15


def _write(ctx, rows: list[tuple[str, str, dict]]) -> None:
    """One commit writing ``rows`` (channel, type, payload) to the outbox; wakes the bus like a service."""
    with ctx.unit() as session:
        for channel, type_, payload in rows:
            emit(session, channel, type_, payload, ctx.now())


def _outbox(ctx, channels, after: int) -> list[tuple[int, str, dict]]:
    with ctx.read() as session:
        return [tuple(row) for row in session.execute(
            select(Event.id, Event.type, Event.payload).where(Event.channel.in_(channels), Event.id > after)
            .order_by(Event.id))]


def _newest(ctx) -> int:
    return events_module.latest_event_id(ctx)


async def _async_client(live, username: str) -> httpx.AsyncClient:
    def log_in():
        with httpx.Client(base_url=live.url) as client:
            _login(client, username)
            return client.cookies

    cookies = await asyncio.to_thread(log_in)
    return httpx.AsyncClient(base_url=live.url, cookies=cookies, timeout=None)


class Stream:
    """One /events stream read in the background: its events (id, type, data) in arrival order."""

    def __init__(self, client: httpx.AsyncClient, params: dict | None = None, headers: dict | None = None):
        self.client, self.params, self.headers = client, params or {}, headers or {}
        self.events: list[tuple[int, str, dict]] = []
        self.connected = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def open(self) -> "Stream":
        self.task = asyncio.create_task(self._run())
        await asyncio.wait_for(self.connected.wait(), PATIENCE_S)
        return self

    async def _run(self) -> None:
        current: dict = {}
        async with self.client.stream("GET", "/events", params=self.params, headers=self.headers) as response:
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    self.connected.set()
                elif line.startswith("id:"):
                    current["id"] = int(line[3:].strip())
                elif line.startswith("event:"):
                    current["event"] = line[6:].strip()
                elif line.startswith("data:"):
                    current["data"] = json.loads(line[5:].strip())
                elif line == "" and "event" in current:
                    self.events.append((current["id"], current["event"], current["data"]))
                    current = {}

    async def until(self, event_id: int) -> list[tuple[int, str, dict]]:
        """Wait until the event ``event_id`` (or a later one) arrived; the events so far."""
        async def arrived():
            while not (self.events and self.events[-1][0] >= event_id):
                assert not self.task.done(), f"the stream ended: {self.task}"
                await asyncio.sleep(0.01)

        await asyncio.wait_for(arrived(), PATIENCE_S)
        return list(self.events)

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def _wait(condition, what: str) -> None:
    async def check():
        while not condition():
            await asyncio.sleep(0.01)

    try:
        await asyncio.wait_for(check(), PATIENCE_S)
    except asyncio.TimeoutError:
        raise AssertionError(f"still waiting for: {what}") from None


def _live_hub(live) -> EventHub:
    [hub] = hubs(live.ctx.bus)
    return hub


async def _settle(live, probe: Stream, channel: str) -> int:
    """Write an event and wait for ``probe`` to get it: the server's reader is then past every row
    before it (past the previous test's rows too: the database was wiped and ids start again).
    Returns its id."""
    await asyncio.to_thread(_write, live.ctx, [(channel, "settle", {})])
    newest = await asyncio.to_thread(_newest, live.ctx)
    await probe.until(newest)
    return newest


def test_concurrent_streams_get_exactly_their_channels_in_order_under_concurrent_writers(live):
    """Agents, supervisors watching the floor, an agent who asks for the floor (and must not get it),
    two tabs of one user, streams that connect while the writers write (their backlog and their queue
    meet without gap or duplicate), and a channel nobody listens to."""
    agents_ = [make_user(live.ctx, f"agent{i}") for i in range(8)]
    supervisors = [make_user(live.ctx, f"chef{i}", role="supervisor") for i in range(2)]
    curious = make_user(live.ctx, "curieux")
    nobody = user_channel(10_000)
    channels = [user_channel(u.id) for u in agents_ + supervisors + [curious]] + [FLOOR, nobody]

    def expected_channels(user, floor: bool) -> list[str]:
        return [user_channel(user.id)] + ([FLOOR] if floor and user.role == "supervisor" else [])

    def writer(seed: int, commits: int, halfway: threading.Event) -> None:
        rng = random.Random(seed)
        for n in range(commits):
            _write(live.ctx, [(rng.choice(channels), "tick", {"writer": seed, "n": n, "part": k})
                              for k in range(rng.choice((1, 1, 2, 3)))])
            if n == commits // 2:
                halfway.set()

    async def scenario():
        streams: list[tuple[Stream, list[str]]] = []
        clients = {}
        for user in agents_ + supervisors + [curious]:
            clients[user.id] = await _async_client(live, user.username)
        probe = await Stream(clients[curious.id]).open()
        start = await _settle(live, probe, user_channel(curious.id))
        # before the writers: half from "now", half from the page's id
        for index, user in enumerate(agents_ + supervisors + [curious]):
            floor = user in supervisors or user is curious
            params = {"floor": 1} if floor else {}
            if index % 2:
                params["after"] = start
            streams.append((await Stream(clients[user.id], params).open(), expected_channels(user, floor)))
        halfway = [threading.Event() for _ in range(4)]
        writers = [asyncio.create_task(asyncio.to_thread(writer, seed, 40, halfway[seed])) for seed in range(4)]
        await asyncio.to_thread(halfway[0].wait, PATIENCE_S)
        # while they write: a second tab resuming from the start, by header and by ``after``
        late = [(agents_[0], {"headers": {"Last-Event-ID": str(start)}}),
                (supervisors[0], {"params": {"after": start, "floor": 1}}),
                (agents_[1], {"params": {"after": start}})]
        for user, options in late:
            floor = "floor" in options.get("params", {})
            streams.append((await Stream(clients[user.id], **options).open(), expected_channels(user, floor)))
        await asyncio.gather(*writers)
        # a last event on every channel: once a stream has it, everything before it has arrived
        await asyncio.to_thread(_write, live.ctx, [(channel, "last", {}) for channel in channels])
        for stream, stream_channels in streams:
            expected = await asyncio.to_thread(_outbox, live.ctx, stream_channels, start)
            received = await stream.until(expected[-1][0])
            assert received == expected, f"stream of {stream_channels}: {len(received)} events, {len(expected)} expected"
        for stream, _ in streams + [(probe, None)]:
            await stream.close()
        for client in clients.values():
            await client.aclose()

    _run(scenario())


def test_resume_after_a_disconnection_then_live_events_on_the_same_stream(live):
    user = make_user(live.ctx, "amina")
    channel = user_channel(user.id)

    async def scenario():
        client = await _async_client(live, "amina")
        start = await asyncio.to_thread(_newest, live.ctx)
        first = await Stream(client, {"after": start}).open()
        for n in range(2):
            await asyncio.to_thread(_write, live.ctx, [(channel, "before", {"n": n})])
        seen = await first.until(await asyncio.to_thread(_newest, live.ctx))
        await first.close()
        for n in range(3):  # written while the desktop is away
            await asyncio.to_thread(_write, live.ctx, [(channel, "away", {"n": n})])
        again = await Stream(client, headers={"Last-Event-ID": str(seen[-1][0])}).open()
        await asyncio.to_thread(_write, live.ctx, [(channel, "back", {"n": 0})])
        received = await again.until(await asyncio.to_thread(_newest, live.ctx))
        await again.close()
        await client.aclose()
        assert [(e[1], e[2]["n"]) for e in seen] == [("before", 0), ("before", 1)]
        assert [(e[1], e[2]["n"]) for e in received] == [("away", 0), ("away", 1), ("away", 2), ("back", 0)]
        assert received == await asyncio.to_thread(_outbox, live.ctx, [channel], seen[-1][0])

    _run(scenario())


def test_a_stream_that_falls_behind_catches_up_from_the_outbox(live, monkeypatch):
    """More rows at once than its queue may hold: the queue is dropped, the stream reads the outbox."""
    user = make_user(live.ctx, "amina")
    channel = user_channel(user.id)

    async def scenario():
        client = await _async_client(live, "amina")
        probe = await Stream(client).open()  # the server's hub exists once a stream connected
        start = await _settle(live, probe, channel)
        monkeypatch.setattr(_live_hub(live), "queue_limit", 2)
        stream = await Stream(client, {"after": start}).open()
        await asyncio.to_thread(_write, live.ctx, [(channel, "burst", {"n": n}) for n in range(10)])
        await asyncio.to_thread(_write, live.ctx, [(channel, "after", {"n": 0})])
        received = await stream.until(await asyncio.to_thread(_newest, live.ctx))
        for each in (probe, stream):
            await each.close()
        await client.aclose()
        assert [(e[1], e[2]["n"]) for e in received] == [("burst", n) for n in range(10)] + [("after", 0)]
        assert received == await asyncio.to_thread(_outbox, live.ctx, [channel], start)

    _run(scenario())


def test_closed_streams_leave_no_subscription_behind(live):
    agent = make_user(live.ctx, "amina")
    make_user(live.ctx, "chef", role="supervisor")

    async def scenario():
        agent_client = await _async_client(live, "amina")
        supervisor_client = await _async_client(live, "chef")
        # streams that earlier tests (browser pages) left on the shared live server stay until their
        # keep-alive finds them gone: count only the subscriptions this test opens
        existing = hubs(live.ctx.bus)
        before = set(existing[0]._subscriptions) if existing else set()
        streams = [await Stream(agent_client).open(), await Stream(agent_client, {"after": 0}).open(),
                   await Stream(supervisor_client, {"floor": 1}).open(), await Stream(supervisor_client).open()]
        hub = _live_hub(live)

        def ours() -> set:
            return set(hub._subscriptions) - before

        def filed_but_closed() -> set:
            """Subscriptions of this test still filed under a channel after they left."""
            filed = {sub for subs in hub._by_channel.values() for sub in subs} - before
            return filed - set(hub._subscriptions)

        await _wait(lambda: len(ours()) == 4, "the four streams")
        assert {channel for sub in ours() for channel in sub.channels} == {
            user_channel(agent.id), user_channel(agent.id + 1), FLOOR}
        await streams[2].close()
        await _wait(lambda: len(ours()) == 3, "the floor stream to leave")
        assert not filed_but_closed()
        assert all(hub._by_channel.values()), "a channel with no stream left is dropped"
        await asyncio.to_thread(_write, live.ctx, [(user_channel(agent.id), "still", {}), (FLOOR, "floor", {})])
        newest = await asyncio.to_thread(_newest, live.ctx)
        assert [e[1] for e in await streams[0].until(newest - 1)] == ["still"]
        for stream in streams:
            await stream.close()
        await _wait(lambda: not ours(), "every stream to leave")
        assert not filed_but_closed()
        assert all(hub._by_channel.values())
        await agent_client.aclose()
        await supervisor_client.aclose()

    _run(scenario())


def test_a_failing_reader_logs_and_starts_again(live, monkeypatch, caplog):
    user = make_user(live.ctx, "amina")
    failures = []
    read_new = EventHub._read_new

    def failing_once(self, anchor):
        if not failures:
            failures.append(anchor)
            raise RuntimeError("base de données indisponible")
        return read_new(self, anchor)

    async def scenario():
        client = await _async_client(live, "amina")
        stream = await Stream(client).open()
        monkeypatch.setattr(EventHub, "_read_new", failing_once)
        await asyncio.to_thread(_write, live.ctx, [(user_channel(user.id), "hello", {})])
        received = await stream.until(await asyncio.to_thread(_newest, live.ctx))
        await stream.close()
        await client.aclose()
        assert [e[1] for e in received] == ["hello"]

    with caplog.at_level(logging.ERROR, logger="plateau.web.event_hub"):
        _run(scenario())
    assert failures and "the outbox reader failed" in caplog.text


def test_streams_restart_a_reader_that_is_gone(live, monkeypatch):
    """Whatever stopped the reader, a stream does not wait forever: at its keep-alive it starts one."""
    user = make_user(live.ctx, "amina")
    monkeypatch.setattr(events_module, "KEEPALIVE_S", 0.1)

    async def scenario():
        client = await _async_client(live, "amina")
        stream = await Stream(client).open()
        hub = _live_hub(live)
        task = hub._task
        task.get_loop().call_soon_threadsafe(task.cancel)
        await _wait(task.done, "the reader to stop")
        await asyncio.to_thread(_write, live.ctx, [(user_channel(user.id), "hello", {})])
        received = await stream.until(await asyncio.to_thread(_newest, live.ctx))
        await stream.close()
        await client.aclose()
        assert [e[1] for e in received] == ["hello"] and hub._task is not task

    _run(scenario())


def test_a_page_ahead_of_the_reader_gets_no_event_twice(live, monkeypatch):
    """The page was rendered after rows the reader has not handed out yet (its query is slow here):
    the stream starts after them, and drops them when the reader queues them."""
    user = make_user(live.ctx, "amina")
    channel = user_channel(user.id)
    gate = threading.Event()
    read_new = EventHub._read_new

    def slow(self, anchor):
        gate.wait(PATIENCE_S)
        return read_new(self, anchor)

    async def scenario():
        client = await _async_client(live, "amina")
        probe = await Stream(client).open()
        start = await _settle(live, probe, channel)
        monkeypatch.setattr(EventHub, "_read_new", slow)
        for n in range(2):
            await asyncio.to_thread(_write, live.ctx, [(channel, "seen", {"n": n})])
        page = await asyncio.to_thread(_newest, live.ctx)
        stream = await Stream(client, {"after": page}).open()
        assert _live_hub(live).last == start < page
        await asyncio.to_thread(_write, live.ctx, [(channel, "new", {"n": 0})])
        gate.set()
        received = await stream.until(await asyncio.to_thread(_newest, live.ctx))
        everything = await probe.until(received[-1][0])
        for each in (probe, stream):
            await each.close()
        await client.aclose()
        assert [(e[1], e[2]["n"]) for e in received] == [("new", 0)]
        assert [e[1] for e in everything] == ["settle", "seen", "seen", "new"]

    try:
        _run(scenario())
    finally:
        gate.set()


# --- no lost wake-up --------------------------------------------------------------------------


def test_the_bus_keeps_a_notify_that_came_before_the_wait():
    async def scenario():
        bus = LocalBus()
        seen = bus.generation
        await asyncio.to_thread(bus.notify)  # between the reader's query and its wait, from a worker thread
        assert await asyncio.wait_for(bus.wait(60, seen), PATIENCE_S) is True
        seen = bus.generation
        assert await bus.wait(0.01, seen) is False  # nothing new: it sleeps until the timeout
        waiting = asyncio.create_task(bus.wait(60, seen))
        await asyncio.sleep(0)
        await asyncio.to_thread(bus.notify)
        assert await asyncio.wait_for(waiting, PATIENCE_S) is True

    _run(scenario())


def test_a_commit_during_the_readers_query_reaches_the_stream_without_another_wake_up(ctx):
    """The commit lands after the reader's query and before it waits; the poll is a minute away,
    so only the bus's generation can bring the row in time. Then the reader goes on from that row
    (it recognises its position: no reset, no row twice), on each backend."""

    class RacingHub(EventHub):
        raced = False

        def _read_new(self, anchor):
            rows = super()._read_new(anchor)
            if not self.raced:
                self.raced = True
                _write(ctx, [("user:1", "raced", {})])  # commits and notifies from this worker thread
            return rows

    async def scenario():
        _write(ctx, [("user:1", "old", {})])
        hub = RacingHub(ctx, poll_s=60)
        subscription = await hub.subscribe(["user:1"])
        item = await asyncio.wait_for(subscription.get(60), PATIENCE_S)
        assert hub.raced and item.type == "raced"
        await asyncio.to_thread(_write, ctx, [("user:2", "elsewhere", {}), ("user:1", "next", {})])
        item = await asyncio.wait_for(subscription.get(60), PATIENCE_S)
        assert item.type == "next" and hub.last == item.id and await subscription.get(0.01) is None

    _run(scenario())


class CountingHub(EventHub):
    """Counts its reads: once a read has begun after another ended, that one's rows were dispatched."""

    reads = 0

    def _read_new(self, anchor):
        self.reads += 1
        return super()._read_new(anchor)


async def _dispatched(hub: CountingHub, since: int) -> None:
    """Wait until the reader has read and dispatched at least once after read number ``since``."""
    hub.ctx.bus.notify()
    await _wait(lambda: hub.reads > since, "a read")
    hub.ctx.bus.notify()
    await _wait(lambda: hub.reads > since + 1, "the read after it")


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_a_row_committed_after_a_later_id_is_handed_out_first(ctx, outcome):
    """PostgreSQL hands out ids at insert time: a transaction still open holds an id below a row
    already committed. The reader holds that row until the gap is filled (commit) or times out
    (rollback) — a row handed out early would make the streams skip the late one."""
    if ctx.db.is_sqlite:
        pytest.skip("SQLite writers take turns: ids are committed in order")

    async def scenario():
        hub = CountingHub(ctx, poll_s=60, gap_wait_s=60 if outcome == "commit" else 0.2)
        subscription = await hub.subscribe(["user:1"])
        with ctx.db.sessions() as slow:  # closed (rolled back if still open) whatever happens
            emit(slow, "user:1", "slow", {}, ctx.now())
            slow.flush()  # its id is taken; the transaction stays open
            await asyncio.to_thread(_write, ctx, [("user:1", "quick", {})])
            await _dispatched(hub, hub.reads)
            assert await subscription.get(0) is None, "the quick row went out before the slow one"
            if outcome == "commit":
                slow.commit()
                ctx.bus.notify()
                expected = ["slow", "quick"]
            else:
                slow.rollback()
                expected = ["quick"]
        received = [(await asyncio.wait_for(subscription.get(60), PATIENCE_S)).type for _ in expected]
        assert received == expected

    _run(scenario())


def test_a_full_queue_is_replaced_by_one_overflow_mark():
    async def scenario():
        subscription = Subscription(("user:1",), 0, limit=2)
        for n in range(1, 4):
            subscription.put(Delivery(n, "user:1", "t", {}))
        assert await subscription.get(1) is OVERFLOW
        assert await subscription.get(0.01) is None

    _run(scenario())
