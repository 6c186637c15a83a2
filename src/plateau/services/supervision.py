"""Supervision of the floor: the live wallboard and what a supervisor does to calls and agents.

* ``wallboard`` — one snapshot of every agent (state and since when, the call
  on their desktop) and every queue (waiting now, today's figures from
  ``services.kpis``, alerts from ``domain.wallboard``). The page renders it,
  then refreshes it when a ``floor`` event says something moved.
* ``listen`` / ``stop_listening`` — silent listening ("écoute discrète"): an
  open ``listen`` monitor makes ``calls._recipients`` copy the call's events
  and transcript to the supervisor's own channel. Nobody else is told: the
  agent's and the caller's channels carry no trace of it.
* ``whisper`` — a private message to an agent ("chuchotement"), on the
  agent's channel only, never the caller's.
* ``take_over`` — the supervisor becomes the call's agent. As ACDs do
  (a supervisor "barge-in/take over" drops the agent's leg), the former agent
  is released at once, *available*, with no wrap-up of their own: the call's
  wrap-up and qualification belong to whoever closes it. The caller's
  console and both desktops get the ``take_over`` call event.
* ``force_pause`` / ``force_log_off`` — imposed states; refused while a call
  is on the agent's desktop (see ``domain.wallboard`` for why a pause is not
  kept pending). The agent may come back from an imposed pause by choosing
  "Disponible", as from any pause; a log-off here is the ACD's (presence
  offline), the agent's web session stays open.

Every action writes its rows and a ``supervision`` event on the ``floor``
channel (without any whispered text) in the same transaction, so every
wallboard open on the floor refreshes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain import phones
from ..domain.agents import BUSY, AgentState
from ..domain.calls import LIVE, WAITING, WITH_AGENT, CallAction, CallState
from ..domain.clock import as_utc
from ..domain.contacts import formal_name
from ..domain.errors import N_, DomainError, NotFoundError, PermissionDenied, ValidationError
from ..domain.kpis import Figures
from ..domain.wallboard import (Alert, QueueNow, Thresholds, check_forced_log_off, check_forced_pause, check_listen,
                                check_take_over, queue_alerts)
from ..store.models import (AgentPresence, Call, CallMonitor, Contact, Queue, QueueMember, Team, User, Whisper)
from . import calls, kpis
from .agents import change_state, presence_of
from .context import FLOOR, Actor, Context, emit, user_channel

LISTEN, TAKE_OVER = "listen", "take_over"
#: a whisper is one short line, like a line of the conversation
MAX_WHISPER = calls.MAX_UTTERANCE


def _require_supervisor(actor: Actor) -> None:
    if not actor.is_supervisor:
        raise PermissionDenied(N_("Réservé aux superviseurs, formateurs et administrateurs."))


# --- the wallboard ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CallTile:
    """The call on an agent's desktop."""

    call_id: int
    queue: str
    caller: str
    state: str
    #: since when the call is with this agent: the answer, or the ring while not yet answered
    since: datetime
    duration_s: float
    #: the trainer playing the caller, if any (they follow the call from their console, not by listening)
    caller_user_id: int | None = None


@dataclass(frozen=True)
class AgentTile:
    user_id: int
    name: str
    team: str
    state: str
    since: datetime
    pause_reason: str | None
    queues: tuple[str, ...]
    call: CallTile | None = None
    #: supervisors silently listening to the agent's call (shown to supervisors only)
    listeners: tuple[str, ...] = ()

    @property
    def busy(self) -> bool:
        return AgentState(self.state) in BUSY


@dataclass(frozen=True)
class QueueTile:
    queue_id: int
    name: str
    waiting: int
    longest_wait_s: float
    #: when the oldest waiting call entered the queue (the page ticks the longest wait from it)
    oldest_since: datetime | None
    available: int
    busy: int
    today: Figures
    sl_target: float
    sl_threshold_s: int
    alerts: tuple[Alert, ...] = ()

    @property
    def in_alert(self) -> bool:
        return bool(self.alerts)


@dataclass
class Wallboard:
    at: datetime
    agents: list[AgentTile] = field(default_factory=list)
    queues: list[QueueTile] = field(default_factory=list)

    def as_dict(self, gettext=lambda s: s) -> dict:
        """JSON-ready, alerts written out in the reader's language."""
        return {
            "at": self.at.isoformat(),
            "agents": [{**asdict(agent), "since": agent.since.isoformat(),
                        "call": None if agent.call is None else {**asdict(agent.call),
                                                                 "since": agent.call.since.isoformat()}}
                       for agent in self.agents],
            "queues": [{"queue_id": q.queue_id, "name": q.name, "waiting": q.waiting,
                        "longest_wait_s": q.longest_wait_s, "available": q.available, "busy": q.busy,
                        "sl_target": q.sl_target, "sl_threshold_s": q.sl_threshold_s, "today": q.today.as_dict(),
                        "alerts": [{"code": a.code, "text": a.render(gettext)} for a in q.alerts]}
                       for q in self.queues],
        }


