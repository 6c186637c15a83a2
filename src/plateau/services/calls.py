"""Calls: place, ring, answer, talk, hold, transfer, hang up, qualify.

Every transition goes through ``_apply`` which asks the domain state machine
for the next state, accumulates the time spent in the state being left,
writes a CallEvent and the outbox events for everyone concerned (the agent,
the caller console, the floor) in the same transaction. A double click is
harmless: repeating an action that already happened returns the call as is.

Outbound campaign calls (``services.dialer``) go through the same helpers from
``dialing``; an agent logged into a campaign gets no inbound call, and a campaign
call is qualified from the campaign's list, its outcome handed to the dialer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from ..domain import phones, prefs as prefs_rules, queue_hours, routing
from ..domain.agents import AgentState
from ..domain.calls import (LIVE, TERMINAL, WAITING, WITH_AGENT, CallAction, CallState, Direction, Media,
                            durations as live_durations, next_state, Transition)
from ..domain.clock import as_utc
from ..domain.contacts import formal_name
from ..domain.errors import N_, DomainError, IllegalTransition, NotFoundError, PermissionDenied, ValidationError
from ..store.models import (AgentPresence, AgentSkill, Call, CallEvent, CallMonitor, Callback, Campaign, CampaignDisposition,
                            Contact, ContactPhone, Disposition, Note, Queue, QueueDisposition, QueueMember, QueueSkill,
                            ScriptAnswer, Skill, User, Utterance)
from . import callbacks as callback_tasks
from .agents import change_state
from .context import FLOOR, Actor, Context, emit, user_channel

MAX_UTTERANCE = 2000
MAX_NOTE = 5000

_BUCKET = {
    CallState.RINGING: "ring_seconds",
    CallState.CONNECTED: "talk_seconds",
    CallState.ON_HOLD: "hold_seconds",
    CallState.WRAP_UP: "wrap_up_seconds",
    CallState.OFFERED: "wait_seconds",
    CallState.TRANSFERRED: "wait_seconds",
}
# time in the voice menu is not queue wait: it shows in the call's events only


# --- placing and routing --------------------------------------------------------


def place_call(ctx: Context, actor: Actor, queue_id: int, number: str | None = None, region: str | None = None,
               contact_id: int | None = None, media: str = Media.TEXT) -> Call:
    """The caller console puts a call into a queue, from a typed number or a contact."""
    if not actor.is_supervisor:
        raise PermissionDenied(N_("Seuls les formateurs et superviseurs peuvent passer des appels depuis la console."))
    with ctx.unit() as session:
        now = ctx.now()
        queue = session.get(Queue, queue_id) if queue_id else None
        if queue is None or not queue.active:
            raise ValidationError({"queue_id": DomainError(N_("Choisissez une file d'attente."), "queue_id")})
        caller_number = caller_number_of(session, ctx, number, region, contact_id)
        call = Call(direction=Direction.INBOUND, media=Media(media), state=CallState.OFFERED, queue_id=queue.id,
                    caller_number=caller_number, caller_user_id=actor.id, created_at=now, state_since=now,
                    declined_by=[], priority=queue.priority, queued_at=now)
        session.add(call)
        session.flush()
        _record(session, call, "offer", None, CallState.OFFERED, now, actor.id, {})
        _notify(session, call, "offer", now)
        if not _deflect_if_closed(session, ctx, call, queue, now):
            _route_queue(session, queue.id, now, arrived=call)
        return call


def caller_number_of(session: Session, ctx: Context, number: str | None, region: str | None,
                     contact_id: int | None) -> str:
    """The E.164 number a console call comes from: the contact's first number, else the typed one
    (read in ``region``). Shared by a call into a queue and a call into a voice menu."""
    if contact_id:
        contact = session.get(Contact, contact_id)
        if contact is None or not contact.phones:
            raise ValidationError({"contact_id": DomainError(N_("Ce contact n'a pas de numéro de téléphone."), "contact_id")})
        return contact.phones[0].e164
    try:
        return phones.parse(number or "", region or ctx.settings.default_region)
    except ValidationError as exc:
        error = exc.errors["phone"]
        raise ValidationError({"number": DomainError(error.message, "number", **error.params)}) from None


def enqueue(session: Session, ctx: Context, call: Call, queue: Queue, now: datetime, actor_id: int | None = None) -> bool:
    """A call leaves the voice menu for a queue. Returns False if the queue is closed (the call then ends)."""
    call.queue_id = queue.id
    call.priority = queue.priority
    call.queued_at = now
    call.ivr_node = None
    _apply(session, call, CallAction.ENQUEUE, now, actor_id, data={"queue_id": queue.id})
    if _deflect_if_closed(session, ctx, call, queue, now):
        return False
    _route_queue(session, queue.id, now, arrived=call)
    return True


def deflect(session: Session, call: Call, now: datetime, reason: str, message: str, actor_id: int | None = None,
            data: dict | None = None) -> None:
    """End a call without an agent, telling the caller why (a system line of the transcript)."""
    if message:
        _system_line(session, call, message, now)
    _apply(session, call, CallAction.DEFLECT, now, actor_id, data={"reason": reason, **(data or {})})
    call.ended_at = call.closed_at = now


def _system_line(session: Session, call: Call, text: str, now: datetime) -> Utterance:
    """What the network says to the caller (closed message, menu prompt): kept in the transcript.

    Written in the site's language (French): it is what the caller heard."""
    utterance = Utterance(call_id=call.id, speaker="system", user_id=None, text=text, media=call.media, at=now)
    session.add(utterance)
    session.flush()
    payload = {"call_id": call.id, "id": utterance.id, "speaker": "system", "text": text, "at": now.isoformat()}
    for user_id in _recipients(call):
        emit(session, user_channel(user_id), "utterance", payload, now)
    return utterance


