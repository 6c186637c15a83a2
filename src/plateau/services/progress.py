"""Progress of a trainee or a group: each competency week by week, attempts per scenario, time per module.

Reads only, from what the evaluation already keeps (``services.ratings``:
append-only ratings; ``PracticeAttempt``: the role plays and their calls):

- **competencies over time** — for the chosen framework, the share of
  criteria met (met ÷ met or not met; « non évaluable » does not count, as in
  the grid's score) per competency and per week, from the *effective* result
  of each criterion on each of the subject's calls (practice or real) that
  arrived in the period — the rows the review page's grid shows, so a practice
  call counts its scenario's criteria only. The week is the call's, Monday to
  Sunday in the site's time zone; a later override changes the figures of the
  week the call belongs to, never moves it.
- **attempts per scenario** — how many role plays, the last one's date and
  outcome, the best score (the share of the scenario's own criteria met on
  its framework, from the effective results).
- **time per module** — the handling time of each practice call (talk + hold +
  after-call work, the numerator of the AHT) counted for every competency or
  module its scenario's criteria belong to, beside the hours the framework
  plans for it.

What counts as a "competency" is the criterion's *unit*
(``competency_unit``): its parent node, or, when that parent is only a
subdivision of one (an OFPPT module's lettered list of performance criteria,
a savoir-faire…), the nearest ancestor of a kind in ``UNIT_KINDS``. Per
framework that gives: FILEA the two evaluation situations B1 and B2 (its
grid hangs there, the CE1…CE5 competencies carry no criteria), MC ACVD the
competencies C1.1…C4.4 (and C1, C2, C4 and the exams E1, E2 for the
criteria stated at that level), OFPPT the modules M01…M08, INFEP the
competencies CP1…CP10 and CC1…CC12 (their modules MQ/MC, linked to them,
give the planned hours). ``docs/progress.md`` has the table.

The trainee's self-assessment comes first (MC C4.2): a trainee does not see,
here either, the results of a call they have not self-assessed against the
framework yet (``ratings.grid`` hides them on the review page); those calls
are left out of their figures and counted as waiting. Trainers see all.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ..domain.clock import as_utc
from ..domain.errors import N_, DomainError, NotFoundError, PermissionDenied, ValidationError
from ..domain.frameworks import Criterion, Framework, Node
from ..store.models import Call, PracticeAttempt, Rating, Team, User
from . import frameworks as framework_store
from . import kpis, ratings
from .practice import OUTCOME_LABELS as practice_outcomes
from . import review as review_service
from .context import Actor, Context

#: the periods offered: the last 4, 12 or 26 weeks (this week included), or chosen dates
PERIODS = ("4w", "12w", "26w", "custom")
PERIOD_WEEKS = {"4w": 4, "12w": 12, "26w": 26}
DEFAULT_PERIOD = "12w"
#: the node kinds that make a competency row; a criterion under another kind climbs to the nearest of these
UNIT_KINDS = ("competency", "module", "competency_group", "evaluation", "exam", "unit")
#: how a role play ended (``PracticeAttempt.outcome``, set by the simulated caller)
#: how a practice call ended, as the Entraînement page words it
OUTCOME_LABELS = practice_outcomes
IN_PROGRESS = N_("en cours")
NO_OUTCOME = N_("terminée sans issue notée")
#: the sources whose result can be retained (``ratings.CriterionRow.effective`` decides between them)
EFFECTIVE_SOURCES = ("auto", "trainer")

DENIED = N_("Un stagiaire ne consulte que sa propre progression.")


@dataclass(frozen=True)
class Filters:
    """What the progress page asks for: a trainee or a team, a framework, a period (local dates)."""

    trainee_id: int | None = None
    team_id: int | None = None
    framework: str = ""
    period: str = DEFAULT_PERIOD
    start: str = ""
    end: str = ""


@dataclass(frozen=True)
class Module:
    """A training module that plans hours for a unit (the unit itself for OFPPT, MQ1 for INFEP's CP1)."""

    id: str
    title: str
    hours: float


@dataclass(frozen=True)
class Unit:
    """A competency row: the node the criteria are grouped under, and the hours planned for it."""

    id: str
    code: str
    title: str
    kind: str
    modules: tuple[Module, ...] = ()

    @property
    def planned_hours(self) -> float | None:
        return sum(m.hours for m in self.modules) if self.modules else None


@dataclass
class Tally:
    """Criteria met out of criteria assessed (met or not met), and on how many calls."""

    met: int = 0
    assessed: int = 0
    call_ids: set = field(default_factory=set)

    def add(self, call_id: int, result: str | None) -> None:
        if result not in ("met", "not_met"):
            return
        self.assessed += 1
        self.met += result == "met"
        self.call_ids.add(call_id)

    @property
    def calls(self) -> int:
        return len(self.call_ids)

    @property
    def share(self) -> float | None:
        """None when nothing was assessed: « no data » is not 0 %."""
        return self.met / self.assessed if self.assessed else None


@dataclass
class CompetencyRow:
    """One unit (or the whole framework) week by week (aligned with ``Progress.weeks``) and over the period."""

    unit: Unit | None
    weeks: list[Tally]
    total: Tally


@dataclass
class ScenarioRow:
    code: str
    title: str
    framework: str
    attempts: int = 0
    last_at: datetime | None = None
    last_outcome: str | None = None
    #: the last attempt is not over yet
    last_in_progress: bool = False
    best: float | None = None
    #: attempts whose results wait for the trainee's self-assessment (a trainee's own view only)
    waiting: int = 0
    #: the ids of the users who made them (a team's view)
    trainee_ids: set = field(default_factory=set)

    @property
    def outcome_label(self) -> str:
        if self.last_in_progress:
            return IN_PROGRESS
        if self.last_outcome is None:
            return NO_OUTCOME
        return OUTCOME_LABELS.get(self.last_outcome, self.last_outcome)

    @property
    def outcome_translatable(self) -> bool:
        return self.last_in_progress or self.last_outcome is None or self.last_outcome in OUTCOME_LABELS


@dataclass
class ModuleTime:
    unit: Unit
    seconds: float = 0.0
    attempts: int = 0


@dataclass
class TraineeRow:
    """One member of a team: their figures on the framework and their practice."""

    id: int
    name: str
    total: Tally
    units: dict[str, Tally]
    attempts: int = 0
    practice_seconds: float = 0.0


@dataclass
class Progress:
    filters: Filters
    #: trainee | team
    scope: str
    subject: str
    framework: Framework
    period: kpis.Period
    #: the Mondays of the weeks shown, oldest first
    weeks: list[date]
    #: one row per unit, in the framework's order
    competencies: list[CompetencyRow]
    #: every criterion of the framework together
    overall: CompetencyRow
    scenarios: list[ScenarioRow]
    modules: list[ModuleTime]
    #: practice on this framework's scenarios: each attempt once
    practice_seconds: float
    practice_attempts: int
    #: team scope: one row per member
    trainees: list[TraineeRow] = field(default_factory=list)
    #: practice calls left out until the trainee self-assesses them (a trainee's own view)
    waiting_calls: int = 0

    @property
    def threshold(self) -> float | None:
        """The framework's pass mark (FILEA: 70 %), drawn on the chart when there is one."""
        return self.framework.rule.threshold if self.framework.rule else None


# --- the framework side: units and hours ---------------------------------------------------------


def competency_unit(framework: Framework, criterion: Criterion) -> Node:
    """The node a criterion is counted under: its parent, or the nearest ancestor of a ``UNIT_KINDS`` kind."""
    parent = framework.node(criterion.parent)
    if parent.kind in UNIT_KINDS:
        return parent
    for node in reversed(framework.ancestors(criterion.id)):
        if node.kind in UNIT_KINDS:
            return node
    return parent


def planned_modules(framework: Framework, node: Node) -> tuple[Module, ...]:
    """The modules that plan hours for a unit: the node itself when it has hours (OFPPT's modules),
    else the nodes with hours that link to it as one of their competencies (INFEP's MQ1 → CP1)."""
    if node.hours is not None:
        return (Module(node.id, node.title, node.hours),)
    return tuple(Module(other.id, other.title, other.hours) for _depth, other in framework.walk()
                 if other.hours is not None
                 and any(relation == "competencies" and node.id in ids for relation, ids in other.links))


def units(framework: Framework) -> dict[str, Unit]:
    """Criterion id → its unit, the units in the framework's order (insertion order of the values)."""
    found: dict[str, Unit] = {}
    by_criterion: dict[str, Unit] = {}
    for criterion in framework.criteria():
        node = competency_unit(framework, criterion)
        if node.id not in found:
            found[node.id] = Unit(id=node.id, code=node.id.split("/", 1)[-1], title=node.title, kind=node.kind,
                                  modules=planned_modules(framework, node))
        by_criterion[criterion.id] = found[node.id]
    return by_criterion


def unit_list(framework: Framework) -> list[Unit]:
    """The units of a framework, once each, in its order."""
    return list(dict.fromkeys(units(framework).values()))


# --- the ratings side: what the review page's grid shows, for many calls at once ---------------------


def judged_criteria(framework: Framework, scenario) -> frozenset | None:
    """The criteria a practice call of ``scenario`` is judged on against ``framework``; None: all of them.

    ``ratings.assessed_criteria``'s rule (a scenario on this framework names its
    own criteria), applied to a scenario already loaded: that function reads the
    attempt and the scenario files for one call, 30–40 ms a call, where a group's
    progress reads hundreds of calls with the scenarios loaded once."""
    ref = scenario.framework if scenario is not None else None
    if ref is not None and ref.code == framework.code and ref.criteria:
        return frozenset(ref.criteria)
    return None


def effective_results(session: Session, calls: Select, framework: Framework,
                      scenario_files: dict | None = None) -> dict[int, dict[str, str]]:
    """Call id → criterion id → effective result, for every call ``calls`` (a select of call ids) selects.

    The set-based twin of the rows ``ratings.grid`` shows a trainer (why it is
    here: the grid checks its reader and loads every rating with its evidence,
    call by call, where a group's progress needs thousands of calls in three
    queries). It does not restate the precedence: the latest rating of each
    source fills a ``ratings.CriterionRow`` and its ``effective`` property
    decides (the trainer's when there is one, else the automatic one). As in
    the grid, a practice call counts its scenario's criteria only
    (``judged_criteria``) and criteria the current grid no longer has are
    skipped. ``scenario_files`` (code → scenario) saves reading them again."""
    criteria = {c.id: c for c in framework.criteria()}
    if scenario_files is None:
        scenario_files = _scenarios()
    judged = {call_id: judged_criteria(framework, scenario_files.get(code)) for call_id, code in session.execute(
        select(PracticeAttempt.call_id, PracticeAttempt.scenario).where(PracticeAttempt.call_id.in_(calls)))}
    latest = (select(func.max(Rating.id))
              .where(Rating.call_id.in_(calls), Rating.framework == framework.code,
                     Rating.source.in_(EFFECTIVE_SOURCES))
              .group_by(Rating.call_id, Rating.criterion_id, Rating.source))
    rows: dict[tuple[int, str], ratings.CriterionRow] = {}
    for call_id, criterion_id, source, result in session.execute(
            select(Rating.call_id, Rating.criterion_id, Rating.source, Rating.result).where(Rating.id.in_(latest))):
        criterion = criteria.get(criterion_id)
        wanted = judged.get(call_id)
        if criterion is None or (wanted is not None and criterion_id not in wanted):
            continue
        row = rows.get((call_id, criterion_id))
        if row is None:
            row = rows[(call_id, criterion_id)] = ratings.CriterionRow(criterion.id, criterion.text,
                                                                      criterion.assessable)
        setattr(row, source, Rating(source=source, result=result))
    results: dict[int, dict[str, str]] = defaultdict(dict)
    for (call_id, criterion_id), row in rows.items():
        if row.effective is not None:
            results[call_id][criterion_id] = row.effective
    return dict(results)


def self_assessed(session: Session, calls: Select, framework_code: str) -> set[int]:
    """The calls whose agent filled their own grid against the framework.

    ``ratings.grid`` hides every other result from the call's agent until then
    (MC C4.2: judge yourself first); a trainee's progress leaves the others out."""
    return set(session.scalars(select(Rating.call_id).where(
        Rating.call_id.in_(calls), Rating.framework == framework_code, Rating.source == "self").distinct()))


def score(results: dict[str, str]) -> Tally:
    """Met out of assessed, from one call's effective results (a practice call's: its scenario's criteria)."""
    tally = Tally()
    for result in results.values():
        tally.add(0, result)
    return tally


# --- period, permissions, choices -------------------------------------------------------------------


def period_of(filters: Filters, now: datetime, tz) -> kpis.Period:
    """Local dates → UTC bounds, by the KPI pages' rules (``kpis.period_of``: the same checks and messages).

    The relative periods end today and start on the Monday of the first of their weeks."""
    if filters.period in PERIOD_WEEKS:
        today = now.astimezone(tz).date()
        first = _monday(today) - timedelta(weeks=PERIOD_WEEKS[filters.period] - 1)
        return kpis.period_of(kpis.Filters(period="custom", start=first.isoformat(), end=today.isoformat()),
                              now, tz)
    return kpis.period_of(kpis.Filters(period="custom", start=filters.start, end=filters.end), now, tz)


def allowed_filters(actor: Actor, filters: Filters) -> Filters:
    """A trainee sees their own progress only; a trainer (supervisor, administrator) anyone's and any team's."""
    if filters.period not in PERIODS:
        filters = replace(filters, period=DEFAULT_PERIOD)
    if actor.is_supervisor:
        if filters.trainee_id is not None and filters.team_id is not None:
            return replace(filters, team_id=None)  # a trainee chosen wins over the team
        return filters
    if filters.team_id is not None or filters.trainee_id not in (None, actor.id):
        raise PermissionDenied(DENIED)
    return replace(filters, trainee_id=actor.id)


def choices(ctx: Context, actor: Actor) -> dict:
    """What the filters offer: trainees and teams (a trainer only), frameworks with criteria."""
    frameworks = review_service.frameworks_for_review()
    if not actor.is_supervisor:
        return {"trainees": [], "teams": [], "frameworks": frameworks}
    with ctx.read() as session:
        trainees = sorted(session.execute(select(User.id, User.display_name)
                                          .where(User.role == "agent", User.active.is_(True))).all(),
                          key=lambda row: row[1].casefold())
        teams = sorted(session.execute(select(Team.id, Team.name)).all(), key=lambda row: row[1].casefold())
    return {"trainees": [tuple(row) for row in trainees], "teams": [tuple(row) for row in teams],
            "frameworks": frameworks}


# --- the report -----------------------------------------------------------------------------------


def report(ctx: Context, actor: Actor, filters: Filters) -> Progress:
    """A trainee's or a team's progress on a framework over a period.

    Raises PermissionDenied (a trainee asking for someone else or a team),
    NotFoundError (trainee, team, framework), ValidationError (the dates, or a
    trainer who chose neither a trainee nor a team)."""
    filters = allowed_filters(actor, filters)
    if filters.trainee_id is None and filters.team_id is None:
        raise ValidationError({"trainee": DomainError(N_("Choisissez un stagiaire ou une équipe."), "trainee")})
    tz = ZoneInfo(ctx.settings.timezone)
    now = ctx.now()
    period = period_of(filters, now, tz)
    scenario_files = _scenarios()  # files, read before the transaction opens
    with ctx.read() as session:
        scope, subject, members = _subject(session, filters)
        code = filters.framework or _default_framework(session, members)
        framework = framework_store.get(code)  # NotFoundError naming the code
        filters = replace(filters, framework=framework.code)
        calls = (select(Call.id).where(Call.agent_id.in_(list(members)), Call.created_at >= period.since,
                                       Call.created_at < period.until)
                 .where(Call.id.in_(select(Rating.call_id).where(Rating.framework == framework.code))))
        call_rows = session.execute(select(Call.id, Call.agent_id, Call.created_at)
                                    .where(Call.id.in_(calls)).order_by(Call.created_at, Call.id)).all()
        results = effective_results(session, calls, framework, scenario_files)
        attempts = session.execute(
            select(PracticeAttempt.id, PracticeAttempt.scenario, PracticeAttempt.trainee_id, PracticeAttempt.call_id,
                   PracticeAttempt.started_at, PracticeAttempt.ended_at, PracticeAttempt.outcome,
                   Call.talk_seconds, Call.hold_seconds, Call.wrap_up_seconds)
            .outerjoin(Call, Call.id == PracticeAttempt.call_id)
            .where(PracticeAttempt.trainee_id.in_(list(members)), PracticeAttempt.started_at >= period.since,
                   PracticeAttempt.started_at < period.until)
            .order_by(PracticeAttempt.started_at, PracticeAttempt.id)).all()
        # a trainee does not see the results of a call before self-assessing it (as on the review page)
        hidden = set() if actor.is_supervisor else {
            call_id for call_id, *_ in call_rows} - self_assessed(session, calls, framework.code)
        attempt_results, attempts_assessed = _attempt_results(session, attempts, scenario_files)
    weeks = _weeks(period)
    week_index = {monday: n for n, monday in enumerate(weeks)}
    by_criterion = units(framework)
    unit_rows = {unit.id: CompetencyRow(unit, [Tally() for _ in weeks], Tally()) for unit in unit_list(framework)}
    overall = CompetencyRow(None, [Tally() for _ in weeks], Tally())
    per_trainee: dict[int, tuple[Tally, dict[str, Tally]]] = {m: (Tally(), defaultdict(Tally)) for m in members}
    for call_id, agent_id, created_at in call_rows:
        if call_id in hidden:
            continue
        n = week_index[_monday(as_utc(created_at).astimezone(tz).date())]
        for criterion_id, result in results.get(call_id, {}).items():
            unit = by_criterion[criterion_id]
            for row in (unit_rows[unit.id], overall):
                row.weeks[n].add(call_id, result)
                row.total.add(call_id, result)
            total, by_unit = per_trainee[agent_id]
            total.add(call_id, result)
            by_unit[unit.id].add(call_id, result)
    scenario_rows, module_times, practice_seconds, practice_attempts, practice_by_trainee = _practice(
        attempts, attempt_results, scenario_files, framework, by_criterion,
        shown=None if actor.is_supervisor else attempts_assessed)
    trainees = []
    if scope == "team":
        for member_id, name in members.items():
            total, by_unit = per_trainee[member_id]
            count, seconds = practice_by_trainee.get(member_id, (0, 0.0))
            trainees.append(TraineeRow(member_id, name, total, dict(by_unit), count, seconds))
    return Progress(filters=filters, scope=scope, subject=subject, framework=framework, period=period, weeks=weeks,
                    competencies=list(unit_rows.values()), overall=overall, scenarios=scenario_rows,
                    modules=module_times, practice_seconds=practice_seconds, practice_attempts=practice_attempts,
                    trainees=trainees, waiting_calls=len(hidden))


def _subject(session: Session, filters: Filters) -> tuple[str, str, dict[int, str]]:
    """(scope, its name, member id → name): the trainee alone, or the team's agents by name."""
    if filters.trainee_id is not None:
        user = session.get(User, filters.trainee_id)
        if user is None:
            raise NotFoundError(N_("Stagiaire introuvable."), "trainee")
        return "trainee", user.display_name, {user.id: user.display_name}
    team = session.get(Team, filters.team_id)
    if team is None:
        raise NotFoundError(N_("Équipe introuvable."), "team")
    members = sorted(session.execute(select(User.id, User.display_name)
                                     .where(User.team_id == team.id, User.role == "agent")).all(),
                     key=lambda row: row[1].casefold())
    return "team", team.name, {user_id: name for user_id, name in members}


def _default_framework(session: Session, members: dict[int, str]) -> str:
    """The framework the subject was last rated against (if it still exists), else the review's default."""
    known = {f.code for f in framework_store.list_frameworks()}
    for code in session.scalars(select(Rating.framework).join(Call, Call.id == Rating.call_id)
                                .where(Call.agent_id.in_(list(members))).order_by(Rating.id.desc()).limit(20)):
        if code in known:
            return code
    return review_service.DEFAULT_FRAMEWORK


def _scenarios() -> dict:
    """Every scenario by code; none when the directory is broken (attempts then show their codes)."""
    from . import scenarios

    try:
        return scenarios.load_scenarios()
    except ValidationError:
        return {}


def _attempt_results(session: Session, attempts, scenario_files: dict) -> tuple[dict[int, dict[str, str]], set[int]]:
    """The attempts' calls: their effective results on their scenario's framework, and those self-assessed
    against it (one pair of queries per framework)."""
    by_framework: dict[str, list[int]] = defaultdict(list)
    for attempt in attempts:
        scenario = scenario_files.get(attempt.scenario)
        if scenario is not None and attempt.call_id is not None:
            by_framework[scenario.framework.code].append(attempt.call_id)
    results: dict[int, dict[str, str]] = {}
    assessed: set[int] = set()
    for code, call_ids in by_framework.items():
        try:
            framework = framework_store.get(code)
        except NotFoundError:
            continue
        calls = select(Call.id).where(Call.id.in_(call_ids))
        results.update(effective_results(session, calls, framework, scenario_files))
        assessed |= self_assessed(session, calls, framework.code)
    return results, assessed


def _practice(attempts, attempt_results: dict, scenario_files: dict, framework: Framework,
              by_criterion: dict[str, Unit], shown: set[int] | None):
    """Attempts per scenario (every framework), time per unit of ``framework``, practice per trainee.

    ``shown``: the calls whose results the reader may see (None: all, a trainer)."""
    rows: dict[str, ScenarioRow] = {}
    times = {unit.id: ModuleTime(unit) for unit in dict.fromkeys(by_criterion.values())}
    seconds_total, count = 0.0, 0
    per_trainee: dict[int, tuple[int, float]] = {}
    for attempt in attempts:  # oldest first: the last one seen is the last attempt
        scenario = scenario_files.get(attempt.scenario)
        seconds = float((attempt.talk_seconds or 0) + (attempt.hold_seconds or 0) + (attempt.wrap_up_seconds or 0))
        row = rows.get(attempt.scenario)
        if row is None:
            row = rows[attempt.scenario] = ScenarioRow(
                code=attempt.scenario, title=scenario.title if scenario else attempt.scenario,
                framework=scenario.framework.code if scenario else "")
        row.attempts += 1
        row.trainee_ids.add(attempt.trainee_id)
        row.last_at, row.last_outcome = attempt.started_at, attempt.outcome
        row.last_in_progress = attempt.ended_at is None and attempt.outcome is None
        if scenario is not None and attempt.call_id is not None:
            if shown is not None and attempt.call_id not in shown:
                row.waiting += attempt.ended_at is not None or attempt.outcome is not None  # over, not yet judged
            else:
                share = score(attempt_results.get(attempt.call_id, {})).share
                if share is not None and (row.best is None or share > row.best):
                    row.best = share
        done, spent = per_trainee.get(attempt.trainee_id, (0, 0.0))
        per_trainee[attempt.trainee_id] = (done + 1, spent + seconds)
        if scenario is None or scenario.framework.code != framework.code:
            continue
        seconds_total += seconds
        count += 1
        for unit_id in dict.fromkeys(by_criterion[c].id for c in scenario.framework.criteria if c in by_criterion):
            times[unit_id].seconds += seconds
            times[unit_id].attempts += 1
    scenario_rows = sorted(rows.values(), key=lambda r: r.title.casefold())
    return scenario_rows, list(times.values()), seconds_total, count, per_trainee


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weeks(period: kpis.Period) -> list[date]:
    first, last = _monday(period.first), _monday(period.last)
    return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]


__all__ = ["DEFAULT_PERIOD", "OUTCOME_LABELS", "PERIODS", "UNIT_KINDS", "CompetencyRow", "Filters", "Module",
           "ModuleTime", "Progress", "ScenarioRow", "Tally", "TraineeRow", "Unit", "allowed_filters", "choices",
           "competency_unit", "effective_results", "judged_criteria", "period_of", "planned_modules", "report", "score",
           "self_assessed", "unit_list",
           "units"]