def today(ctx: Context, now: datetime) -> tuple[datetime, datetime]:
    """"Today" on the wallboard: from local midnight (the site's time zone) to the next, in UTC."""
    tz = ZoneInfo(ctx.settings.timezone)
    day = now.astimezone(tz).date()
    return tuple(datetime.combine(d, time(0), tz).astimezone(timezone.utc) for d in (day, day + timedelta(days=1)))


def wallboard(ctx: Context, actor: Actor) -> Wallboard:
    """Every agent and every active queue, now; queues with today's figures and alerts."""
    _require_supervisor(actor)
    with ctx.read() as session:
        now = ctx.now()
        return Wallboard(at=now, agents=_agent_tiles(session, now), queues=_queue_tiles(ctx, session, now))


def _agent_tiles(session: Session, now: datetime) -> list[AgentTile]:
    """Active agents, plus anyone else (a supervisor who took a call) whose presence is not offline."""
    rows = session.execute(
        select(User, AgentPresence).outerjoin(AgentPresence, AgentPresence.user_id == User.id)
        .where(User.active.is_(True),
               (User.role == "agent") | (AgentPresence.state.is_not(None) & (AgentPresence.state != AgentState.OFFLINE)))
        .order_by(User.display_name, User.id)).all()
    ids = [user.id for user, _ in rows]
    if not ids:
        return []
    teams = dict(session.execute(select(Team.id, Team.name)).all())
    served: dict[int, list[str]] = {}
    for user_id, name in session.execute(select(QueueMember.user_id, Queue.name)
                                         .join(Queue, Queue.id == QueueMember.queue_id)
                                         .where(QueueMember.user_id.in_(ids), Queue.active.is_(True))
                                         .order_by(Queue.name)):
        served.setdefault(user_id, []).append(name)
    current: dict[int, Call] = {}
    for call in session.scalars(select(Call).where(Call.agent_id.in_(ids),
                                                   Call.state.in_([s.value for s in WITH_AGENT]))
                                .order_by(Call.id)):
        current[call.agent_id] = call  # the newest wins, as on the desktop
    queue_names = dict(session.execute(select(Queue.id, Queue.name)).all())
    contact_ids = {call.contact_id for call in current.values() if call.contact_id}
    contacts = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))} if contact_ids else {}
    listeners: dict[int, list[str]] = {}
    if current:
        for call_id, name in session.execute(
                select(CallMonitor.call_id, User.display_name).join(User, User.id == CallMonitor.supervisor_id)
                .where(CallMonitor.call_id.in_([c.id for c in current.values()]), CallMonitor.mode == LISTEN,
                       CallMonitor.ended_at.is_(None)).order_by(User.display_name)):
            listeners.setdefault(call_id, []).append(name)
    tiles = []
    for user, presence in rows:
        call = current.get(user.id)
        call_tile = None
        if call is not None:
            since = as_utc(call.answered_at or call.state_since) if call.state != CallState.RINGING else as_utc(call.state_since)
            contact = contacts.get(call.contact_id)
            call_tile = CallTile(call.id, queue_names.get(call.queue_id, ""),
                                 formal_name(contact) if contact else phones.display(call.caller_number),
                                 call.state, since, max(0.0, (now - since).total_seconds()), call.caller_user_id)
        tiles.append(AgentTile(
            user_id=user.id, name=user.display_name, team=teams.get(user.team_id, "") if user.team_id else "",
            state=presence.state if presence else AgentState.OFFLINE,
            since=as_utc(presence.since) if presence else as_utc(user.created_at),
            pause_reason=presence.pause_reason if presence else None, queues=tuple(served.get(user.id, ())),
            call=call_tile, listeners=tuple(listeners.get(call.id, ())) if call else ()))
    return tiles


