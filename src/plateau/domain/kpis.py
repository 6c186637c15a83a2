"""Contact-centre indicators ("indicateurs") and their formulas, on plain facts.

The services turn stored calls, call events and agent state changes into the
facts below (``CallFacts``, ``StateChange``, ``CallbackFacts``); this module
only counts. The same definitions serve the KPI page, the wallboard, the
agent's day, objectives and ``plateau simulate``, so a figure means the same
thing everywhere. The definitions follow common ACD practice (COPC, Erlang C
textbooks) and are written out in ``KPIS`` — the text shown by the page's
info buttons and in docs/kpis.md:

* offered: inbound calls that reached a queue. Calls turned away because the
  queue was closed, and calls that ended in the voice menu, never waited for
  an agent: they are counted apart (``out_of_hours``, ``ended_in_ivr``).
* wait: from entering the first queue to the first answer (ringing included),
  or to the hang-up for an abandoned call. Voice-menu time is not wait.
* short abandons: callers who hung up within ``short_abandon_s`` (5 s) of
  entering the queue — wrong numbers, mostly — are shown apart and left out of
  the abandon rate and of the service level.
* service level: answered within the threshold / (handled + abandoned −
  short abandons). Calls still waiting are in neither side.
* AHT (DMT): (talk + hold + wrap-up) / closed calls; a call still on the line
  does not lower the average.
* transfer rate: transferred / handled; repeat rate: handled calls whose
  number (or contact) called in again within 7 days / handled.
* qualified rate: calls closed with a qualification / (those + calls hung up
  and still waiting in wrap-up for one).

A call that was transferred has several *legs*, one per agent who answered
it: queue figures count the call once, agent and team figures count each
agent's own leg (``agent_legs``), so the agent who passed a call on is
credited with a transfer and the one who closed it with its qualification.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from statistics import fmean

from .errors import N_

#: short abandons: callers who hung up this soon after entering the queue
SHORT_ABANDON_S = 5.0
#: a handled call is a repeat if the same number or contact calls in again within this window
REPEAT_WINDOW = timedelta(days=7)
#: a callback done up to this long after its due time is on time
CALLBACK_TOLERANCE = timedelta(minutes=30)

DEFLECT_CLOSED = "closed"

_QUEUE_STATES = frozenset({"offered", "ringing", "transferred"})
_AGENT_STATES = {"connected": "talk", "on_hold": "hold", "wrap_up": "wrap_up"}


# --- facts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Leg:
    """One agent's part of a call: from their answer until they transfer, hand over or close it."""

    agent_id: int | None
    team_id: int | None
    answered_at: datetime
    #: time the caller waited for *this* agent (queue and ringing before their answer)
    wait_s: float = 0.0
    talk_s: float = 0.0
    hold_s: float = 0.0
    wrap_up_s: float = 0.0
    #: this agent passed the call on (transfer, or a supervisor took it over)
    transferred: bool = False
    #: this agent closed the call (with its qualification)
    closed: bool = False
    #: the call's state when this leg ended (or now)
    end_state: str = "connected"


@dataclass(frozen=True)
class CallFacts:
    """What the indicators need to know about one call, whatever its storage."""

    call_id: int
    queue_id: int | None
    agent_id: int | None
    team_id: int | None
    direction: str
    created_at: datetime
    answered_at: datetime | None
    wait_s: float
    talk_s: float
    hold_s: float
    wrap_up_s: float
    abandoned: bool
    deflected: bool
    answered: bool
    transferred: bool
    closed: bool
    disposition: str | None
    caller_number: str
    contact_id: int | None
    #: the call reached a queue (not ended in the voice menu, not turned away as closed)
    in_queue: bool
    #: the call's state now (``wrap_up`` while waiting for a qualification)
    state: str = ""
    #: why the system ended it (closed, max_wait, callback, ivr_message, ivr_transfer…)
    deflect_reason: str | None = None
    #: the same number or contact called in again within ``REPEAT_WINDOW``
    repeated: bool = False
    #: when it entered its first queue
    queued_at: datetime | None = None
    #: one per agent who answered it, in order
    legs: tuple[Leg, ...] = ()

    @property
    def handling_s(self) -> float:
        """Talk + hold + wrap-up: what the DMT averages."""
        return self.talk_s + self.hold_s + self.wrap_up_s

    @property
    def qualified(self) -> bool:
        return self.closed and bool(self.disposition)

    @property
    def awaiting_qualification(self) -> bool:
        """Hung up, in wrap-up, not qualified yet: what lowers the qualified rate."""
        return self.answered and not self.closed and self.state == "wrap_up"


