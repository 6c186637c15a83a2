"""Server-sent events: one stream per page, resumable with Last-Event-ID.

The stream reads the outbox (``events`` table) after the last id the browser
saw, so a reload or a network drop loses nothing: EventSource reconnects with
``Last-Event-ID`` and gets what it missed. The bus only wakes us early.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlalchemy import func, select

from ..services.context import FLOOR, Context, user_channel
from ..store.models import Event, User
from .deps import current_user, get_ctx

router = APIRouter()

KEEPALIVE_S = 15.0
BATCH = 200


def latest_event_id(ctx: Context) -> int:
    with ctx.read() as session:
        return session.scalar(select(func.max(Event.id))) or 0


def _fetch(ctx: Context, channels: list[str], after: int) -> list[Event]:
    with ctx.read() as session:
        return list(session.scalars(select(Event).where(Event.channel.in_(channels), Event.id > after)
                                    .order_by(Event.id).limit(BATCH)))


@router.get("/events", response_class=EventSourceResponse, tags=["events"])
async def events(request: Request, after: int | None = None, floor: bool = False,
                 user: User = Depends(current_user), ctx: Context = Depends(get_ctx)):
    """Events for the logged-in user (and the floor, for supervisors who ask).

    Resume point: the ``Last-Event-ID`` header (automatic reconnection), else
    ``after`` (the id the page was rendered at), else now.
    """
    header = request.headers.get("last-event-id")
    if header and header.isdigit():
        last = int(header)
    elif after is not None:
        last = after
    else:
        last = await asyncio.to_thread(latest_event_id, ctx)
    channels = [user_channel(user.id)]
    if floor and user.role in ("supervisor", "admin"):
        channels.append(FLOOR)
    yield ServerSentEvent(comment="connected", retry=2000)
    while True:
        if await request.is_disconnected():
            return
        rows = await asyncio.to_thread(_fetch, ctx, channels, last)
        for row in rows:
            last = row.id
            yield ServerSentEvent(data=row.payload, event=row.type, id=str(row.id))
        if len(rows) == BATCH:
            continue
        if not await ctx.bus.wait(KEEPALIVE_S):
            yield ServerSentEvent(comment="keepalive")
