"""The supervisor's wallboard ("supervision du plateau") and the listening page.

``/wallboard`` shows two tables, agents and queues, rendered whole, then
``wallboard.js`` listens to the floor's events and re-fetches the tables
(``/wallboard/fragment/tables``) when something moved; it announces only the
alerts that start or end and the supervisor's own action results.
``/wallboard/calls/{id}`` follows one call silently: its transcript grows as
the agent and the caller type, a whisper goes to the agent, "Prendre l'appel"
moves the call to the supervisor's desktop.

Actions are POST routes with the CSRF token, in three flavours sharing one
table of actions: a plain form (redirect, the result shown on the next page),
htmx (a fragment with the result to announce), and JSON under
``/api/supervision`` for scripts and other clients (``/api/wallboard`` is the
snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from ..domain.agents import PAUSE_REASONS, STATE_LABELS
from ..domain.calls import LIVE, STATE_LABELS as CALL_STATE_LABELS, TERMINAL, CallState
from ..domain.errors import N_
from ..domain.wallboard import percent
from ..services import calls, supervision
from ..services.context import Actor, Context
from ..store.models import User
from .deps import current_user, get_ctx, page, supervisor_actor, verify_csrf
from .events import latest_event_id
from .i18n import gettext

#: HTML pages stay out of the OpenAPI document; the JSON routes are in it
router = APIRouter()
api = APIRouter(prefix="/api", tags=["supervision"], dependencies=[Depends(verify_csrf)])

#: what an alert is about, for "alert over" announcements
ALERT_LABELS = {
    "waiting": N_("appels en attente"),
    "longest_wait": N_("attente la plus longue"),
    "service_level": N_("niveau de service"),
    "abandon_rate": N_("taux d'abandon"),
}

#: a supervisor's forced pause: their own reason first, then the agents' ones (never "no answer")
FORCED_PAUSE_REASONS = ["supervisor"] + [code for code in PAUSE_REASONS if code not in ("supervisor", "no_answer")]

FLASH = "wallboard_flash"


def _labels() -> dict:
    return {"STATE_LABELS": STATE_LABELS, "PAUSE_REASONS": PAUSE_REASONS, "CALL_STATE_LABELS": CALL_STATE_LABELS,
            "ALERT_LABELS": ALERT_LABELS, "FORCED_PAUSE_REASONS": FORCED_PAUSE_REASONS, "percent": percent,
            "CallState": CallState, "LIVE": LIVE, "TERMINAL": TERMINAL}


# --- pages ----------------------------------------------------------------------------------


@router.get("/wallboard", include_in_schema=False)
def wallboard_page(request: Request, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    last = latest_event_id(ctx)  # before the snapshot: an event in between is applied twice, never lost
    return page(request, "wallboard/wallboard.html", board=supervision.wallboard(ctx, actor), last_event_id=last,
                flash=request.session.pop(FLASH, None), **_labels())


@router.get("/wallboard/fragment/tables", include_in_schema=False)
def wallboard_tables(request: Request, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    return page(request, "wallboard/_tables.html", board=supervision.wallboard(ctx, actor), **_labels())


@router.get("/wallboard/calls/{call_id}", include_in_schema=False)
def listen_page(call_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                ctx: Context = Depends(get_ctx)):
    last = latest_event_id(ctx)
    return page(request, "wallboard/listen.html", v=calls.view(ctx, call_id, actor),
                listening=supervision.is_listening(ctx, actor, call_id), last_event_id=last,
                flash=request.session.pop(FLASH, None), **_labels())


@router.get("/wallboard/calls/{call_id}/status", include_in_schema=False)
def listen_status(call_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                  ctx: Context = Depends(get_ctx)):
    return page(request, "wallboard/_listen_status.html", v=calls.view(ctx, call_id, actor),
                listening=supervision.is_listening(ctx, actor, call_id), **_labels())


@router.get("/whispers", include_in_schema=False)
def my_whispers(request: Request, user: User = Depends(current_user), ctx: Context = Depends(get_ctx)):
    """The agent desktop's whisper panel: today's messages from supervisors (restored on reload)."""
    return page(request, "wallboard/_whisper_list.html", whispers=supervision.recent_whispers(ctx, user.id))


@router.get("/api/wallboard", tags=["supervision"])
def wallboard_json(actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)) -> dict:
    """The wallboard snapshot: every agent (state, since, current call) and every queue (now, today, alerts)."""
    return supervision.wallboard(ctx, actor).as_dict(gettext)


# --- actions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Done:
    """An action's outcome: what to tell the supervisor, and where a plain form goes next."""

    message: str
    next_url: str
    #: htmx and plain forms both leave the page (the listening page, the desktop)
    navigate: bool = False


