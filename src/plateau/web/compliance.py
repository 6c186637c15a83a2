"""The calling rules in the browser: ``/compliance`` and a contact's consents — all on ``services.compliance``.

``/compliance`` (supervisors, trainers, administrators) shows each country
profile with its rules, references and current state, the audit trail of
the switches (administrators switch a rule with a required reason), the
opposition lists (the own "liste repoussoir": add or remove a number;
imported lists: upload, last import, a warning past 30 days) and a
"tester une situation" form that runs the very evaluation made before each
dial. Every form posts and comes back (a redirect after a change, the page
with the verdict after a test); a refused form comes back with the error
summary focused and the typed values kept.

A contact's consents (``/contacts/{id}/consents``) are a partial loaded by
the contact page with htmx, or a page of their own without JavaScript.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from ..domain.campaigns import OUTCOME_LABELS
from ..domain.compliance import DIALERS, PARTIES, PURPOSES, reason_text
from ..domain.compliance_kinds import KINDS
from ..domain.errors import N_, DomainError, NotFoundError, PermissionDenied, ValidationError
from ..services import compliance, crm
from ..services.context import Actor, Context
from .deps import current_actor, get_ctx, page, supervisor_actor, verify_csrf
from .i18n import gettext as _

router = APIRouter(include_in_schema=False)

DONE_MESSAGES = {
    "switch": N_("Règle modifiée : le changement et sa raison sont dans l'historique."),
    "unchanged": N_("La règle était déjà dans cet état : rien n'a changé."),
    "own-add": N_("Numéro ajouté à la liste repoussoir."),
    "own-remove": N_("Numéro retiré de la liste repoussoir."),
    "import": N_("Liste importée : ses numéros remplacent les précédents."),
}
CONSENT_DONE = {"recorded": N_("Consentement enregistré avec sa preuve."),
                "withdrawn": N_("Retrait du consentement enregistré.")}
PARTY_LABELS = {"consumer": N_("Consommateur (particulier)"), "business": N_("Entreprise (B2B)")}
PURPOSE_LABELS = {"prospecting": N_("Prospection"), "contract": N_("Contrat en cours (fidélisation, relance)"),
                  "debt_collection": N_("Recouvrement"), "survey": N_("Enquête / sondage")}
DIALER_LABELS = {"manual": N_("Manuel"), "preview": N_("Aperçu (preview)"), "progressive": N_("Progressif"),
                 "predictive": N_("Prédictif")}
SECTOR_LABELS = {"": N_("Aucun secteur particulier"), "energy_renovation": N_("Rénovation énergétique"),
                 "personal_training_account": N_("Compte personnel de formation (CPF)")}
LABELS = {"PARTY_LABELS": PARTY_LABELS, "PURPOSE_LABELS": PURPOSE_LABELS, "DIALER_LABELS": DIALER_LABELS,
          "SECTOR_LABELS": SECTOR_LABELS, "KINDS": KINDS, "OUTCOME_LABELS": OUTCOME_LABELS,
          "PARTIES": PARTIES, "PURPOSES": PURPOSES, "DIALERS": DIALERS, "DONE_MESSAGES": DONE_MESSAGES,
          "CONSENT_KINDS": compliance.CONSENT_KINDS, "CONSENT_METHODS": compliance.CONSENT_METHODS,
          "CONSENT_DONE": CONSENT_DONE}


def _status(exc: DomainError) -> int:
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, NotFoundError):
        return 404
    return 422 if isinstance(exc, ValidationError) else 409


def _errors(exc: DomainError) -> dict:
    return getattr(exc, "errors", None) or {exc.field or "form": exc}


# --- /compliance -------------------------------------------------------------------------------


def _page(request: Request, ctx: Context, actor: Actor, status: int = 200, **extra):
    profiles = [compliance.profile_view(ctx, code) for code in compliance.load_profiles()]
    context = {"failed": None, "error": None, "errors": {}, "values": {}, "done": "", "decision": None,
               "test": {"country": "FR", "party": "consumer", "purpose": "prospecting", "dialer": "manual",
                        "consent": "", "time": "11:00"}}
    context.update(extra)
    reasons = [reason_text(r, _) for r in context["decision"].reasons] if context["decision"] else []
    return page(request, "compliance/page.html", status_code=status, profiles=profiles,
                lists=compliance.opposition_lists(ctx), entries=compliance.own_entries(ctx),
                reasons=reasons, is_admin=actor.is_admin, **LABELS, **context)


@router.get("/compliance")
def compliance_page(request: Request, done: str = "", actor: Actor = Depends(supervisor_actor),
                    ctx: Context = Depends(get_ctx)):
    return _page(request, ctx, actor, done=done if done in DONE_MESSAGES else "")


def _refused(request: Request, ctx: Context, actor: Actor, exc: DomainError, failed: str, values: dict):
    return _page(request, ctx, actor, status=_status(exc), error=exc, errors=_errors(exc), failed=failed,
                 values=values)


@router.post("/compliance/switch", dependencies=[Depends(verify_csrf)])
async def switch(request: Request, country: str = Form(""), rule: str = Form(""), enabled: str = Form(""),
                 reason: str = Form(""), actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    """Switch a rule on or off (administrators; the service refuses others), with a required reason."""
    try:
        row = await run_in_threadpool(compliance.switch_rule, ctx, actor, country, rule, enabled == "1", reason)
    except DomainError as exc:
        return await run_in_threadpool(_refused, request, ctx, actor, exc, f"switch:{rule}", {"reason": reason})
    done = "switch" if row is not None else "unchanged"
    return RedirectResponse(f"/compliance?done={done}#rule-{rule.replace('.', '-')}", status_code=303)


@router.post("/compliance/own-list/add", dependencies=[Depends(verify_csrf)])
async def own_add(request: Request, number: str = Form(""), reason: str = Form(""),
                  actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    try:
        await run_in_threadpool(compliance.own_list_add, ctx, actor, number, reason)
    except DomainError as exc:
        return await run_in_threadpool(_refused, request, ctx, actor, exc, "own-add",
                                       {"number": number, "reason": reason})
    return RedirectResponse("/compliance?done=own-add#own-list-title", status_code=303)


@router.post("/compliance/own-list/remove", dependencies=[Depends(verify_csrf)])
async def own_remove(request: Request, number: str = Form(""), reason: str = Form(""),
                     actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    try:
        await run_in_threadpool(compliance.own_list_remove, ctx, actor, number, reason)
    except DomainError as exc:
        return await run_in_threadpool(_refused, request, ctx, actor, exc, f"own-remove:{number}",
                                       {"reason": reason})
    return RedirectResponse("/compliance?done=own-remove#own-list-title", status_code=303)


@router.post("/compliance/lists/import", dependencies=[Depends(verify_csrf)])
async def import_list(request: Request, code: str = Form(""), name: str = Form(""), country: str = Form("FR"),
                      file: UploadFile | None = File(None), actor: Actor = Depends(supervisor_actor),
                      ctx: Context = Depends(get_ctx)):
    """Replace an imported list with an uploaded file: all or nothing, every bad line reported."""
    content = await file.read() if file is not None else b""
    values = {"code": code, "name": name, "country": country}
    try:
        await run_in_threadpool(compliance.import_list, ctx, actor, code, name, country, content)
    except DomainError as exc:
        return await run_in_threadpool(_refused, request, ctx, actor, exc, "import", values)
    return RedirectResponse("/compliance?done=import#lists-title", status_code=303)


@router.post("/compliance/test", dependencies=[Depends(verify_csrf)])
async def test_situation(request: Request, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    """Run the dial-time evaluation on a described situation and show the verdict with its reasons."""
    form = await request.form()
    values = {name: str(form.get(name, "")) for name in compliance.TEST_FIELDS}
    try:
        decision = await run_in_threadpool(compliance.check_form, ctx, values)
    except DomainError as exc:
        return await run_in_threadpool(_refused, request, ctx, actor, exc, "test", values)
    return await run_in_threadpool(lambda: _page(request, ctx, actor, decision=decision, test=values))


# --- a contact's consents --------------------------------------------------------------------------


def _consents(request: Request, ctx: Context, contact_id: int, status: int = 200, **extra):
    """The partial for htmx, the whole page otherwise (it then has its own h1)."""
    items = compliance.consents_of(ctx, contact_id)
    context = {"errors": {}, "values": {}, "done": "", "failed": None, "error": None}
    context.update(extra)
    partial = bool(request.headers.get("hx-request"))
    return page(request, "compliance/_consents.html" if partial else "compliance/consents.html", status_code=status,
                contact_id=contact_id, contact=None if partial else crm.get_contact(ctx, contact_id), items=items,
                **LABELS, **context)


@router.get("/contacts/{contact_id:int}/consents")
def consents(contact_id: int, request: Request, done: str = "", actor: Actor = Depends(current_actor),
             ctx: Context = Depends(get_ctx)):
    return _consents(request, ctx, contact_id, done=done if done in CONSENT_DONE else "")


@router.post("/contacts/{contact_id:int}/consents", dependencies=[Depends(verify_csrf)])
async def record(contact_id: int, request: Request, actor: Actor = Depends(current_actor),
                 ctx: Context = Depends(get_ctx)):
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in ("kind", "given_at", "method", "text", "source")}

    def run():
        try:
            compliance.record_consent(ctx, actor, contact_id, values["kind"], values["given_at"], values["method"],
                                      values["text"], values["source"])
        except ValidationError as exc:
            return _consents(request, ctx, contact_id, status=422, errors=exc.errors, values=values, failed="record")
        if request.headers.get("hx-request"):
            return _consents(request, ctx, contact_id, done="recorded")
        return RedirectResponse(f"/contacts/{contact_id}/consents?done=recorded", status_code=303)

    return await run_in_threadpool(run)


@router.post("/contacts/{contact_id:int}/consents/{consent_id:int}/withdraw", dependencies=[Depends(verify_csrf)])
async def withdraw(contact_id: int, consent_id: int, request: Request, actor: Actor = Depends(current_actor),
                   ctx: Context = Depends(get_ctx)):
    form = await request.form()
    how = str(form.get("how", "")).strip()

    def run():
        try:
            if consent_id not in {item.consent.id for item in compliance.consents_of(ctx, contact_id)}:
                raise NotFoundError(N_("Consentement introuvable."))
            compliance.withdraw_consent(ctx, actor, consent_id, how)
        except ValidationError as exc:
            return _consents(request, ctx, contact_id, status=422, errors=exc.errors, values={"how": how},
                             failed=consent_id)
        if request.headers.get("hx-request"):
            return _consents(request, ctx, contact_id, done="withdrawn")
        return RedirectResponse(f"/contacts/{contact_id}/consents?done=withdrawn", status_code=303)

    return await run_in_threadpool(run)
