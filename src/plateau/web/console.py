"""The caller console ("Console appelant"): a trainer plays the customer.

The trainer puts a call into a queue from a typed number (read in the chosen
country) or from a contact of the file, then talks on the same text line the
agent sees, and can hang up. Each call is a panel refreshed by events.

The trainer can also dial a voice menu ("SVI"): the call's panel then shows a
keypad (``web.ivr`` takes the keys), the menu's prompts come as system lines
of the conversation; while the call waits in a queue the panel says its
position and estimated wait, and offers a callback once the queue allows it.

Outbound campaign calls need someone on the other end: the console lists those
ringing or connected that nobody plays yet, and "Jouer l'appelé" makes the
trainer the called party, who then talks in that call's panel like any other.
Without a trainer the call goes on all the same (the agent talks alone).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ..domain import ivr as ivr_rules
from ..domain.calls import STATE_LABELS, CallState
from ..domain.contacts import COUNTRIES
from ..services import calls, dialer, ivr
from ..services.context import Actor, Context
from ..store.models import User
from .deps import current_actor, current_user, get_ctx, page, supervisor_actor, verify_csrf
from .events import latest_event_id

router = APIRouter(include_in_schema=False)


def _data(ctx: Context, actor: Actor) -> dict:
    views = calls.console_calls(ctx, actor)
    return {"calls": views, **_call_extras(ctx, actor, [v.call.id for v in views])}


def _call_extras(ctx: Context, actor: Actor, call_ids: list[int]) -> dict:
    """What a call's panel needs besides the call: menu names, keypad, queue position."""
    return {"STATE_LABELS": STATE_LABELS, "CallState": CallState, "ivr_names": ivr.menu_names(ctx),
            "waiting": ivr.waiting_status(ctx, actor, call_ids), "KEYS": ivr_rules.KEYS,
            "KEY_LABELS": ivr_rules.KEY_LABELS}


@router.get("/console")
def console(request: Request, actor: Actor = Depends(supervisor_actor), user: User = Depends(current_user),
            ctx: Context = Depends(get_ctx)):
    return page(request, "console/console.html", queues=calls.queues(ctx), menus=ivr.active_menus(ctx),
                COUNTRIES=COUNTRIES, default_region=ctx.settings.default_region, last_event_id=latest_event_id(ctx),
                **_data(ctx, actor))


@router.get("/console/outbound")
def console_outbound(request: Request, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    """Outbound calls waiting for someone to play the called party (the page reloads the list)."""
    return page(request, "console/_outbound.html", to_play=dialer.calls_to_play(ctx), STATE_LABELS=STATE_LABELS)


@router.post("/api/calls/{call_id}/play-callee", dependencies=[Depends(verify_csrf)])
def play_callee(call_id: int, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)) -> dict:
    """"Jouer l'appelé": the trainer becomes the called party of an outbound call."""
    call = dialer.play_callee(ctx, actor, call_id)
    return {"call_id": call.id, "state": call.state}


@router.get("/console/calls")
def console_calls(request: Request, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    return page(request, "console/_calls.html", **_data(ctx, actor))


@router.get("/console/calls/{call_id}/status")
def console_call_status(call_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                        ctx: Context = Depends(get_ctx)):
    return page(request, "console/_call_status.html", v=calls.view(ctx, call_id, actor),
                **_call_extras(ctx, actor, [call_id]))


@router.post("/api/calls/{call_id}/request-callback", dependencies=[Depends(verify_csrf)])
def request_callback(call_id: int, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)) -> dict:
    """The waiting caller asks to be called back (once the queue offers it): the call ends, a callback task is kept."""
    callback = calls.request_callback(ctx, actor, call_id)
    return {"call_id": call_id, "callback_id": callback.id, "state": "deflected"}


@router.get("/console/contacts")
def console_contacts(request: Request, q: str = "", actor: Actor = Depends(supervisor_actor),
                     ctx: Context = Depends(get_ctx)):
    """Contacts of the file to call from (the CRM search, first page)."""
    from ..services import crm

    results = crm.search(ctx, q, limit=10).items if q.strip() else []
    return page(request, "console/_contacts.html", results=results, q=q)
