"""Call scripts: edited by supervisors, followed by agents during a call.

Scripts are stored as the YAML text their author wrote (comments and order
kept), checked by ``domain.scripts.parse_script`` on every save, with a
``version`` for optimistic locking: two trainers editing the same script
never overwrite each other silently. An agent's answers are saved on the call
with the script version they were given under, so a later edit of the script
does not change what a past call's history says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain import scripts as rules
from ..domain.calls import CallState
from ..domain.contacts import formal_name
from ..domain.errors import N_, ConflictError, DomainError, NotFoundError, PermissionDenied, ValidationError
from ..domain.scripts import END, Script, Step
from ..store.models import Call, CallScript, Campaign, Contact, Queue, ScriptAnswer, User
from .context import Actor, Context, emit, user_channel

#: call states in which the agent may still fill the script in
ANSWERABLE = (CallState.CONNECTED, CallState.ON_HOLD, CallState.WRAP_UP)


# --- editing (supervisors and administrators) ---------------------------------------------


@dataclass
class ScriptSummary:
    script: CallScript
    queues: list[Queue]
    updated_by_name: str | None


def _require_editor(actor: Actor) -> None:
    if not actor.is_supervisor:
        raise PermissionDenied(N_("Seuls les superviseurs, formateurs et administrateurs modifient les scripts d'appel."))


def list_scripts(ctx: Context) -> list[ScriptSummary]:
    with ctx.read() as session:
        rows = session.scalars(select(CallScript).order_by(CallScript.name, CallScript.id)).all()
        queues = session.scalars(select(Queue).where(Queue.script_id.is_not(None)).order_by(Queue.name)).all()
        names = dict(session.execute(select(User.id, User.display_name).where(
            User.id.in_({row.updated_by for row in rows if row.updated_by}))).all())
        return [ScriptSummary(row, [q for q in queues if q.script_id == row.id], names.get(row.updated_by))
                for row in rows]


def get_script(ctx: Context, script_id: int) -> CallScript:
    with ctx.read() as session:
        row = session.get(CallScript, script_id)
    if row is None:
        raise NotFoundError(N_("Script d'appel introuvable."))
    return row


def queues_using(ctx: Context, script_id: int) -> list[Queue]:
    with ctx.read() as session:
        return list(session.scalars(select(Queue).where(Queue.script_id == script_id).order_by(Queue.name)))


def check_script(ctx: Context, yaml_text: str, script_id: int | None = None) -> Script:
    """Parse and check a script, including that its code is free ("Valider" in the editor)."""
    script = rules.parse_script(yaml_text)
    with ctx.read() as session:
        _check_code_free(session, script, script_id)
    return script


def _check_code_free(session: Session, script: Script, script_id: int | None) -> None:
    other = session.scalars(select(CallScript).where(CallScript.code == script.code)).first()
    if other is not None and other.id != script_id:
        raise ValidationError({"code": DomainError(
            N_("Le code « %(code)s » est déjà celui du script « %(name)s » : choisissez-en un autre."), "code",
            code=script.code, name=other.name)})


def save_script(ctx: Context, actor: Actor, script_id: int | None, yaml_text: str,
                expected_version: int | None) -> CallScript:
    """Create (``script_id`` None) or replace a script's text, if nobody saved it meanwhile."""
    _require_editor(actor)
    script = rules.parse_script(yaml_text)
    with ctx.unit() as session:
        now = ctx.now()
        _check_code_free(session, script, script_id)
        if script_id is None:
            row = CallScript(code=script.code, name=script.name, content=yaml_text, version=1, updated_at=now,
                             updated_by=actor.id)
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise _code_taken(script) from None
            return row
        row = session.get(CallScript, script_id)
        if row is None:
            raise NotFoundError(N_("Script d'appel introuvable."))
        if expected_version != row.version:
            raise _conflict(session, row)
        # the version in the WHERE makes a simultaneous save lose cleanly
        try:
            done = session.execute(
                update(CallScript).where(CallScript.id == script_id, CallScript.version == expected_version)
                .values(code=script.code, name=script.name, content=yaml_text, version=expected_version + 1,
                        updated_at=now, updated_by=actor.id)
                .execution_options(synchronize_session=False))
        except IntegrityError:
            raise _code_taken(script) from None
        if done.rowcount != 1:
            session.expire(row)
            raise _conflict(session, row)
        session.expire(row)
        session.refresh(row)
        return row