@dataclass(frozen=True)
class HistoryEvent:
    """One stored transition of a call, as the services read it (``call_events``)."""

    action: str
    from_state: str | None
    to_state: str
    at: datetime
    agent_id: int | None = None
    actor_id: int | None = None
    #: the team of ``agent_id`` (current), for the agent's leg
    team_id: int | None = None
    data: dict = field(default_factory=dict)


def facts_from_history(*, call_id: int, queue_id: int | None, agent_id: int | None, team_id: int | None,
                       direction: str, state: str, created_at: datetime, caller_number: str,
                       contact_id: int | None, disposition: str | None, events: list[HistoryEvent],
                       now: datetime | None = None, repeated: bool = False) -> CallFacts:
    """Rebuild a call's facts from its ordered events.

    Time between two events goes to the state the call was in: queue states
    before the first answer are the caller's wait, agent states go to the leg
    of the agent then on the call. A call not yet ended counts up to ``now``
    (if given).
    """
    current = events[0].to_state if events else state
    since = events[0].at if events else created_at
    legs: list[dict] = []
    wait = 0.0
    pending_wait = 0.0  # queue time since the last leg ended, for the next leg
    queued_at = created_at if current in _QUEUE_STATES else None
    ever_queued = current in _QUEUE_STATES
    answered_at = None
    abandoned = deflected = False
    reason = None

    def spend(until: datetime) -> None:
        nonlocal wait, pending_wait
        seconds = max(0.0, (until - since).total_seconds())
        if current in _QUEUE_STATES:
            pending_wait += seconds
            if answered_at is None:
                wait += seconds
        elif current in _AGENT_STATES and legs:
            legs[-1][_AGENT_STATES[current]] += seconds

    for event in events[1:]:
        spend(event.at)
        action = event.action
        if action == "enqueue" or (event.to_state in _QUEUE_STATES and not ever_queued):
            if queued_at is None:
                queued_at = event.at
            ever_queued = True
        if action == "answer":
            answered_at = answered_at or event.at
            legs.append({"agent_id": event.agent_id if event.agent_id is not None else event.actor_id,
                         "team_id": event.team_id, "answered_at": event.at, "wait_s": pending_wait,
                         "talk": 0.0, "hold": 0.0, "wrap_up": 0.0, "transferred": False, "closed": False})
            pending_wait = 0.0
        elif action == "transfer" and legs:
            legs[-1]["transferred"] = True
        elif action == "take_over" and legs and (event.agent_id or event.actor_id) not in (None, legs[-1]["agent_id"]):
            # the supervisor becomes the call's agent: the former agent's leg ends as passed on
            legs[-1]["transferred"] = True
            legs[-1]["end_state"] = event.to_state
            legs.append({"agent_id": event.agent_id or event.actor_id, "team_id": event.team_id,
                         "answered_at": event.at, "wait_s": 0.0, "talk": 0.0, "hold": 0.0, "wrap_up": 0.0,
                         "transferred": False, "closed": False})
        elif action == "close" and legs:
            legs[-1]["closed"] = True
        elif action == "abandon":
            abandoned = True
        elif action == "deflect":
            deflected = True
            reason = (event.data or {}).get("reason")
        if legs and "end_state" not in legs[-1] and (legs[-1]["transferred"] or legs[-1]["closed"]):
            legs[-1]["end_state"] = event.to_state
        since, current = event.at, event.to_state
    if now is not None and current not in ("closed", "abandoned", "deflected"):
        spend(now)
    for leg in legs:
        leg.setdefault("end_state", state)

    built = tuple(Leg(agent_id=leg["agent_id"], team_id=leg["team_id"], answered_at=leg["answered_at"],
                      wait_s=leg["wait_s"], talk_s=leg["talk"], hold_s=leg["hold"], wrap_up_s=leg["wrap_up"],
                      transferred=leg["transferred"], closed=leg["closed"], end_state=leg["end_state"])
                  for leg in legs)
    closed = state == "closed" and bool(built)
    if answered_at is None and not ever_queued:
        in_queue = False
    else:
        in_queue = not (deflected and reason == DEFLECT_CLOSED and answered_at is None)
    return CallFacts(
        call_id=call_id, queue_id=queue_id, agent_id=agent_id, team_id=team_id, direction=direction,
        created_at=created_at, answered_at=answered_at, wait_s=wait,
        talk_s=sum((leg.talk_s for leg in built), 0.0), hold_s=sum((leg.hold_s for leg in built), 0.0),
        wrap_up_s=sum((leg.wrap_up_s for leg in built), 0.0),
        abandoned=abandoned, deflected=deflected, answered=answered_at is not None,
        transferred=any(leg.transferred for leg in built), closed=closed,
        disposition=disposition if closed else None, caller_number=caller_number, contact_id=contact_id,
        in_queue=in_queue, state=state, deflect_reason=reason, repeated=repeated, queued_at=queued_at, legs=built)


