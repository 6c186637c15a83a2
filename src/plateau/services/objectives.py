"""Performance objectives ("objectifs de performance") and the agent's day against them.

An objective is one indicator of the catalogue (``domain.kpis.KPIS``), a
comparison and a target, for one agent, for a team or for everyone:

* ``agent``: that agent's own figures;
* ``team``: the team's collective figures (all its agents' calls and time
  together) — a collective objective;
* ``all``: every agent, each on their own figures (an individual objective
  set for the whole floor).

``my_day`` gives an agent their day — calls, DMT, time per state — and each
objective that applies to them, met, not yet met (the day is still running)
or missed, with the gap in words; ``progress`` gives supervisors the same for
every agent and team; ``daily_sheet`` is the printable "fiche journalière
d'activité".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..domain import kpis
from ..domain.errors import N_, DomainError, NotFoundError, PermissionDenied, ValidationError
from ..domain.kpis import AgentTime, Assessment, CallFacts, Figures
from ..store.models import Call, Disposition, Objective, Queue, Team, User
from . import kpis as kpi_data
from .context import Actor, Context

SCOPES = ("agent", "team", "all")
SCOPE_LABELS = {"agent": N_("Un agent"), "team": N_("Une équipe (objectif collectif)"),
                "all": N_("Tous les agents (chacun sur ses chiffres)")}
#: the highest target a supervisor can type for a count (calls per day…)
MAX_COUNT_TARGET = 10_000
#: the longest duration target (seconds)
MAX_SECONDS_TARGET = 24 * 3600


# --- editing ------------------------------------------------------------------------------


@dataclass
class ObjectiveForm:
    """The objective form as typed: targets in the unit shown (%, seconds or m:ss, a number)."""

    scope: str = "all"
    user_id: str = ""
    team_id: str = ""
    kpi: str = ""
    comparator: str = ""
    target: str = ""

    @classmethod
    def of(cls, objective: Objective) -> "ObjectiveForm":
        return cls(objective.scope, str(objective.user_id or ""), str(objective.team_id or ""), objective.kpi,
                   objective.comparator, target_text(objective.kpi, objective.target))


def target_text(kpi: str, target: float) -> str:
    """A stored target as the form shows it: 90 for 90 %, 240 for 4 min."""
    unit = kpis.KPIS[kpi].unit if kpi in kpis.KPIS else "count"
    value = target * 100 if unit == "ratio" else target
    return f"{value:g}"


def parse_target(kpi: str, text: str) -> float:
    """The typed target in the indicator's stored unit; DomainError says what is expected.

    Rates are typed in percent (90 or 90 %), durations in seconds (240) or
    minutes and seconds (4:00), counts as numbers (50 or 12,5)."""
    unit = kpis.KPIS[kpi].unit
    raw = (text or "").strip().replace("\u202f", " ").replace("\xa0", " ")
    if unit == "seconds" and re.fullmatch(r"\d{1,4}:\d{2}", raw):
        minutes, seconds = raw.split(":")
        if int(seconds) >= 60:
            raise DomainError(N_("Durée invalide : écrivez des secondes (240) ou minutes:secondes (4:00)."), "target")
        value = int(minutes) * 60 + int(seconds)
    else:
        number = raw.rstrip("%").strip().replace(",", ".").replace(" ", "")
        try:
            value = float(number)
        except ValueError:
            messages = {"ratio": N_("Cible invalide : écrivez un pourcentage entre 0 et 100, par exemple 90."),
                        "seconds": N_("Durée invalide : écrivez des secondes (240) ou minutes:secondes (4:00)."),
                        "count": N_("Cible invalide : écrivez un nombre, par exemple 50."),
                        "per_day": N_("Cible invalide : écrivez un nombre, par exemple 50.")}
            raise DomainError(messages[unit], "target") from None
        if value != value or value < 0:
            raise DomainError(N_("La cible ne peut pas être négative."), "target")
    if unit == "ratio":
        if value > 100:
            raise DomainError(N_("Un taux ne dépasse pas 100 %."), "target")
        return value / 100
    if unit == "seconds" and value > MAX_SECONDS_TARGET:
        raise DomainError(N_("Une durée cible ne dépasse pas 24 heures."), "target")
    if value > MAX_COUNT_TARGET:
        raise DomainError(N_("Cible trop grande (au plus %(max)s)."), "target", max=MAX_COUNT_TARGET)
    return value


def _require_supervisor(actor: Actor) -> None:
    if not actor.is_supervisor:
        raise PermissionDenied(N_("Seuls les superviseurs et formateurs fixent les objectifs."))


def _check(session, form: ObjectiveForm) -> dict:
    """Validate the whole form at once: every bad field gets its message."""
    errors: dict[str, DomainError] = {}
    values: dict = {"scope": form.scope, "user_id": None, "team_id": None}
    if form.scope not in SCOPES:
        errors["scope"] = DomainError(N_("Choisissez à qui s'applique l'objectif."), "scope")
    elif form.scope == "agent":
        user = session.get(User, int(form.user_id)) if form.user_id.isdigit() else None
        if user is None or not user.active or user.role != "agent":
            errors["user_id"] = DomainError(N_("Choisissez l'agent concerné."), "user_id")
        else:
            values["user_id"] = user.id
    elif form.scope == "team":
        team = session.get(Team, int(form.team_id)) if form.team_id.isdigit() else None
        if team is None:
            errors["team_id"] = DomainError(N_("Choisissez l'équipe concernée."), "team_id")
        else:
            values["team_id"] = team.id
    if form.kpi not in kpis.OBJECTIVE_KPIS:
        errors["kpi"] = DomainError(N_("Choisissez un indicateur."), "kpi")
    if form.comparator not in kpis.COMPARATORS:
        errors["comparator"] = DomainError(N_("Choisissez « au plus » ou « au moins »."), "comparator")
    if form.kpi in kpis.OBJECTIVE_KPIS:
        try:
            values["target"] = parse_target(form.kpi, form.target)
        except DomainError as exc:
            errors["target"] = exc
    else:  # no indicator to read it against: still say now if the target is not a number
        try:
            parse_target("handled", form.target)
        except DomainError as exc:
            errors["target"] = exc
    if errors:
        raise ValidationError(errors)
    values.update(kpi=form.kpi, comparator=form.comparator)
    return values


def create_objective(ctx: Context, actor: Actor, form: ObjectiveForm) -> Objective:
    _require_supervisor(actor)
    with ctx.unit() as session:
        values = _check(session, form)
        objective = Objective(**values, active=True, created_by=actor.id, created_at=ctx.now())
        session.add(objective)
        session.flush()
        return objective


def update_objective(ctx: Context, actor: Actor, objective_id: int, form: ObjectiveForm) -> Objective:
    _require_supervisor(actor)
    with ctx.unit() as session:
        objective = _get(session, objective_id)
        for name, value in _check(session, form).items():
            setattr(objective, name, value)
        return objective


def set_active(ctx: Context, actor: Actor, objective_id: int, active: bool) -> Objective:
    """Deactivate (or reactivate) an objective: kept for the record, no longer shown to agents."""
    _require_supervisor(actor)
    with ctx.unit() as session:
        objective = _get(session, objective_id)
        objective.active = active
        return objective


def get_objective(ctx: Context, actor: Actor, objective_id: int) -> Objective:
    _require_supervisor(actor)
    with ctx.read() as session:
        return _get(session, objective_id)


def _get(session, objective_id: int) -> Objective:
    objective = session.get(Objective, objective_id)
    if objective is None:
        raise NotFoundError(N_("Objectif introuvable."))
    return objective


@dataclass
class ObjectiveRow:
    objective: Objective
    #: the agent's or the team's name ("" for everyone)
    who: str


def list_objectives(ctx: Context, actor: Actor) -> list[ObjectiveRow]:
    """Every objective, active first, in catalogue order."""
    _require_supervisor(actor)
    with ctx.read() as session:
        users = dict(session.execute(select(User.id, User.display_name)).all())
        teams = dict(session.execute(select(Team.id, Team.name)).all())
        rows = [ObjectiveRow(o, users.get(o.user_id, "") if o.scope == "agent" else teams.get(o.team_id, "")
                             if o.scope == "team" else "")
                for o in session.scalars(select(Objective))]
    order = {code: index for index, code in enumerate(kpis.KPI_ORDER)}
    return sorted(rows, key=lambda row: (not row.objective.active, order.get(row.objective.kpi, 99),
                                         row.objective.scope, row.who, row.objective.id))


def form_choices(ctx: Context) -> dict:
    """Agents and teams the objective form offers."""
    with ctx.read() as session:
        return {
            "agents": list(session.execute(select(User.id, User.display_name)
                                           .where(User.active.is_(True), User.role == "agent")
                                           .order_by(User.display_name))),
            "teams": list(session.execute(select(Team.id, Team.name).order_by(Team.name))),
        }


# --- a day against the objectives -----------------------------------------------------------


@dataclass
class Result:
    """One objective applied to someone: whose figures were measured and how it stands."""

    objective: Objective
    #: agent | team: measured on one agent's or the team's collective figures
    measured_on: str
    who: str
    assessment: Assessment


@dataclass
class Day:
    """One agent's (or the supervisor's view of one agent's) day."""

    user: User
    team: Team | None
    period: kpi_data.Period
    figures: Figures
    time: AgentTime
    callbacks: kpis.CallbackFigures
    values: dict[str, float | None]
    results: list[Result]
    #: the agent's own legs of the day's calls, oldest first (the daily sheet lists them)
    calls: list[CallFacts] = field(default_factory=list)


