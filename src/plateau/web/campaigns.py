"""Campaign pages: the list, the creation and edit form, a campaign's page (lifecycle,
target list, change log) and the campaign qualifications.

Plain forms that post and redirect, so everything works without JavaScript: a
refused form comes back (422) with every value as typed, each error next to
its field (``aria-describedby``) and a summary at the top linking to them; a
save built on an older version comes back (409) saying who saved meanwhile.
htmx only adds the live count of a selection ("N contacts correspondent")
without leaving the form; without it, the same button posts the form back
with the count and saves nothing. Finishing a campaign asks for a
confirmation on a page of its own.

Every rule lives in ``services.campaigns``; this module reads forms and
picks templates. The results page (``/campaigns/{id}/results``) belongs to
``web.campaign_results``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from ..domain import campaign_settings as settings_rules
from ..domain import contacts as contact_rules
from ..domain import queue_hours
from ..domain.campaigns import (ACTION_LABELS, CONTACT_STATE_LABELS, MODE_LABELS, OUTCOME_LABELS, STATUS_LABELS,
                                TYPE_LABELS, CampaignAction, ContactState)
from ..domain.errors import N_, ConflictError, DomainError, NotFoundError, PermissionDenied, ValidationError
from ..services import campaigns
from ..services.context import Actor, Context
from ..services.users import ROLE_LABELS
from .deps import current_actor, get_ctx, page, verify_csrf
from .i18n import localized_hours_errors

router = APIRouter(include_in_schema=False)

#: form fields posted as several values (checkboxes)
MULTI = ("products", "disposition_ids", "user_ids", "team_ids")

NETWORK_LABELS = {
    "answered": N_("Décroché par la personne (poids)"), "wrong_person": N_("Décroché par une autre personne (poids)"),
    "busy": N_("Occupé (poids)"), "no_answer": N_("Pas de réponse (poids)"),
    "answering_machine": N_("Répondeur (poids)"), "invalid_number": N_("Numéro invalide (poids)"),
    "answer_median_s": N_("Sonnerie médiane avant de décrocher (secondes)"),
    "answer_sigma": N_("Dispersion des temps de sonnerie"),
    "no_answer_after_s": N_("Sonnerie sans réponse abandonnée après (secondes, 15 au moins)"),
}
RETRY_LABELS = {
    "busy": N_("Après « occupé » (minutes)"), "no_answer": N_("Après « pas de réponse » (minutes)"),
    "answering_machine": N_("Après un répondeur (minutes)"),
}
SELECTION_LABELS = {
    "selection_query": N_("Recherche dans le fichier client"), "selection_status": N_("Statut"),
    "selection_kind": N_("Type de fiche"), "selection_segment": N_("Segment"), "selection_tag": N_("Étiquette"),
    "selection_prospect_temperature": N_("Température prospect"), "selection_city": N_("Ville (début du nom)"),
    "selection_postcode": N_("Code postal (début)"), "selection_import_job": N_("Contacts d'un import CSV"),
    "selection": N_("Sélection de contacts"),
}
#: field → label, for the error summary (each entry links to its field)
FIELD_LABELS = {
    "name": N_("Nom de la campagne"), "code": N_("Code"), "kind": N_("Type de campagne"),
    "description": N_("Description"), "qualitative_objectives": N_("Objectifs qualitatifs"),
    "objectives": N_("Objectifs chiffrés"), "script_id": N_("Script d'appel"), "products": N_("Produits proposés"),
    "disposition_ids": N_("Qualifications"), "starts_on": N_("Date de début"), "ends_on": N_("Date de fin"),
    "hours": N_("Heures d'appel"), "timezone": N_("Fuseau horaire des heures d'appel"),
    "dial_mode": N_("Mode de numérotation"), "max_attempts": N_("Tentatives maximum par contact"),
    "retry_minutes": N_("Délais avant nouvelle tentative"), "presented_number": N_("Numéro présenté"),
    "abandon_cap": N_("Taux d'abandon maximal (%%)"), "drop_after_s": N_("Délai de mise en relation (secondes)"),
    "drop_message": N_("Message d'appel abandonné"), "country": N_("Règles d'appel du pays"),
    "sector": N_("Secteur d'activité"), "test_sample_size": N_("Contacts appelés en test"),
    "network_seed": N_("Graine du réseau simulé"), "network": N_("Réseau simulé"),
    "user_ids": N_("Agents"), "team_ids": N_("Équipes"),
    **{f"objective_{key}": label for key, label in settings_rules.OBJECTIVES.items()},
    **{f"retry_{key}": label for key, label in RETRY_LABELS.items()},
    **{f"network_{key}": label for key, label in NETWORK_LABELS.items()},
    **SELECTION_LABELS,
}
NOTICES = {
    "created": N_("Campagne créée."), "saved": N_("Campagne enregistrée."),
    "test": N_("Appels tests lancés : l'échantillon est tiré, le numéroteur l'appelle."),
    "launch": N_("Campagne lancée."), "pause": N_("Campagne mise en pause."), "resume": N_("Campagne reprise."),
    "finish": N_("Campagne terminée."), "removed": N_("Contact retiré de la liste."),
    "disposition": N_("Qualification créée."),
}


def _labels() -> dict:
    """Label tables the templates translate themselves."""
    return {"TYPE_LABELS": TYPE_LABELS, "MODE_LABELS": MODE_LABELS, "STATUS_LABELS": STATUS_LABELS,
            "STATE_LABELS": CONTACT_STATE_LABELS, "OUTCOME_LABELS": OUTCOME_LABELS, "ACTION_LABELS": ACTION_LABELS,
            "COUNTRIES": settings_rules.COUNTRIES, "SECTORS": settings_rules.SECTORS,
            "OBJECTIVES": settings_rules.OBJECTIVES, "RETRY_LABELS": RETRY_LABELS, "NETWORK_LABELS": NETWORK_LABELS,
            "SELECTION_LABELS": SELECTION_LABELS, "CONTACT_STATUSES": contact_rules.STATUSES,
            "CONTACT_KINDS": contact_rules.KINDS, "TEMPERATURES": contact_rules.TEMPERATURES,
            "DAYS": queue_hours.DAYS, "DAY_LABELS": queue_hours.DAY_LABELS, "ROLE_LABELS": ROLE_LABELS,
            "FIELD_LABELS": FIELD_LABELS, "CHANGE_LABELS": campaigns.FIELD_LABELS, "NOTICES": NOTICES,
            "AGENT_OUTCOMES": settings_rules.AGENT_OUTCOMES, "STATES": [s.value for s in ContactState],
            "LEGAL_CAP": f"{settings_rules.LEGAL_ABANDON_CAP * 100:g}",
            "VALUE_LABELS": {"status": STATUS_LABELS, "kind": TYPE_LABELS, "dial_mode": MODE_LABELS,
                             "sector": settings_rules.SECTORS, "country": settings_rules.COUNTRIES}}


async def _posted(request: Request) -> dict:
    """The posted form as a dict: one string per field, a list for the checkbox groups."""
    form = await request.form()
    values: dict = {}
    for key in form.keys():
        items = [str(v) for v in form.getlist(key)]
        values[key] = items if key in MULTI else (items[-1] if items else "")
    for key in MULTI:
        values.setdefault(key, [])
    return values


# --- list ---------------------------------------------------------------------------------------------------


@router.get("/campaigns")
def campaigns_page(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return page(request, "campaigns/list.html", rows=campaigns.list_campaigns(ctx, actor), **_labels())


# --- the form --------------------------------------------------------------------------------------------------


@router.get("/campaigns/new")
def new_campaign_page(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return _form_page(request, ctx, actor, None, campaigns.form_values(None))


@router.post("/campaigns/new", dependencies=[Depends(verify_csrf)])
async def create_campaign(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return await _save(request, ctx, actor, None)


@router.get("/campaigns/{campaign_id:int}/edit")
def edit_campaign_page(campaign_id: int, request: Request, actor: Actor = Depends(current_actor),
                       ctx: Context = Depends(get_ctx)):
    campaigns.require_manager(actor)
    view = campaigns.get(ctx, campaign_id)
    if view.finished:
        raise DomainError(N_("La campagne est terminée : elle ne peut plus être modifiée."))
    return _form_page(request, ctx, actor, view, campaigns.form_values(view), version=view.version)


@router.post("/campaigns/{campaign_id:int}/edit", dependencies=[Depends(verify_csrf)])
async def update_campaign(campaign_id: int, request: Request, actor: Actor = Depends(current_actor),
                          ctx: Context = Depends(get_ctx)):
    return await _save(request, ctx, actor, campaign_id)


async def _save(request: Request, ctx: Context, actor: Actor, campaign_id: int | None):
    campaigns.require_manager(actor)
    values = await _posted(request)
    values["add_selection"] = bool(values.get("add_selection"))
    view = campaigns.get(ctx, campaign_id) if campaign_id is not None else None
    version = _int(values.get("version"))
    if values.get("preview"):  # the count button, without JavaScript: count, save nothing
        try:
            count = campaigns.preview_selection(ctx, actor, *campaigns.selection_from_form(values), campaign_id)
        except ValidationError as exc:
            return _form_page(request, ctx, actor, view, values, version=version, errors=localized_hours_errors(exc.errors),
                              status=422)
        return _form_page(request, ctx, actor, view, values, version=version, count=count)
    try:
        saved = campaigns.save(ctx, actor, campaign_id, version, campaigns.data_from_form(values))
    except ValidationError as exc:
        return _form_page(request, ctx, actor, view, values, version=version, errors=localized_hours_errors(exc.errors),
                          status=422)
    except ConflictError as exc:
        # the form now carries the current version: saving again, knowingly, replaces it
        current = campaigns.get(ctx, campaign_id)
        return _form_page(request, ctx, actor, current, values, version=current.version, conflict=exc, status=409)
    target = f"/campaigns/{saved.campaign.id}?done={'created' if campaign_id is None else 'saved'}"
    if saved.targets is not None:
        target += (f"&added={saved.targets.added}&without_phone={saved.targets.without_phone}"
                   f"&already={saved.targets.already}")
    return RedirectResponse(target, status_code=303)


def _form_page(request: Request, ctx: Context, actor: Actor, view, values: dict, version: int | None = None,
               errors: dict | None = None, status: int = 200, **extra):
    context = {"count": None, "conflict": None}
    context.update(extra)
    return page(request, "campaigns/form.html", status_code=status, view=view, values=values, version=version,
                errors=errors or {}, choices=campaigns.form_choices(ctx, actor), **_labels(), **context)


@router.get("/campaigns/selection-count")
def selection_count(request: Request, campaign_id: str = "", actor: Actor = Depends(current_actor),
                    ctx: Context = Depends(get_ctx)):
    """The count preview of the form's selection (htmx fragment, announced by its live region)."""
    values = dict(request.query_params)
    try:
        count = campaigns.preview_selection(ctx, actor, *campaigns.selection_from_form(values), _int(campaign_id))
    except ValidationError as exc:
        return page(request, "campaigns/_selection_count.html", status_code=200, count=None,
                    errors=localized_hours_errors(exc.errors), **_labels())
    return page(request, "campaigns/_selection_count.html", count=count, errors={}, **_labels())


