"""What the review page of a call needs beyond the ratings: the transcript as numbered turns,
which turns each criterion's evidence points at, the frameworks to choose from, and the
hook that runs the automatic evaluator.

The trainer reads the evidence in the transcript itself ("double écoute"), so
each piece of evidence of the automatic result (and of a language model's
proposal) is tied to the turn it quotes. An evaluator gives a turn as a time
``t`` in seconds on the export's time line (``services.call_export``: from
the answer) and, usually, the exact ``quote``: the turn is the one of the
same speaker said within half a second of ``t`` that contains the quote; when
the times disagree (an evaluator on another time line) the quote alone finds
it; without a quote the time alone does.
Events and timings (a hold, a long silence) point at no turn: they are listed
with their time.

The self-assessment comes first (MC C4.2): ``ratings.grid`` hides the other
results from a trainee who has not filled their grid, and ``review`` builds
nothing from what is hidden, so no mark in the transcript gives a result away.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.clock import as_utc
from ..domain.errors import N_, DomainError, NotFoundError, PermissionDenied, ValidationError
from ..domain.frameworks import Framework
from ..domain.text import fold
from ..store.models import Call, PracticeAttempt, User, Utterance
from . import frameworks as framework_store
from . import ratings
from .context import Actor, Context

DEFAULT_FRAMEWORK = "filea-appels-sortants"
#: a turn cited at ``t`` is the one said within this many seconds of it
TOLERANCE_S = 0.5
#: the sources whose evidence is shown in the transcript (the others carry none)
EVIDENCE_SOURCES = ("auto", "llm")
UNAVAILABLE = N_("L'évaluation automatique n'est pas disponible.")
#: the modules the automatic evaluation needs: the pure evaluator and the exporter of stored calls
EVALUATOR_MODULES = ("plateau.domain.assessment", "plateau.services.call_export")


@dataclass
class TurnView:
    """One turn of the transcript. ``number`` (1-based) gives the anchor ``turn-N``."""

    number: int
    id: int
    t: float
    speaker: str
    text: str
    at: datetime
    #: the criteria (row numbers, 1-based) whose evidence cites this turn, in grid order
    cited_by: list[int] = field(default_factory=list)
    #: the text cut into (piece, quoted?) so that the quoted words can be marked
    pieces: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"turn-{self.number}"


@dataclass(frozen=True)
class EvidenceView:
    """One piece of evidence as the page lists it; ``turn`` is the turn it points at, if any."""

    kind: str
    t: float | None
    speaker: str | None
    quote: str | None
    type: str | None
    duration_s: float | None
    what: str | None
    source: str
    turn: int | None = None


@dataclass(frozen=True)
class FeedbackView:
    text: str
    author: str
    at: datetime


@dataclass
class Review:
    call: Call
    agent_name: str
    scenario: str | None
    framework: Framework
    frameworks: list[tuple[str, str]]
    grid: ratings.Grid
    turns: list[TurnView]
    #: row number (1-based) → the evidence of that criterion
    evidence: dict[int, list[EvidenceView]]
    feedback: list[FeedbackView]
    is_trainer: bool
    is_agent: bool

    @property
    def self_done(self) -> bool:
        return any(row.self is not None for row in self.grid.rows)

    @property
    def can_self_assess(self) -> bool:
        """The call's own agent, before they filled the grid (the same grid, once)."""
        return self.is_agent and not self.self_done

    @property
    def shows_results(self) -> bool:
        return not self.grid.hidden

    @property
    def self_met(self) -> int:
        return sum(1 for row in self.grid.rows if row.self is not None and row.self.result == "met")

    @property
    def self_assessed(self) -> int:
        return sum(1 for row in self.grid.rows if row.self is not None and row.self.result in ("met", "not_met"))

    @property
    def agreements(self) -> tuple[int, int]:
        """(criteria where the trainee's result is the one retained, criteria with both)."""
        both = [row for row in self.grid.rows if row.self is not None and row.effective is not None]
        return sum(1 for row in both if row.self.result == row.effective), len(both)

    @property
    def numbers(self) -> dict[str, int]:
        """Criterion id → its 1-based row (the anchors ``criterion-N``, ``self-N``, ``override-N``)."""
        return {row.id: n for n, row in enumerate(self.grid.rows, 1)}

    @property
    def labels(self) -> list[str]:
        """The short name of each row's criterion (« 03 »), in grid order; its id when it has none."""
        return [c.label or c.id for c in self.framework.criteria()]

    @property
    def threshold_percent(self) -> int | None:
        rule = self.framework.rule
        return round(rule.threshold * 100) if rule is not None else None


