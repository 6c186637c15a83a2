"""Call scripts in the browser: the supervisors' editor and the desktop's script panel.

The editor is a plain form (works without JavaScript): a YAML text area with
"Valider" (check only) and "Enregistrer" (check and save), every error listed
with its line, and a readable preview of the script. The desktop panel is a
fragment the agent desktop swaps into ``#script-panel`` with htmx; answers are
saved field by field without moving focus, and "Étape suivante" follows the
branches the answers lead to.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from ..domain import scripts as rules
from ..domain.errors import ConflictError, DomainError, ValidationError
from ..services import scripts
from ..services.context import Actor, Context
from .deps import current_actor, get_ctx, page, supervisor_actor, verify_csrf

#: HTML pages stay out of the OpenAPI document; the JSON routes below are in it
router = APIRouter()
api = APIRouter(prefix="/api", tags=["scripts"], dependencies=[Depends(verify_csrf)])

#: what "Nouveau script" starts from: valid, short, showing every feature
STARTER = """\
code: nouveau-script
name: Nouveau script
charter:
  company: Énergie Horizon
  greeting: "Énergie Horizon, {agent} à votre écoute, bonjour !"
  closing: "Merci de votre appel, {contact}, au revoir !"
banned_words: [problème, pas de souci, calmez-vous]
steps:
  - id: accueil
    title: Accueil
    phase: accueil
    phrases: ["Énergie Horizon, {agent} à votre écoute, bonjour !"]
  - id: identification
    title: Identification
    phase: identification
    questions:
      - {id: nom, label: Nom du client, type: text, required: true}
  - id: decouverte
    title: Découverte
    phase: decouverte
    questions:
      - {id: motif, label: Motif de l'appel, type: choice, choices: [Information, Réclamation], required: true}
    branches:
      - when: {question: motif, equals: Réclamation}
        goto: reclamation
    next: information
  - id: information
    title: Information
    phase: traitement
    next: conclusion
  - id: reclamation
    title: Réclamation
    phase: traitement
  - id: conclusion
    title: Conclusion et prise de congé
    phase: conclusion
    phrases: ["Merci de votre appel, {contact}, au revoir !"]
objections:
  - id: trop-cher
    objection: C'est trop cher.
    answers: ["Je comprends ; regardons ensemble l'offre la mieux adaptée."]
"""


# --- the editor (supervisors, trainers, administrators) ------------------------------------------


@router.get("/scripts", include_in_schema=False)
def list_page(request: Request, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    return page(request, "scripts/list.html", summaries=scripts.list_scripts(ctx))


@router.get("/scripts/new", include_in_schema=False)
def new_page(request: Request, actor: Actor = Depends(supervisor_actor)):
    return _editor(request, None, STARTER, version=0)


@router.get("/scripts/{script_id}", include_in_schema=False)
def edit_page(script_id: int, request: Request, saved: int = 0, actor: Actor = Depends(supervisor_actor),
              ctx: Context = Depends(get_ctx)):
    row = scripts.get_script(ctx, script_id)
    return _editor(request, row, row.content, version=row.version, queues=scripts.queues_using(ctx, script_id),
                   saved=bool(saved))


@router.post("/scripts/new", dependencies=[Depends(verify_csrf)], include_in_schema=False)
async def create(request: Request, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    return await _submit(request, actor, ctx, None)


@router.post("/scripts/{script_id}", dependencies=[Depends(verify_csrf)], include_in_schema=False)
async def update(script_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                 ctx: Context = Depends(get_ctx)):
    return await _submit(request, actor, ctx, script_id)


async def _submit(request: Request, actor: Actor, ctx: Context, script_id: int | None):
    form = await request.form()
    text = str(form.get("content", "")).replace("\r\n", "\n")
    try:
        version = int(str(form.get("version", "0")) or 0)
    except ValueError:
        version = 0
    row = scripts.get_script(ctx, script_id) if script_id else None
    queues = scripts.queues_using(ctx, script_id) if script_id else []
    if form.get("action") != "save":
        try:
            checked = scripts.check_script(ctx, text, script_id)
        except ValidationError as exc:
            return _editor(request, row, text, version, queues, errors=list(exc.errors.values()), status=422)
        return _editor(request, row, text, version, queues, preview=checked, valid=True)
    try:
        saved = scripts.save_script(ctx, actor, script_id, text, version if script_id else None)
    except ValidationError as exc:
        return _editor(request, row, text, version, queues, errors=list(exc.errors.values()), status=422)
    except ConflictError as exc:
        current = scripts.get_script(ctx, script_id)
        # the form now carries the current version: saving again, knowingly, replaces it
        return _editor(request, current, text, current.version, queues, conflict=exc, status=409)
    return RedirectResponse(f"/scripts/{saved.id}?saved=1", status_code=303)


def _editor(request: Request, row, text: str, version: int, queues=(), errors=None, preview=None, valid=False,
            saved=False, conflict: DomainError | None = None, status: int = 200):
    if preview is None and not errors:
        try:
            preview = rules.parse_script(text)
        except ValidationError:
            preview = None
    return page(request, "scripts/editor.html", status_code=status, row=row, text=text, version=version,
                queues=list(queues), errors=errors or [], preview=preview, valid=valid, saved=saved,
                conflict=conflict, PHASE_LABELS=rules.PHASE_LABELS, TYPE_LABELS=rules.TYPE_LABELS, END=rules.END)


# --- the desktop panel (the call's agent, or a supervisor) ----------------------------------------


@router.get("/desktop/script/{call_id}", include_in_schema=False)
def panel(call_id: int, request: Request, step: str | None = None, after: str | None = None, focus: int = 0,
          actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    """The script panel's content; ``focus=1`` when the agent asked to move (focus goes to the step)."""
    state = scripts.script_state(ctx, call_id, step_id=step, actor=actor, after=after)
    return _panel(request, state, focus=bool(focus), editable=state.call.agent_id == actor.id)


def _panel(request: Request, state: scripts.ScriptState, focus: bool = False, editable: bool = True) -> HTMLResponse:
    return page(request, "scripts/_panel.html", state=state, focus=focus, editable=editable,
                PHASE_LABELS=rules.PHASE_LABELS, END=rules.END, show_answer=rules.show_answer)


@router.post("/desktop/script/{call_id}/answer", dependencies=[Depends(verify_csrf)], include_in_schema=False)
async def answer(call_id: int, request: Request, actor: Actor = Depends(current_actor),
                 ctx: Context = Depends(get_ctx)):
    """Save one answer; the response goes into the field's status slot (focus stays put).

    htmx sends the whole form (each field is named ``answer-<question id>``)
    plus ``question_id``; a plain ``value`` field is accepted as well.
    """
    form = await request.form()
    question_id = str(form.get("question_id", ""))
    raw = form.get("value")
    if raw is None:
        raw = form.get(f"answer-{question_id}", "")
    try:
        saved = scripts.save_answer(ctx, actor, call_id, question_id, str(raw))
    except ValidationError as exc:
        error = next(iter(exc.errors.values()))
        return page(request, "scripts/_answer_status.html", status_code=422, error=error, question_id=question_id)
    # the step list ("fait") and the "Étape suivante" target follow the new answer
    state = scripts.script_state(ctx, call_id, step_id=saved.step_id, actor=actor)
    return page(request, "scripts/_answer_status.html", error=None, question_id=question_id, state=state,
                saved=saved, PHASE_LABELS=rules.PHASE_LABELS, END=rules.END)


# --- JSON API ------------------------------------------------------------------------------------


class AnswerIn(BaseModel):
    question_id: str = Field(description="the question's id in the script")
    value: str = Field("", description="the answer as typed or chosen; stored in canonical form")


class AnswerOut(BaseModel):
    call_id: int
    question_id: str
    step_id: str
    value: str
    script_version: int


class ScriptStateOut(BaseModel):
    call_id: int
    script_id: int | None
    script_code: str | None
    script_version: int | None
    current_step: str | None
    next_step: str | None = Field(description="a step id, or 'end'")
    path: list[str]
    answers: dict[str, str]


@api.get("/calls/{call_id}/script", response_model=ScriptStateOut)
def api_state(call_id: int, step: str | None = None, actor: Actor = Depends(current_actor),
              ctx: Context = Depends(get_ctx)):
    """The call's script position: current step, where "next" leads, the answers saved."""
    state = scripts.script_state(ctx, call_id, step_id=step, actor=actor)
    return ScriptStateOut(call_id=call_id, script_id=state.row.id if state.row else None,
                          script_code=state.row.code if state.row else None,
                          script_version=state.row.version if state.row else None,
                          current_step=state.current.id if state.current else None, next_step=state.next,
                          path=state.path, answers=state.answers)


@api.post("/calls/{call_id}/script/answers", response_model=AnswerOut)
def api_answer(call_id: int, body: AnswerIn, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    """Save one answer on the call (the call's agent only, while connected, on hold or in wrap-up)."""
    saved = scripts.save_answer(ctx, actor, call_id, body.question_id, body.value)
    return AnswerOut(call_id=call_id, question_id=saved.question_id, step_id=saved.step_id, value=saved.value,
                     script_version=saved.script_version)


router.include_router(api)

