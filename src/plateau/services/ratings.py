"""Ratings of a call against a framework: automatic, self-assessment, trainer — append-only evidence.

Moodle's competency model, applied to calls: every judgement of a criterion
is a new ``Rating`` row saying who or what rated (``auto``, ``self``,
``trainer``; an LLM may only add ``llm`` proposals), when, why, with which
evidence and against which version of the grid (a digest of the framework
file). Nothing is updated or deleted: a trainer who changes a result adds a
row with a comment, and the automatic result stays beside it.

``grid()`` reads them back per criterion: the latest of each source, the
effective result (the trainer's when there is one, else the automatic one),
the whole history, and the overall result by the framework's rule. The
agent's own grid (MC C4.2) is filled before any result is shown: ``grid()``
hides the other sources from the call's agent until they have
self-assessed against that framework (trainers see everything).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.errors import N_, DomainError, NotFoundError, PermissionDenied, ValidationError
from ..domain.frameworks import Framework
from ..store.models import Call, CallFeedback, PracticeAttempt, Rating, User
from . import frameworks as framework_store
from .context import Actor, Context

SOURCES = ("auto", "self", "trainer", "llm")
RESULTS = ("met", "not_met", "not_assessable")
RESULT_LABELS = {"met": N_("Acquis"), "not_met": N_("Non acquis"), "not_assessable": N_("Non évaluable")}
SOURCE_LABELS = {"auto": N_("Évaluation automatique"), "self": N_("Auto-évaluation"),
                 "trainer": N_("Formateur"), "llm": N_("Proposition du modèle de langage")}


@dataclass(frozen=True)
class Judgement:
    """One criterion's result as an evaluator gives it (the input of ``record_auto``)."""

    criterion_id: str
    result: str
    evidence: list = field(default_factory=list)
    rationale: str = ""


@dataclass
class CriterionRow:
    id: str
    text: str
    assessable: str
    auto: Rating | None = None
    self: Rating | None = None
    trainer: Rating | None = None
    llm: Rating | None = None
    history: list[Rating] = field(default_factory=list)

    @property
    def effective(self) -> str | None:
        """What counts: the trainer's result when they gave one, else the automatic one."""
        chosen = self.trainer or self.auto
        return chosen.result if chosen else None


@dataclass
class Grid:
    framework: Framework
    call_id: int
    rows: list[CriterionRow]
    #: the trainee has not self-assessed yet: other sources are hidden from them
    hidden: bool = False
    names: dict[int, str] = field(default_factory=dict)

    @property
    def met(self) -> int:
        return sum(1 for row in self.rows if row.effective == "met")

    @property
    def assessed(self) -> int:
        return sum(1 for row in self.rows if row.effective in ("met", "not_met"))

    @property
    def score(self) -> float:
        return self.met / self.assessed if self.assessed else 0.0

    @property
    def passed(self) -> bool | None:
        rule = self.framework.rule
        if rule is None or not self.assessed:
            return None
        return rule.passes(self.met, self.assessed)


def grid_version(framework_code: str) -> str:
    """A digest of the framework's file: a rating names the exact grid it used."""
    path = Path(framework_store.FRAMEWORK_DIR) / f"{framework_code}.yaml"
    stat = path.stat()
    return _digest(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=32)
