"""The dialer's commands from the agent desktop: work a campaign, preview, dial, skip, cancel.

Each route takes a JSON body (``desktop.js`` through ``Plateau.api``) or a plain
form (the page without JavaScript: back to ``/desktop`` after it). The logic is
in ``services.dialer``; a refusal comes back as the JSON API's refusals do
(``detail``, ``field``, ``errors``), translated, so the desktop shows it next to
the control and reads it out.
"""

from __future__ import annotations

from typing import Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from ..domain.errors import DomainError
from ..services import dialer
from ..services.context import Actor, Context
from . import i18n
from .deps import current_actor, get_ctx, verify_csrf

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])


def _wants_json(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith("application/json") \
        or "application/json" in request.headers.get("accept", "")


async def _field(request: Request, name: str) -> str | None:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            body = {}
        value = body.get(name) if isinstance(body, dict) else None
    else:
        value = (await request.form()).get(name)
    return None if value in (None, "") else str(value)


async def _run(request: Request, action: Callable[[], object], result: Callable[[object], dict]):
    """Run the service in a worker thread; JSON for scripts, a redirect for plain forms."""
    try:
        done = await run_in_threadpool(action)
    except DomainError as exc:
        if not _wants_json(request):
            raise  # the application's handler renders the page with the message
        from .app import _status

        errors = {key: error.render(i18n.gettext) for key, error in getattr(exc, "errors", {}).items()}
        return JSONResponse({"detail": exc.render(i18n.gettext), "field": exc.field, "errors": errors},
                            status_code=_status(exc))
    if _wants_json(request):
        return JSONResponse({"ok": True, **result(done)})
    return RedirectResponse("/desktop", status_code=303)


def _card(view: dialer.PreviewView | None) -> dict:
    if view is None:
        return {"campaign_contact_id": None}
    return {"campaign_contact_id": view.campaign_contact.id, "allowed": view.allowed}


@router.post("/dialer/join")
async def join(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    raw = await _field(request, "campaign_id")
    campaign_id = int(raw) if raw and raw.isdigit() else None

    def work():
        campaign = dialer.join(ctx, actor, campaign_id)
        if campaign.dial_mode == "preview" and dialer.window_open(campaign, ctx.now()):
            try:
                dialer.preview(ctx, actor)  # the first record is on the desktop at once
            except DomainError:
                pass  # on a call, or the campaign paused meanwhile: the panel says so
        return campaign

    return await _run(request, work, lambda c: {"campaign_id": c.id})


@router.post("/dialer/leave")
async def leave(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return await _run(request, lambda: dialer.leave(ctx, actor), lambda _: {})


@router.post("/dialer/preview/next")
async def next_record(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return await _run(request, lambda: dialer.preview(ctx, actor), _card)


@router.post("/dialer/dial/{campaign_contact_id}")
async def dial(campaign_contact_id: int, request: Request, actor: Actor = Depends(current_actor),
               ctx: Context = Depends(get_ctx)):
    return await _run(request, lambda: dialer.dial(ctx, actor, campaign_contact_id),
                      lambda call: {"call_id": call.id, "state": call.state})


@router.post("/dialer/skip/{campaign_contact_id}")
async def skip(campaign_contact_id: int, request: Request, actor: Actor = Depends(current_actor),
               ctx: Context = Depends(get_ctx)):
    return await _run(request, lambda: dialer.skip(ctx, actor, campaign_contact_id), _card)


@router.post("/dialer/cancel/{call_id}")
async def cancel(call_id: int, request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return await _run(request, lambda: dialer.cancel_dial(ctx, actor, call_id),
                      lambda call: {"call_id": call.id, "state": call.state})