def frameworks_for_review() -> list[tuple[str, str]]:
    """(code, title) of every framework with criteria to rate, by title."""
    return [(f.code, f.title) for f in framework_store.list_frameworks() if f.criteria()]


def row_number(framework_code: str, criterion_id: str) -> int | None:
    """The 1-based row of a criterion in its framework's grid (the page's anchor ``criterion-N``)."""
    for number, criterion in enumerate(framework_store.get(framework_code).criteria(), 1):
        if criterion.id == criterion_id:
            return number
    return None


def default_framework(ctx: Context, call_id: int) -> str:
    """The framework of the call's scenario for a practice call, else FILEA's grid."""
    scenario = _scenario_of(ctx, call_id)
    if scenario is not None and scenario.framework.code:
        return scenario.framework.code
    return DEFAULT_FRAMEWORK


def review(ctx: Context, actor: Actor, call_id: int, framework_code: str) -> Review:
    """Everything the review page shows; raises NotFoundError (framework, call) or PermissionDenied."""
    grid = ratings.grid(ctx, actor, call_id, framework_code)  # checks the framework, the call and the reader
    feedback = ratings.feedback_of(ctx, actor, call_id)
    with ctx.read() as session:
        call = session.get(Call, call_id)
        agent = session.get(User, call.agent_id) if call.agent_id else None
        attempt = _attempt(session, call_id)
        utterances = list(session.scalars(select(Utterance).where(Utterance.call_id == call_id)
                                          .order_by(Utterance.at, Utterance.id)))
        authors = {u.id: u.display_name for u in session.scalars(
            select(User).where(User.id.in_({f.author_id for f in feedback})))} if feedback else {}
    turns = transcript(call, utterances)
    evidence = link_evidence(grid, turns)
    return Review(call=call, agent_name=agent.display_name if agent else "",
                  scenario=attempt.scenario if attempt else None, framework=grid.framework,
                  frameworks=frameworks_for_review(), grid=grid, turns=turns, evidence=evidence,
                  feedback=[FeedbackView(f.text, authors.get(f.author_id, ""), f.at) for f in feedback],
                  is_trainer=actor.is_supervisor, is_agent=call.agent_id is not None and call.agent_id == actor.id)


def transcript(call: Call, utterances: list[Utterance]) -> list[TurnView]:
    """The turns numbered from 1, each with its time in seconds on the evaluator's time line.

    That is the export's (``services.call_export``): from the answer, or from
    the creation for a call never answered, anything earlier at 0; so an
    evidence's ``t`` and the turn's agree."""
    origin = as_utc(call.answered_at or call.created_at)
    return [TurnView(number=n, id=u.id, t=round(max(0.0, (as_utc(u.at) - origin).total_seconds()), 3),
                     speaker=u.speaker, text=u.text, at=u.at, pieces=[(u.text, False)])
            for n, u in enumerate(utterances, 1)]


def find_turn(turns: list[TurnView], piece: dict) -> TurnView | None:
    """The turn a piece of ``turn`` evidence points at (see the module's docstring), or None."""
    if piece.get("kind") != "turn":
        return None
    t, speaker, quote = _number(piece.get("t")), piece.get("speaker"), fold(piece.get("quote") or "")
    near = [turn for turn in turns if t is not None and abs(turn.t - t) <= TOLERANCE_S]
    if speaker:
        near = [turn for turn in near if turn.speaker == speaker] or near
    if quote:
        quoting = [turn for turn in near if quote in fold(turn.text)]
        if not quoting:
            quoting = [turn for turn in turns if quote in fold(turn.text)
                       and (not speaker or turn.speaker == speaker)]
        if quoting:
            return min(quoting, key=lambda turn: abs(turn.t - t) if t is not None else turn.number)
    return min(near, key=lambda turn: abs(turn.t - t)) if near else None


def link_evidence(grid: ratings.Grid, turns: list[TurnView]) -> dict[int, list[EvidenceView]]:
    """Each row's evidence with the turn it points at; marks the cited turns (and the quoted words)."""
    by_number = {turn.number: turn for turn in turns}
    quotes: dict[int, list[str]] = {}
    evidence: dict[int, list[EvidenceView]] = {}
    for row_number, row in enumerate(grid.rows, 1):
        seen: set[tuple] = set()
        for source in EVIDENCE_SOURCES:
            rating = getattr(row, source)
            for piece in (rating.evidence if rating is not None else None) or []:
                if not isinstance(piece, dict):
                    continue
                key = (piece.get("kind"), piece.get("t"), piece.get("quote"), piece.get("type"))
                if key in seen:
                    continue
                seen.add(key)
                turn = find_turn(turns, piece)
                evidence.setdefault(row_number, []).append(EvidenceView(
                    kind=str(piece.get("kind") or ""), t=_number(piece.get("t")), speaker=piece.get("speaker"),
                    quote=piece.get("quote"), type=piece.get("type"), duration_s=_number(piece.get("duration_s")),
                    what=piece.get("what"), source=source, turn=turn.number if turn else None))
                if turn is not None:
                    if row_number not in turn.cited_by:
                        turn.cited_by.append(row_number)
                    quotes.setdefault(turn.number, []).append(piece.get("quote") or "")
    for number, cited in quotes.items():
        turn = by_number[number]
        turn.pieces = marked(turn.text, cited)
    return evidence