def _digest(path: str, _mtime_ns: int, _size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _framework(code: str) -> Framework:
    return framework_store.get(code)  # NotFoundError naming the code


def _call(session: Session, call_id: int) -> Call:
    call = session.get(Call, call_id)
    if call is None:
        raise NotFoundError(N_("Appel introuvable."), "call_id")
    return call


def assessed_criteria(session: Session, call_id: int, framework: Framework):
    """The criteria a call is judged on: a practice call's scenario names its own (against its
    framework); any other call is judged on the whole framework."""
    attempt = session.scalars(select(PracticeAttempt).where(PracticeAttempt.call_id == call_id)).first()
    if attempt is not None:
        from . import scenarios  # the scenarios build on frameworks, not the other way round

        try:
            ref = scenarios.get(attempt.scenario).framework
        except DomainError:
            ref = None
        if ref is not None and ref.code == framework.code and ref.criteria:
            wanted = set(ref.criteria)
            return tuple(c for c in framework.criteria() if c.id in wanted)
    return framework.criteria()


def _is_trainer(actor: Actor) -> bool:
    return actor.is_supervisor


def _require_reader(call: Call, actor: Actor) -> None:
    if not _is_trainer(actor) and call.agent_id != actor.id:
        raise PermissionDenied(N_("Seuls l'agent de l'appel et les formateurs voient son évaluation."))


def _check_result(criterion_id: str, result: str) -> DomainError | None:
    if result not in RESULTS:
        return DomainError(N_("Choisissez un résultat pour ce critère : acquis, non acquis ou non évaluable."),
                           criterion_id)
    return None


def record_auto(ctx: Context, call_id: int, framework_code: str, judgements: Iterable[Judgement],
                source: str = "auto") -> int:
    """Store an evaluator's judgements (``auto``) or an LLM's proposals (``llm``); returns the rows added."""
    if source not in ("auto", "llm"):
        raise ValueError(source)
    framework = _framework(framework_code)
    known = {c.id for c in framework.criteria()}
    version, now = grid_version(framework_code), ctx.now()
    rows = []
    for judgement in judgements:
        if judgement.criterion_id not in known or judgement.result not in RESULTS:
            raise ValueError(f"{judgement.criterion_id}: {judgement.result}")
        rows.append(Rating(call_id=call_id, framework=framework.code, grid_version=version,
                           criterion_id=judgement.criterion_id, source=source, result=judgement.result,
                           evidence=list(judgement.evidence), rationale=judgement.rationale, at=now))
    with ctx.unit() as session:
        _call(session, call_id)
        session.add_all(rows)
    return len(rows)


def self_assess(ctx: Context, actor: Actor, call_id: int, framework_code: str, answers: dict[str, str]) -> int:
    """The trainee's own grid for their call: every criterion answered, or nothing is saved."""
    framework = _framework(framework_code)
    with ctx.read() as session:
        criteria = assessed_criteria(session, call_id, framework)
    errors = {}
    for criterion in criteria:
        error = _check_result(criterion.id, answers.get(criterion.id, ""))
        if error:
            errors[criterion.id] = error
    if errors:
        raise ValidationError(errors)
    version, now = grid_version(framework_code), ctx.now()
    with ctx.unit() as session:
        call = _call(session, call_id)
        if call.agent_id != actor.id:
            raise PermissionDenied(N_("Seul l'agent de l'appel remplit son auto-évaluation."))
        before = {r.criterion_id: r.result for r in session.scalars(select(Rating).where(
            Rating.call_id == call_id, Rating.framework == framework.code, Rating.source == "self"))}
        if before:  # a double submission saves once; a second, different grid is refused
            if before == {c.id: answers[c.id] for c in criteria}:
                return 0
            raise DomainError(N_("Votre auto-évaluation de cet appel est déjà enregistrée : elle ne se modifie pas."),
                              "answers")
        session.add_all([Rating(call_id=call_id, framework=framework.code, grid_version=version,
                                criterion_id=c.id, source="self", result=answers[c.id], evidence=[],
                                rationale="", rated_by=actor.id, at=now) for c in criteria])
        attempt = session.scalars(select(PracticeAttempt).where(PracticeAttempt.call_id == call_id)).first()
        if attempt is not None and attempt.self_assessed_at is None:
            attempt.self_assessed_at = now
    return len(criteria)


def override(ctx: Context, actor: Actor, call_id: int, framework_code: str, criterion_id: str, result: str,
             comment: str) -> Rating:
    """A trainer's result for one criterion, with the reason; the automatic one is kept."""
    if not _is_trainer(actor):
        raise PermissionDenied(N_("Seul un formateur peut modifier un résultat."))
    framework = _framework(framework_code)
    if criterion_id not in {c.id for c in framework.criteria()}:
        raise ValidationError({"criterion_id": DomainError(N_("Ce critère n'appartient pas au référentiel."),
                                                           "criterion_id")})
    errors = {}
    if (error := _check_result("result", result)) is not None:
        errors["result"] = error
    if not comment.strip():
        errors["comment"] = DomainError(N_("Dites pourquoi vous changez ce résultat."), "comment")
    if errors:
        raise ValidationError(errors)
    with ctx.unit() as session:
        _call(session, call_id)
        rating = Rating(call_id=call_id, framework=framework.code, grid_version=grid_version(framework_code),
                        criterion_id=criterion_id, source="trainer", result=result, evidence=[],
                        rationale=comment.strip(), rated_by=actor.id, at=ctx.now())
        session.add(rating)
    return rating


def add_feedback(ctx: Context, actor: Actor, call_id: int, text: str) -> CallFeedback:
    if not _is_trainer(actor):
        raise PermissionDenied(N_("Seul un formateur peut laisser un retour sur l'appel."))
    if not text.strip():
        raise ValidationError({"text": DomainError(N_("Écrivez votre retour avant de l'enregistrer."), "text")})
    with ctx.unit() as session:
        _call(session, call_id)
        feedback = CallFeedback(call_id=call_id, author_id=actor.id, text=text.strip(), at=ctx.now())
        session.add(feedback)
    return feedback


def feedback_of(ctx: Context, actor: Actor, call_id: int) -> list[CallFeedback]:
    with ctx.read() as session:
        _require_reader(_call(session, call_id), actor)
        return list(session.scalars(select(CallFeedback).where(CallFeedback.call_id == call_id)
                                    .order_by(CallFeedback.id)))


def grid(ctx: Context, actor: Actor, call_id: int, framework_code: str) -> Grid:
    """Each criterion with its latest result per source, the effective one and the history."""
    framework = _framework(framework_code)
    with ctx.read() as session:
        call = _call(session, call_id)
        _require_reader(call, actor)
        ratings = session.scalars(select(Rating).where(Rating.call_id == call_id, Rating.framework == framework.code)
                                  .order_by(Rating.id)).all()
        criteria = assessed_criteria(session, call_id, framework)
        raters = {r.rated_by for r in ratings if r.rated_by}
        names = {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(raters)))} if raters else {}
    hidden = not _is_trainer(actor) and not any(r.source == "self" for r in ratings)
    rows = {c.id: CriterionRow(c.id, c.text, c.assessable) for c in criteria}
    for rating in ratings:
        row = rows.get(rating.criterion_id)
        if row is None:  # a criterion a later grid no longer has: kept in the table, not in this view
            continue
        if hidden and rating.source != "self":
            continue
        setattr(row, rating.source, rating)
        row.history.append(rating)
    return Grid(framework, call_id, list(rows.values()), hidden=hidden, names=names)
