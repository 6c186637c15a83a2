"""Indicators from the store: calls and their events become ``CallFacts``, the
agent state log becomes ``AgentTime``, callbacks become ``CallbackFacts``.

Reads only. Each function is a fixed number of queries whatever the number of
calls (a busy floor's day is a few thousand calls and tens of thousands of
events): the calls, then all their events in one ordered query, then the
later arrivals of the same callers for the repeat rate. The formulas are in
``domain.kpis``; here only what to load.

Calls are chosen by arrival (``created_at`` in ``[since, until)``); the queue
filter uses the queue the call was last in (after an overflow or a transfer),
the agent and team filters keep calls one of those agents answered — use
``domain.kpis.agent_legs`` to credit each agent with their own part only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time as clock_time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, null, or_, select
from sqlalchemy.orm import Session, aliased

from ..domain import kpis
from ..domain.errors import N_, DomainError, NotFoundError, PermissionDenied, ValidationError
from ..domain.kpis import AgentTime, CallbackFacts, CallFacts, Figures, HistoryEvent, StateChange
from ..store.models import AgentStateChange, Call, CallEvent, Callback, Disposition, Queue, Team, User
from .context import Actor, Context


def _call_filter(since: datetime, until: datetime, queue_ids: Iterable[int] | None,
                 agent_ids: Iterable[int] | None, team_ids: Iterable[int] | None) -> list:
    conditions = [Call.created_at >= since, Call.created_at < until]
    if queue_ids is not None:
        conditions.append(Call.queue_id.in_(list(queue_ids)))
    if agent_ids is not None or team_ids is not None:
        answered = select(CallEvent.call_id).where(CallEvent.action == "answer")
        if agent_ids is not None:
            answered = answered.where(CallEvent.agent_id.in_(list(agent_ids)))
        if team_ids is not None:
            answered = answered.where(CallEvent.agent_id.in_(select(User.id).where(User.team_id.in_(list(team_ids)))))
        conditions.append(Call.id.in_(answered))
    return conditions


def call_facts(session: Session, since: datetime, until: datetime, queue_ids: Iterable[int] | None = None,
               agent_ids: Iterable[int] | None = None, team_ids: Iterable[int] | None = None,
               now: datetime | None = None, repeats: bool = True) -> list[CallFacts]:
    """The facts of every call that arrived in ``[since, until)``, oldest first.

    ``now`` lets calls still in progress count their current state up to
    now (a waiting caller's wait so far); ``repeats`` looks ahead 7 days for
    callers who called again (skip it when the repeat rate is not shown).
    """
    conditions = _call_filter(since, until, queue_ids, agent_ids, team_ids)
    agent = aliased(User)
    rows = session.execute(
        select(Call.id, Call.queue_id, Call.agent_id, agent.team_id, Call.direction, Call.state, Call.created_at,
               Call.caller_number, Call.contact_id, Disposition.code)
        .outerjoin(agent, agent.id == Call.agent_id)
        .outerjoin(Disposition, Disposition.id == Call.disposition_id)
        .where(*conditions).order_by(Call.created_at, Call.id)).all()
    if not rows:
        return []
    events: dict[int, list[HistoryEvent]] = defaultdict(list)
    leg_agent = aliased(User)
    # only a deflection's data (its reason) is read: skip decoding every other event's JSON
    data = case((CallEvent.action == "deflect", CallEvent.data), else_=null())
    for call_id, action, from_state, to_state, at, agent_id, actor_id, reason, team_id in session.execute(
            select(CallEvent.call_id, CallEvent.action, CallEvent.from_state, CallEvent.to_state, CallEvent.at,
                   CallEvent.agent_id, CallEvent.actor_id, data, leg_agent.team_id)
            .outerjoin(leg_agent, leg_agent.id == CallEvent.agent_id)
            .where(CallEvent.call_id.in_(select(Call.id).where(*conditions)))
            .order_by(CallEvent.call_id, CallEvent.id)):
        # UtcDateTime already hands back aware UTC datetimes
        events[call_id].append(HistoryEvent(action, from_state, to_state, at, agent_id, actor_id, team_id, reason or {}))
    facts = [kpis.facts_from_history(
        call_id=call_id, queue_id=queue_id, agent_id=agent_id, team_id=team_id, direction=direction, state=state,
        created_at=created_at, caller_number=number or "", contact_id=contact_id, disposition=disposition,
        events=events.get(call_id, []), now=now)
        for call_id, queue_id, agent_id, team_id, direction, state, created_at, number, contact_id, disposition in rows]
    if repeats:
        facts = kpis.mark_repeats(facts, _arrivals_after(session, since, until, conditions))
    return facts


def _arrivals_after(session: Session, since: datetime, until: datetime, conditions: list):
    """Inbound calls from the same numbers or contacts, up to 7 days after the period."""
    period = select(Call.caller_number).where(*conditions, Call.direction == "inbound")
    contacts = select(Call.contact_id).where(*conditions, Call.direction == "inbound", Call.contact_id.is_not(None))
    return [(at, number, contact_id) for at, number, contact_id in session.execute(
        select(Call.created_at, Call.caller_number, Call.contact_id)
        .where(Call.direction == "inbound", Call.created_at > since, Call.created_at < until + kpis.REPEAT_WINDOW,
               or_(Call.caller_number.in_(period), Call.contact_id.in_(contacts))))]


def queue_figures(session: Session, since: datetime, until: datetime, now: datetime | None = None,
                  queue_ids: Iterable[int] | None = None, repeats: bool = False) -> dict[int, Figures]:
    """Figures per queue (every active queue, even without calls), each with its own service-level threshold."""
    query = select(Queue.id, Queue.sl_threshold_s).where(Queue.active.is_(True))
    if queue_ids is not None:
        query = query.where(Queue.id.in_(list(queue_ids)))
    thresholds = dict(session.execute(query).all())
    facts = kpis.group(call_facts(session, since, until, queue_ids=queue_ids, now=now, repeats=repeats),
                       lambda call: call.queue_id)
    for queue_id in facts:
        if queue_id is not None and queue_id not in thresholds:
            thresholds[queue_id] = session.scalar(select(Queue.sl_threshold_s).where(Queue.id == queue_id)) or 20
    return {queue_id: kpis.figures(facts.get(queue_id, []), threshold)
            for queue_id, threshold in thresholds.items()}


def state_changes(session: Session, since: datetime, until: datetime,
                  user_ids: Iterable[int] | None = None) -> list[StateChange]:
    """The agent state log over the period, plus each agent's last state before it began."""
    before = select(func.max(AgentStateChange.id)).where(AgentStateChange.at < since)
    if user_ids is not None:
        before = before.where(AgentStateChange.user_id.in_(list(user_ids)))
    before = before.group_by(AgentStateChange.user_id)
    query = select(AgentStateChange.user_id, AgentStateChange.state, AgentStateChange.at,
                   AgentStateChange.pause_reason).where(
        or_(and_(AgentStateChange.at >= since, AgentStateChange.at < until), AgentStateChange.id.in_(before)))
    if user_ids is not None:
        query = query.where(AgentStateChange.user_id.in_(list(user_ids)))
    return [StateChange(user_id, state, at, reason)
            for user_id, state, at, reason in session.execute(query.order_by(AgentStateChange.id))]


def agent_times(session: Session, since: datetime, until: datetime, tz, now: datetime | None = None,
                user_ids: Iterable[int] | None = None) -> dict[int, AgentTime]:
    """Per agent: time logged in, available, on call, in wrap-up, paused (by reason)."""
    return kpis.agent_time(state_changes(session, since, until, user_ids), since, until, tz, now)


def callback_facts(session: Session, since: datetime, until: datetime, user_ids: Iterable[int] | None = None,
                   queue_ids: Iterable[int] | None = None) -> list[CallbackFacts]:
    """Callbacks due in the period; for agents, those assigned to or done by them."""
    query = select(Callback.id, Callback.due_at, Callback.status, Callback.done_at, Callback.source,
                   Callback.assigned_user_id, Callback.done_by).where(
        Callback.due_at >= since, Callback.due_at < until)
    if user_ids is not None:
        ids = list(user_ids)
        query = query.where(or_(Callback.assigned_user_id.in_(ids), Callback.done_by.in_(ids)))
    if queue_ids is not None:
        query = query.where(Callback.queue_id.in_(list(queue_ids)))
    return [CallbackFacts(callback_id, due, status, done, source, assigned, done_by)
            for callback_id, due, status, done, source, assigned, done_by in session.execute(query)]


# --- the KPI page: a period, a scope, breakdowns -----------------------------------------

PERIODS = ("today", "yesterday", "week", "month", "custom")
#: the longest custom period (days): a year of a busy floor is still a few queries
MAX_PERIOD_DAYS = 366


@dataclass(frozen=True)
class Filters:
    """What the KPI page asks for: a period (local dates) and an optional queue, team or agent."""

    period: str = "today"
    start: str = ""
    end: str = ""
    queue_id: int | None = None
    team_id: int | None = None
    agent_id: int | None = None


@dataclass(frozen=True)
class Period:
    kind: str
    first: date
    last: date
    since: datetime
    until: datetime
    #: the period is over: objectives not met are missed, not "not yet"
    final: bool


def period_of(filters: Filters, now: datetime, tz) -> Period:
    """Local calendar dates → UTC bounds ``[since, until)``; ValidationError names the bad date."""
    today = now.astimezone(tz).date()
    kind = filters.period if filters.period in PERIODS else "today"
    if kind == "today":
        first = last = today
    elif kind == "yesterday":
        first = last = today - timedelta(days=1)
    elif kind == "week":
        first, last = today - timedelta(days=today.weekday()), today
    elif kind == "month":
        first, last = today.replace(day=1), today
    else:
        errors = {}
        first = _parse_date(filters.start, "start", errors)
        last = _parse_date(filters.end, "end", errors)
        if not errors and last < first:
            errors["end"] = DomainError(N_("La date de fin doit suivre la date de début."), "end")
        if not errors and (last - first).days >= MAX_PERIOD_DAYS:
            errors["end"] = DomainError(N_("Choisissez une période d'au plus %(days)s jours."), "end",
                                        days=MAX_PERIOD_DAYS)
        if errors:
            raise ValidationError(errors)
    since = _local_midnight(first, tz)
    until = _local_midnight(last + timedelta(days=1), tz)
    return Period(kind, first, last, since, until, now >= until)


def day_period(day: date, now: datetime, tz) -> Period:
    since, until = _local_midnight(day, tz), _local_midnight(day + timedelta(days=1), tz)
    return Period("custom", day, day, since, until, now >= until)


def _local_midnight(day: date, tz) -> datetime:
    return datetime.combine(day, clock_time.min, tz).astimezone(timezone.utc)


def _parse_date(text: str, field_name: str, errors: dict) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        errors[field_name] = DomainError(N_("Date invalide : utilisez le calendrier ou le format AAAA-MM-JJ."),
                                         field_name)
        return None


@dataclass
class Row:
    """One line of a breakdown: a queue, a team, an agent or an hour, with its indicator values."""

    key: object
    label: str
    figures: Figures
    values: dict[str, float | None]
    time: AgentTime | None = None


@dataclass
class Report:
    period: Period
    filters: Filters
    #: floor | queue | team | agent: agent and team scopes count each agent's own legs
    scope: str
    scope_label: str
    figures: Figures
    time: AgentTime
    callbacks: kpis.CallbackFigures
    values: dict[str, float | None]
    by_queue: list[Row]
    by_team: list[Row]
    by_agent: list[Row]
    by_hour: list[Row]
    #: what the filter lists offer this actor: queues, teams, agents as (id, name)
    choices: dict = field(default_factory=dict)

    def applicable(self, code: str) -> bool:
        """Queue-side indicators mean nothing for one agent's or one team's calls."""
        return not (kpis.KPIS[code].queue_only and self.scope in ("team", "agent"))


def allowed_filters(session: Session, actor: Actor, filters: Filters) -> Filters:
    """An agent sees their own figures, or their team's collective ones; nothing else."""
    if actor.is_supervisor:
        return filters
    team_id = session.scalar(select(User.team_id).where(User.id == actor.id))
    if filters.agent_id not in (None, actor.id):
        raise PermissionDenied(N_("Vous ne pouvez consulter que vos propres indicateurs et ceux de votre équipe."))
    if filters.team_id is not None and (filters.team_id != team_id or filters.agent_id is not None):
        raise PermissionDenied(N_("Vous ne pouvez consulter que vos propres indicateurs et ceux de votre équipe."))
    if filters.team_id is not None:
        return filters
    return replace(filters, agent_id=actor.id)


def report(ctx: Context, actor: Actor, filters: Filters) -> Report:
    """The indicators of a period for the floor, a queue, a team or an agent, with their breakdowns."""
    tz = ZoneInfo(ctx.settings.timezone)
    now = ctx.now()
    period = period_of(filters, now, tz)
    with ctx.read() as session:
        filters = allowed_filters(session, actor, filters)
        users = {user_id: (name, team_id) for user_id, name, team_id in session.execute(
            select(User.id, User.display_name, User.team_id))}
        team_names = dict(session.execute(select(Team.id, Team.name)).all())
        queue_rows = session.execute(select(Queue.id, Queue.name, Queue.sl_threshold_s).order_by(Queue.name)).all()
        thresholds = {queue_id: threshold for queue_id, _, threshold in queue_rows}
        queue_names = {queue_id: name for queue_id, name, _ in queue_rows}
        queue_ids = [filters.queue_id] if filters.queue_id is not None else None
        if filters.agent_id is not None:
            scope, member_ids = "agent", [filters.agent_id]
            if filters.agent_id not in users:
                raise NotFoundError(N_("Agent introuvable."))
        elif filters.team_id is not None:
            if filters.team_id not in team_names:
                raise NotFoundError(N_("Équipe introuvable."))
            scope = "team"
            member_ids = [user_id for user_id, (_, team_id) in users.items() if team_id == filters.team_id]
        else:
            scope, member_ids = ("queue" if queue_ids else "floor"), None
        if filters.queue_id is not None and filters.queue_id not in queue_names:
            raise NotFoundError(N_("File d'attente introuvable."))
        calls = call_facts(session, period.since, period.until, queue_ids=queue_ids,
                           agent_ids=[filters.agent_id] if scope == "agent" else None,
                           team_ids=[filters.team_id] if scope == "team" else None, now=now)
        times = agent_times(session, period.since, period.until, tz, now, user_ids=member_ids)
        callbacks = kpis.callback_figures(callback_facts(session, period.since, period.until, user_ids=member_ids,
                                                         queue_ids=queue_ids), now)
        filter_lists = _filter_lists(session, actor, users, team_names, queue_rows)
    legs = kpis.agent_legs(calls)
    if scope == "agent":
        measured = [leg for leg in legs if leg.agent_id == filters.agent_id]
    elif scope == "team":
        measured = [leg for leg in legs if leg.agent_id in set(member_ids)]
    else:
        measured = calls
    agents_time = {user_id: time for user_id, time in times.items() if users.get(user_id)}
    total = kpis.total_time(agents_time.values())
    figures = kpis.figures(measured, queue_thresholds=thresholds)
    values = kpis.values(figures, total, callbacks)

    def rows(groups: dict, label, time_of=None) -> list[Row]:
        result = []
        for key, members in groups.items():
            fig = kpis.figures(members, queue_thresholds=thresholds)
            time = time_of(key) if time_of else None
            result.append(Row(key, label(key), fig, kpis.values(fig, time), time))
        return sorted(result, key=lambda row: (row.label or "").casefold())

    by_queue = rows(kpis.group(measured, lambda call: call.queue_id),
                    lambda key: queue_names.get(key, ""))
    agent_legs_groups = kpis.group(measured if scope in ("agent", "team") else legs, lambda leg: leg.agent_id)
    for user_id in agents_time:  # agents logged in without a call still show their time
        agent_legs_groups.setdefault(user_id, [])
    by_agent = rows({key: value for key, value in agent_legs_groups.items() if key in users},
                    lambda key: users[key][0], lambda key: agents_time.get(key))
    team_groups: dict = {}
    for user_id, members in agent_legs_groups.items():
        team_id = users.get(user_id, (None, None))[1]
        if team_id is not None:
            team_groups.setdefault(team_id, []).extend(members)
    by_team = rows(team_groups, lambda key: team_names.get(key, ""),
                   lambda key: kpis.total_time(t for u, t in agents_time.items() if users[u][1] == key))
    by_hour = sorted(rows(kpis.group(measured, kpis.local_hour(tz)), lambda key: f"{key:02d}:00"),
                     key=lambda row: row.key)
    if scope == "agent":
        label = users[filters.agent_id][0]
    elif scope == "team":
        label = team_names[filters.team_id]
    elif scope == "queue":
        label = queue_names[filters.queue_id]
    else:
        label = ""
    return Report(period, filters, scope, label, figures, total, callbacks, values, by_queue,
                  by_team if scope != "agent" else [], by_agent, by_hour, filter_lists)


def choices(ctx: Context, actor: Actor) -> dict:
    """The queues, teams and agents the KPI filters offer this actor."""
    with ctx.read() as session:
        users = {user_id: (name, team_id) for user_id, name, team_id in session.execute(
            select(User.id, User.display_name, User.team_id))}
        team_names = dict(session.execute(select(Team.id, Team.name)).all())
        queue_rows = session.execute(select(Queue.id, Queue.name, Queue.sl_threshold_s).order_by(Queue.name)).all()
        return _filter_lists(session, actor, users, team_names, queue_rows)


def _filter_lists(session: Session, actor: Actor, users: dict, team_names: dict, queue_rows) -> dict:
    if actor.is_supervisor:
        agents = sorted(((user_id, name) for user_id, name, role in session.execute(
            select(User.id, User.display_name, User.role).where(User.active.is_(True))) if role == "agent"),
            key=lambda pair: pair[1].casefold())
        return {"queues": [(queue_id, name) for queue_id, name, _ in queue_rows],
                "teams": sorted(team_names.items(), key=lambda pair: pair[1].casefold()), "agents": agents}
    team_id = users.get(actor.id, (None, None))[1]
    return {"queues": [(queue_id, name) for queue_id, name, _ in queue_rows],
            "teams": [(team_id, team_names[team_id])] if team_id in team_names else [],
            "agents": [(actor.id, users[actor.id][0])]}
