"""Practice calls ("mises en situation"): a scenario's simulated caller on the trainee's own desktop.

The trainee starts a practice call from the "Entraînement" page (or from a
scenario a trainer assigned to them or to their team); the call then lives
like any other call — it rings (inbound) or is dialled and picks up after a
short ring (outbound), the trainee answers, talks, holds, transfers, hangs
up, qualifies and closes with the desktop they use at work — and the
scenario's persona (``domain.persona``) plays the customer in place of the
trainer console.

**Nothing of the caller is kept in memory.** The persona is deterministic for
its seed, so it is rebuilt whenever it must answer, by replaying what it
heard: every input it was fed is a ``persona`` row of ``call_events`` (in id
order, one total order across turns, holds and silences) carrying the
caller's clock ``t``; an agent turn names its ``Utterance``. A restart, or a
second process, loses nothing and says the same words.

**The caller's clock.** Practice calls are typed (``Media.TEXT``): a turn takes
far longer to type than to say, so the time the trainee spends between two
turns counts ``TEXT_PACE`` times less for the caller (its silences, its
« call too long »); time on hold counts in full. A voice call would count
everything in full.

**Silences.** ``tick`` (called by ``calls.tick`` every second) gives each live
practice call the silence since the caller's last input. A silence that makes
the caller react (« Allô ? Vous êtes toujours là ? », or hanging up) is stored
as an input; one that changes nothing is forgotten, which replays the same.

**The end.** When the caller hangs up, refuses, asks for a supervisor or says
goodbye, its line is released like a caller hang-up: the call goes to wrap-up
and the trainee qualifies it. A transfer of a practice call is simulated: the
colleague takes the caller (who is told, and reacts), the trainee's line is
released and the call stays on their desktop for wrap-up — a simulated caller
never rings a real colleague. At the close the automatic evaluation runs
against the scenario's framework (``services.review.evaluate``), and the
review page waits for the trainee's self-assessment.

When a trainer takes the caller's role on the console, the persona is silent.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session

from ..domain.agents import BUSY, AgentState
from ..domain.calls import LIVE, TERMINAL, WITH_AGENT, CallAction, CallState, Direction, Media
from ..domain.clock import as_utc
from ..domain.contacts import PhoneInput
from ..domain.errors import N_, DomainError, NotFoundError, PermissionDenied, ValidationError
from ..domain.persona import Persona, PersonaState, Reply
from ..domain.scenarios import LANGUAGES, OUTBOUND, OUTCOMES, STYLES, Scenario
from ..store.models import (AgentPresence, Call, CallEvent, Campaign, CampaignDisposition, CallScript, Contact,
                            ContactPhone, Disposition, PracticeAttempt, Queue, ScenarioAssignment, Team, User,
                            Utterance)
from . import calls, scenarios
from .agents import change_state, presence_of
from .context import SYSTEM, Actor, Context, emit, user_channel

log = logging.getLogger(__name__)

#: a typed turn takes about this many times longer than a spoken one: the caller counts typing time less
TEXT_PACE = 4.0
#: an outbound practice call rings this long at the called party's before it picks up
OUTBOUND_RING_S = 3.0
#: the CallEvent action of the caller's inputs (the log it is rebuilt from)
PERSONA = "persona"
MAX_SEED = 2**31 - 1
MAX_NOTE = 2000
#: how a practice call ended for the trainee: the caller's outcomes, and the calls that never started
OUTCOME_LABELS = {**OUTCOMES, "unanswered": N_("non décroché"), "cancelled": N_("appel annulé")}
#: a patience figure the ticker reads is this many seconds old at most (the scenario files are checked less often)
_PATIENCE_TTL_S = 30.0


# --- starting a practice call -------------------------------------------------------------------------


def derive_seed(attempt_id: int) -> int:
    """The caller's seed when nobody chose one: stable for the attempt, different from one to the next."""
    digest = hashlib.sha256(f"plateau-practice:{attempt_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % (MAX_SEED + 1)


def start_practice(ctx: Context, actor: Actor, scenario_code: str, seed: int | None = None,
                   assignment_id: int | None = None) -> PracticeAttempt:
    """Put a scenario's simulated caller on the trainee's desktop: inbound, the call rings them;
    outbound, it is dialled with them on it and picks up on a next tick.

    The trainee must not be on a call. The scenario's customer record is the one
    with its phone number in the CRM (created from the scenario when there is
    none). Only a trainer chooses the seed (to replay a caller); otherwise it is
    derived from the attempt."""
    if actor.id is None:
        raise PermissionDenied(N_("Connectez-vous pour commencer un entraînement."))
    if seed is not None:
        if not actor.is_supervisor:
            raise PermissionDenied(N_("Seul un formateur choisit la graine du correspondant simulé."))
        if not 0 <= seed <= MAX_SEED:
            raise ValidationError({"seed": DomainError(N_("La graine est un nombre entier de 0 à %(max)s."), "seed",
                                                       max=MAX_SEED)})
    scenario = scenarios.get(scenario_code)
    with ctx.read() as session:
        _require_free(session, actor.id)
        if assignment_id is not None:
            _check_assignment(session, actor, assignment_id, scenario.code)
    contact_id = _contact_for(ctx, actor, scenario)
    with ctx.unit() as session:
        now = ctx.now()
        _lock_presence(session, actor.id, now)
        _require_free(session, actor.id)
        trainee = session.get(User, actor.id)
        inbound = scenario.direction != OUTBOUND
        queue = _by_code(session, Queue, scenario.queue)
        campaign = _by_code(session, Campaign, scenario.campaign) if not inbound else None
        if not inbound and campaign is None and scenario.script:
            campaign, queue = _script_holders(session, scenario.script)
        call = Call(direction=Direction.INBOUND if inbound else Direction.OUTBOUND, media=Media.TEXT,
                    state=CallState.RINGING if inbound else CallState.DIALING,
                    queue_id=queue.id if queue else None, campaign_id=campaign.id if campaign else None,
                    caller_number=scenario.contact.phones[0][0], contact_id=contact_id, agent_id=actor.id,
                    created_at=now, state_since=now, queued_at=now if inbound else None, declined_by=[],
                    priority=queue.priority if queue and inbound else 0)
        session.add(call)
        session.flush()
        attempt = PracticeAttempt(scenario=scenario.code, trainee_id=actor.id, call_id=call.id,
                                  assignment_id=assignment_id, seed=seed if seed is not None else 0, started_at=now)
        session.add(attempt)
        session.flush()
        if seed is None:
            attempt.seed = derive_seed(attempt.id)
        action = "ring" if inbound else "dial"
        calls._record(session, call, action, None, call.state, now, actor.id,
                      {"agent_id": actor.id, "practice": attempt.id})
        calls._record(session, call, PERSONA, call.state, call.state, now, None,
                      {"input": "start", "t": 0.0, "quiet": 0.0, "agent": trainee.display_name,
                       "scenario": scenario.code, "seed": attempt.seed})
        change_state(session, actor.id, AgentState.ON_CALL, now, call_id=call.id)
        calls._notify(session, call, action, now)
        return attempt


def _require_free(session: Session, user_id: int) -> None:
    presence = session.get(AgentPresence, user_id)
    busy = presence is not None and presence.state in BUSY
    on_call = session.scalar(select(Call.id).where(Call.agent_id == user_id,
                                                   Call.state.in_([s.value for s in WITH_AGENT])).limit(1))
    if busy or on_call is not None:
        raise DomainError(N_("Vous êtes déjà en ligne : terminez l'appel en cours (qualification comprise) avant de "
                             "commencer un entraînement."), "scenario")


def _lock_presence(session: Session, user_id: int, now: datetime) -> None:
    """Routing locks free agents' presence rows before it rings them: take the same lock, so that a
    call routed meanwhile is seen here and the trainee is never given two calls."""
    presence_of(session, user_id, now)
    if session.bind.dialect.name == "postgresql":
        session.scalars(select(AgentPresence).where(AgentPresence.user_id == user_id).with_for_update()
                        .execution_options(populate_existing=True)).first()


def _check_assignment(session: Session, actor: Actor, assignment_id: int, code: str) -> None:
    assignment = session.get(ScenarioAssignment, assignment_id)
    team_id = session.scalar(select(User.team_id).where(User.id == actor.id))
    if assignment is None or not (assignment.user_id == actor.id
                                  or assignment.team_id is not None and assignment.team_id == team_id):
        raise NotFoundError(N_("Cette mise en situation ne vous est pas assignée."), "assignment_id")
    if assignment.scenario != code:
        raise ValidationError({"assignment_id": DomainError(
            N_("Cette assignation porte sur le scénario « %(code)s »."), "assignment_id", code=assignment.scenario)})


def _by_code(session: Session, model, code: str):
    if not code:
        return None
    return session.scalars(select(model).where(model.code == code)).first()


def _script_holders(session: Session, script_code: str) -> tuple[Campaign | None, Queue | None]:
    """An outbound scenario that names only a call script: the campaign that follows it (its
    qualifications and its work panel), else a queue that does (so the desktop shows the script)."""
    script_id = session.scalar(select(CallScript.id).where(CallScript.code == script_code))
    if script_id is None:
        return None, None
    campaign = session.scalars(select(Campaign).where(Campaign.script_id == script_id).order_by(Campaign.id)).first()
    if campaign is not None:
        return campaign, None
    return None, session.scalars(select(Queue).where(Queue.script_id == script_id).order_by(Queue.id)).first()


def _contact_for(ctx: Context, actor: Actor, scenario: Scenario) -> int:
    """The scenario's customer in the CRM: the record with one of its numbers (or its customer
    number), else a new record made from the scenario through the CRM's own rules."""
    numbers = [number for number, _label in scenario.contact.phones]
    if not numbers:
        raise DomainError(N_("Le scénario « %(code)s » n'a pas de numéro de téléphone : impossible de passer l'appel."),
                          "scenario", code=scenario.code)
    customer_number = scenario.contact.get("customer_number")
    with ctx.read() as session:
        found = session.scalar(select(func.min(ContactPhone.contact_id)).where(ContactPhone.e164.in_(numbers)))
        if found is None and customer_number:
            found = session.scalar(select(Contact.id).where(Contact.customer_number == customer_number))
    if found is not None:
        return found
    from . import crm

    contact = crm.create_contact(ctx, actor, dict(scenario.contact.values),
                                 [PhoneInput(number, label) for number, label in scenario.contact.phones])
    return contact.id


# --- the simulated caller, rebuilt from its inputs ---------------------------------------------------


def attempt_of(session: Session, call_id: int) -> PracticeAttempt | None:
    return session.scalars(select(PracticeAttempt).where(PracticeAttempt.call_id == call_id)).first()


@dataclass
class Caller:
    """A practice call's persona as its stored inputs left it, and the latest input (its clock)."""

    attempt: PracticeAttempt
    state: PersonaState
    last: CallEvent


def rebuild(session: Session, call: Call, attempt: PracticeAttempt) -> Caller | None:
    """Replay the caller's inputs in order with the attempt's seed; None when it cannot be played
    (no start record, or the scenario file gone or broken: the caller is then silent)."""
    rows = list(session.scalars(select(CallEvent).where(CallEvent.call_id == call.id, CallEvent.action == PERSONA)
                                .order_by(CallEvent.id)))
    if not rows or (rows[0].data or {}).get("input") != "start":
        return None
    try:
        scenario = scenarios.get(attempt.scenario)
    except (NotFoundError, ValidationError):
        log.warning("practice call %s: scenario %s cannot be read, the caller stays silent", call.id, attempt.scenario)
        return None
    state = Persona.start(scenario, attempt.seed, rows[0].data.get("agent", ""))
    turn_ids = [row.data.get("utterance_id") for row in rows if row.data.get("input") == "turn"]
    texts = dict(session.execute(select(Utterance.id, Utterance.text).where(Utterance.id.in_(turn_ids))).all())
    for row in rows[1:]:
        _feed(state, row.data, texts)
    return Caller(attempt, state, rows[-1])


def _feed(state: PersonaState, data: dict, texts: dict[int, str]) -> Reply | None:
    kind = data.get("input")
    if kind == "turn":
        text = texts.get(data.get("utterance_id"), "")
        return None if state.ended or not text.strip() else state.on_agent_turn(text, data["t"])
    if kind == "event":
        return state.on_event(data["event"], data["t"])
    if kind == "silence":
        return state.on_silence(data["seconds"])
    return None


def _elapsed(call: Call, last: CallEvent, now: datetime, on_hold: bool) -> float:
    """The caller's seconds since its last input: from the answer at the earliest; typing time counts
    ``TEXT_PACE`` times less, time on hold in full."""
    since = as_utc(last.at)
    if call.answered_at is not None:
        since = max(since, as_utc(call.answered_at))
    gap = max(0.0, (now - since).total_seconds())
    return gap if on_hold or call.media != Media.TEXT else gap / TEXT_PACE


def _silent_persona(call: Call) -> bool:
    """A trainer plays the caller (console): the persona says nothing."""
    return call.caller_user_id is not None


def _give(session: Session, call: Call, caller: Caller, kind: str, now: datetime, **details) -> Reply | None:
    """Feed the caller one input at ``now``, store it (and its reply), then act on the outcome."""
    state, last = caller.state, caller.last.data or {}
    t = round(float(last.get("t", 0.0)) + _elapsed(call, caller.last, now, state.on_hold), 3)
    quiet = 0.0 if kind == "turn" else float(last.get("quiet", 0.0))
    data = {"input": kind, "t": t, **details}
    if kind == "silence":
        data["seconds"] = round(t - float(last.get("t", 0.0)), 3)
        quiet += data["seconds"]
    data["quiet"] = round(quiet, 3)
    reply = _feed(state, data, {details.get("utterance_id"): details.get("text", "")})
    data.pop("text", None)
    if kind == "silence" and reply is None:
        return None  # a silence that changed nothing is not kept: replaying without it is the same
    said = _say(session, call, reply.text, now) if reply is not None and reply.text else None
    data.update(reply_id=said.id if said else None, mood=round(state.mood, 2), outcome=state.outcome,
                ended=state.ended)
    calls._record(session, call, PERSONA, call.state, call.state, now, None, data)
    _settle_outcome(session, call, caller.attempt, state, now)
    return reply


def _say(session: Session, call: Call, text: str, now: datetime) -> Utterance:
    """The caller's line in the transcript, announced on the desktop as the console's lines are."""
    utterance = Utterance(call_id=call.id, speaker="caller", user_id=None, text=text, media=call.media, at=now)
    session.add(utterance)
    session.flush()
    payload = {"call_id": call.id, "id": utterance.id, "speaker": "caller", "text": text, "at": now.isoformat()}
    for user_id in calls._recipients(call):
        emit(session, user_channel(user_id), "utterance", payload, now)
    return utterance


def _settle_outcome(session: Session, call: Call, attempt: PracticeAttempt, state: PersonaState,
                    now: datetime) -> None:
    """The caller's outcome on the attempt; a caller who is gone releases the line (wrap-up)."""
    if state.outcome and attempt.outcome != state.outcome:
        attempt.outcome = state.outcome
    if state.ended and CallState(call.state) in LIVE:
        by = "transfer" if state.ended_by == "transfer" else "caller"
        calls._apply(session, call, CallAction.HANG_UP, now, None, data={"by": by, "practice": attempt.id})
        call.ended_at = now
        change_state(session, call.agent_id, AgentState.WRAP_UP, now, call_id=call.id)


def _playing(session: Session, call: Call, lock: bool = True) -> Caller | None:
    """The caller of a practice call the persona plays (not a trainer), rebuilt; None otherwise."""
    if _silent_persona(call):
        return None
    attempt = attempt_of(session, call.id)
    if attempt is None:
        return None
    if lock and session.bind.dialect.name == "postgresql":  # one input at a time per call
        session.execute(select(Call.id).where(Call.id == call.id).with_for_update())
    return rebuild(session, call, attempt)


# --- hooks the call lifecycle calls (services.calls) ------------------------------------------------


def on_agent_turn(session: Session, call: Call, utterance: Utterance, now: datetime) -> None:
    """The agent said something on the call: the persona hears it and may answer (``calls.say``)."""
    caller = _playing(session, call)
    if caller is None or caller.state.ended:
        return
    _give(session, call, caller, "turn", now, utterance_id=utterance.id, text=utterance.text)


def on_event(session: Session, call: Call, name: str, now: datetime) -> None:
    """A desktop event the caller notices: ``hold``, ``resume``, ``hangup`` (the agent hung up)."""
    caller = _playing(session, call)
    if caller is None or caller.state.ended:
        return
    _give(session, call, caller, "event", now, event=name)


def transfer(session: Session, call: Call, data: dict, now: datetime, actor_id: int) -> bool:
    """A practice call transferred: the simulated colleague takes the caller. False for a real call.

    The transfer is recorded (with its target and note) without the call leaving: the caller
    hears it (a transfer it agreed to ends its call, a cold one is a refusal), the trainee's
    line is released and the call goes to wrap-up on their desktop."""
    attempt = attempt_of(session, call.id)
    if attempt is None:
        return False
    calls._record(session, call, CallAction.TRANSFER, call.state, call.state, now, actor_id,
                  {**data, "practice": attempt.id})
    calls._notify(session, call, str(CallAction.TRANSFER), now)
    caller = _playing(session, call)
    if caller is not None and not caller.state.ended:
        _give(session, call, caller, "event", now, event="transfer")
    if CallState(call.state) in LIVE:  # a trainer's console, or a caller already gone: the line is released anyway
        calls._apply(session, call, CallAction.HANG_UP, now, actor_id, data={"by": "transfer", "practice": attempt.id})
        call.ended_at = now
        change_state(session, call.agent_id, AgentState.WRAP_UP, now, call_id=call.id)
    return True


def ring_out(session: Session, call: Call, now: datetime) -> bool:
    """An inbound practice call rang out unanswered: the caller hangs up (it never rings anyone else).
    The trainee is paused as after any unanswered call. False for a real call."""
    attempt = attempt_of(session, call.id)
    if attempt is None:
        return False
    agent_id = call.agent_id
    calls._apply(session, call, CallAction.ABANDON, now, None, data={"reason": "ring_timeout", "practice": attempt.id},
                 extra_recipients={agent_id} - {None})
    call.ended_at = call.closed_at = now
    _end_attempt(attempt, now, "unanswered")
    if agent_id is not None:
        change_state(session, agent_id, AgentState.PAUSED, now, pause_reason="no_answer", call_id=call.id)
    return True


def review_url(call_id: int, framework: str | None) -> str:
    """The review page of a practice call, on its scenario's framework (the trainee self-assesses there first)."""
    return f"/calls/{call_id}/review" + (f"?framework={framework}" if framework else "")


def on_close(session: Session, call: Call, now: datetime) -> None:
    """The trainee qualified and closed the practice call (``calls.close``): the attempt ends and the
    trainee's desktop is told where to self-assess (a ``practice`` event with the review page)."""
    attempt = attempt_of(session, call.id)
    if attempt is None:
        return
    _end_attempt(attempt, now, None)
    emit(session, user_channel(attempt.trainee_id), "practice",
         {"action": "ended", "attempt_id": attempt.id, "call_id": call.id, "scenario": attempt.scenario,
          "outcome": attempt.outcome, "review_url": review_url(call.id, framework_of(attempt.scenario)),
          "at": now.isoformat()}, now)


def after_close(ctx: Context, call_id: int) -> str | None:
    """After the close is committed: the automatic evaluation against the scenario's framework.
    Returns the framework's code for the review page, or None for a real call."""
    with ctx.read() as session:
        attempt = attempt_of(session, call_id)
    if attempt is None:
        return None
    code = framework_of(attempt.scenario)
    if code is None:
        return None
    from . import review

    try:
        review.evaluate(ctx, SYSTEM, call_id, code)
    except DomainError as exc:  # the evaluator not installed yet, a framework file broken: the review says so
        log.info("practice call %s not evaluated: %s", call_id, exc.render())
    except Exception:  # the close is committed: an evaluator's fault must not undo it for the trainee
        log.exception("practice call %s: the automatic evaluation failed", call_id)
    return code


def dispositions(session: Session, call: Call) -> list[Disposition] | None:
    """The qualification list of a practice call without a campaign, when the usual rule gives none
    that fits: outbound, every qualification an outbound campaign offers; without a queue, all of them.
    None for a real call (the usual rule applies)."""
    if call.campaign_id is not None or attempt_of(session, call.id) is None:
        return None
    if call.direction == Direction.OUTBOUND:
        outbound = list(session.scalars(select(Disposition).where(Disposition.id.in_(
            select(CampaignDisposition.disposition_id))).order_by(Disposition.label)))
        if outbound:
            return outbound
    elif call.queue_id is not None:
        return None
    return list(session.scalars(select(Disposition).order_by(Disposition.label)))


def _end_attempt(attempt: PracticeAttempt, now: datetime, outcome: str | None) -> None:
    if attempt.ended_at is None:
        attempt.ended_at = now
    if attempt.outcome is None and outcome:
        attempt.outcome = outcome


# --- the ticker ----------------------------------------------------------------------------------------------


def tick(ctx: Context) -> None:
    """Once a second (``calls.tick``): outbound practice calls pick up after their ring, live ones hear
    the silence, and attempts whose call ended another way (a dial cancelled…) are closed."""
    with ctx.read() as session:
        now = ctx.now()
        rows = session.execute(select(PracticeAttempt.id, PracticeAttempt.scenario, Call)
                               .join(Call, Call.id == PracticeAttempt.call_id)
                               .where(PracticeAttempt.ended_at.is_(None))).all()
        work = []
        for attempt_id, code, call in rows:
            state = CallState(call.state)
            if state in TERMINAL:
                work.append(("settle", call.id))
            elif state == CallState.DIALING:
                if (now - as_utc(call.state_since)).total_seconds() >= OUTBOUND_RING_S:
                    work.append(("connect", call.id))
            elif state in LIVE and not _silent_persona(call) and _may_react(session, call, code, now):
                work.append(("silence", call.id))
    for kind, call_id in work:
        try:
            with ctx.unit() as session:
                _TICK_WORK[kind](session, calls.load_call(session, call_id, lock=True), ctx.now())
        except Exception:  # one call's fault never stops the others
            log.exception("practice: %s of call %s failed", kind, call_id)


def _may_react(session: Session, call: Call, code: str, now: datetime) -> bool:
    """Whether the silence since the caller's last input may make it react (cheap: no replay)."""
    patience = _patience(code)
    if patience is None:
        return False
    last = session.scalars(select(CallEvent).where(CallEvent.call_id == call.id, CallEvent.action == PERSONA)
                           .order_by(CallEvent.id.desc()).limit(1)).first()
    if last is None or (last.data or {}).get("ended"):
        return False
    on_hold = call.state == CallState.ON_HOLD
    seconds = _elapsed(call, last, now, on_hold)
    if on_hold:
        return seconds > 2 * patience[1]
    return float((last.data or {}).get("quiet", 0.0)) + seconds >= patience[0]


_patience_cache: dict[str, tuple[float, tuple[float, float] | None]] = {}


def _patience(code: str) -> tuple[float, float] | None:
    """(silence_s, hold_s) of a scenario's caller, re-read from the files every ``_PATIENCE_TTL_S``."""
    cached = _patience_cache.get(code)
    if cached is not None and time.monotonic() - cached[0] < _PATIENCE_TTL_S:
        return cached[1]
    try:
        patience = scenarios.get(code).persona.patience
        value = (float(patience.silence_s), float(patience.hold_s))
    except (NotFoundError, ValidationError):
        value = None
    _patience_cache[code] = (time.monotonic(), value)
    return value


def _connect(session: Session, call: Call, now: datetime) -> None:
    """The called party picks up: the call is connected and the persona says its first words."""
    if call.state != CallState.DIALING:
        return
    attempt = attempt_of(session, call.id)
    calls._apply(session, call, CallAction.CONNECT, now, None, data={"practice": attempt.id if attempt else None})
    call.answered_at = now
    caller = None if attempt is None else _playing(session, call, lock=False)
    if caller is not None and caller.state.first_words is not None and caller.state.first_words.text:
        _say(session, call, caller.state.first_words.text, now)


def _silence(session: Session, call: Call, now: datetime) -> None:
    if CallState(call.state) not in LIVE:
        return
    caller = _playing(session, call, lock=False)  # the call row is already locked
    if caller is not None and not caller.state.ended:
        _give(session, call, caller, "silence", now)


def _settle(session: Session, call: Call, now: datetime) -> None:
    """A practice call that ended without a close (a dial cancelled, a caller gone before the answer)."""
    attempt = attempt_of(session, call.id)
    if attempt is None or attempt.ended_at is not None:
        return
    state = CallState(call.state)
    if state == CallState.CLOSED:
        outcome = None
    elif state in (CallState.UNREACHED, CallState.DROPPED):
        outcome = "cancelled"
    else:
        outcome = "unanswered"
    _end_attempt(attempt, as_utc(call.closed_at or call.ended_at or now), outcome)


_TICK_WORK = {"connect": _connect, "silence": _silence, "settle": _settle}


# --- assignments -----------------------------------------------------------------------------------------


def assign(ctx: Context, actor: Actor, scenario_code: str, user_id: int | None = None, team_id: int | None = None,
           due_on: date | None = None, note: str = "") -> ScenarioAssignment:
    """A trainer gives a scenario to one trainee or to a whole team, with an optional due date."""
    if not actor.is_supervisor:
        raise PermissionDenied(N_("Seul un formateur assigne des mises en situation."))
    errors: dict[str, DomainError] = {}
    note = (note or "").strip()
    try:
        scenarios.get(scenario_code or "")
    except NotFoundError:
        errors["scenario"] = DomainError(N_("Choisissez un scénario de la liste."), "scenario")
    if bool(user_id) == bool(team_id):
        errors["target"] = DomainError(N_("Choisissez un stagiaire ou une équipe (l'un ou l'autre)."), "target")
    if due_on is not None and due_on < ctx.now().date():
        errors["due_on"] = DomainError(N_("La date limite est déjà passée : choisissez aujourd'hui ou plus tard."),
                                       "due_on")
    if len(note) > MAX_NOTE:
        errors["note"] = DomainError(N_("La consigne dépasse %(max)s caractères."), "note", max=MAX_NOTE)
    with ctx.unit() as session:
        if "target" not in errors:
            trainee = session.get(User, user_id) if user_id else None
            if user_id and (trainee is None or not trainee.active):
                errors["target"] = DomainError(N_("Ce stagiaire n'existe pas ou n'est plus actif."), "target")
            if team_id and session.get(Team, team_id) is None:
                errors["target"] = DomainError(N_("Cette équipe n'existe pas."), "target")
        if errors:
            raise ValidationError(errors)
        assignment = ScenarioAssignment(scenario=scenario_code, user_id=user_id or None, team_id=team_id or None,
                                        due_on=due_on, note=note, created_by=actor.id, created_at=ctx.now())
        session.add(assignment)
        session.flush()
        return assignment


@dataclass
class Person:
    id: int
    name: str
    #: their latest finished attempt of the scenario since it was assigned, if any
    attempt: PracticeAttempt | None = None

    @property
    def done(self) -> bool:
        return self.attempt is not None


@dataclass
class AssignmentView:
    assignment: ScenarioAssignment
    title: str
    target: str
    people: list[Person]
    framework: str | None = None

    @property
    def done(self) -> list[Person]:
        return [p for p in self.people if p.done]

    def overdue(self, today: date) -> bool:
        return self.assignment.due_on is not None and self.assignment.due_on < today


def _finished(session: Session, codes: set[str], user_ids: set[int]) -> list[PracticeAttempt]:
    if not codes or not user_ids:
        return []
    return list(session.scalars(select(PracticeAttempt).where(
        PracticeAttempt.scenario.in_(codes), PracticeAttempt.trainee_id.in_(user_ids),
        PracticeAttempt.ended_at.is_not(None)).order_by(PracticeAttempt.id)))


def _views(session: Session, rows: list[ScenarioAssignment], titles: dict[str, str],
           only: int | None = None) -> list[AssignmentView]:
    """Each assignment with the people it concerns and who has done it: a finished attempt of the
    scenario started since the assignment was made, or one started from it. ``only``: just that person."""
    teams = {t.id: t.name for t in session.scalars(select(Team).where(
        Team.id.in_({a.team_id for a in rows if a.team_id})))}
    members: dict[int, list[tuple[int, str]]] = {}
    for user_id, name, team_id in session.execute(select(User.id, User.display_name, User.team_id).where(
            User.team_id.in_(teams), User.active.is_(True)).order_by(User.display_name)):
        members.setdefault(team_id, []).append((user_id, name))
    named = dict(session.execute(select(User.id, User.display_name).where(
        User.id.in_({a.user_id for a in rows if a.user_id}))).all()) if rows else {}
    people = {a.id: ([(a.user_id, named.get(a.user_id, ""))] if a.user_id else members.get(a.team_id, []))
              for a in rows}
    if only is not None:
        people = {key: [(uid, name) for uid, name in value if uid == only] for key, value in people.items()}
    attempts = _finished(session, {a.scenario for a in rows}, {uid for value in people.values() for uid, _ in value})
    views = []
    for a in rows:
        created = as_utc(a.created_at)
        listed = []
        for uid, name in people[a.id]:
            mine = [t for t in attempts if t.trainee_id == uid and t.scenario == a.scenario
                    and (t.assignment_id == a.id or as_utc(t.started_at) >= created)]
            listed.append(Person(uid, name, mine[-1] if mine else None))
        views.append(AssignmentView(a, titles.get(a.scenario, a.scenario),
                                    named.get(a.user_id, "") if a.user_id else teams.get(a.team_id, ""), listed,
                                    framework_of(a.scenario)))
    return views


# --- what the "Entraînement" page shows -------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioCard:
    """A scenario as the page lists it: what the trainee may know before the call."""

    code: str
    title: str
    direction: str
    direction_label: str
    framework: str
    framework_title: str
    persona: str
    age: int
    mood_label: str
    style_label: str
    language_label: str
    time_target_s: int
    brief: str
    summary: str
    company: str
    knowledge: tuple[str, ...]


@dataclass
class AttemptRow:
    attempt: PracticeAttempt
    title: str
    framework: str | None
    duration_s: float | None
    call_state: str
    trainee: str = ""

    @property
    def in_progress(self) -> bool:
        return self.attempt.ended_at is None

    @property
    def review_url(self) -> str | None:
        """The review page, once the call is closed (the trainee self-assesses there first)."""
        if self.call_state != CallState.CLOSED or self.attempt.call_id is None:
            return None
        return review_url(self.attempt.call_id, self.framework)

    @property
    def to_self_assess(self) -> bool:
        return self.review_url is not None and self.attempt.self_assessed_at is None


@dataclass
class Home:
    scenarios: list[ScenarioCard]
    assigned: list[AssignmentView]
    attempts: list[AttemptRow]
    current: AttemptRow | None
    #: for trainers
    assignments: list[AssignmentView] = field(default_factory=list)
    trainees: list[tuple[int, str]] = field(default_factory=list)
    teams: list[tuple[int, str]] = field(default_factory=list)
    today: date | None = None

    def card(self, code: str) -> ScenarioCard | None:
        return next((c for c in self.scenarios if c.code == code), None)


def framework_of(code: str) -> str | None:
    try:
        return scenarios.get(code).framework.code or None
    except (NotFoundError, ValidationError):
        return None


def cards() -> list[ScenarioCard]:
    from . import frameworks

    titles: dict[str, str] = {}
    result = []
    for s in scenarios.list_scenarios():
        if s.framework.code not in titles:
            try:
                titles[s.framework.code] = frameworks.get(s.framework.code).title
            except (NotFoundError, ValidationError):
                titles[s.framework.code] = s.framework.code
        p = s.persona
        result.append(ScenarioCard(
            code=s.code, title=s.title, direction=s.direction, direction_label=s.direction_label,
            framework=s.framework.code, framework_title=titles[s.framework.code], persona=p.name, age=p.age,
            mood_label=p.mood_label, style_label=STYLES.get(p.style, p.style),
            language_label=LANGUAGES.get(p.language, p.language), time_target_s=s.time_target_s, brief=s.brief,
            summary=s.summary, company=s.company.name, knowledge=s.company.knowledge))
    return result


def home(ctx: Context, actor: Actor, limit: int = 50) -> Home:
    """The "Entraînement" page: the scenarios, the trainee's assignments (first) and attempts;
    for a trainer, the assignments of the floor with their progress and whom to assign to."""
    listed = cards()
    titles = {c.code: c.title for c in listed}
    frameworks = {c.code: c.framework for c in listed}
    with ctx.read() as session:
        today = ctx.now().date()
        team_id = session.scalar(select(User.team_id).where(User.id == actor.id))
        mine = list(session.scalars(select(ScenarioAssignment).where(or_(
            ScenarioAssignment.user_id == actor.id,
            ScenarioAssignment.team_id == team_id if team_id is not None else false()))
            .order_by(ScenarioAssignment.due_on.is_(None), ScenarioAssignment.due_on, ScenarioAssignment.id.desc())
            .limit(limit)))
        assigned = _views(session, mine, titles, only=actor.id)
        rows = session.execute(select(PracticeAttempt, Call.state, Call.talk_seconds, Call.hold_seconds)
                               .outerjoin(Call, Call.id == PracticeAttempt.call_id)
                               .where(PracticeAttempt.trainee_id == actor.id)
                               .order_by(PracticeAttempt.id.desc()).limit(limit)).all()
        attempts = [AttemptRow(a, titles.get(a.scenario, a.scenario), frameworks.get(a.scenario),
                               (talk or 0) + (hold or 0) if a.ended_at is not None else None, str(state or ""))
                    for a, state, talk, hold in rows]
        current = next((row for row in attempts if row.in_progress and row.call_state not in TERMINAL), None)
        result = Home(listed, assigned, attempts, current, today=today)
        if actor.is_supervisor:
            floor = list(session.scalars(select(ScenarioAssignment).order_by(ScenarioAssignment.id.desc())
                                         .limit(limit)))
            result.assignments = _views(session, floor, titles)
            result.trainees = list(session.execute(select(User.id, User.display_name).where(
                User.active.is_(True), User.role == "agent").order_by(User.display_name)))
            result.teams = list(session.execute(select(Team.id, Team.name).order_by(Team.name)))
    return result


__all__ = ["AssignmentView", "AttemptRow", "Caller", "Home", "OUTCOME_LABELS", "PERSONA", "Person", "ScenarioCard",
           "TEXT_PACE", "after_close", "assign", "attempt_of", "cards", "derive_seed", "dispositions", "framework_of",
           "home", "on_agent_turn", "on_close", "on_event", "rebuild", "review_url", "ring_out", "start_practice",
           "tick", "transfer"]