def marked(text: str, quotes: list[str]) -> list[tuple[str, bool]]:
    """``text`` cut into pieces, the quoted passages flagged; the whole turn when a quote is not verbatim."""
    spans = []
    for quote in quotes:
        start = text.find(quote) if quote else -1
        if start < 0:
            return [(text, True)]
        spans.append((start, start + len(quote)))
    pieces, position = [], 0
    for start, end in sorted(spans):
        if start < position:  # overlapping quotes: one passage
            if end > position:
                pieces[-1] = (pieces[-1][0] + text[position:end], True)
                position = end
            continue
        if start > position:
            pieces.append((text[position:start], False))
        pieces.append((text[start:end], True))
        position = end
    if position < len(text):
        pieces.append((text[position:], False))
    return pieces


def evaluate(ctx: Context, actor: Actor, call_id: int, framework_code: str) -> int:
    """Run the automatic evaluator on a closed call and store its results (``auto`` ratings).

    The evaluator is pure (``domain.assessment``) and reads the call as
    ``services.call_export.call_record(ctx, call_id)`` exports it; both are
    imported here, when asked, so that the review works
    without them and says so. For a practice call, the scenario's criteria
    and time target are those assessed. Returns the number of results stored.
    """
    if not actor.is_supervisor:
        raise PermissionDenied(N_("Seul un formateur lance l'évaluation automatique."))
    framework = framework_store.get(framework_code)
    with ctx.read() as session:
        call = session.get(Call, call_id)
        if call is None:
            raise NotFoundError(N_("Appel introuvable."), "call_id")
        if call.state != "closed":
            raise DomainError(N_("L'appel n'est pas encore clôturé : l'évaluation automatique porte sur un appel "
                                 "terminé et qualifié."))
    assessment, exporter = _evaluator()
    from ..domain.assessment_call import Targets
    from .assessment_settings import load_settings

    record = exporter.call_record(ctx, call_id)
    scenario = _scenario_of(ctx, call_id)
    criteria = targets = None
    if scenario is not None and scenario.framework.code == framework.code:
        criteria = scenario.framework.criteria or None
        targets = Targets(duration_s=float(scenario.time_target_s)) if scenario.time_target_s else None
    result = assessment.assess(record, framework, assessment.AssessOptions(load_settings(), criteria, targets))
    judgements = [ratings.Judgement(item.id, item.result, [e.as_dict() for e in item.evidence], item.rationale())
                  for item in result.criteria]
    return ratings.record_auto(ctx, call_id, framework.code, judgements)


def _evaluator():
    """The evaluator's modules, or the DomainError saying it is not there (yet)."""
    loaded = []
    for name in EVALUATOR_MODULES:
        try:
            loaded.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name not in EVALUATOR_MODULES:
                raise
            raise DomainError(UNAVAILABLE) from None
    assessment, exporter = loaded
    if not hasattr(exporter, "call_record") or not hasattr(assessment, "assess"):
        raise DomainError(UNAVAILABLE)
    return assessment, exporter


def _attempt(session: Session, call_id: int) -> PracticeAttempt | None:
    return session.scalars(select(PracticeAttempt).where(PracticeAttempt.call_id == call_id)).first()


def _scenario_of(ctx: Context, call_id: int):
    """The scenario of a practice call, or None (a real call, or a scenario file gone or broken)."""
    with ctx.read() as session:
        attempt = _attempt(session, call_id)
    if attempt is None:
        return None
    from . import scenarios

    try:
        return scenarios.get(attempt.scenario)
    except (NotFoundError, ValidationError):
        return None


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


__all__ = ["DEFAULT_FRAMEWORK", "EvidenceView", "FeedbackView", "Review", "TurnView", "UNAVAILABLE",
           "default_framework", "evaluate", "find_turn", "frameworks_for_review", "link_evidence", "marked",
           "review", "row_number", "transcript"]
