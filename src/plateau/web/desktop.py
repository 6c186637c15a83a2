"""The agent desktop ("poste agent"): one page, panels refreshed as fragments.

The page is rendered whole (a reload mid-call restores everything: the call,
its transcript, the contact, the script), then ``desktop.js`` listens to the
event stream and re-fetches only the panels an event concerns, so text being
typed elsewhere is never lost.

The "Appels sortants" panel (``_campaign.html``) is where an agent logs into an
outbound campaign and, in preview mode, reads the next record with the calling
rules' verdict before "Appeler" or "Passer" (``web.dialer`` takes the commands);
outbound calls then use the same call, contact, script and wrap-up panels.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ..domain import campaigns as campaign_rules
from ..domain.agents import CHOOSABLE_PAUSE_REASONS, PAUSE_REASONS, STATE_LABELS, AgentState
from ..domain.calls import STATE_LABELS as CALL_STATE_LABELS, CallState
from ..domain.compliance import reason_text
from ..domain.contacts import formal_name
from ..domain.prefs import SHORTCUT_LABELS
from ..services import agents, calls, dialer, objectives
from ..services.users import actor_for
from ..services.context import Context
from ..store.models import User
from ..services.context import Actor
from .deps import current_actor, current_user, get_ctx, page, verify_csrf
from .events import latest_event_id
from .i18n import gettext

router = APIRouter(include_in_schema=False)


def _common(ctx: Context, user: User) -> dict:
    view = calls.current_call_of(ctx, user.id)
    return {
        "view": view,
        "presence": agents.get_presence(ctx, user.id),
        "STATE_LABELS": STATE_LABELS,
        "PAUSE_REASONS": PAUSE_REASONS,
        "CHOOSABLE_PAUSE_REASONS": CHOOSABLE_PAUSE_REASONS,
        "CALL_STATE_LABELS": CALL_STATE_LABELS,
        "AgentState": AgentState,
        "CallState": CallState,
        "SHORTCUT_LABELS": SHORTCUT_LABELS,
        "STATE_LABELS_TR": {str(code): gettext(label) for code, label in STATE_LABELS.items()},
        "OUTCOME_LABELS_TR": {str(code): gettext(label) for code, label in campaign_rules.OUTCOME_LABELS.items()},
    }


def campaign_panel(ctx: Context, user: User, view: calls.CallView | None) -> dict:
    """The "Campagne" panel: the campaigns to work, or the one worked and, in preview, the record."""
    actor = actor_for(user)
    joined = dialer.joined_campaign(ctx, user.id)
    card = None
    if joined is not None and view is None and joined.dial_mode == campaign_rules.DialMode.PREVIEW:
        card = dialer.current_preview(ctx, actor)
    return {
        "joined": joined,
        "campaigns": [] if joined else dialer.campaigns_for(ctx, actor),
        "campaign_calling": joined is not None and joined.status in campaign_rules.DIALING_STATUSES
        and dialer.window_open(joined, ctx.now()),
        "card": card,
        "card_name": formal_name(card.contact) if card else "",
        "card_reasons": [{"rule": r.rule, "label": label, "reference": r.reference, "text": reason_text(r, gettext)}
                         for r, label in (dialer.explain(card.campaign, card.decision.reasons) if card else [])],
        "MODE_LABELS": campaign_rules.MODE_LABELS,
        "CAMPAIGN_STATUS_LABELS": campaign_rules.STATUS_LABELS,
        "OUTCOME_LABELS": campaign_rules.OUTCOME_LABELS,
    }


@router.get("/desktop")
def desktop(request: Request, user: User = Depends(current_user), ctx: Context = Depends(get_ctx)):
    data = _common(ctx, user)
    data.update(campaign_panel(ctx, user, data["view"]))
    data["last_event_id"] = latest_event_id(ctx)
    data["queues"] = calls.queues(ctx)
    data["transfer_agents"] = calls.available_agents(ctx, exclude=user.id)
    data["contact_html"] = contact_fragment(request, ctx, data["view"])
    data["my_day"] = objectives.my_day(ctx, actor_for(user))  # the "Ma journée" panel (templates/desktop/_my_day.html)
    return page(request, "desktop/desktop.html", **data)


@router.get("/desktop/fragment/{name}")
def fragment(name: str, request: Request, user: User = Depends(current_user), ctx: Context = Depends(get_ctx)):
    data = _common(ctx, user)
    if name == "contact":
        return HTMLResponse(contact_fragment(request, ctx, data["view"]))
    if name == "campaign":
        data.update(campaign_panel(ctx, user, data["view"]))
    if name == "transfer":
        data["queues"] = calls.queues(ctx)
        data["transfer_agents"] = calls.available_agents(ctx, exclude=user.id)
    if name not in ("presence", "status", "conversation", "wrapup", "transfer", "campaign", "work"):
        return HTMLResponse("", status_code=404)
    return page(request, f"desktop/_{name}.html", **data)


def contact_fragment(request: Request, ctx: Context, view: calls.CallView | None) -> str:
    """Screen pop: the matched contact, a choice among several, or the creation form."""
    if view is None or view.state in (CallState.RINGING,):
        return page(request, "desktop/_contact_idle.html", view=view).body.decode()
    from . import contacts as contact_pages
    if view.contact is not None:
        return contact_pages.contact_panel(request, ctx, view.contact.id, call_id=view.call.id)
    if len(view.matches) > 1:
        return contact_pages.choice_panel(request, ctx, view.matches, call_id=view.call.id)
    return contact_pages.create_panel(request, ctx, view.call.caller_number, call_id=view.call.id)


@router.post("/calls/{call_id}/contact", dependencies=[Depends(verify_csrf)])
def choose_contact(call_id: int, contact_id: int = Form(...), actor: Actor = Depends(current_actor),
                   ctx: Context = Depends(get_ctx)):
    """The screen-pop choice without JavaScript: attach, then back to the desktop."""
    calls.attach_contact(ctx, actor, call_id, contact_id)
    return RedirectResponse("/desktop", status_code=303)