def _deflect_if_closed(session: Session, ctx: Context, call: Call, queue: Queue, now: datetime) -> bool:
    tz = ZoneInfo(ctx.settings.timezone)
    local = now.astimezone(tz)
    if queue_hours.is_open(queue.hours or {}, queue.holiday_country, local):
        return False
    message = queue.closed_message or N_("Nos conseillers sont absents pour le moment.")
    opening = queue_hours.next_opening(queue.hours or {}, queue.holiday_country, local)
    if opening is not None:
        message += " " + N_("Nous vous répondons de nouveau le %(date)s à %(time)s.") % {
            "date": opening.strftime("%d/%m/%Y"), "time": opening.strftime("%H:%M")}
    deflect(session, call, now, "closed", message)
    return True


def route_waiting(ctx: Context) -> int:
    """Offer waiting calls to free agents, by priority then age. Returns how many rang."""
    with ctx.read() as session:  # the ticker asks every second: take the write lock only for work
        if not _has_work(session, Call.state.in_([s.value for s in WAITING])):
            return 0
    with ctx.unit() as session:
        return _route_queue(session, None, ctx.now())


def _route_queue(session: Session, queue_id: int | None, now: datetime, arrived: Call | None = None) -> int:
    """One routing pass (all queues, or one), then tell the callers whose place in line changed.

    On PostgreSQL the free agents are locked first: a concurrent pass (another
    request, the ticker) then waits for the other to commit and sees its result,
    and waiting calls that another transaction holds are skipped until the next
    tick, so two passes never ring the same call or the same agent.
    ``arrived`` is a call that just joined its queue: it hears its position even
    if nobody else's changed."""
    candidates = _candidates(session, lock=True)
    query = select(Call).where(Call.state.in_([s.value for s in WAITING])).execution_options(populate_existing=True)
    if queue_id is not None:
        query = query.where(Call.queue_id == queue_id)
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    waiting = {call.id: call for call in session.scalars(query)}
    if not waiting:
        return 0
    pairs = []
    if candidates:
        rules = _rules(session, {call.queue_id for call in waiting.values()})
        router = routing.Router(candidates, rules)
        pairs = router.assign(_waiting_call(call, now) for call in waiting.values())
    moved: set[int] = set()
    for call_id, agent_id in pairs:
        call = waiting.pop(call_id)
        moved.add(call.queue_id)
        call.agent_id = agent_id
        queue = session.get(Queue, call.queue_id)
        if queue is not None:
            queue.last_agent_id = agent_id
        _apply(session, call, CallAction.RING, now, actor_id=None, data={"agent_id": agent_id})
        change_state(session, agent_id, AgentState.ON_CALL, now, call_id=call.id)
    _announce_positions(session, list(waiting.values()), now, moved, arrived if arrived is not None and arrived.id in waiting else None)
    return len(pairs)


def _waiting_call(call: Call, now: datetime) -> routing.WaitingCall:
    return routing.WaitingCall(call.id, call.queue_id, as_utc(call.queued_at or call.created_at), call.priority or 0,
                               frozenset(call.declined_by or ()), call.target_agent_id, call.target_team_id)


def _rules(session: Session, queue_ids: set[int]) -> dict[int, routing.QueueRule]:
    required: dict[int, dict[str, int]] = {}
    for q_id, code, level in session.execute(select(QueueSkill.queue_id, Skill.code, QueueSkill.min_level)
                                             .join(Skill, Skill.id == QueueSkill.skill_id)
                                             .where(QueueSkill.queue_id.in_(queue_ids))):
        required.setdefault(q_id, {})[code] = level
    rules = {}
    for queue in session.scalars(select(Queue).where(Queue.id.in_(queue_ids))):
        strategy = queue.strategy if queue.strategy in routing.Strategy.__members__.values() else routing.Strategy.LONGEST_IDLE
        rules[queue.id] = routing.QueueRule(queue.id, routing.Strategy(strategy), required.get(queue.id, {}),
                                            queue.last_agent_id)
    return rules


def _announce_positions(session: Session, waiting: list[Call], now: datetime, moved: set[int],
                        arrived: Call | None) -> None:
    """Callers whose place in line changed hear their position and expected wait: everyone
    still waiting in a queue where a call was just answered, and a call that just arrived
    with those it overtook (a higher priority). One sort and two look-ups per queue, so a
    long queue costs a few milliseconds, not one query per caller."""
    by_queue: dict[int, list[Call]] = {}
    for call in waiting:
        by_queue.setdefault(call.queue_id, []).append(call)
    for q_id, line in by_queue.items():
        line.sort(key=lambda c: _waiting_call(c, now).order)
        if q_id in moved:
            concerned = line
        elif arrived is not None and arrived.queue_id == q_id:
            concerned = line[line.index(arrived):]  # the arrival and those it overtook (usually none)
        else:
            continue
        concerned = [c for c in concerned if c.caller_user_id]
        if not concerned:
            continue
        facts = _QueueFacts.of(session, q_id)
        for call in concerned:
            emit(session, user_channel(call.caller_user_id), "queue_status",
                 facts.status(call, line.index(call) + 1, now), now)