def _conflict(session: Session, row: CallScript) -> ConflictError:
    who = session.get(User, row.updated_by) if row.updated_by else None
    if who is None:  # an import by the system (seed, data folder)
        return ConflictError(N_("Ce script a été remplacé par un import (version %(version)s) depuis que vous l'avez "
                                "ouvert : vos changements n'ont pas été enregistrés."), "version", version=row.version)
    return ConflictError(
        N_("Ce script a été enregistré par %(user)s (version %(version)s) depuis que vous l'avez ouvert : vos "
           "changements n'ont pas été enregistrés."), "version", user=who.display_name, version=row.version)


def _code_taken(script: Script) -> ValidationError:
    return ValidationError({"code": DomainError(
        N_("Le code « %(code)s » est déjà utilisé par un autre script."), "code", code=script.code)})


def import_script(ctx: Context, actor: Actor, yaml_text: str) -> CallScript:
    """Create or update the script with this text's ``code`` (demo seed, CLI, data folders).

    Loading the same text twice changes nothing (same version), so a seed can run again.
    """
    _require_editor(actor)
    script = rules.parse_script(yaml_text)
    with ctx.unit() as session:
        now = ctx.now()
        row = session.scalars(select(CallScript).where(CallScript.code == script.code)).first()
        if row is None:
            row = CallScript(code=script.code, name=script.name, content=yaml_text, version=1, updated_at=now,
                             updated_by=actor.id)
            session.add(row)
            session.flush()
        elif row.content != yaml_text:
            row.name, row.content, row.version = script.name, yaml_text, row.version + 1
            row.updated_at, row.updated_by = now, actor.id
        return row


@lru_cache(maxsize=64)
def _parsed(content: str) -> Script:
    """Scripts are parsed on every panel refresh; the text is the cache key."""
    return rules.parse_script(content)


def parsed(row: CallScript) -> Script:
    return _parsed(row.content)


# --- following a script during a call --------------------------------------------------------


def script_of(session: Session, call: Call) -> tuple[str, CallScript | None]:
    """The script a call follows and whose it is: its outbound campaign's, else its queue's."""
    if call.campaign_id is not None:
        campaign = session.get(Campaign, call.campaign_id)
        return campaign.name, session.get(CallScript, campaign.script_id) if campaign.script_id else None
    queue = session.get(Queue, call.queue_id) if call.queue_id else None
    if queue is None:
        return "", None
    return queue.name, session.get(CallScript, queue.script_id) if queue.script_id else None


@dataclass
class ScriptState:
    """What the desktop's script panel shows for one call."""

    call: Call
    #: the name of the queue or the outbound campaign whose script this is
    source: str
    row: CallScript | None
    script: Script | None
    #: the stored script no longer parses (edited outside the editor): say so
    invalid: bool = False
    answers: dict[str, str] = field(default_factory=dict)
    answer_rows: dict[str, ScriptAnswer] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    current: Step | None = None
    next: str | None = None
    done: set[str] = field(default_factory=set)
    agent_name: str = ""
    contact_name: str = ""

    def fill(self, text: str, gettext=lambda s: s) -> str:
        """A phrase as the agent says it: their name, the company, the caller's name."""
        company = self.script.charter.company if self.script else ""
        contact = self.contact_name or gettext(rules.DEFAULT_CONTACT)
        return rules.fill(text, agent=self.agent_name, company=company, contact=contact)

    @property
    def next_step(self) -> Step | None:
        return self.script.step(self.next) if self.script and self.next and self.next != END else None

    @property
    def position(self) -> int:
        return [s.id for s in self.script.steps].index(self.current.id) + 1 if self.current else 0


def _readable_by(call: Call, actor: Actor | None) -> None:
    if actor is not None and not actor.is_supervisor and call.agent_id != actor.id:
        raise PermissionDenied(N_("Cet appel n'est pas sur votre poste."))


