"""Administration pages of the floor: queues and their routing rules, teams, skills, agents.

Plain forms that post and redirect (they work without JavaScript): a refused
form comes back with every value kept, an error next to each field and a
summary linking to them; a saved one comes back with a message. Everything
is decided by ``services.floor_admin``; this module only reads forms and
picks templates. The IVR pages (``/admin/ivr``) belong to ``web.ivr`` and
share the sub-navigation (``templates/admin/_nav.html``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from ..domain import queue_hours
from ..domain.errors import N_, ConflictError, DomainError, NotFoundError, PermissionDenied, ValidationError
from ..domain.routing import STRATEGY_LABELS
from ..services import floor_admin as admin
from ..services.context import Actor, Context
from ..services.users import ROLE_LABELS
from .deps import current_actor, get_ctx, page, verify_csrf
from .i18n import gettext as _
from .i18n import localized_hours_errors

router = APIRouter(include_in_schema=False)

#: field → label, for the error summary (each entry links to its field)
QUEUE_FIELD_LABELS = {
    "code": N_("Code"), "name": N_("Nom"), "description": N_("Description"), "active": N_("File active"),
    "script_id": N_("Script d'appel"), "ring_timeout_s": N_("Sonnerie avant l'agent suivant (secondes)"),
    "strategy": N_("Stratégie de distribution"), "priority": N_("Priorité"),
    "holiday_country": N_("Jours fériés de"), "closed_message": N_("Message de fermeture"),
    "overflow_after_s": N_("Déborder après (secondes d'attente)"), "overflow_queue_id": N_("Vers la file"),
    "overflow_team_id": N_("Ou vers l'équipe"), "max_wait_s": N_("Attente maximale (secondes)"),
    "callback_after_s": N_("Proposer le rappel après (secondes)"),
    "sl_threshold_s": N_("Seuil du niveau de service (secondes)"), "sl_target": N_("Objectif de niveau de service (%%)"),
    "alert_waiting": N_("Alerte : appels en attente à partir de"),
    "alert_longest_wait_s": N_("Alerte : attente la plus longue à partir de (secondes)"),
    "alert_abandon_rate": N_("Alerte : taux d'abandon à partir de (%%)"),
    "members": N_("Membres"), "dispositions": N_("Qualifications proposées"),
    **{f"hours_{day}": label for day, label in queue_hours.DAY_LABELS.items()},
}
SAVED = {
    "queue": N_("File enregistrée."), "team": N_("Équipe enregistrée."), "team_deleted": N_("Équipe supprimée."),
    "skill": N_("Compétence enregistrée."), "skill_deleted": N_("Compétence supprimée."),
    "agents": N_("Équipes et compétences des agents enregistrées."), "agents_none": N_("Aucune modification à enregistrer."),
}


def _labels() -> dict:
    """Label tables the templates translate themselves."""
    return {"DAY_LABELS": queue_hours.DAY_LABELS, "DAYS": queue_hours.DAYS, "STRATEGY_LABELS": STRATEGY_LABELS,
            "HOLIDAY_COUNTRIES": admin.HOLIDAY_COUNTRIES, "SKILL_KINDS": admin.SKILL_KINDS,
            "LEVEL_LABELS": admin.LEVEL_LABELS, "ROLE_LABELS": ROLE_LABELS, "FIELD_LABELS": QUEUE_FIELD_LABELS,
            "SAVED": SAVED}


# --- queues ------------------------------------------------------------------------------------


@router.get("/admin/queues")
def queues_page(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return page(request, "admin/queues.html", rows=admin.list_queues(ctx, actor), **_labels())


@router.get("/admin/queues/new")
def new_queue_page(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return _queue_page(request, admin.edit_queue(ctx, actor))


@router.get("/admin/queues/{queue_id}")
def queue_page(queue_id: int, request: Request, saved: int = 0, actor: Actor = Depends(current_actor),
               ctx: Context = Depends(get_ctx)):
    return _queue_page(request, admin.edit_queue(ctx, actor, queue_id), saved=bool(saved))


@router.post("/admin/queues/new", dependencies=[Depends(verify_csrf)])
async def create_queue(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return await _save_queue(request, actor, ctx, None)


@router.post("/admin/queues/{queue_id}", dependencies=[Depends(verify_csrf)])
async def update_queue(queue_id: int, request: Request, actor: Actor = Depends(current_actor),
                       ctx: Context = Depends(get_ctx)):
    return await _save_queue(request, actor, ctx, queue_id)


async def _save_queue(request: Request, actor: Actor, ctx: Context, queue_id: int | None):
    form = await request.form()
    typed = queue_form_from_post(form)
    fingerprint = str(form.get("updated", "")) or None
    try:
        queue = admin.save_queue(ctx, actor, queue_id, typed, fingerprint)
    except ValidationError as exc:
        edit = admin.edit_queue(ctx, actor, queue_id, form=typed)
        edit.fingerprint = fingerprint or ""  # still the version the person started from
        return _queue_page(request, edit, errors=localized_hours_errors(exc.errors), status=422)
    except ConflictError as exc:
        current = admin.edit_queue(ctx, actor, queue_id)
        differ = _differences(current.form, typed)
        # the form now carries the current fingerprint: saving again, knowingly, replaces that version
        edit = admin.edit_queue(ctx, actor, queue_id, form=typed)
        return _queue_page(request, edit, conflict=exc, differ=differ, status=409)
    return RedirectResponse(f"/admin/queues/{queue.id}?saved=1", status_code=303)


def queue_form_from_post(form) -> admin.QueueForm:
    """The posted fields as typed (nothing parsed here: the service does)."""
    text = {name: str(form.get(name, "")) for name in (
        "code", "name", "description", "script_id", "ring_timeout_s", "strategy", "priority", "holiday_country",
        "closed_message", "overflow_after_s", "overflow_queue_id", "overflow_team_id", "max_wait_s", "callback_after_s",
        "sl_threshold_s", "sl_target", "alert_waiting", "alert_longest_wait_s", "alert_abandon_rate")}
    rows, index = [], 0
    while f"skill_{index}" in form and index < 50:
        rows.append(admin.SkillRequirement(str(form.get(f"skill_{index}", "")), str(form.get(f"skill_{index}_level", ""))))
        index += 1
    return admin.QueueForm(**text, active=bool(form.get("active")),
                           hours={day: str(form.get(f"hours_{day}", "")) for day in queue_hours.DAYS}, skills=rows,
                           members=[str(v) for v in form.getlist("members")],
                           dispositions=[str(v) for v in form.getlist("dispositions")])


def _differences(current: admin.QueueForm, typed: admin.QueueForm) -> list[str]:
    """Labels of the fields where what was typed and what is saved now differ (conflict notice)."""
    labels = []
    for name, msgid in QUEUE_FIELD_LABELS.items():
        label = _(msgid) % {}  # the labels are template strings: "(%%)" reads "(%)"
        if name.startswith("hours_"):
            day = name[6:]
            if current.hours.get(day, "").replace(" ", "") != typed.hours.get(day, "").replace(" ", ""):
                labels.append(label)
        elif name in ("members", "dispositions"):
            if sorted(getattr(current, name)) != sorted(getattr(typed, name)):
                labels.append(label)
        elif str(getattr(current, name)).strip() != str(getattr(typed, name)).strip():
            labels.append(label)
    wanted = sorted((r.skill_id, r.min_level) for r in typed.skills if r.skill_id)
    if sorted((r.skill_id, r.min_level) for r in current.skills) != wanted:
        labels.append(_("Compétences requises"))
    return labels


def _queue_page(request: Request, edit: admin.QueueEdit, errors: dict | None = None, status: int = 200, **extra):
    rows = list(edit.form.skills)
    trailing = 0
    for row in reversed(rows):
        if row.skill_id:
            break
        trailing += 1
    rows += [admin.SkillRequirement() for _ in range(max(0, admin.BLANK_SKILL_ROWS - trailing))]
    context = {"saved": False, "conflict": None, "differ": []}
    context.update(extra)
    return page(request, "admin/queue_edit.html", status_code=status, edit=edit, form=edit.form, skill_rows=rows,
                errors=errors or {}, **_labels(), **context)


# --- teams ---------------------------------------------------------------------------------------


@router.get("/admin/teams")
def teams_page(request: Request, saved: str = "", actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return _teams(request, ctx, actor, saved=saved if saved in SAVED else "")


def _teams(request: Request, ctx: Context, actor: Actor, status: int = 200, **extra):
    context = {"saved": "", "editing": None, "values": {}, "errors": {}, "refusal": None}
    context.update(extra)
    return page(request, "admin/teams.html", status_code=status, rows=admin.list_teams(ctx, actor), **_labels(),
                **context)


@router.post("/admin/teams", dependencies=[Depends(verify_csrf)])
async def create_team(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return await _save_team(request, actor, ctx, None)


@router.post("/admin/teams/{team_id}", dependencies=[Depends(verify_csrf)])
async def update_team(team_id: int, request: Request, actor: Actor = Depends(current_actor),
                      ctx: Context = Depends(get_ctx)):
    return await _save_team(request, actor, ctx, team_id)


async def _save_team(request: Request, actor: Actor, ctx: Context, team_id: int | None):
    form = await request.form()
    values = {"code": str(form.get("code", "")), "name": str(form.get("name", ""))}
    try:
        admin.save_team(ctx, actor, team_id, values["code"], values["name"])
    except ValidationError as exc:
        return _teams(request, ctx, actor, status=422, editing=team_id or "new", values=values, errors=exc.errors)
    return RedirectResponse("/admin/teams?saved=team", status_code=303)


@router.post("/admin/teams/{team_id}/delete", dependencies=[Depends(verify_csrf)])
def remove_team(team_id: int, request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    try:
        admin.delete_team(ctx, actor, team_id)
    except (PermissionDenied, NotFoundError):
        raise
    except DomainError as exc:  # still in use: say by what
        return _teams(request, ctx, actor, status=409, refusal=exc)
    return RedirectResponse("/admin/teams?saved=team_deleted", status_code=303)


# --- skills ---------------------------------------------------------------------------------------


@router.get("/admin/skills")
def skills_page(request: Request, saved: str = "", actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return _skills(request, ctx, actor, saved=saved if saved in SAVED else "")


def _skills(request: Request, ctx: Context, actor: Actor, status: int = 200, **extra):
    context = {"saved": "", "editing": None, "values": {}, "errors": {}, "refusal": None}
    context.update(extra)
    return page(request, "admin/skills.html", status_code=status, rows=admin.list_skills(ctx, actor), **_labels(),
                **context)


@router.post("/admin/skills", dependencies=[Depends(verify_csrf)])
async def create_skill(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return await _save_skill(request, actor, ctx, None)


@router.post("/admin/skills/{skill_id}", dependencies=[Depends(verify_csrf)])
async def update_skill(skill_id: int, request: Request, actor: Actor = Depends(current_actor),
                       ctx: Context = Depends(get_ctx)):
    return await _save_skill(request, actor, ctx, skill_id)


async def _save_skill(request: Request, actor: Actor, ctx: Context, skill_id: int | None):
    form = await request.form()
    values = {"code": str(form.get("code", "")), "label": str(form.get("label", "")), "kind": str(form.get("kind", ""))}
    try:
        admin.save_skill(ctx, actor, skill_id, values["code"], values["label"], values["kind"])
    except ValidationError as exc:
        return _skills(request, ctx, actor, status=422, editing=skill_id or "new", values=values, errors=exc.errors)
    return RedirectResponse("/admin/skills?saved=skill", status_code=303)


@router.post("/admin/skills/{skill_id}/delete", dependencies=[Depends(verify_csrf)])
def remove_skill(skill_id: int, request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    try:
        admin.delete_skill(ctx, actor, skill_id)
    except (PermissionDenied, NotFoundError):
        raise
    except DomainError as exc:  # still required by a queue: say which
        return _skills(request, ctx, actor, status=409, refusal=exc)
    return RedirectResponse("/admin/skills?saved=skill_deleted", status_code=303)


# --- agents ----------------------------------------------------------------------------------------


@router.get("/admin/agents")
def agents_page(request: Request, saved: str = "", actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return _agents(request, admin.agents_grid(ctx, actor), saved=saved if saved in SAVED else "")


def _agents(request: Request, grid: admin.AgentsGrid, status: int = 200, **extra):
    context = {"saved": "", "errors": {}}
    context.update(extra)
    return page(request, "admin/agents.html", status_code=status, grid=grid, **_labels(), **context)


@router.post("/admin/agents", dependencies=[Depends(verify_csrf)])
async def save_agents(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    form = await request.form()
    grid = admin.agents_grid(ctx, actor)
    rows = []
    for value in form.getlist("agent"):
        user_id = _int(value)
        if user_id is None:
            continue
        levels = {skill.id: str(form.get(f"level_{user_id}_{skill.id}", "0")) for skill in grid.skills
                  if f"level_{user_id}_{skill.id}" in form}
        rows.append(admin.AgentInput(user_id, str(form.get(f"team_{user_id}", "")), levels,
                                     str(form.get(f"updated_{user_id}", ""))))
    try:
        changed = admin.save_agents(ctx, actor, rows)
    except ValidationError as exc:
        # the grid as typed, each row with the fingerprint of what is saved now: saving again replaces it
        typed = {row.user_id: row for row in rows}
        for shown in grid.rows:
            if shown.user.id in typed:
                shown.team_id = typed[shown.user.id].team_id
                shown.levels.update(typed[shown.user.id].levels)
                if f"agent_{shown.user.id}" not in exc.errors:
                    shown.fingerprint = typed[shown.user.id].fingerprint or shown.fingerprint
        return _agents(request, grid, status=422, errors=exc.errors)
    return RedirectResponse("/admin/agents?saved=" + ("agents" if changed else "agents_none"), status_code=303)


def _int(value) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
