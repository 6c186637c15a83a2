"""The caller console ("Console appelant"): a trainer plays the customer.

The trainer puts a call into a queue from a typed number (read in the chosen
country) or from a contact of the file, then talks on the same text line the
agent sees, and can hang up. Each call is a panel refreshed by events.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ..domain.calls import STATE_LABELS, CallState
from ..domain.contacts import COUNTRIES
from ..services import calls
from ..services.context import Actor, Context
from ..store.models import User
from .deps import current_user, get_ctx, page, supervisor_actor
from .events import latest_event_id

router = APIRouter(include_in_schema=False)


def _data(ctx: Context, actor: Actor) -> dict:
    return {"calls": calls.console_calls(ctx, actor), "STATE_LABELS": STATE_LABELS, "CallState": CallState}


@router.get("/console")
def console(request: Request, actor: Actor = Depends(supervisor_actor), user: User = Depends(current_user),
            ctx: Context = Depends(get_ctx)):
    return page(request, "console/console.html", queues=calls.queues(ctx), COUNTRIES=COUNTRIES,
                default_region=ctx.settings.default_region, last_event_id=latest_event_id(ctx), **_data(ctx, actor))


@router.get("/console/calls")
def console_calls(request: Request, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    return page(request, "console/_calls.html", **_data(ctx, actor))


@router.get("/console/calls/{call_id}/status")
def console_call_status(call_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                        ctx: Context = Depends(get_ctx)):
    return page(request, "console/_call_status.html", v=calls.view(ctx, call_id, actor), STATE_LABELS=STATE_LABELS,
                CallState=CallState)


@router.get("/console/contacts")
def console_contacts(request: Request, q: str = "", actor: Actor = Depends(supervisor_actor),
                     ctx: Context = Depends(get_ctx)):
    """Contacts of the file to call from (the CRM search, first page)."""
    from ..services import crm

    results = crm.search(ctx, q, limit=10).items if q.strip() else []
    return page(request, "console/_contacts.html", results=results, q=q)