@dataclass
class _QueueFacts:
    """What a wait estimate needs about a queue: read once per announcement round."""

    queue: Queue | None
    serving: int
    aht_s: float

    @classmethod
    def of(cls, session: Session, queue_id: int) -> "_QueueFacts":
        serving = session.scalar(select(func.count()).select_from(AgentPresence)
                                 .join(QueueMember, QueueMember.user_id == AgentPresence.user_id)
                                 .where(QueueMember.queue_id == queue_id,
                                        AgentPresence.state.in_([AgentState.AVAILABLE, AgentState.ON_CALL,
                                                                 AgentState.WRAP_UP])))
        return cls(session.get(Queue, queue_id), serving or 0, ctx_aht(session, queue_id))

    def status(self, call: Call, position: int, now: datetime) -> dict:
        wait = routing.estimated_wait(position, self.serving, self.aht_s)
        waited = (now - as_utc(call.queued_at or call.created_at)).total_seconds()
        callback_after = self.queue.callback_after_s if self.queue else None
        return {"call_id": call.id, "position": position, "estimated_wait_s": None if wait is None else round(wait),
                "waited_s": round(waited), "callback_available": callback_after is not None and waited >= callback_after,
                "queue": self.queue.name if self.queue else ""}


def queue_status(session: Session, call: Call, everyone: list[routing.WaitingCall] | None = None,
                 now: datetime | None = None) -> dict:
    """Position, estimated wait and whether a callback may be asked, for one waiting call."""
    now = now or as_utc(call.state_since)
    if everyone is None:
        everyone = [_waiting_call(c, now) for c in session.scalars(
            select(Call).where(Call.state.in_([s.value for s in WAITING]), Call.queue_id == call.queue_id))]
    position = routing.position_in_queue(_waiting_call(call, now), everyone)
    return _QueueFacts.of(session, call.queue_id).status(call, position, now)


#: AHT assumed for a queue with no history yet (seconds)
DEFAULT_AHT_S = 240.0


def ctx_aht(session: Session, queue_id: int, sample: int = 50) -> float:
    """The queue's recent average handling time (last ``sample`` closed calls), for wait estimates."""
    rows = session.execute(select(Call.talk_seconds, Call.hold_seconds, Call.wrap_up_seconds)
                           .where(Call.queue_id == queue_id, Call.state == CallState.CLOSED)
                           .order_by(Call.id.desc()).limit(sample)).all()
    if not rows:
        return DEFAULT_AHT_S
    return sum((t or 0) + (h or 0) + (w or 0) for t, h, w in rows) / len(rows)


def _candidates(session: Session, lock: bool) -> list[routing.Candidate]:
    """Free agents for inbound calls: an agent logged into an outbound campaign takes only its calls."""
    query = select(AgentPresence).where(AgentPresence.state == AgentState.AVAILABLE, AgentPresence.campaign_id.is_(None))
    if lock and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    presences = session.scalars(query).all()
    if not presences:
        return []
    ids = [p.user_id for p in presences]
    members: dict[int, set[int]] = {}
    for queue_id, user_id in session.execute(select(QueueMember.queue_id, QueueMember.user_id)
                                             .where(QueueMember.user_id.in_(ids))):
        members.setdefault(user_id, set()).add(queue_id)
    skills: dict[int, dict[str, int]] = {}
    for user_id, code, level in session.execute(select(AgentSkill.user_id, Skill.code, AgentSkill.level)
                                                .join(Skill, Skill.id == AgentSkill.skill_id)
                                                .where(AgentSkill.user_id.in_(ids))):
        skills.setdefault(user_id, {})[code] = level
    teams = dict(session.execute(select(User.id, User.team_id).where(User.id.in_(ids))).all())
    return [routing.Candidate(p.user_id, as_utc(p.idle_since or p.since), frozenset(members.get(p.user_id, ())),
                              skills.get(p.user_id, {}), teams.get(p.user_id)) for p in presences]


def _route_one(session: Session, ctx: Context, call: Call, now: datetime) -> bool:
    """Route the queue this call waits in; True if this call now rings."""
    if CallState(call.state) not in WAITING:
        return False
    _route_queue(session, call.queue_id, now, arrived=call)
    return call.state == CallState.RINGING


def tick(ctx: Context) -> None:
    """Expire rings past the agent's ring timeout, then route waiting calls.

    An agent who lets a call ring out is put in pause ("Appel non décroché"),
    as ACDs do, so the next call doesn't ring an empty seat.
    """
    with ctx.read() as session:
        busy = _has_work(session, Call.state == CallState.RINGING)
        waiting = _has_work(session, Call.state.in_([s.value for s in WAITING]))
        in_menu = _has_work(session, Call.state == CallState.IVR)
    if busy:
        _expire_rings(ctx)
    if in_menu:
        from .ivr import expire_timeouts  # the voice menus build on this module

        expire_timeouts(ctx)  # a silent caller in a voice menu: the node's timeout acts
    if waiting:
        _apply_waiting_rules(ctx)
    route_waiting(ctx)
    from . import dialer, practice  # both build on this module

    dialer.tick(ctx)  # outbound campaigns: the network's responses, hand-offs, pacing
    practice.tick(ctx)  # practice calls: outbound pick-ups, the simulated caller's patience


#: a call overflows at most this many times (A → B → A loops end)
MAX_OVERFLOWS = 3