def script_state(ctx: Context, call_id: int, step_id: str | None = None, actor: Actor | None = None,
                 after: str | None = None) -> ScriptState:
    """The call's script with its answers, and the step to show.

    The step shown is ``step_id`` if it exists; else, with ``after``, the
    step the branches lead to from ``after`` (the "Étape suivante" button);
    else the first step along the answers' path that still lacks a required
    answer; else the last step of the path.
    """
    with ctx.read() as session:
        call = session.get(Call, call_id)
        if call is None:
            raise NotFoundError(N_("Appel introuvable."))
        _readable_by(call, actor)
        source, row = script_of(session, call)
        agent = session.get(User, call.agent_id) if call.agent_id else None
        contact = session.get(Contact, call.contact_id) if call.contact_id else None
        rows = session.scalars(select(ScriptAnswer).where(ScriptAnswer.call_id == call_id)).all()
    state = ScriptState(call=call, source=source, row=row, script=None,
                        agent_name=agent.display_name if agent else "",
                        contact_name=formal_name(contact) if contact else "")
    if row is None:
        return state
    try:
        script = parsed(row)
    except ValidationError:
        state.invalid = True
        return state
    known = script.questions
    state.script = script
    state.answer_rows = {a.question_id: a for a in rows}
    state.answers = {a.question_id: a.value for a in rows if a.question_id in known}
    state.path = rules.path(script, state.answers)
    if step_id and script.has_step(step_id):
        chosen = step_id
    elif after and script.has_step(after):
        target = rules.next_step(script, after, state.answers)
        chosen = after if target == END else target
    else:
        chosen = rules.current_step(script, state.answers)
    state.current = script.step(chosen)
    state.next = rules.next_step(script, chosen, state.answers)
    state.done = rules.done_steps(script, state.answers) - {chosen}
    return state


def save_answer(ctx: Context, actor: Actor, call_id: int, question_id: str, raw_value) -> ScriptAnswer:
    """Save (or correct) one answer on the call, checked against its question."""
    with ctx.unit() as session:
        query = select(Call).where(Call.id == call_id)
        if session.bind.dialect.name == "postgresql":
            query = query.with_for_update()  # two quick changes of one field save in order
        call = session.scalars(query).first()
        if call is None:
            raise NotFoundError(N_("Appel introuvable."))
        if call.agent_id != actor.id:
            raise PermissionDenied(N_("Seul l'agent qui a l'appel peut remplir son script."))
        if call.state not in ANSWERABLE:
            raise DomainError(N_("Les réponses du script s'enregistrent pendant l'appel ou le post-appel, "
                                 "pas quand l'appel est « %(state)s »."), "question_id", state=call.state)
        _source, row = script_of(session, call)
        if row is None:
            raise DomainError(N_("Cet appel n'a pas de script à remplir."), "question_id")
        script = parsed(row)
        try:
            step, question = script.question(question_id)
        except DomainError as exc:
            raise ValidationError({"question_id": exc}) from None
        try:
            value = rules.validate_answer(question, raw_value)
        except DomainError as exc:
            raise ValidationError({question.id: exc}) from None
        answer = session.scalars(select(ScriptAnswer).where(ScriptAnswer.call_id == call_id,
                                                            ScriptAnswer.question_id == question_id)).first()
        now = ctx.now()
        if answer is not None and answer.value == value and answer.script_version == row.version:
            return answer  # the same change sent twice saves once
        if answer is None:
            answer = ScriptAnswer(call_id=call_id, question_id=question_id)
            session.add(answer)
        answer.script_id, answer.script_version, answer.step_id = row.id, row.version, step.id
        answer.value, answer.user_id, answer.at = value, actor.id, now
        session.flush()
        emit(session, user_channel(call.agent_id), "script_answer",
             {"call_id": call_id, "question_id": question_id, "value": value}, now)
        return answer


@dataclass
class AnsweredQuestion:
    answer: ScriptAnswer
    label: str
    step_title: str
    shown: str


def answers_of(ctx: Context, call_id: int) -> list[AnsweredQuestion]:
    """A call's answers with their question labels, for the call's history.

    Labels come from the script as it is now; a question removed since shows
    its identifier and its raw value.
    """
    with ctx.read() as session:
        rows = session.scalars(select(ScriptAnswer).where(ScriptAnswer.call_id == call_id)
                               .order_by(ScriptAnswer.at, ScriptAnswer.id)).all()
        scripts = {sid: session.get(CallScript, sid) for sid in {r.script_id for r in rows if r.script_id}}
    result = []
    for answer in rows:
        item = AnsweredQuestion(answer, answer.question_id, answer.step_id, answer.value)
        row = scripts.get(answer.script_id)
        if row is not None:
            try:
                step, question = parsed(row).question(answer.question_id)
            except DomainError:  # ValidationError included: the script no longer parses
                step = question = None
            if question is not None:
                item = AnsweredQuestion(answer, question.label, step.title, rules.show_answer(question, answer.value))
        result.append(item)
    return result