def _listen(ctx: Context, actor: Actor, call_id: int) -> Done:
    supervision.listen(ctx, actor, call_id)
    return Done(gettext("Écoute discrète de l'appel %(id)s : ni l'agent ni l'appelant n'en sont informés.") % {"id": call_id},
                f"/wallboard/calls/{call_id}", navigate=True)


def _stop(ctx: Context, actor: Actor, call_id: int) -> Done:
    supervision.stop_listening(ctx, actor, call_id)
    return Done(gettext("Écoute de l'appel %(id)s arrêtée.") % {"id": call_id}, "/wallboard", navigate=True)


def _take_over(ctx: Context, actor: Actor, call_id: int) -> Done:
    supervision.take_over(ctx, actor, call_id)
    return Done(gettext("Vous avez pris l'appel %(id)s : il est sur votre poste.") % {"id": call_id}, "/desktop",
                navigate=True)


def _whisper(ctx: Context, actor: Actor, agent_id: int, text: str, call_id: int | None, back: str) -> Done:
    supervision.whisper(ctx, actor, agent_id, text, call_id)
    return Done(gettext("Message envoyé à %(name)s.") % {"name": supervision.agent_name(ctx, agent_id)}, back)


def _pause(ctx: Context, actor: Actor, agent_id: int, reason: str | None) -> Done:
    presence = supervision.force_pause(ctx, actor, agent_id, reason or "supervisor")
    return Done(gettext("%(name)s est en pause : %(reason)s.") % {
        "name": supervision.agent_name(ctx, agent_id), "reason": gettext(PAUSE_REASONS[presence.pause_reason])},
        "/wallboard")


def _log_off(ctx: Context, actor: Actor, agent_id: int) -> Done:
    supervision.force_log_off(ctx, actor, agent_id)
    return Done(gettext("%(name)s est hors ligne.") % {"name": supervision.agent_name(ctx, agent_id)}, "/wallboard")


def _htmx(request: Request) -> bool:
    return bool(request.headers.get("hx-request"))


def _safe_back(back: str | None, default: str = "/wallboard") -> str:
    """Only our own wallboard pages as a return address (no open redirect)."""
    return back if back and back.startswith("/wallboard") and "//" not in back else default


def _answer(request: Request, run: Callable[[], Done]):
    """Run an action; refusals go to the app's DomainError handler (alert fragment, error page)."""
    done = run()
    if _htmx(request):
        if done.navigate:
            if done.next_url.startswith("/wallboard"):
                request.session[FLASH] = done.message
            return HTMLResponse("", headers={"HX-Redirect": done.next_url})
        return page(request, "wallboard/_result.html", message=done.message)
    if done.next_url.startswith("/wallboard"):
        request.session[FLASH] = done.message
    return RedirectResponse(done.next_url, status_code=303)


@router.post("/wallboard/calls/{call_id}/listen", dependencies=[Depends(verify_csrf)], include_in_schema=False)
def listen_form(call_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                ctx: Context = Depends(get_ctx)):
    return _answer(request, lambda: _listen(ctx, actor, call_id))


