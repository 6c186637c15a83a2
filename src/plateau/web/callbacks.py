"""Callback tasks in the browser: the agent desktop's panel and the "Mes rappels" page.

The desktop panel (``templates/desktop/_callbacks.html``) loads its list from
``/desktop/callbacks`` with htmx, and reloads it when the event stream says
a callback changed (``desktop.js``) or once a minute (a callback becomes due
with time, not with an event). Its buttons post with htmx and get the panel
back with a message to announce; without JavaScript the same forms post and
come back to the page they were sent from.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from ..domain.errors import N_, ConflictError, IllegalTransition, ValidationError
from ..services import callbacks
from ..services.context import Actor, Context
from .deps import current_actor, get_ctx, page, verify_csrf
from .i18n import gettext as _

router = APIRouter(include_in_schema=False)

ACTIONS = ("claim", "done", "cancel", "reschedule")
#: what is announced (and shown) once an action went through
DONE_MESSAGES = {
    "claim": N_("Rappel pris : il est maintenant dans votre liste."),
    "done": N_("Rappel noté comme fait."),
    "cancel": N_("Rappel annulé."),
    "reschedule": N_("Rappel reporté."),
}
LABELS = {"SOURCE_LABELS": callbacks.SOURCE_LABELS, "STATUS_LABELS": callbacks.STATUS_LABELS,
          "DONE_MESSAGES": DONE_MESSAGES}


def _panel(request: Request, ctx: Context, actor: Actor, status: int = 200, **extra):
    items = callbacks.list_callbacks(ctx, actor, due_only=True)
    return page(request, "callbacks/_panel.html", status_code=status, items=items,
                upcoming=callbacks.count_upcoming(ctx, actor), **LABELS, **extra)


@router.get("/desktop/callbacks")
def desktop_panel(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    """The desktop panel's content: the callbacks due now, mine and my queues' unassigned ones."""
    return _panel(request, ctx, actor)


@router.get("/callbacks")
def callbacks_page(request: Request, scope: str = "mine", done: str = "", actor: Actor = Depends(current_actor),
                   ctx: Context = Depends(get_ctx)):
    return _page(request, ctx, actor, scope, done=done if done in DONE_MESSAGES else "")


def _page(request: Request, ctx: Context, actor: Actor, scope: str, status: int = 200, **extra):
    scope = "floor" if scope == "floor" and actor.is_supervisor else "mine"
    items = callbacks.list_callbacks(ctx, actor, scope=scope)
    context = {"failed": None, "error": None, "errors": {}, "values": {}, "done": ""}
    context.update(extra)
    return page(request, "callbacks/list.html", status_code=status, items=items, scope=scope, **LABELS, **context)


@router.post("/callbacks/{callback_id}/{action}", dependencies=[Depends(verify_csrf)])
async def act(callback_id: int, action: str, request: Request, actor: Actor = Depends(current_actor),
              ctx: Context = Depends(get_ctx)):
    """Prendre, Fait, Annuler (with a reason), Reporter (date and time); from the panel or the page."""
    form = await request.form()
    origin = "desktop" if form.get("from") == "desktop" else "page"
    scope = "floor" if form.get("scope") == "floor" else "mine"
    values = {"note": str(form.get("note", "")), "callback_date": str(form.get("callback_date", "")),
              "callback_time": str(form.get("callback_time", ""))}
    if action not in ACTIONS:
        raise HTTPException(status_code=404)
    try:
        if action == "claim":
            callbacks.claim(ctx, actor, callback_id)
        elif action == "done":
            callbacks.complete(ctx, actor, callback_id, callbacks.DONE, values["note"])
        elif action == "cancel":
            callbacks.complete(ctx, actor, callback_id, callbacks.CANCELLED, values["note"])
        else:
            callbacks.reschedule(ctx, actor, callback_id, values["callback_date"], values["callback_time"],
                                 values["note"])
    except (ValidationError, ConflictError, IllegalTransition) as exc:
        status = 422 if isinstance(exc, ValidationError) else 409
        errors = getattr(exc, "errors", {})
        failed = {"id": callback_id, "action": action}
        if origin == "desktop":
            return _panel(request, ctx, actor, status=status, error=exc, errors=errors, failed=failed, values=values)
        return _page(request, ctx, actor, scope, status=status, error=exc, errors=errors, failed=failed, values=values)
    if origin == "desktop":
        if request.headers.get("hx-request"):
            # focus goes where the agent continues: "Fait" of the callback just taken, else the panel title
            return _panel(request, ctx, actor, announce=_(DONE_MESSAGES[action]),
                          focus=f"callback-{callback_id}-done" if action == "claim" else "callbacks-title")
        return RedirectResponse("/desktop", status_code=303)
    return RedirectResponse(f"/callbacks?done={action}" + ("&scope=floor" if scope == "floor" else ""), status_code=303)