def _team_members(session, team_id: int | None) -> list[int]:
    if team_id is None:
        return []
    return list(session.scalars(select(User.id).where(User.team_id == team_id)))


def _measure(session, period: kpi_data.Period, user_ids: list[int], now: datetime, tz,
             queue_thresholds: dict) -> tuple[Figures, AgentTime, kpis.CallbackFigures, dict, list[CallFacts]]:
    calls = kpi_data.call_facts(session, period.since, period.until, agent_ids=user_ids, now=now)
    legs = kpis.agent_legs(calls, agent_ids=user_ids)
    figures = kpis.figures(legs, queue_thresholds=queue_thresholds)
    time = kpis.total_time(kpi_data.agent_times(session, period.since, period.until, tz, now, user_ids).values())
    callbacks = kpis.callback_figures(kpi_data.callback_facts(session, period.since, period.until, user_ids), now)
    return figures, time, callbacks, kpis.values(figures, time, callbacks), legs


def _day(session, ctx: Context, user: User, day: date, objectives: list[Objective]) -> Day:
    tz = ZoneInfo(ctx.settings.timezone)
    now = ctx.now()
    period = kpi_data.day_period(day, now, tz)
    thresholds = dict(session.execute(select(Queue.id, Queue.sl_threshold_s)).all())
    figures, time, callbacks, values, legs = _measure(session, period, [user.id], now, tz, thresholds)
    team = session.get(Team, user.team_id) if user.team_id else None
    results = []
    team_values = None
    for objective in objectives:
        if objective.scope == "team":
            if team is None or objective.team_id != team.id:
                continue
            if team_values is None:
                team_values = _measure(session, period, _team_members(session, team.id), now, tz, thresholds)[3]
            value, measured_on, who = team_values.get(objective.kpi), "team", team.name
        elif objective.scope == "agent" and objective.user_id != user.id:
            continue
        else:
            value, measured_on, who = values.get(objective.kpi), "agent", user.display_name
        results.append(Result(objective, measured_on, who, kpis.assess(objective.kpi, objective.comparator,
                                                                       objective.target, value, period.final)))
    return Day(user, team, period, figures, time, callbacks, values, results, legs)