def _apply_waiting_rules(ctx: Context) -> None:
    """Overflow, maximum wait and the callback offer, for calls waiting past their queue's delays.

    The read pass settles everything it can (overflows left, offers already made) in
    three queries, so a long queue costs the ticker nothing until a call is really due."""
    with ctx.read() as session:
        now = ctx.now()
        rows = session.execute(select(Call.id, Call.queued_at, Call.created_at, Call.target_agent_id,
                                      Call.target_team_id, Queue)
                               .join(Queue, Queue.id == Call.queue_id)
                               .where(Call.state.in_([s.value for s in WAITING]))).all()
        ids = [row[0] for row in rows]
        overflows = dict(session.execute(select(CallEvent.call_id, func.count()).where(
            CallEvent.call_id.in_(ids), CallEvent.action == CallAction.OVERFLOW).group_by(CallEvent.call_id)).all())
        offered = set(session.scalars(select(CallEvent.call_id).where(
            CallEvent.call_id.in_(ids), CallEvent.action == "callback_offer")))
        due = []
        for call_id, queued_at, created_at, target_agent_id, target_team_id, queue in rows:
            waited = (now - as_utc(queued_at or created_at)).total_seconds()
            has_overflow = target_agent_id is None and overflows.get(call_id, 0) < MAX_OVERFLOWS and (
                queue.overflow_queue_id is not None and queue.overflow_queue_id != queue.id
                or queue.overflow_team_id is not None and target_team_id is None)
            action = routing.waiting_action(waited, queue.overflow_after_s, has_overflow, queue.max_wait_s)
            offer = queue.callback_after_s is not None and waited >= queue.callback_after_s and call_id not in offered
            if action or offer:
                due.append((call_id, action))
    if not due:
        return
    with ctx.unit() as session:
        now = ctx.now()
        for call_id, action in due:
            call = _load(session, call_id, lock=True)
            if CallState(call.state) not in WAITING:
                continue
            queue = session.get(Queue, call.queue_id)
            if action == "overflow":
                _overflow(session, call, queue, now)
            elif action == "max_wait":
                deflect(session, call, now, "max_wait",
                        N_("Tous nos conseillers sont occupés. Merci de rappeler plus tard ou de demander à être rappelé."))
            elif not _has_event(session, call.id, "callback_offer"):
                _record(session, call, "callback_offer", call.state, call.state, now, None, {})
                if call.caller_user_id:
                    emit(session, user_channel(call.caller_user_id), "queue_status", queue_status(session, call, now=now), now)


def _has_event(session: Session, call_id: int, action: str) -> bool:
    return session.scalar(select(CallEvent.id).where(CallEvent.call_id == call_id, CallEvent.action == action).limit(1)) is not None


def _overflow(session: Session, call: Call, queue: Queue, now: datetime) -> None:
    """Débordement: to the overflow queue (its rules apply from now), else to the overflow team."""
    data: dict = {"from_queue_id": queue.id}
    if queue.overflow_queue_id is not None and queue.overflow_queue_id != queue.id:
        target = session.get(Queue, queue.overflow_queue_id)
        call.queue_id = target.id
        call.priority = target.priority
        call.target_team_id = None
        data["queue_id"] = target.id
    else:
        call.target_team_id = queue.overflow_team_id
        data["team_id"] = queue.overflow_team_id
    call.queued_at = now
    _apply(session, call, CallAction.OVERFLOW, now, None, data=data)
    _route_queue(session, call.queue_id, now, arrived=call)


def request_callback(ctx: Context, actor: Actor, call_id: int) -> Callback:
    """A waiting caller asks to be called back: a callback task for the queue, in order; the call ends."""
    with ctx.unit() as session:
        now = ctx.now()
        call = _load(session, call_id, lock=True)
        if call.caller_user_id != actor.id:
            raise PermissionDenied(N_("Cet appel n'est pas le vôtre."))
        if CallState(call.state) not in WAITING:
            raise IllegalTransition(N_("Seul un appel en attente dans une file peut demander un rappel."))
        status = queue_status(session, call, now=now)
        if not status["callback_available"]:
            raise IllegalTransition(N_("Le rappel n'est proposé qu'après un temps d'attente."))
        contact_id = call.contact_id
        if contact_id is None:
            matches = _matches(session, call.caller_number)
            contact_id = matches[0] if len(matches) == 1 else None
        callback = Callback(contact_id=contact_id, call_id=call.id, due_at=now, number=call.caller_number,
                            source="caller", queue_id=call.queue_id, status="open", created_by=actor.id, created_at=now)
        session.add(callback)
        session.flush()
        deflect(session, call, now, "callback", N_("C'est noté : un conseiller vous rappelle dès que possible."),
                actor.id, {"callback_id": callback.id})
        callback_tasks.notify_created(session, callback, now)
        return callback


def _has_work(session: Session, condition) -> bool:
    return session.scalar(select(Call.id).where(condition).limit(1)) is not None


def _expire_rings(ctx: Context) -> None:
    with ctx.unit() as session:
        now = ctx.now()
        ringing = session.scalars(select(Call).where(Call.state == CallState.RINGING)).all()
        for call in ringing:
            agent = session.get(User, call.agent_id)
            timeout = prefs_rules.effective(agent.prefs if agent else None)["ring_timeout_s"]
            if (now - as_utc(call.state_since)).total_seconds() < timeout:
                continue
            from . import practice

            if practice.ring_out(session, call, now):  # a simulated caller hangs up: it rings nobody else
                continue
            agent_id = call.agent_id
            call.declined_by = [*(call.declined_by or []), agent_id]
            _apply(session, call, CallAction.RING_TIMEOUT, now, actor_id=None, data={"agent_id": agent_id},
                   extra_recipients={agent_id})
            call.agent_id = None
            change_state(session, agent_id, AgentState.PAUSED, now, pause_reason="no_answer", call_id=call.id)


# --- the agent's and the caller's actions --------------------------------------------


def answer(ctx: Context, actor: Actor, call_id: int) -> Call:
    with ctx.unit() as session:
        now = ctx.now()
        call = _load(session, call_id, lock=True)
        if call.agent_id == actor.id and CallState(call.state) in LIVE:
            return call  # already answered: a double click answers once
        if call.agent_id != actor.id:
            raise IllegalTransition(N_("Cet appel ne sonne pas sur votre poste."))
        _apply(session, call, CallAction.ANSWER, now, actor.id)
        call.answered_at = call.answered_at or now
        if call.contact_id is None:
            matches = _matches(session, call.caller_number)
            if len(matches) == 1:
                call.contact_id = matches[0]
        return call


def hold(ctx: Context, actor: Actor, call_id: int) -> Call:
    return _agent_action(ctx, actor, call_id, CallAction.HOLD, already=CallState.ON_HOLD)