def _queue_tiles(ctx: Context, session: Session, now: datetime) -> list[QueueTile]:
    queues = list(session.scalars(select(Queue).where(Queue.active.is_(True)).order_by(Queue.name)))
    if not queues:
        return []
    oldest: dict[int, datetime] = {}
    waiting: dict[int, int] = {}
    for queue_id, queued_at, created_at in session.execute(
            select(Call.queue_id, Call.queued_at, Call.created_at).where(Call.state.in_([s.value for s in WAITING]))):
        entered = as_utc(queued_at or created_at)
        waiting[queue_id] = waiting.get(queue_id, 0) + 1
        if queue_id not in oldest or entered < oldest[queue_id]:
            oldest[queue_id] = entered
    available: dict[int, int] = {}
    busy: dict[int, int] = {}
    for queue_id, state in session.execute(select(QueueMember.queue_id, AgentPresence.state)
                                           .join(AgentPresence, AgentPresence.user_id == QueueMember.user_id)
                                           .join(User, User.id == QueueMember.user_id)
                                           .where(User.active.is_(True))):
        if state == AgentState.AVAILABLE:
            available[queue_id] = available.get(queue_id, 0) + 1
        elif AgentState(state) in BUSY:
            busy[queue_id] = busy.get(queue_id, 0) + 1
    figures_today = kpis.queue_figures(session, *today(ctx, now), now=now)
    tiles = []
    for queue in queues:
        figures = figures_today.get(queue.id) or Figures(sl_threshold_s=queue.sl_threshold_s)
        since = oldest.get(queue.id)
        longest = max(0.0, (now - since).total_seconds()) if since else 0.0
        measured = QueueNow(waiting.get(queue.id, 0), longest, figures.service_level, figures.abandon_rate)
        limits = Thresholds(queue.alert_waiting, queue.alert_longest_wait_s, queue.alert_abandon_rate,
                            queue.sl_target, queue.sl_threshold_s)
        tiles.append(QueueTile(queue.id, queue.name, measured.waiting, longest, since, available.get(queue.id, 0),
                               busy.get(queue.id, 0), figures, queue.sl_target, queue.sl_threshold_s,
                               tuple(queue_alerts(measured, limits))))
    return tiles


# --- silent listening -------------------------------------------------------------------------


def _open_listen(session: Session, call_id: int, supervisor_id: int) -> list[CallMonitor]:
    return list(session.scalars(select(CallMonitor).where(
        CallMonitor.call_id == call_id, CallMonitor.supervisor_id == supervisor_id, CallMonitor.mode == LISTEN,
        CallMonitor.ended_at.is_(None))))


def _floor_event(session: Session, action: str, actor: Actor, now: datetime, **data) -> None:
    emit(session, FLOOR, "supervision", {"action": action, "supervisor_id": actor.id, "at": now.isoformat(), **data}, now)


def listen(ctx: Context, actor: Actor, call_id: int) -> CallMonitor:
    """Start following a call silently; listening twice keeps one monitor."""
    _require_supervisor(actor)
    with ctx.unit() as session:
        now = ctx.now()
        call = calls._load(session, call_id)
        check_listen(call.state)
        if actor.id in (call.agent_id, call.caller_user_id):
            raise DomainError(N_("Vous êtes déjà sur cet appel."), "call_id")
        existing = _open_listen(session, call.id, actor.id)
        if existing:
            return existing[0]
        monitor = CallMonitor(call_id=call.id, supervisor_id=actor.id, mode=LISTEN, started_at=now)
        session.add(monitor)
        session.flush()
        _floor_event(session, "listen", actor, now, call_id=call.id, agent_id=call.agent_id)
        return monitor


def stop_listening(ctx: Context, actor: Actor, call_id: int) -> bool:
    """Stop following a call; True if an écoute was running."""
    _require_supervisor(actor)
    with ctx.unit() as session:
        now = ctx.now()
        open_monitors = _open_listen(session, call_id, actor.id)
        for monitor in open_monitors:
            monitor.ended_at = now
        if open_monitors:
            _floor_event(session, "stop_listening", actor, now, call_id=call_id)
        return bool(open_monitors)


def is_listening(ctx: Context, actor: Actor, call_id: int) -> bool:
    with ctx.read() as session:
        return bool(_open_listen(session, call_id, actor.id))


# --- whisper, take over ------------------------------------------------------------------------


