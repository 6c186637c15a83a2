"""Server-sent events: one stream per page, resumable with Last-Event-ID.

The outbox (``events`` table) is the source of truth and its ids are the SSE
ids, so a reload or a network drop loses nothing: EventSource reconnects with
``Last-Event-ID`` and gets what it missed. A stream reads the outbox itself
only for that backlog; after it, the process's one outbox reader
(``event_hub.py``) hands it the new rows of its channels — one query per commit
for all the connected desktops instead of one per desktop.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from ..services.context import FLOOR, Context, user_channel
from ..store.models import User
from .deps import current_user, get_ctx
from .event_hub import BATCH, OVERFLOW, Delivery, hub_for, newest_id, read_outbox

router = APIRouter()

KEEPALIVE_S = 15.0


def latest_event_id(ctx: Context) -> int:
    """Where a page's stream starts: render the state, then ask for events after this id."""
    return newest_id(ctx)


def _sse(row: Delivery) -> ServerSentEvent:
    return ServerSentEvent(data=row.payload, event=row.type, id=str(row.id))


@router.get("/events", response_class=EventSourceResponse, tags=["events"])
async def events(request: Request, after: int | None = None, floor: bool = False,
                 user: User = Depends(current_user), ctx: Context = Depends(get_ctx)):
    """Events for the logged-in user (and the floor, for supervisors who ask).

    Resume point: the ``Last-Event-ID`` header (automatic reconnection), else
    ``after`` (the id the page was rendered at), else now.
    """
    header = request.headers.get("last-event-id")
    resume = int(header) if header and header.isdigit() else after
    channels = [user_channel(user.id)]
    if floor and user.role in ("supervisor", "admin"):
        channels.append(FLOOR)
    hub = hub_for(ctx)
    subscription = None
    try:
        # subscribe before reading anything: what the reads below miss is on the queue
        subscription = await hub.subscribe(channels)
        if resume is None:  # now: where the reader is (below, if the outbox was emptied since it looked)
            resume = min(subscription.mark, await asyncio.to_thread(latest_event_id, ctx))
        last = resume
        yield ServerSentEvent(comment="connected", retry=2000)
        # the backlog first: what the reader had handed out before we subscribed (``upto``, its
        # position then), read from the outbox; then the queue
        reading, upto = last < subscription.mark, subscription.mark
        while True:
            if reading:
                rows = await asyncio.to_thread(read_outbox, ctx, channels, last, upto)
                for row in rows:
                    last = row.id
                    yield _sse(row)
                reading = len(rows) == BATCH
                continue
            item = await subscription.get(KEEPALIVE_S)
            if item is None:
                if await request.is_disconnected():
                    return
                hub.ensure_running()
                yield ServerSentEvent(comment="keepalive")
            elif item is OVERFLOW:  # we could not keep up: the outbox has what the queue dropped
                reading, upto = True, hub.last
            elif item.id > last:  # ids up to ``last`` came from a read of the outbox
                last = item.id
                yield _sse(item)
    finally:
        if subscription is not None:
            hub.unsubscribe(subscription)