def resume(ctx: Context, actor: Actor, call_id: int) -> Call:
    return _agent_action(ctx, actor, call_id, CallAction.RESUME, already=CallState.CONNECTED)


def toggle_hold(ctx: Context, actor: Actor, call_id: int) -> Call:
    with ctx.read() as session:
        state = CallState(_load(session, call_id).state)
    return resume(ctx, actor, call_id) if state == CallState.ON_HOLD else hold(ctx, actor, call_id)


def _agent_action(ctx: Context, actor: Actor, call_id: int, action: CallAction, already: CallState) -> Call:
    with ctx.unit() as session:
        now = ctx.now()
        call = _load(session, call_id, lock=True)
        _require_agent(call, actor)
        if call.state == already:
            return call
        _apply(session, call, action, now, actor.id)
        from . import practice

        practice.on_event(session, call, str(action), now)  # a simulated caller notices holds
        return call


def transfer(ctx: Context, actor: Actor, call_id: int, queue_id: int | None = None, agent_id: int | None = None,
             note: str = "") -> Call:
    """Send the call to another queue or a named agent; the note follows it."""
    note = (note or "").strip()[:MAX_NOTE]
    if bool(queue_id) == bool(agent_id):
        raise ValidationError({"target": DomainError(N_("Choisissez une file ou un agent (l'un ou l'autre) pour le transfert."), "target")})
    with ctx.unit() as session:
        now = ctx.now()
        call = _load(session, call_id, lock=True)
        _require_agent(call, actor)
        data: dict = {"from_agent_id": actor.id, "note": note}
        if queue_id:
            queue = session.get(Queue, queue_id)
            if queue is None or not queue.active:
                raise ValidationError({"target": DomainError(N_("File d'attente inconnue."), "target")})
            data["queue_id"] = queue.id
        else:
            if agent_id == actor.id:
                raise ValidationError({"target": DomainError(N_("Vous ne pouvez pas vous transférer l'appel."), "target")})
            target = session.get(User, agent_id)
            presence = session.get(AgentPresence, agent_id)
            if target is None or presence is None or presence.state != AgentState.AVAILABLE \
                    or presence.campaign_id is not None:  # an agent on a campaign takes only its calls
                raise ValidationError({"target": DomainError(N_("Cet agent n'est pas disponible : choisissez-en un autre ou une file."), "target")})
            data["agent_id"] = target.id
        next_state(CallState(call.state), CallAction.TRANSFER)  # refused here, before anything moves
        from . import practice

        if practice.transfer(session, call, data, now, actor.id):  # a simulated colleague takes the caller
            return call
        if queue_id:
            call.queue_id = queue.id
            call.target_agent_id = None
            call.target_team_id = None
            call.priority = queue.priority
            call.queued_at = now  # the new queue's delays count from the transfer
        else:
            call.target_agent_id = target.id
        call.transfer_note = note or None
        _apply(session, call, CallAction.TRANSFER, now, actor.id, data=data, extra_recipients={actor.id})
        call.agent_id = None
        change_state(session, actor.id, AgentState.AVAILABLE, now, call_id=call.id)
        _route_one(session, ctx, call, now)
        return call


def hang_up(ctx: Context, actor: Actor, call_id: int) -> Call:
    """Either side hangs up. Before an answer the caller abandons the call."""
    with ctx.unit() as session:
        now = ctx.now()
        call = _load(session, call_id, lock=True)
        state = CallState(call.state)
        is_agent = call.agent_id == actor.id
        is_caller = call.caller_user_id == actor.id
        if not (is_agent or is_caller):
            raise PermissionDenied(N_("Cet appel n'est pas le vôtre."))
        if state in (CallState.WRAP_UP, CallState.CLOSED, CallState.ABANDONED, CallState.UNREACHED, CallState.DROPPED):
            return call  # already hung up
        if state == CallState.DIALING:  # an outbound call still ringing: the agent cancels, the callee rejects it
            from . import dialer

            dialer.end_dial(session, call, now, actor.id, by_agent=is_agent)
            return call
        if state in LIVE:
            _apply(session, call, CallAction.HANG_UP, now, actor.id, data={"by": "agent" if is_agent else "caller"})
            call.ended_at = now
            change_state(session, call.agent_id, AgentState.WRAP_UP, now, call_id=call.id)
            if is_agent:
                from . import practice

                practice.on_event(session, call, "hangup", now)  # a simulated caller's outcome is settled
            return call
        if not is_caller:
            raise IllegalTransition(N_("Cet appel n'est pas en cours : il ne peut pas être raccroché."))
        ringing_agent = call.agent_id if state == CallState.RINGING else None
        _apply(session, call, CallAction.ABANDON, now, actor.id, extra_recipients={ringing_agent} - {None})
        call.ended_at = call.closed_at = now
        if ringing_agent:
            call.agent_id = None
            change_state(session, ringing_agent, AgentState.AVAILABLE, now, call_id=call.id)
        return call