def _active_objectives(session) -> list[Objective]:
    order = {code: index for index, code in enumerate(kpis.KPI_ORDER)}
    rows = session.scalars(select(Objective).where(Objective.active.is_(True), Objective.kpi.in_(kpis.OBJECTIVE_KPIS)))
    return sorted(rows, key=lambda o: (order.get(o.kpi, 99), SCOPES.index(o.scope) if o.scope in SCOPES else 9, o.id))


def _today(ctx: Context) -> date:
    return ctx.now().astimezone(ZoneInfo(ctx.settings.timezone)).date()


def my_day(ctx: Context, actor: Actor, day: date | None = None, user_id: int | None = None) -> Day:
    """The agent's figures for the day against each objective that applies to them.

    An agent sees only their own day; supervisors may pass ``user_id``."""
    target = user_id if user_id is not None else actor.id
    if target != actor.id and not actor.is_supervisor:
        raise PermissionDenied(N_("Vous ne pouvez consulter que votre propre journée."))
    with ctx.read() as session:
        user = session.get(User, target)
        if user is None:
            raise NotFoundError(N_("Agent introuvable."))
        return _day(session, ctx, user, day or _today(ctx), _active_objectives(session))


@dataclass
class Progress:
    """Supervisors' table: each active objective for each agent or team it applies to."""

    period: kpi_data.Period
    results: list[Result]


