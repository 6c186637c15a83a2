"""The "Entraînement" page (/practice): the role-play scenarios, the trainee's assignments and
attempts, and for trainers the assignments of the floor with their progress.

Plain forms that work without JavaScript. "Commencer" starts a practice call
(``services.practice.start_practice``) and goes to the desktop, where the call
rings (inbound) or is being dialled (outbound); a refusal (already on a call, a
bad seed) comes back on this page with a summary that names the field.
Assigning a scenario (POST /practice/assignments) redirects back to the page
(post/redirect/get).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from ..domain.calls import STATE_LABELS
from ..domain.errors import N_, DomainError, ValidationError
from ..services import practice
from ..services.context import Actor, Context
from .deps import current_actor, get_ctx, page, verify_csrf

router = APIRouter(include_in_schema=False)

DONE_MESSAGES = {"assigned": N_("Mise en situation assignée.")}
FIELD_LABELS = {"scenario": N_("Scénario"), "target": N_("Pour"), "due_on": N_("Date limite"),
                "note": N_("Consigne"), "seed": N_("Graine"), "assignment_id": N_("Assignation")}


def _render(request: Request, ctx: Context, actor: Actor, status: int = 200, **extra):
    context = {"done": "", "error": None, "errors": {}, "values": {}, "failed": None}
    context.update(extra)
    return page(request, "practice/page.html", status_code=status, home=practice.home(ctx, actor),
                OUTCOME_LABELS=practice.OUTCOME_LABELS, STATE_LABELS=STATE_LABELS, FIELD_LABELS=FIELD_LABELS,
                DONE_MESSAGES=DONE_MESSAGES, review_url=practice.review_url, **context)


@router.get("/practice")
def practice_page(request: Request, done: str = "", actor: Actor = Depends(current_actor),
                  ctx: Context = Depends(get_ctx)):
    return _render(request, ctx, actor, done=done if done in DONE_MESSAGES else "")


def _int(value: str, name: str, message: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationError({name: DomainError(message, name)}) from None


@router.post("/practice/start", dependencies=[Depends(verify_csrf)])
async def start(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    """"Commencer": a practice call on the trainee's desktop, then to the desktop."""
    form = await request.form()
    code = str(form.get("scenario", ""))
    values = {"scenario": code, "seed": str(form.get("seed", "")).strip()}
    try:
        seed = _int(values["seed"], "seed", N_("La graine est un nombre entier (par exemple 42)."))
        assignment_id = _int(str(form.get("assignment_id", "")), "assignment_id", N_("Assignation inconnue."))
        practice.start_practice(ctx, actor, code, seed=seed, assignment_id=assignment_id)
    except DomainError as exc:
        status = 422 if isinstance(exc, ValidationError) else 409
        return _render(request, ctx, actor, status=status, error=exc, errors=getattr(exc, "errors", {}),
                       values=values, failed="start")
    return RedirectResponse("/desktop", status_code=303)


@router.post("/practice/assignments", dependencies=[Depends(verify_csrf)])
async def assign(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    """A trainer assigns a scenario to a trainee (``user:ID``) or a team (``team:ID``)."""
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in ("scenario", "target", "due_on", "note")}
    kind, _sep, ident = values["target"].partition(":")
    errors: dict[str, DomainError] = {}
    due = None
    if values["due_on"]:
        try:
            due = date.fromisoformat(values["due_on"])
        except ValueError:
            errors["due_on"] = DomainError(N_("Date invalide : utilisez le calendrier ou le format AAAA-MM-JJ."),
                                           "due_on")
    target = int(ident) if ident.isdigit() and kind in ("user", "team") else None
    try:
        if errors:
            raise ValidationError(errors)
        practice.assign(ctx, actor, values["scenario"], user_id=target if kind == "user" else None,
                        team_id=target if kind == "team" else None, due_on=due, note=values["note"])
    except ValidationError as exc:
        return _render(request, ctx, actor, status=422, error=exc, errors=exc.errors, values=values, failed="assign")
    return RedirectResponse("/practice?done=assigned#assignments-title", status_code=303)