def whisper(ctx: Context, actor: Actor, agent_id: int, text: str, call_id: int | None = None) -> Whisper:
    """A private line to an agent, shown on their desktop only (never on the caller's console)."""
    _require_supervisor(actor)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": DomainError(N_("Le message est vide."), "text")})
    if len(text) > MAX_WHISPER:
        raise ValidationError({"text": DomainError(N_("Le message dépasse %(max)s caractères."), "text", max=MAX_WHISPER)})
    with ctx.unit() as session:
        now = ctx.now()
        agent = _agent(session, agent_id)
        if agent.id == actor.id:
            raise ValidationError({"agent_id": DomainError(N_("Choisissez un autre agent que vous-même."), "agent_id")})
        if call_id is not None:
            call = calls._load(session, call_id)
            if call.agent_id != agent.id:
                raise DomainError(N_("Cet appel n'est plus sur le poste de %(name)s."), "call_id", name=agent.display_name)
        row = Whisper(call_id=call_id, from_user_id=actor.id, to_user_id=agent.id, text=text, at=now)
        session.add(row)
        session.flush()
        sender = session.get(User, actor.id)
        emit(session, user_channel(agent.id), "whisper",
             {"id": row.id, "call_id": call_id, "from_user_id": actor.id,
              "from": sender.display_name if sender else "", "text": text, "at": now.isoformat()}, now)
        _floor_event(session, "whisper", actor, now, agent_id=agent.id, call_id=call_id)
        return row


def recent_whispers(ctx: Context, user_id: int, limit: int = 10) -> list[tuple[Whisper, str]]:
    """Today's whispers to ``user_id``, oldest first, with the sender's name (the desktop restores them on reload)."""
    with ctx.read() as session:
        rows = session.execute(select(Whisper, User.display_name).join(User, User.id == Whisper.from_user_id)
                               .where(Whisper.to_user_id == user_id, Whisper.at >= today(ctx, ctx.now())[0])
                               .order_by(Whisper.id.desc()).limit(limit)).all()
        return [(row, name) for row, name in reversed(rows)]


def take_over(ctx: Context, actor: Actor, call_id: int) -> Call:
    """The supervisor takes a live call: they become its agent, the former agent is available again."""
    _require_supervisor(actor)
    with ctx.unit() as session:
        now = ctx.now()
        call = calls._load(session, call_id, lock=True)
        if call.agent_id == actor.id and CallState(call.state) in LIVE:
            return call  # already taken: a double click takes once
        check_take_over(call.state, presence_of(session, actor.id, now).state)
        if call.caller_user_id == actor.id:
            raise DomainError(N_("Vous êtes déjà sur cet appel."), "call_id")
        former = call.agent_id
        call.agent_id = actor.id
        calls._apply(session, call, CallAction.TAKE_OVER, now, actor.id, data={"from_agent_id": former},
                     extra_recipients={former} - {None})
        for monitor in _open_listen(session, call.id, actor.id):
            monitor.ended_at = now
        # the hand-over is an instant: the row records who took which call when
        session.add(CallMonitor(call_id=call.id, supervisor_id=actor.id, mode=TAKE_OVER, started_at=now, ended_at=now))
        if former is not None:
            change_state(session, former, AgentState.AVAILABLE, now, call_id=call.id)
        change_state(session, actor.id, AgentState.ON_CALL, now, call_id=call.id)
        _floor_event(session, "take_over", actor, now, call_id=call.id, agent_id=former)
    calls.route_waiting(ctx)  # the released agent may take a waiting call at once
    return call


# --- imposed states -----------------------------------------------------------------------------


def force_pause(ctx: Context, actor: Actor, agent_id: int, reason: str | None = "supervisor") -> AgentPresence:
    """Put an agent in pause (default reason "Pause imposée par le superviseur")."""
    _require_supervisor(actor)
    with ctx.unit() as session:
        now = ctx.now()
        agent = _agent(session, agent_id)
        presence = presence_of(session, agent.id, now)
        reason = check_forced_pause(presence.state, reason, agent.display_name)
        if presence.state == AgentState.PAUSED and presence.pause_reason == reason:
            return presence
        change_state(session, agent.id, AgentState.PAUSED, now, pause_reason=reason)
        _floor_event(session, "force_pause", actor, now, agent_id=agent.id, reason=reason)
        return presence


def force_log_off(ctx: Context, actor: Actor, agent_id: int) -> AgentPresence:
    """Set an agent offline for the ACD; refused while a call is on their desktop."""
    _require_supervisor(actor)
    with ctx.unit() as session:
        now = ctx.now()
        agent = _agent(session, agent_id)
        presence = presence_of(session, agent.id, now)
        check_forced_log_off(presence.state, agent.display_name)
        if presence.state == AgentState.OFFLINE:
            return presence
        change_state(session, agent.id, AgentState.OFFLINE, now)
        _floor_event(session, "force_log_off", actor, now, agent_id=agent.id)
        return presence


def _agent(session: Session, agent_id: int) -> User:
    agent = session.get(User, agent_id)
    if agent is None or not agent.active:
        raise NotFoundError(N_("Agent introuvable."), "agent_id")
    return agent


def agent_name(ctx: Context, agent_id: int) -> str:
    with ctx.read() as session:
        return _agent(session, agent_id).display_name