def progress(ctx: Context, actor: Actor, day: date | None = None) -> Progress:
    """Where every agent and team stands today against the active objectives.

    Objectives for everyone are listed for each active agent; team
    objectives once per team, on the team's collective figures."""
    _require_supervisor(actor)
    tz = ZoneInfo(ctx.settings.timezone)
    now = ctx.now()
    period = kpi_data.day_period(day or _today(ctx), now, tz)
    with ctx.read() as session:
        objectives = _active_objectives(session)
        if not objectives:
            return Progress(period, [])
        thresholds = dict(session.execute(select(Queue.id, Queue.sl_threshold_s)).all())
        agents = list(session.execute(select(User.id, User.display_name, User.team_id)
                                      .where(User.active.is_(True), User.role == "agent").order_by(User.display_name)))
        teams = dict(session.execute(select(Team.id, Team.name)).all())
        calls = kpi_data.call_facts(session, period.since, period.until, now=now)
        legs = kpis.group(kpis.agent_legs(calls), lambda leg: leg.agent_id)
        times = kpi_data.agent_times(session, period.since, period.until, tz, now)
        callbacks = kpi_data.callback_facts(session, period.since, period.until)

    def values_of(user_ids: set[int]) -> dict:
        members = [leg for user_id in user_ids for leg in legs.get(user_id, [])]
        fig = kpis.figures(members, queue_thresholds=thresholds)
        time = kpis.total_time(times[user_id] for user_id in user_ids if user_id in times)
        mine = [c for c in callbacks if c.assigned_user_id in user_ids or c.done_by in user_ids]
        return kpis.values(fig, time, kpis.callback_figures(mine, now))

    cache: dict = {}
    results = []
    for objective in objectives:
        if objective.scope == "team":
            if objective.team_id not in teams:
                continue
            members = {user_id for user_id, _, team_id in agents if team_id == objective.team_id}
            targets = [("team", teams[objective.team_id], frozenset(members))]
        elif objective.scope == "agent":
            targets = [("agent", name, frozenset({user_id})) for user_id, name, _ in agents
                       if user_id == objective.user_id]
        else:
            targets = [("agent", name, frozenset({user_id})) for user_id, name, _ in agents]
        for measured_on, who, user_ids in targets:
            if user_ids not in cache:
                cache[user_ids] = values_of(set(user_ids))
            value = cache[user_ids].get(objective.kpi)
            results.append(Result(objective, measured_on, who, kpis.assess(
                objective.kpi, objective.comparator, objective.target, value, period.final)))
    return Progress(period, results)


# --- the daily activity sheet -----------------------------------------------------------------


@dataclass
class SheetCall:
    facts: CallFacts
    queue: str
    caller: str
    disposition: str


@dataclass
class DailySheet:
    """The "fiche journalière d'activité": the day, each call, time per state, objectives."""

    day: Day
    calls: list[SheetCall]
    printed_at: datetime