def agent_legs(calls: Iterable[CallFacts], agent_ids: Iterable[int] | None = None,
               team_ids: Iterable[int] | None = None) -> list[CallFacts]:
    """Agent-side facts: one per leg, as if each agent's part were a call of its own.

    A leg carries that agent's talk, hold and wrap-up; it is transferred if
    the agent passed it on, closed (with the call's qualification) if the
    agent closed it. Optionally keep only the legs of some agents or teams.
    """
    agents = set(agent_ids) if agent_ids is not None else None
    teams = set(team_ids) if team_ids is not None else None
    result = []
    for call in calls:
        for leg in call.legs:
            if agents is not None and leg.agent_id not in agents:
                continue
            if teams is not None and leg.team_id not in teams:
                continue
            result.append(replace(
                call, agent_id=leg.agent_id, team_id=leg.team_id, answered_at=leg.answered_at, wait_s=leg.wait_s,
                talk_s=leg.talk_s, hold_s=leg.hold_s, wrap_up_s=leg.wrap_up_s, answered=True, abandoned=False,
                deflected=False, transferred=leg.transferred, closed=leg.closed,
                disposition=call.disposition if leg.closed else None, in_queue=True, state=leg.end_state,
                legs=(leg,)))
    return result


def mark_repeats(calls: Iterable[CallFacts], arrivals: Iterable[tuple[datetime, str, int | None]],
                 window: timedelta = REPEAT_WINDOW) -> list[CallFacts]:
    """Set ``repeated`` on handled calls whose number or contact called in again within ``window``.

    ``arrivals`` are the inbound calls (time, number, contact) from the
    period's start to its end plus the window; any later arrival counts, even
    one abandoned or ended in the menu: the caller had to call again.
    """
    by_number: dict[str, list[datetime]] = defaultdict(list)
    by_contact: dict[int, list[datetime]] = defaultdict(list)
    for at, number, contact_id in arrivals:
        if number:
            by_number[number].append(at)
        if contact_id is not None:
            by_contact[contact_id].append(at)

    def again(times: list[datetime], after: datetime) -> bool:
        return any(after < at <= after + window for at in times)

    result = []
    for call in calls:
        repeated = call.answered and (
            again(by_number.get(call.caller_number, []), call.created_at)
            or (call.contact_id is not None and again(by_contact.get(call.contact_id, []), call.created_at)))
        result.append(replace(call, repeated=repeated) if repeated != call.repeated else call)
    return result


# --- call figures --------------------------------------------------------------------


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


@dataclass(frozen=True)
class Figures:
    """The call indicators of a set of calls (a queue, a team, an agent, an hour…)."""

    offered: int = 0
    handled: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    answered_within: int = 0
    #: None when the calls came from queues with different thresholds
    sl_threshold_s: int | None = 20
    service_level: float | None = None
    abandon_rate: float | None = None
    asa_s: float | None = None
    aht_s: float | None = None
    transferred: int = 0
    transfer_rate: float | None = None
    closed: int = 0
    qualified: int = 0
    qualified_rate: float | None = None
    repeated: int = 0
    repeat_rate: float | None = None
    talk_s: float = 0.0
    hold_s: float = 0.0
    wrap_up_s: float = 0.0
    #: ended by the system without an agent, all reasons (closed queue, maximum wait, callback asked…)
    deflected: int = 0
    #: turned away because the queue was closed: not in ``offered``
    out_of_hours: int = 0
    #: ended in the voice menu (hung up or sent elsewhere there): not in ``offered``
    ended_in_ivr: int = 0
    #: still waiting in a queue
    waiting: int = 0
    longest_wait_s: float | None = None

    @property
    def handling_s(self) -> float:
        return self.talk_s + self.hold_s + self.wrap_up_s

    def as_dict(self) -> dict:
        return asdict(self)