# --- a campaign's page ------------------------------------------------------------------------------------------------


@router.get("/campaigns/{campaign_id:int}")
def campaign_page(campaign_id: int, request: Request, state: str = "", after: str = "", done: str = "",
                  actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return _campaign_page(request, ctx, actor, campaign_id, state=state, after=after,
                          done=done if done in NOTICES else "")


def _campaign_page(request: Request, ctx: Context, actor: Actor, campaign_id: int, state: str = "", after: str = "",
                   status: int = 200, **extra):
    campaigns.require_manager(actor)
    view = campaigns.get(ctx, campaign_id)
    state = state if state in {s.value for s in ContactState} else ""
    try:
        targets = campaigns.target_page(ctx, campaign_id, state=state or None, after=after or None)
    except ValidationError:  # a stale cursor: back to the first page
        targets = campaigns.target_page(ctx, campaign_id, state=state or None)
        after = ""
    added = {key: _int(request.query_params.get(key)) for key in ("added", "without_phone", "already")}
    context = {"done": "", "refusal": None, "missing": {}, "added": added if added["added"] is not None else None}
    context.update(extra)
    return page(request, "campaigns/detail.html", status_code=status, view=view, targets=targets, state=state,
                after=after, changes=campaigns.changes(ctx, campaign_id), **_labels(), **context)


@router.post("/campaigns/{campaign_id:int}/actions/{action}", dependencies=[Depends(verify_csrf)])
async def campaign_action(campaign_id: int, action: str, request: Request, actor: Actor = Depends(current_actor),
                          ctx: Context = Depends(get_ctx)):
    campaigns.require_manager(actor)
    form = await request.form()
    if action == CampaignAction.FINISH and not form.get("confirm"):
        view = campaigns.get(ctx, campaign_id)
        return page(request, "campaigns/confirm_finish.html", view=view, **_labels())
    try:
        campaigns.act(ctx, actor, campaign_id, action)
    except ValidationError as exc:  # what dialing needs is missing: each item named
        return _campaign_page(request, ctx, actor, campaign_id, status=422, missing=exc.errors)
    except (PermissionDenied, NotFoundError):
        raise
    except DomainError as exc:
        return _campaign_page(request, ctx, actor, campaign_id, status=409, refusal=exc)
    return RedirectResponse(f"/campaigns/{campaign_id}?done={action}", status_code=303)


@router.post("/campaigns/{campaign_id:int}/targets/{contact_id:int}/remove", dependencies=[Depends(verify_csrf)])
def remove_target(campaign_id: int, contact_id: int, request: Request, actor: Actor = Depends(current_actor),
                  ctx: Context = Depends(get_ctx)):
    try:
        campaigns.remove_target(ctx, actor, campaign_id, contact_id)
    except (PermissionDenied, NotFoundError):
        raise
    except DomainError as exc:
        return _campaign_page(request, ctx, actor, campaign_id, status=409, refusal=exc)
    return RedirectResponse(f"/campaigns/{campaign_id}?done=removed#campaign-targets", status_code=303)


# --- qualifications -----------------------------------------------------------------------------------------------


@router.get("/campaigns/qualifications")
def qualifications_page(request: Request, done: str = "", actor: Actor = Depends(current_actor),
                        ctx: Context = Depends(get_ctx)):
    campaigns.require_manager(actor)
    return _qualifications(request, ctx, done=done if done in NOTICES else "")


def _qualifications(request: Request, ctx: Context, status: int = 200, **extra):
    context = {"done": "", "values": {"requires_callback": False, "is_contact": True}, "errors": {}}
    context.update(extra)
    return page(request, "campaigns/qualifications.html", status_code=status, rows=campaigns.list_dispositions(ctx),
                **_labels(), **context)


@router.post("/campaigns/qualifications", dependencies=[Depends(verify_csrf)])
async def create_qualification(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    form = await request.form()
    values = {"code": str(form.get("code", "")), "label": str(form.get("label", "")),
              "outcome": str(form.get("outcome", "")), "requires_callback": bool(form.get("requires_callback")),
              "is_contact": bool(form.get("is_contact"))}
    try:
        campaigns.create_disposition(ctx, actor, **values)
    except ValidationError as exc:
        return _qualifications(request, ctx, status=422, values=values, errors=exc.errors)
    return RedirectResponse("/campaigns/qualifications?done=disposition", status_code=303)


def _int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None