def daily_sheet(ctx: Context, actor: Actor, day: date | None = None, user_id: int | None = None) -> DailySheet:
    """An agent's day on one printable page: supervisors may print anyone's, agents their own."""
    result = my_day(ctx, actor, day, user_id)
    from ..domain.contacts import formal_name
    from ..store.models import Contact

    ids = [leg.call_id for leg in result.calls]
    with ctx.read() as session:
        rows = {call_id: (queue, contact, label) for call_id, queue, contact, label in session.execute(
            select(Call.id, Queue.name, Contact, Disposition.label)
            .outerjoin(Queue, Queue.id == Call.queue_id)
            .outerjoin(Contact, Contact.id == Call.contact_id)
            .outerjoin(Disposition, Disposition.id == Call.disposition_id)
            .where(Call.id.in_(ids)))} if ids else {}
    calls = []
    for leg in result.calls:
        queue, contact, label = rows.get(leg.call_id, ("", None, ""))
        calls.append(SheetCall(leg, queue or "", formal_name(contact) if contact is not None else "",
                               (label or "") if leg.closed else ""))
    return DailySheet(result, calls, ctx.now())


# --- demo objectives (data/demo/objectives.yaml) ------------------------------------------------------


@dataclass(frozen=True)
class ObjectiveSpec:
    """One objective of the demo file: a team by its code, an agent by their login."""

    scope: str
    kpi: str
    comparator: str
    target: str
    team: str | None = None
    agent: str | None = None


def demo_objectives(directory, team_codes: Iterable[str], usernames: Iterable[str]) -> list[ObjectiveSpec]:
    """The demo company's objectives (``objectives.yaml`` of the demo folder), checked before
    anything is written; none when the folder has no such file."""
    import yaml

    from .demo_data import DemoDataError

    path = directory / "objectives.yaml"
    if not path.is_file():
        return []
    try:
        rows = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("objectives") or []
    except (yaml.YAMLError, AttributeError) as exc:
        raise DemoDataError(f"{path} : YAML illisible ({exc})") from None
    teams, users = set(team_codes), set(usernames)
    specs = []
    for index, row in enumerate(rows):
        where = f"{path} : objectives.{index}"
        if not isinstance(row, dict) or set(row) - {"scope", "kpi", "comparator", "target", "team", "agent"}:
            raise DemoDataError(f"{where} : attendu scope, kpi, comparator, target (et team ou agent)")
        spec = ObjectiveSpec(str(row.get("scope", "")), str(row.get("kpi", "")), str(row.get("comparator", "")),
                             str(row.get("target", "")), row.get("team"), row.get("agent"))
        problems = []
        if spec.scope not in SCOPES:
            problems.append(f"scope « {spec.scope} » inconnu ({', '.join(SCOPES)})")
        if spec.scope == "team" and spec.team not in teams:
            problems.append(f"équipe « {spec.team} » absente de company.yaml")
        if spec.scope == "agent" and spec.agent not in users:
            problems.append(f"agent « {spec.agent} » absent de company.yaml")
        if spec.kpi not in kpis.OBJECTIVE_KPIS:
            problems.append(f"indicateur « {spec.kpi} » inconnu ({', '.join(kpis.OBJECTIVE_KPIS)})")
        if spec.comparator not in kpis.COMPARATORS:
            problems.append(f"comparator « {spec.comparator} » : <= ou >=")
        if spec.kpi in kpis.OBJECTIVE_KPIS:
            try:
                parse_target(spec.kpi, spec.target)
            except DomainError as exc:
                problems.append(f"target : {exc.render()}")
        if problems:
            raise DemoDataError(f"{where} : " + " ; ".join(problems))
        specs.append(spec)
    return specs


def seed_objectives(ctx: Context, actor: Actor, specs: list[ObjectiveSpec]) -> int:
    """Create the demo objectives, through the same checks as the form."""
    with ctx.read() as session:
        teams = dict(session.execute(select(Team.code, Team.id)).all())
        users = dict(session.execute(select(User.username, User.id)).all())
    for spec in specs:
        create_objective(ctx, actor, ObjectiveForm(
            spec.scope, str(users.get(spec.agent, "")) if spec.agent else "",
            str(teams.get(spec.team, "")) if spec.team else "", spec.kpi, spec.comparator, spec.target))
    return len(specs)