def figures(calls: Iterable[CallFacts], sl_threshold_s: int = 20, short_abandon_s: float = SHORT_ABANDON_S,
            queue_thresholds: Mapping[int | None, int] | None = None) -> Figures:
    """Count the call indicators of inbound ``calls`` (outbound ones are ignored).

    Pass agent legs (``agent_legs``) for an agent's or a team's figures:
    the same formulas then read as "of the calls this agent answered".
    ``queue_thresholds`` gives each queue its own service-level threshold
    (calls of other queues use ``sl_threshold_s``).
    """
    used: set[int] = set()
    offered = handled = abandoned = short = within = transferred = closed = qualified = repeated = 0
    awaiting = deflected = out_of_hours = in_ivr = waiting = 0
    waits: list[float] = []
    handling: list[float] = []
    talk = hold = wrap = 0.0
    longest = None
    for call in calls:
        if call.direction != "inbound":
            continue
        if call.deflected:
            deflected += 1
        if not call.in_queue:
            if call.deflected and call.deflect_reason == DEFLECT_CLOSED:
                out_of_hours += 1
            else:
                in_ivr += 1
            continue
        offered += 1
        if call.answered:
            handled += 1
            waits.append(call.wait_s)
            threshold = queue_thresholds.get(call.queue_id, sl_threshold_s) if queue_thresholds else sl_threshold_s
            used.add(threshold)
            if call.wait_s <= threshold:
                within += 1
            talk += call.talk_s
            hold += call.hold_s
            wrap += call.wrap_up_s
            transferred += call.transferred
            repeated += call.repeated
            if call.closed:
                closed += 1
                handling.append(call.handling_s)
            if call.qualified:
                qualified += 1
            elif call.awaiting_qualification:
                awaiting += 1
        elif call.abandoned:
            abandoned += 1
            if call.wait_s < short_abandon_s:
                short += 1
        elif call.state in _QUEUE_STATES:
            waiting += 1
            longest = max(longest or 0.0, call.wait_s)
    return Figures(
        offered=offered, handled=handled, abandoned=abandoned, short_abandoned=short, answered_within=within,
        sl_threshold_s=used.pop() if len(used) == 1 else (sl_threshold_s if not used else None),
        service_level=_ratio(within, handled + abandoned - short),
        abandon_rate=_ratio(abandoned - short, offered - short),
        asa_s=fmean(waits) if waits else None, aht_s=fmean(handling) if handling else None,
        transferred=transferred, transfer_rate=_ratio(transferred, handled), closed=closed, qualified=qualified,
        qualified_rate=_ratio(qualified, qualified + awaiting), repeated=repeated,
        repeat_rate=_ratio(repeated, handled), talk_s=talk, hold_s=hold, wrap_up_s=wrap, deflected=deflected,
        out_of_hours=out_of_hours, ended_in_ivr=in_ivr, waiting=waiting, longest_wait_s=longest)


def group(calls: Iterable[CallFacts], key: Callable[[CallFacts], object]) -> dict[object, list[CallFacts]]:
    """Calls grouped by ``key`` (queue, agent, team, hour…), keys in first-seen order."""
    groups: dict[object, list[CallFacts]] = {}
    for call in calls:
        groups.setdefault(key(call), []).append(call)
    return groups


def local_hour(tz: tzinfo) -> Callable[[CallFacts], int]:
    """Key for a breakdown by hour of day, in the site's time zone."""
    return lambda call: call.created_at.astimezone(tz).hour


# --- agent time ------------------------------------------------------------------------


@dataclass(frozen=True)
class StateChange:
    """One row of the agent state log (``agent_state_changes``)."""

    user_id: int
    state: str
    at: datetime
    pause_reason: str | None = None