@router.post("/wallboard/calls/{call_id}/stop", dependencies=[Depends(verify_csrf)], include_in_schema=False)
def stop_form(call_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
              ctx: Context = Depends(get_ctx)):
    return _answer(request, lambda: _stop(ctx, actor, call_id))


@router.post("/wallboard/calls/{call_id}/take-over", dependencies=[Depends(verify_csrf)], include_in_schema=False)
def take_over_form(call_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                   ctx: Context = Depends(get_ctx)):
    return _answer(request, lambda: _take_over(ctx, actor, call_id))


@router.post("/wallboard/agents/{agent_id}/whisper", dependencies=[Depends(verify_csrf)], include_in_schema=False)
def whisper_form(agent_id: int, request: Request, text: str = Form(""), call_id: int | None = Form(None),
                 back: str = Form("/wallboard"), actor: Actor = Depends(supervisor_actor),
                 ctx: Context = Depends(get_ctx)):
    return _answer(request, lambda: _whisper(ctx, actor, agent_id, text, call_id, _safe_back(back)))


@router.post("/wallboard/agents/{agent_id}/pause", dependencies=[Depends(verify_csrf)], include_in_schema=False)
def pause_form(agent_id: int, request: Request, reason: str = Form("supervisor"),
               actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    return _answer(request, lambda: _pause(ctx, actor, agent_id, reason))


@router.post("/wallboard/agents/{agent_id}/log-off", dependencies=[Depends(verify_csrf)], include_in_schema=False)
def log_off_form(agent_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                 ctx: Context = Depends(get_ctx)):
    return _answer(request, lambda: _log_off(ctx, actor, agent_id))


# --- JSON -------------------------------------------------------------------------------------


class WhisperIn(BaseModel):
    text: str
    call_id: int | None = Field(None, description="the call the message is about, if any (it must be on the agent's desktop)")


class PauseIn(BaseModel):
    reason: str = Field("supervisor", description="a pause reason code: supervisor, coaching, briefing, training…")


class DoneOut(BaseModel):
    ok: bool = True
    message: str
    next_url: str


def _out(done: Done) -> DoneOut:
    return DoneOut(message=done.message, next_url=done.next_url)


@api.post("/supervision/calls/{call_id}/listen", response_model=DoneOut)
def listen_json(call_id: int, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    """Start listening silently to a call (écoute discrète): its events and transcript reach only you."""
    return _out(_listen(ctx, actor, call_id))


@api.post("/supervision/calls/{call_id}/stop", response_model=DoneOut)
def stop_json(call_id: int, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    """Stop listening to a call."""
    return _out(_stop(ctx, actor, call_id))


@api.post("/supervision/calls/{call_id}/take-over", response_model=DoneOut)
def take_over_json(call_id: int, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    """Take a live call over: it moves to your desktop, its agent becomes available."""
    return _out(_take_over(ctx, actor, call_id))


@api.post("/supervision/agents/{agent_id}/whisper", response_model=DoneOut)
def whisper_json(agent_id: int, body: WhisperIn, actor: Actor = Depends(supervisor_actor),
                 ctx: Context = Depends(get_ctx)):
    """Send an agent a private message (chuchotement): shown on their desktop only, never to the caller."""
    return _out(_whisper(ctx, actor, agent_id, body.text, body.call_id, "/wallboard"))


@api.post("/supervision/agents/{agent_id}/pause", response_model=DoneOut)
def pause_json(agent_id: int, body: PauseIn, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    """Force an agent into pause; refused while a call is on their desktop."""
    return _out(_pause(ctx, actor, agent_id, body.reason))


@api.post("/supervision/agents/{agent_id}/log-off", response_model=DoneOut)
def log_off_json(agent_id: int, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    """Set an agent offline; refused while a call is on their desktop."""
    return _out(_log_off(ctx, actor, agent_id))


router.include_router(api)