def say(ctx: Context, actor: Actor, call_id: int, text: str) -> Utterance:
    """One typed line of the conversation, from the agent or the caller."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": DomainError(N_("Le message est vide."), "text")})
    if len(text) > MAX_UTTERANCE:
        raise ValidationError({"text": DomainError(N_("Le message dépasse %(max)s caractères."), "text", max=MAX_UTTERANCE)})
    with ctx.unit() as session:
        now = ctx.now()
        call = _load(session, call_id)
        if actor.id == call.agent_id:
            speaker = "agent"
        elif actor.id == call.caller_user_id:
            speaker = "caller"
        else:
            raise PermissionDenied(N_("Cet appel n'est pas le vôtre."))
        if call.state == CallState.ON_HOLD:
            raise IllegalTransition(N_("L'appel est en attente : reprenez-le pour parler."))
        if call.state != CallState.CONNECTED:
            raise IllegalTransition(N_("La ligne n'est pas ouverte : le message n'a pas été envoyé."))
        utterance = Utterance(call_id=call.id, speaker=speaker, user_id=actor.id, text=text, media=call.media, at=now)
        session.add(utterance)
        session.flush()
        payload = {"call_id": call.id, "id": utterance.id, "speaker": speaker, "text": text, "at": now.isoformat()}
        for user_id in _recipients(call):
            emit(session, user_channel(user_id), "utterance", payload, now)
        if speaker == "agent":
            from . import practice

            practice.on_agent_turn(session, call, utterance, now)  # a simulated caller answers
        return utterance


def attach_contact(ctx: Context, actor: Actor, call_id: int, contact_id: int) -> Call:
    """The screen pop settles on a contact: chosen from matches, or just created."""
    with ctx.unit() as session:
        now = ctx.now()
        call = _load(session, call_id, lock=True)
        if actor.id not in (call.agent_id, call.caller_user_id) and not actor.is_supervisor:
            raise PermissionDenied(N_("Cet appel n'est pas le vôtre."))
        if session.get(Contact, contact_id) is None:
            raise NotFoundError(N_("Contact introuvable."))
        if call.contact_id == contact_id:
            return call
        call.contact_id = contact_id
        _record(session, call, "contact", call.state, call.state, now, actor.id, {"contact_id": contact_id})
        _notify(session, call, "contact", now)
        return call


@dataclass
class CallbackRequest:
    """A callback asked for at wrap-up: local date and time, for me or for the team."""

    date: str = ""
    time: str = ""
    assignee: str = "me"  # me | team
    note: str = ""


def close(ctx: Context, actor: Actor, call_id: int, disposition_id: int | None, note: str = "",
          callback: CallbackRequest | None = None) -> Call:
    """Qualify and close the call. Refused without a qualification from the queue's list (the
    campaign's for an outbound campaign call, whose callback goes back to the dialer)."""
    note = (note or "").strip()
    errors: dict[str, DomainError] = {}
    with ctx.unit() as session:
        now = ctx.now()
        call = _load(session, call_id, lock=True)
        if call.state == CallState.CLOSED and call.agent_id == actor.id:
            return call
        _require_agent(call, actor)
        if call.state != CallState.WRAP_UP:
            raise IllegalTransition(N_("Raccrochez d'abord : seul un appel en post-appel peut être clôturé."))
        allowed = {d.id for d in _call_dispositions(session, call)}
        disposition = session.get(Disposition, disposition_id) if disposition_id else None
        if disposition is None or disposition.id not in allowed:
            errors["disposition"] = DomainError(N_("Choisissez une qualification : l'appel ne peut pas être clôturé sans."), "disposition")
        if len(note) > MAX_NOTE:
            errors["note"] = DomainError(N_("La note dépasse %(max)s caractères."), "note", max=MAX_NOTE)
        due = None
        wants_callback = callback is not None and (callback.date or callback.time)
        if wants_callback:
            due = _callback_due(ctx, callback, now, errors)
            if call.contact_id is None:
                errors["callback_date"] = DomainError(N_("Associez d'abord une fiche client à l'appel pour programmer un rappel."), "callback_date")
        elif disposition is not None and disposition.requires_callback:
            errors["callback_date"] = DomainError(N_("Cette qualification demande un rappel : indiquez sa date et son heure."), "callback_date")
        if errors:
            raise ValidationError(errors)
        call.disposition_id = disposition.id
        if note:
            session.add(Note(contact_id=call.contact_id, call_id=call.id, author_id=actor.id, body=note, created_at=now))
        if call.campaign_id is not None:
            from . import dialer

            dialer.on_close(session, call, disposition, due, now, for_me=callback is None or callback.assignee == "me")
        elif due is not None:
            task = Callback(contact_id=call.contact_id, call_id=call.id, due_at=due, number=call.caller_number,
                            assigned_user_id=actor.id if callback.assignee == "me" else None,
                            queue_id=call.queue_id if callback.assignee != "me" else None,
                            note=(callback.note or "").strip()[:MAX_NOTE], created_by=actor.id, created_at=now)
            session.add(task)
            session.flush()
            callback_tasks.notify_created(session, task, now)
        _apply(session, call, CallAction.CLOSE, now, actor.id,
               data={"disposition": disposition.code, "callback": due.isoformat() if due else None})
        call.closed_at = now
        change_state(session, actor.id, AgentState.AVAILABLE, now, call_id=call.id)
        from . import practice

        practice.on_close(session, call, now)
    practice.after_close(ctx, call.id)  # a practice call: the automatic evaluation, once the close is committed
    route_waiting(ctx)
    return call


def _callback_due(ctx: Context, request: CallbackRequest, now: datetime, errors: dict) -> datetime | None:
    tz = ZoneInfo(ctx.settings.timezone)
    try:
        local = datetime.fromisoformat(f"{request.date.strip()}T{(request.time or '').strip() or '09:00'}")
    except ValueError:
        errors["callback_date"] = DomainError(N_("Date ou heure de rappel invalide (JJ/MM/AAAA et HH:MM)."), "callback_date")
        return None
    due = local.replace(tzinfo=tz).astimezone(ZoneInfo("UTC"))
    if due <= now:
        errors["callback_date"] = DomainError(N_("Le rappel doit être programmé dans le futur."), "callback_date")
        return None
    if due > now + timedelta(days=366):
        errors["callback_date"] = DomainError(N_("Le rappel doit être programmé dans l'année qui vient."), "callback_date")
        return None
    if request.assignee not in ("me", "team"):
        errors["callback_assignee"] = DomainError(N_("Choisissez pour qui est le rappel."), "callback_assignee")
    return due