@dataclass(frozen=True)
class AgentTime:
    """Where the agents' logged-in time went, over a period."""

    logged_s: float = 0.0
    available_s: float = 0.0
    on_call_s: float = 0.0
    wrap_up_s: float = 0.0
    paused_s: float = 0.0
    pause_by_reason: dict[str, float] = field(default_factory=dict)
    #: distinct (agent, local day) pairs with logged-in time
    agent_days: int = 0
    #: logged-in stretches within the period: (login, logout), logout None while still logged in
    sessions: tuple[tuple[datetime, datetime | None], ...] = ()

    @property
    def first_login(self) -> datetime | None:
        return self.sessions[0][0] if self.sessions else None

    @property
    def last_logout(self) -> datetime | None:
        return self.sessions[-1][1] if self.sessions else None

    @property
    def occupancy(self) -> float | None:
        """(on call + wrap-up) / (available + on call + wrap-up): pauses are not idle time."""
        return _ratio(self.on_call_s + self.wrap_up_s, self.available_s + self.on_call_s + self.wrap_up_s)

    def as_dict(self) -> dict:
        return {**asdict(self), "occupancy": self.occupancy}


def agent_time(changes: Iterable[StateChange], since: datetime, until: datetime, tz: tzinfo,
               now: datetime | None = None) -> dict[int, AgentTime]:
    """Per agent, the time spent in each state between ``since`` and ``until``.

    ``changes`` must include, for each agent, the last change before
    ``since`` (the state they were in when the period began). The last state
    lasts until ``until`` or ``now``, whichever comes first.
    """
    end = min(until, now) if now is not None else until
    per_user: dict[int, list[StateChange]] = defaultdict(list)
    for change in sorted(changes, key=lambda c: (c.user_id, c.at)):
        per_user[change.user_id].append(change)
    result = {}
    for user_id, rows in per_user.items():
        spent: dict[str, float] = defaultdict(float)
        pauses: dict[str, float] = defaultdict(float)
        days: set[date] = set()
        sessions: list[list] = []  # [login, logout or None]
        for index, change in enumerate(rows):
            start = max(change.at, since)
            stop = min(rows[index + 1].at if index + 1 < len(rows) else end, end)
            if stop <= start:
                continue
            if change.state == "offline":
                if sessions and sessions[-1][1] is None:
                    sessions[-1][1] = start
                continue
            if not sessions or sessions[-1][1] is not None:
                sessions.append([start, None])
            seconds = (stop - start).total_seconds()
            spent[change.state] += seconds
            if change.state == "paused":
                pauses[change.pause_reason or ""] += seconds
            day = start.astimezone(tz).date()
            while True:
                days.add(day)
                day += timedelta(days=1)
                if datetime.combine(day, datetime.min.time(), tz) >= stop:
                    break
        result[user_id] = AgentTime(
            logged_s=sum(spent.values()), available_s=spent["available"], on_call_s=spent["on_call"],
            wrap_up_s=spent["wrap_up"], paused_s=spent["paused"], pause_by_reason=dict(pauses),
            agent_days=len(days), sessions=tuple((login, logout) for login, logout in sessions))
    return result


def total_time(times: Iterable[AgentTime]) -> AgentTime:
    """Several agents' time added up (a team's, the floor's)."""
    logged = available = on_call = wrap = paused = 0.0
    pauses: dict[str, float] = defaultdict(float)
    days = 0
    sessions = []
    for time in times:
        logged += time.logged_s
        available += time.available_s
        on_call += time.on_call_s
        wrap += time.wrap_up_s
        paused += time.paused_s
        days += time.agent_days
        for reason, seconds in time.pause_by_reason.items():
            pauses[reason] += seconds
        sessions.extend(time.sessions)
    sessions.sort(key=lambda pair: pair[0])
    return AgentTime(logged, available, on_call, wrap, paused, dict(pauses), days, tuple(sessions))


# --- callbacks ----------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackFacts:
    callback_id: int
    due_at: datetime
    status: str  # open | done | cancelled
    done_at: datetime | None = None
    source: str = "agent"
    assigned_user_id: int | None = None
    done_by: int | None = None


@dataclass(frozen=True)
class CallbackFigures:
    due: int = 0
    on_time: int = 0
    late: int = 0
    open_overdue: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.on_time, self.due)

    def as_dict(self) -> dict:
        return {**asdict(self), "on_time_rate": self.on_time_rate}


