"""Objectives (/objectives, supervisors), the agent's day against them ("Ma journée"
panel of the desktop, /me/day/panel) and the printable daily activity sheet
(/me/day, /agents/{id}/day).

Plain forms that work without JavaScript: validation errors come back on the
same form with a summary linking to each field; a successful save redirects
to the list (post/redirect/get).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from ..domain import kpis as rules
from ..domain.agents import PAUSE_REASONS
from ..domain.errors import N_, DomainError, ValidationError
from ..services import objectives
from ..services.context import Actor, Context
from . import kpis as _formatting  # noqa: F401 — registers the kpi_* template filters
from .deps import current_actor, get_ctx, page, supervisor_actor, verify_csrf

router = APIRouter(include_in_schema=False)

FIELD_LABELS = {"scope": N_("S'applique à"), "user_id": N_("Agent"), "team_id": N_("Équipe"),
                "kpi": N_("Indicateur"), "comparator": N_("Comparaison"), "target": N_("Cible")}
COMPARATOR_LABELS = {"<=": N_("au plus (≤)"), ">=": N_("au moins (≥)")}


def _form_page(request: Request, ctx: Context, form: objectives.ObjectiveForm, objective_id: int | None,
               errors: dict[str, DomainError] | None = None, status_code: int = 200):
    return page(request, "objectives/form.html", status_code=status_code, form=form, objective_id=objective_id,
                errors=errors or {}, FIELD_LABELS=FIELD_LABELS, COMPARATOR_LABELS=COMPARATOR_LABELS,
                SCOPE_LABELS=objectives.SCOPE_LABELS, OBJECTIVE_KPIS=rules.OBJECTIVE_KPIS,
                **objectives.form_choices(ctx))


async def _read_form(request: Request) -> objectives.ObjectiveForm:
    data = await request.form()
    return objectives.ObjectiveForm(**{name: str(data.get(name, "")).strip()
                                       for name in ("scope", "user_id", "team_id", "kpi", "comparator", "target")})


def _day_param(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise ValidationError({"date": DomainError(N_("Date invalide : utilisez le calendrier ou le format AAAA-MM-JJ."),
                                                   "date")}) from None


@router.get("/objectives")
def list_page(request: Request, saved: str = "", date: str = "", actor: Actor = Depends(supervisor_actor),
              ctx: Context = Depends(get_ctx)):
    day = _day_param(date)
    return page(request, "objectives/list.html", rows=objectives.list_objectives(ctx, actor),
                progress=objectives.progress(ctx, actor, day), saved=saved, COMPARATOR_LABELS=COMPARATOR_LABELS)


@router.get("/objectives/new")
def new_page(request: Request, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    return _form_page(request, ctx, objectives.ObjectiveForm(scope="all", kpi="aht", comparator="<="), None)


@router.post("/objectives/new", dependencies=[Depends(verify_csrf)])
async def create(request: Request, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    form = await _read_form(request)
    try:
        objectives.create_objective(ctx, actor, form)
    except ValidationError as exc:
        return _form_page(request, ctx, form, None, exc.errors, 422)
    return RedirectResponse("/objectives?saved=created", status_code=303)


@router.get("/objectives/{objective_id}")
def edit_page(objective_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
              ctx: Context = Depends(get_ctx)):
    objective = objectives.get_objective(ctx, actor, objective_id)
    return _form_page(request, ctx, objectives.ObjectiveForm.of(objective), objective_id)


@router.post("/objectives/{objective_id}", dependencies=[Depends(verify_csrf)])
async def update(objective_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                 ctx: Context = Depends(get_ctx)):
    form = await _read_form(request)
    try:
        objectives.update_objective(ctx, actor, objective_id, form)
    except ValidationError as exc:
        return _form_page(request, ctx, form, objective_id, exc.errors, 422)
    return RedirectResponse("/objectives?saved=updated", status_code=303)


@router.post("/objectives/{objective_id}/active", dependencies=[Depends(verify_csrf)])
async def toggle(objective_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                 ctx: Context = Depends(get_ctx)):
    active = (await request.form()).get("active") == "1"
    objectives.set_active(ctx, actor, objective_id, active)
    return RedirectResponse(f"/objectives?saved={'activated' if active else 'deactivated'}", status_code=303)


# --- my day -----------------------------------------------------------------------------------------


@router.get("/me/day/panel")
def my_day_panel(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    """The desktop's "Ma journée" panel content, refreshed after each closed call."""
    return page(request, "me/_day_panel.html", my_day=objectives.my_day(ctx, actor))


@router.get("/me/day")
def my_sheet(request: Request, date: str = "", actor: Actor = Depends(current_actor),
             ctx: Context = Depends(get_ctx)):
    return _sheet(request, ctx, actor, date, None)


@router.get("/agents/{user_id}/day")
def agent_sheet(user_id: int, request: Request, date: str = "", actor: Actor = Depends(current_actor),
                ctx: Context = Depends(get_ctx)):
    return _sheet(request, ctx, actor, date, user_id)


def _sheet(request: Request, ctx: Context, actor: Actor, day_text: str, user_id: int | None):
    sheet = objectives.daily_sheet(ctx, actor, _day_param(day_text), user_id)
    return page(request, "me/day.html", sheet=sheet, my_day=sheet.day, PAUSE_REASONS=PAUSE_REASONS,
                own=user_id is None or user_id == actor.id)