# --- reading ---------------------------------------------------------------------------


@dataclass
class CallView:
    """Everything a desktop or console shows about one call."""

    call: Call
    queue: Queue | None  # None while the caller is in a voice menu
    contact: Contact | None
    agent: User | None
    caller: User | None
    transcript: list[Utterance]
    events: list[CallEvent]
    dispositions: list[Disposition]
    matches: list[int] = field(default_factory=list)
    disposition: Disposition | None = None
    now: datetime | None = None
    answers: list[ScriptAnswer] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    #: before the screen pop settles: the name of the only contact with this number
    matched_name: str = ""
    #: the outbound campaign the call belongs to (its qualification list, its script)
    campaign: Campaign | None = None

    @property
    def state(self) -> CallState:
        return CallState(self.call.state)

    @property
    def caller_label(self) -> str:
        if self.contact:
            return formal_name(self.contact)
        return self.matched_name or phones.display(self.call.caller_number)

    @property
    def durations(self):
        transitions = [Transition(CallAction(e.action), as_utc(e.at), CallState(e.to_state))
                       for e in self.events if e.action in CallAction.__members__.values()]
        end = None if self.state in TERMINAL else self.now
        initial = CallState(self.events[0].to_state) if self.events else CallState.OFFERED
        return live_durations(as_utc(self.call.created_at), transitions, end, initial)


def view(ctx: Context, call_id: int, actor: Actor | None = None) -> CallView:
    with ctx.read() as session:
        call = _load(session, call_id)
        if actor is not None and not actor.is_supervisor and actor.id not in (call.agent_id, call.caller_user_id) \
                and session.scalar(select(CallEvent.id).where(CallEvent.call_id == call_id,
                                                              CallEvent.agent_id == actor.id).limit(1)) is None:
            raise PermissionDenied(N_("Cet appel n'est pas le vôtre."))
        return _view(session, call, ctx.now())


def _view(session: Session, call: Call, now: datetime) -> CallView:
    dispositions = _call_dispositions(session, call)
    contact = session.get(Contact, call.contact_id) if call.contact_id else None
    if contact is not None:
        _ = list(contact.phones)  # load before the session closes
    matches = [] if contact else _matches(session, call.caller_number)
    return CallView(
        call=call,
        queue=session.get(Queue, call.queue_id) if call.queue_id else None,
        contact=contact,
        agent=session.get(User, call.agent_id) if call.agent_id else None,
        caller=session.get(User, call.caller_user_id) if call.caller_user_id else None,
        transcript=list(session.scalars(select(Utterance).where(Utterance.call_id == call.id).order_by(Utterance.id))),
        events=list(session.scalars(select(CallEvent).where(CallEvent.call_id == call.id).order_by(CallEvent.id))),
        dispositions=dispositions,
        matches=matches,
        matched_name=formal_name(session.get(Contact, matches[0])) if len(matches) == 1 else "",
        disposition=session.get(Disposition, call.disposition_id) if call.disposition_id else None,
        now=now,
        answers=list(session.scalars(select(ScriptAnswer).where(ScriptAnswer.call_id == call.id).order_by(ScriptAnswer.id))),
        notes=list(session.scalars(select(Note).where(Note.call_id == call.id).order_by(Note.id))),
        campaign=session.get(Campaign, call.campaign_id) if call.campaign_id else None,
    )


def current_call_of(ctx: Context, agent_id: int) -> CallView | None:
    """The call on the agent's desktop now (ringing, live or in wrap-up), if any."""
    with ctx.read() as session:
        call = session.scalars(select(Call).where(Call.agent_id == agent_id,
                                                  Call.state.in_([s.value for s in WITH_AGENT]))
                               .order_by(Call.id.desc()).limit(1)).first()
        return _view(session, call, ctx.now()) if call else None


def console_calls(ctx: Context, actor: Actor, recent_minutes: int = 30) -> list[CallView]:
    """The trainer's calls: those in progress and those ended in the last half hour."""
    with ctx.read() as session:
        now = ctx.now()
        calls = session.scalars(select(Call).where(Call.caller_user_id == actor.id,
                                                   Call.created_at >= now - timedelta(minutes=recent_minutes))
                                .order_by(Call.id.desc()).limit(20)).all()
        return [_view(session, call, now) for call in calls]


@dataclass
class CallRow:
    call: Call
    queue_name: str
    agent_name: str
    contact_name: str
    disposition_label: str


def list_calls(ctx: Context, actor: Actor, before: int | None = None, limit: int = 50) -> tuple[list[CallRow], int | None]:
    """Newest calls first (keyset on id): an agent sees the calls they handled,
    a supervisor sees every call. Returns the rows and the cursor of the next page."""
    with ctx.read() as session:
        query = (select(Call, Queue.name, User.display_name, Contact, Disposition.label)
                 .outerjoin(Queue, Queue.id == Call.queue_id)
                 .outerjoin(User, User.id == Call.agent_id)
                 .outerjoin(Contact, Contact.id == Call.contact_id)
                 .outerjoin(Disposition, Disposition.id == Call.disposition_id)
                 .order_by(Call.id.desc()).limit(limit + 1))
        if not actor.is_supervisor:
            handled = select(CallEvent.call_id).where(CallEvent.agent_id == actor.id, CallEvent.action == "answer")
            query = query.where(Call.id.in_(handled))
        if before:
            query = query.where(Call.id < before)
        rows = [CallRow(call, queue or "", agent or "", formal_name(contact) if contact else phones.display(call.caller_number),
                        label or "") for call, queue, agent, contact, label in session.execute(query)]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].call.id if more else None)


def queues(ctx: Context) -> list[Queue]:
    with ctx.read() as session:
        return list(session.scalars(select(Queue).where(Queue.active.is_(True)).order_by(Queue.name)))