def callback_figures(callbacks: Iterable[CallbackFacts], now: datetime,
                     tolerance: timedelta = CALLBACK_TOLERANCE) -> CallbackFigures:
    """Callbacks due in the period (cancelled ones aside) and how many were done by due time + tolerance.

    A callback not yet due + tolerance and still open is not counted yet: it
    can still be honoured.
    """
    due = on_time = late = overdue = 0
    for callback in callbacks:
        if callback.status == "cancelled":
            continue
        deadline = callback.due_at + tolerance
        if callback.done_at is not None:
            due += 1
            if callback.done_at <= deadline:
                on_time += 1
            else:
                late += 1
        elif now > deadline:
            due += 1
            overdue += 1
    return CallbackFigures(due, on_time, late, overdue)


# --- the catalogue ------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    code: str
    label: str
    formula: str
    unit: str  # count | ratio | seconds | per_day
    better: str  # higher | lower
    #: queue-side indicators (offered, abandons, service level) mean nothing for one agent or team
    queue_only: bool = False

    @property
    def objective(self) -> bool:
        """Whether objectives can be set on it (individual and team indicators only)."""
        return not self.queue_only and self.unit != "breakdown"


KPIS: dict[str, Kpi] = {kpi.code: kpi for kpi in [
    Kpi("offered", N_("Appels présentés"),
        N_("Appels entrants arrivés dans une file d'attente. Les appels reçus file fermée et ceux terminés dans le "
           "serveur vocal sont comptés à part."), "count", "higher", queue_only=True),
    Kpi("handled", N_("Appels traités"),
        N_("Appels présentés décrochés par un agent (pour un agent : les appels qu'il a décrochés)."),
        "count", "higher"),
    Kpi("abandoned", N_("Appels abandonnés"),
        N_("Appels présentés dont l'appelant a raccroché avant la réponse, abandons courts compris."),
        "count", "lower", queue_only=True),
    Kpi("short_abandoned", N_("Abandons courts (moins de 5 s)"),
        N_("Abandons survenus moins de 5 secondes après l'entrée en file : comptés à part, hors taux d'abandon "
           "et hors niveau de service."), "count", "lower", queue_only=True),
    Kpi("abandon_rate", N_("Taux d'abandon"),
        N_("(Abandons − abandons courts) ÷ (appels présentés − abandons courts)."), "ratio", "lower",
        queue_only=True),
    Kpi("answered_within", N_("Appels répondus dans le délai"),
        N_("Appels traités dont l'attente (file et sonnerie, jusqu'au décroché) n'a pas dépassé le seuil de la "
           "file (20 s par défaut)."), "count", "higher", queue_only=True),
    Kpi("service_level", N_("Niveau de service"),
        N_("Appels répondus dans le délai ÷ (appels traités + abandons − abandons courts), soit « X pour cent des "
           "appels répondus en Y secondes »."), "ratio", "higher", queue_only=True),
    Kpi("asa", N_("Délai moyen de réponse (ASA)"),
        N_("Somme des attentes des appels traités (de l'entrée en file au décroché, sonnerie comprise) ÷ appels "
           "traités."), "seconds", "lower"),
    Kpi("aht", N_("Durée moyenne de traitement (DMT)"),
        N_("(Temps de communication + temps de mise en attente + temps de post-appel) ÷ appels clôturés."),
        "seconds", "lower"),
    Kpi("occupancy", N_("Taux d'occupation"),
        N_("(Temps en appel + temps en post-appel) ÷ (temps disponible + temps en appel + temps en post-appel) ; "
           "les pauses ne comptent pas."), "ratio", "higher"),
    Kpi("calls_per_agent_day", N_("Appels par agent et par jour"),
        N_("Appels traités ÷ nombre de journées-agent (un agent connecté au moins une fois dans la journée "
           "compte pour une journée)."), "per_day", "higher"),
    Kpi("transfer_rate", N_("Taux de transfert"),
        N_("Appels transférés ÷ appels traités (pour un agent : les appels qu'il a lui-même transférés)."),
        "ratio", "lower"),
    Kpi("repeat_rate", N_("Taux de rappel sous 7 jours"),
        N_("Appels traités dont le même numéro (ou le même client) a rappelé dans les 7 jours ÷ appels traités."),
        "ratio", "lower"),
    Kpi("callbacks_on_time", N_("Rappels honorés à temps"),
        N_("Rappels faits au plus tard 30 minutes après l'heure prévue ÷ rappels arrivés à échéance dans la "
           "période (hors rappels annulés ; un rappel encore ouvert compte dès que ces 30 minutes sont passées)."),
        "ratio", "higher"),
    Kpi("pause_time", N_("Temps de pause"),
        N_("Somme des durées en pause, détaillée par motif de pause."), "seconds", "lower"),
    Kpi("qualified_rate", N_("Taux de qualification"),
        N_("Appels clôturés avec une qualification ÷ (ces appels + appels raccrochés encore en attente de "
           "qualification)."), "ratio", "higher"),
]}

