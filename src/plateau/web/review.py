"""The review page of a call ("double écoute" and debriefing): self / automatic / trainer results.

One page, ``/calls/{id}/review?framework=CODE``, for the call's agent and the
trainers. The trainee first fills the grid as a self-assessment (MC C4.2) and
sees no result before; then, like the trainer, sees per criterion their own
result, the automatic one with its rationale and evidence, the trainer's
with the comment, and the one retained, beside the transcript where the cited
turns are marked. The trainer changes a result with a comment (both are
kept), writes feedback and runs the automatic evaluation.

Every form is a plain POST that comes back to the page (303 on success, the
page with the errors and a 4xx status otherwise); ``static/review.js`` only
announces what was saved.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from ..domain.errors import N_, DomainError, NotFoundError, PermissionDenied, ValidationError
from ..services import ratings
from ..services import review as review_service
from ..services.context import Actor, Context
from .deps import current_actor, get_ctx, page, verify_csrf

router = APIRouter(include_in_schema=False)

#: what is announced once a form went through (``?done=``)
DONE_MESSAGES = {
    "self": N_("Auto-évaluation enregistrée : voici les résultats."),
    "override": N_("Résultat du formateur enregistré ; le résultat automatique reste dans l'historique."),
    "feedback": N_("Retour enregistré."),
    "evaluate": N_("Évaluation automatique terminée : résultats enregistrés."),
}
#: the events of the ``CALL.json`` format an evaluator cites (an unknown type is shown as it is)
EVENT_LABELS = {
    "hold": N_("mise en attente"), "resume": N_("reprise"), "transfer": N_("transfert"), "hangup": N_("raccroché"),
    "crm_update": N_("mise à jour de la fiche client"), "disposition": N_("qualification de l'appel"),
    "callback": N_("rappel programmé"), "appointment": N_("rendez-vous"), "survey_answer": N_("réponse d'enquête"),
    "script_answer": N_("réponse au script"), "payment_plan": N_("échéancier"), "sale": N_("vente"),
    "complaint_forwarded": N_("réclamation transmise"), "note": N_("note"),
}
#: what a timing measures
TIMING_LABELS = {"silence": N_("silence"), "hold": N_("mise en attente"), "call": N_("durée de l'appel")}
SPEAKER_LABELS = {"agent": N_("Agent"), "caller": N_("Client"), "system": N_("Système")}
LABELS = {"RESULT_LABELS": ratings.RESULT_LABELS, "SOURCE_LABELS": ratings.SOURCE_LABELS,
          "DONE_MESSAGES": DONE_MESSAGES, "RESULTS": ratings.RESULTS, "EVENT_LABELS": EVENT_LABELS,
          "TIMING_LABELS": TIMING_LABELS, "SPEAKER_LABELS": SPEAKER_LABELS}


def _render(request: Request, ctx: Context, actor: Actor, call_id: int, framework: str, status: int = 200,
            **extra):
    view = review_service.review(ctx, actor, call_id, framework)
    context = {"done": "", "error": None, "errors": {}, "values": {}, "failed": None}
    context.update(extra)
    return page(request, "review/page.html", status_code=status, v=view, **LABELS, **context)


def _back(call_id: int, framework: str, done: str, anchor: str = "") -> RedirectResponse:
    query = urlencode({"framework": framework, "done": done})
    return RedirectResponse(f"/calls/{call_id}/review?{query}" + (f"#{anchor}" if anchor else ""), status_code=303)


@router.get("/calls/{call_id}/review")
def review_page(call_id: int, request: Request, framework: str = "", done: str = "",
                actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    code = framework or review_service.default_framework(ctx, call_id)
    return _render(request, ctx, actor, call_id, code, done=done if done in DONE_MESSAGES else "")


@router.post("/calls/{call_id}/review/self", dependencies=[Depends(verify_csrf)])
async def self_assessment(call_id: int, request: Request, actor: Actor = Depends(current_actor),
                          ctx: Context = Depends(get_ctx)):
    form = await request.form()
    code = str(form.get("framework", ""))
    # answers are sent as ``answer-<criterion id>``: ids hold slashes and dots, fine in a field name
    answers = {key[len("answer-"):]: str(value) for key, value in form.multi_items() if key.startswith("answer-")}
    try:
        ratings.self_assess(ctx, actor, call_id, code, answers)
    except ValidationError as exc:
        return _render(request, ctx, actor, call_id, code, status=422, error=exc, errors=exc.errors,
                       failed="self", values=answers)
    return _back(call_id, code, "self", "results")


@router.post("/calls/{call_id}/review/override", dependencies=[Depends(verify_csrf)])
async def override(call_id: int, request: Request, actor: Actor = Depends(current_actor),
                   ctx: Context = Depends(get_ctx)):
    form = await request.form()
    code, criterion = str(form.get("framework", "")), str(form.get("criterion_id", ""))
    values = {"criterion_id": criterion, "result": str(form.get("result", "")), "comment": str(form.get("comment", ""))}
    try:
        ratings.override(ctx, actor, call_id, code, criterion, values["result"], values["comment"])
    except ValidationError as exc:
        return _render(request, ctx, actor, call_id, code, status=422, error=exc, errors=exc.errors,
                       failed="override", values=values)
    number = review_service.row_number(code, criterion)
    return _back(call_id, code, "override", f"criterion-{number}" if number else "results")


@router.post("/calls/{call_id}/review/feedback", dependencies=[Depends(verify_csrf)])
async def feedback(call_id: int, request: Request, actor: Actor = Depends(current_actor),
                   ctx: Context = Depends(get_ctx)):
    form = await request.form()
    code, text = str(form.get("framework", "")), str(form.get("text", ""))
    try:
        ratings.add_feedback(ctx, actor, call_id, text)
    except ValidationError as exc:
        return _render(request, ctx, actor, call_id, code, status=422, error=exc, errors=exc.errors,
                       failed="feedback", values={"text": text})
    return _back(call_id, code, "feedback", "feedback")


@router.post("/calls/{call_id}/review/evaluate", dependencies=[Depends(verify_csrf)])
async def evaluate(call_id: int, request: Request, actor: Actor = Depends(current_actor),
                   ctx: Context = Depends(get_ctx)):
    form = await request.form()
    code = str(form.get("framework", ""))
    try:
        review_service.evaluate(ctx, actor, call_id, code)
    except (NotFoundError, PermissionDenied):
        raise  # the app's error page: 404 / 403
    except DomainError as exc:  # not available, call not closed, a call the evaluator cannot read
        return _render(request, ctx, actor, call_id, code, status=422, error=exc,
                       errors=getattr(exc, "errors", {}), failed="evaluate")
    return _back(call_id, code, "evaluate", "results")