def queues_with_dispositions(ctx: Context) -> list[tuple[Queue, list[Disposition]]]:
    with ctx.read() as session:
        result = []
        for queue in session.scalars(select(Queue).where(Queue.active.is_(True)).order_by(Queue.name)):
            result.append((queue, _dispositions(session, queue.id)))
        return result


def available_agents(ctx: Context, exclude: int | None = None) -> list[User]:
    with ctx.read() as session:
        return list(session.scalars(select(User).join(AgentPresence, AgentPresence.user_id == User.id)
                                    .where(AgentPresence.state == AgentState.AVAILABLE, AgentPresence.campaign_id.is_(None),
                                           User.id != (exclude or 0))
                                    .order_by(User.display_name)))


# --- internals --------------------------------------------------------------------------


def load_call(session: Session, call_id: int, lock: bool = False) -> Call:
    """The call, locked for update on PostgreSQL when asked; NotFoundError otherwise."""
    query = select(Call).where(Call.id == call_id)
    if lock and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    call = session.scalars(query).first()
    if call is None:
        raise NotFoundError(N_("Appel introuvable."))
    return call


_load = load_call


def _dispositions(session: Session, queue_id: int) -> list[Disposition]:
    """The queue's qualification list, in its order."""
    return list(session.scalars(
        select(Disposition).join(QueueDisposition, QueueDisposition.disposition_id == Disposition.id)
        .where(QueueDisposition.queue_id == queue_id).order_by(QueueDisposition.position, Disposition.label)))


def _call_dispositions(session: Session, call: Call) -> list[Disposition]:
    """The list a call is qualified from: its campaign's for an outbound campaign call, else its queue's."""
    if call.campaign_id is not None:
        return list(session.scalars(
            select(Disposition).join(CampaignDisposition, CampaignDisposition.disposition_id == Disposition.id)
            .where(CampaignDisposition.campaign_id == call.campaign_id)
            .order_by(CampaignDisposition.position, Disposition.label)))
    if call.queue_id is None or call.direction == Direction.OUTBOUND:  # only practice calls have neither
        from . import practice

        special = practice.dispositions(session, call)
        if special is not None:
            return special
    return _dispositions(session, call.queue_id)


def _require_agent(call: Call, actor: Actor) -> None:
    if call.agent_id != actor.id:
        raise PermissionDenied(N_("Cet appel n'est pas sur votre poste."))


def _matches(session: Session, e164: str) -> list[int]:
    return list(session.scalars(select(ContactPhone.contact_id).where(ContactPhone.e164 == e164)
                                .distinct().order_by(ContactPhone.contact_id).limit(20)))


def _apply(session: Session, call: Call, action: CallAction, now: datetime, actor_id: int | None,
           data: dict | None = None, extra_recipients: set[int] | None = None) -> None:
    """One transition: state machine, time accounting, event row, notifications."""
    source = CallState(call.state)
    target = next_state(source, action)
    bucket = _BUCKET.get(source)
    if bucket:
        elapsed = max(0.0, (now - as_utc(call.state_since)).total_seconds())
        setattr(call, bucket, (getattr(call, bucket) or 0.0) + elapsed)
    call.state = target
    call.state_since = now
    _record(session, call, action, source, target, now, actor_id, data or {})
    _notify(session, call, str(action), now, extra_recipients, outcome=(data or {}).get("outcome"))


def _record(session: Session, call: Call, action: str, source, target, now: datetime, actor_id, data: dict) -> None:
    session.add(CallEvent(call_id=call.id, action=str(action), from_state=str(source) if source else None,
                          to_state=str(target), at=now, actor_id=actor_id, agent_id=call.agent_id,
                          queue_id=call.queue_id, data=data))


def _recipients(call: Call, extra: set[int] | None = None) -> set[int]:
    """Who hears of this call: its agent, its caller, ``extra``, and the supervisors
    silently listening to it ("écoute discrète", an open ``listen`` monitor), on their
    own channel only, so the agent and the caller are never told. One indexed look-up."""
    listeners: set[int] = set()
    session = object_session(call)
    if session is not None and call.id is not None:
        with session.no_autoflush:
            listeners = set(session.scalars(select(CallMonitor.supervisor_id).where(
                CallMonitor.call_id == call.id, CallMonitor.mode == "listen", CallMonitor.ended_at.is_(None))))
    return ({call.agent_id, call.caller_user_id} | (extra or set()) | listeners) - {None}


def _notify(session: Session, call: Call, action: str, now: datetime, extra: set[int] | None = None,
            outcome: str | None = None) -> None:
    """The call event for everyone concerned; ``outcome``: how an outbound dial ended (unreached, dropped)."""
    queue = session.get(Queue, call.queue_id) if call.queue_id else None
    campaign = session.get(Campaign, call.campaign_id) if call.campaign_id else None
    contact = session.get(Contact, call.contact_id) if call.contact_id else None
    if contact is None:
        matches = _matches(session, call.caller_number)
        contact = session.get(Contact, matches[0]) if len(matches) == 1 else None
    agent = session.get(User, call.agent_id) if call.agent_id else None
    payload = {
        "call_id": call.id,
        "action": action,
        "state": str(call.state),
        "queue": queue.name if queue else "",
        "caller": formal_name(contact) if contact else "",
        "number": phones.display(call.caller_number),
        "agent": agent.display_name if agent else "",
        "agent_id": call.agent_id,
        "direction": str(call.direction),
        "campaign": campaign.name if campaign else "",
        "campaign_id": call.campaign_id,
        "outcome": outcome,
        "at": now.isoformat(),
    }
    for user_id in _recipients(call, extra):
        emit(session, user_channel(user_id), "call", payload, now)
    emit(session, FLOOR, "call", payload, now)