#: the order indicators are shown in
KPI_ORDER = list(KPIS)
OBJECTIVE_KPIS = [code for code, kpi in KPIS.items() if kpi.objective]


def values(calls: Figures, time: AgentTime | None = None,
           callbacks: CallbackFigures | None = None) -> dict[str, float | None]:
    """Every catalogue indicator's value (None where there is nothing to measure yet)."""
    result: dict[str, float | None] = {
        "offered": calls.offered,
        "handled": calls.handled,
        "abandoned": calls.abandoned,
        "short_abandoned": calls.short_abandoned,
        "abandon_rate": calls.abandon_rate,
        "answered_within": calls.answered_within,
        "service_level": calls.service_level,
        "asa": calls.asa_s,
        "aht": calls.aht_s,
        "transfer_rate": calls.transfer_rate,
        "repeat_rate": calls.repeat_rate,
        "qualified_rate": calls.qualified_rate,
        "occupancy": None,
        "calls_per_agent_day": None,
        "pause_time": None,
        "callbacks_on_time": callbacks.on_time_rate if callbacks else None,
    }
    if time is not None:
        result["occupancy"] = time.occupancy
        result["calls_per_agent_day"] = _ratio(calls.handled, time.agent_days)
        result["pause_time"] = time.paused_s if time.logged_s else None
    return result


# --- objectives -------------------------------------------------------------------------

COMPARATORS = ("<=", ">=")

MET, NOT_YET, MISSED, NO_DATA = "met", "not_yet", "missed", "no_data"

STATUS_LABELS = {
    MET: N_("Atteint"),
    NOT_YET: N_("Pas encore atteint"),
    MISSED: N_("Non atteint"),
    NO_DATA: N_("Pas de données"),
}


@dataclass(frozen=True)
class Assessment:
    """An indicator's value against an objective's target."""

    kpi: str
    comparator: str
    target: float
    value: float | None
    status: str
    #: how far from the target (always ≥ 0; 0 when met exactly), in the indicator's unit
    gap: float | None

    @property
    def met(self) -> bool:
        return self.status == MET

    def message(self) -> tuple[str, dict[str, float | None]]:
        """The gap in words: a msgid and the numbers to format into it (value, target, gap)."""
        params = {"value": self.value, "target": self.target, "gap": self.gap}
        if self.status == NO_DATA:
            return N_("Pas encore de données pour cet indicateur."), params
        if self.status == MET:
            if self.gap:
                return (N_("Objectif atteint, avec %(gap)s de marge.") if self.comparator == ">="
                        else N_("Objectif atteint, %(gap)s sous la limite."), params)
            return N_("Objectif atteint, tout juste."), params
        if self.comparator == ">=":
            return (N_("Il manque encore %(gap)s pour atteindre l'objectif.") if self.status == NOT_YET
                    else N_("Objectif manqué de %(gap)s."), params)
        return (N_("%(gap)s au-dessus de l'objectif : il peut encore être tenu.") if self.status == NOT_YET
                else N_("Objectif dépassé de %(gap)s."), params)


def assess(kpi: str, comparator: str, target: float, value: float | None, final: bool) -> Assessment:
    """Compare ``value`` with ``target``: met, not yet (the period is still running) or missed."""
    if comparator not in COMPARATORS:
        raise ValueError(comparator)
    if value is None:
        return Assessment(kpi, comparator, target, None, NO_DATA, None)
    met = value >= target if comparator == ">=" else value <= target
    gap = abs(value - target)
    status = MET if met else (MISSED if final else NOT_YET)
    return Assessment(kpi, comparator, target, value, status, gap)
