"""The dialer: a campaign's contacts called on the simulated network, paired with its agents.

An agent logs into one campaign they are assigned to (``join``); while they
work it they get its calls and no inbound ones. How contacts reach them
depends on the campaign's mode (``domain.campaigns.DialMode``):

* **preview** — the agent asks for the next record (``preview``), reads it
  with the script and the calling rules' verdict, then dials it (``dial``) or
  moves on (``skip``). The record is locked to them meanwhile.
* **progressive** — every second ``tick`` dials one contact for each free
  agent, the agent already on the call while it rings.
* **predictive** — ``tick`` dials ahead of the free agents as many numbers as
  ``domain.pacing.decide`` allows; a person who answers is handed to a free
  agent, or after ``campaign.drop_after_s`` hears the informational message
  and the call counts as dropped (abandoned).

Every dial goes through ``services.compliance.check_dial`` first and leaves a
``DialAttempt`` row, refused ones included, with the reasons. The far end's
response is drawn once, at dial time, from the campaign's network profile and
seed (``domain.phone_network.draw`` keyed by the attempt's id), and applied by
``tick`` when its ringing time has passed: the same seed gives the same day.

A call's life is the inbound one (``services.calls``: ``_apply`` writes each
transition and tells the agent, the floor and the trainer playing the callee)
with the outbound states ``dialing → connected | unreached | dropped``; after
the conversation the agent hangs up and qualifies from the campaign's list,
and ``on_close`` turns the qualification into the attempt's outcome and the
contact's next state (``domain.campaigns.reschedule``).

Two instances never dial one contact twice: the contacts picked are locked
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on SQLite) and marked
``in_progress`` in the same transaction; the campaign's row is locked while
its pacing decides, and agents' presences as the call routing does.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from ..domain import pacing, phones, queue_hours
from ..domain.agents import BUSY, AgentState
from ..domain.calls import LIVE, WITH_AGENT, CallAction, CallState, Direction, Media
from ..domain.campaigns import (AUTOMATED_MODES, DIALING_STATUSES, CampaignStatus, ContactState, DialMode, Outcome,
                                reschedule)
from ..domain.clock import as_utc
from ..domain.compliance import Decision, Reason
from ..domain.compliance_profiles import ProfileError
from ..domain.contacts import formal_name
from ..domain.errors import N_, ConflictError, DomainError, IllegalTransition, NotFoundError, PermissionDenied, ValidationError
from ..domain.phone_network import HUMAN, MIN_NO_ANSWER_RING_S, NetworkProfile, Response, draw
from ..store.models import (AgentPresence, Call, CallScript, Campaign, CampaignAssignment, CampaignContact, Contact,
                            DialAttempt, Disposition, User)
from . import calls, compliance
from .agents import change_state, presence_of
from .campaign_simulation import HANDLE_WINDOW_S
from .context import FLOOR, Actor, Context, emit, user_channel

#: "Passer" puts a previewed contact aside for this long (it stays on the list)
SKIP_MINUTES = 30
#: at most this many contacts refused by the calling rules per campaign and tick, so a
#: list blocked as a whole (outside the legal hours) is worked through over a few seconds
MAX_BLOCKED_PER_TICK = 20
#: answered calls the drop message is played to: who called, a number to call back
DEFAULT_DROP_MESSAGE = N_("Bonjour, %(company)s a cherché à vous joindre pour « %(campaign)s ». Aucun conseiller "
                          "n'est disponible pour le moment. Vous pouvez nous rappeler au %(number)s. Merci.")
#: mean handling time (talk + wrap-up) the pacing assumes until enough calls have finished
#: (``pacing.handling_mean``); the handling times it weighs are those of the calls put through
#: in the last ``HANDLE_WINDOW_S`` (the simulator's window, so both pace alike)
PRIOR_HANDLE_S = 180.0

_NETWORK_OUTCOME = {Response.BUSY: Outcome.BUSY, Response.NO_ANSWER: Outcome.NO_ANSWER,
                    Response.MACHINE: Outcome.MACHINE, Response.INVALID: Outcome.INVALID}
_DIALING = CallState.DIALING.value
log = logging.getLogger(__name__)


# --- who works which campaign ---------------------------------------------------------------


def assigned_agent_ids(session: Session, campaign_id: int) -> set[int]:
    """The users assigned to the campaign: named ones and the active members of its teams."""
    rows = session.execute(select(CampaignAssignment.user_id, CampaignAssignment.team_id)
                           .where(CampaignAssignment.campaign_id == campaign_id)).all()
    users = {user_id for user_id, _ in rows if user_id}
    teams = {team_id for _, team_id in rows if team_id}
    if teams:
        users |= set(session.scalars(select(User.id).where(User.team_id.in_(teams), User.active.is_(True))))
    return users


def campaigns_for(ctx: Context, actor: Actor) -> list[Campaign]:
    """The campaigns the agent may log into now: assigned to them (or their team), in test or running."""
    with ctx.read() as session:
        team_id = session.scalar(select(User.team_id).where(User.id == actor.id))
        mine = select(CampaignAssignment.campaign_id).where(or_(
            CampaignAssignment.user_id == actor.id,
            and_(CampaignAssignment.team_id.is_not(None), CampaignAssignment.team_id == team_id)))
        return list(session.scalars(select(Campaign).where(Campaign.id.in_(mine),
                                                           Campaign.status.in_([s.value for s in DIALING_STATUSES]))
                                    .order_by(Campaign.name)))


def join(ctx: Context, actor: Actor, campaign_id: int | None) -> Campaign:
    """The agent logs into a campaign: from now on they get its calls and no inbound ones."""
    with ctx.unit() as session:
        now = ctx.now()
        campaign = session.get(Campaign, campaign_id) if campaign_id else None
        if campaign is None:
            raise ValidationError({"campaign_id": DomainError(N_("Choisissez une campagne."), "campaign_id")})
        if actor.id not in assigned_agent_ids(session, campaign.id):
            raise PermissionDenied(N_("Vous n'êtes pas affecté à la campagne « %(name)s » : demandez à votre "
                                      "superviseur de vous y affecter."), "campaign_id", name=campaign.name)
        if campaign.status not in DIALING_STATUSES:
            raise DomainError(N_("La campagne « %(name)s » n'est ni en appels tests ni en cours : elle ne peut "
                                 "pas être travaillée."), "campaign_id", name=campaign.name)
        presence = presence_of(session, actor.id, now)
        if presence.campaign_id == campaign.id:
            return campaign
        if AgentState(presence.state) in BUSY:
            raise DomainError(N_("Terminez d'abord l'appel en cours (qualification comprise)."), "campaign_id")
        _release_previews(session, actor.id, now)
        presence.campaign_id = campaign.id
        _tell_agent_campaign(session, actor.id, "join", campaign, now)
        return campaign


def leave(ctx: Context, actor: Actor) -> None:
    """The agent logs out of their campaign and takes inbound calls again."""
    with ctx.unit() as session:
        now = ctx.now()
        presence = session.get(AgentPresence, actor.id)
        if presence is None or presence.campaign_id is None:
            return
        if AgentState(presence.state) in BUSY:
            raise DomainError(N_("Terminez d'abord l'appel en cours (qualification comprise)."), "campaign_id")
        campaign = session.get(Campaign, presence.campaign_id)
        _release_previews(session, actor.id, now)
        presence.campaign_id = None
        _tell_agent_campaign(session, actor.id, "leave", campaign, now)
    calls.route_waiting(ctx)  # a free agent back on the inbound queues


def _tell_agent_campaign(session: Session, user_id: int, action: str, campaign: Campaign | None, now: datetime) -> None:
    payload = {"action": action, "user_id": user_id, "campaign_id": campaign.id if campaign else None,
               "campaign": campaign.name if campaign else "", "at": now.isoformat()}
    emit(session, user_channel(user_id), "dialer", payload, now)
    emit(session, FLOOR, "agent_campaign", payload, now)


def joined_campaign(ctx: Context, user_id: int) -> Campaign | None:
    """The campaign the agent is logged into, if any."""
    with ctx.read() as session:
        presence = session.get(AgentPresence, user_id)
        return session.get(Campaign, presence.campaign_id) if presence and presence.campaign_id else None


def _joined(session: Session, actor: Actor) -> Campaign:
    presence = session.get(AgentPresence, actor.id)
    campaign = session.get(Campaign, presence.campaign_id) if presence and presence.campaign_id else None
    if campaign is None:
        raise DomainError(N_("Choisissez d'abord une campagne à travailler."), "campaign_id")
    return campaign


# --- when a campaign calls -------------------------------------------------------------------


def _zone(campaign: Campaign) -> ZoneInfo:
    try:
        return ZoneInfo(campaign.timezone or "Europe/Paris")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/Paris")


def window_open(campaign: Campaign, now: datetime) -> bool:
    """Within the campaign's dates and daily hours (its own time zone); empty hours: any time.

    The legal hours are the calling rules' business (``compliance.check_dial``);
    these are the campaign's own, chosen by its supervisor."""
    local = now.astimezone(_zone(campaign))
    if campaign.starts_on and local.date() < campaign.starts_on:
        return False
    if campaign.ends_on and local.date() > campaign.ends_on:
        return False
    return queue_hours.is_open(campaign.hours or {}, None, local)


def _require_dialing(campaign: Campaign, now: datetime) -> None:
    if campaign.status not in DIALING_STATUSES:
        raise DomainError(N_("La campagne « %(name)s » n'appelle pas en ce moment : elle est en pause ou terminée."),
                          "campaign_id", name=campaign.name)
    if not window_open(campaign, now):
        raise DomainError(N_("La campagne « %(name)s » n'appelle pas à cette heure-ci (ses dates et horaires)."),
                          "campaign_id", name=campaign.name)


def _day_start(campaign: Campaign, now: datetime) -> datetime:
    """Midnight of the campaign's local day, in UTC: "today" for its abandon rate."""
    zone = _zone(campaign)
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone).astimezone(timezone.utc)


# --- the contacts due -------------------------------------------------------------------------


def _due(session: Session, campaign: Campaign, now: datetime, limit: int, agent_id: int | None = None,
         lock: bool = True) -> list[CampaignContact]:
    """Contacts to call now, retries and callbacks at their time first, then the list in order.

    ``agent_id``: only the callbacks promised to that agent; None: only contacts
    reserved to nobody. In test mode only the test sample. Locked rows (another
    dialer's pick, another agent's preview) are skipped."""
    cc = CampaignContact
    query = select(cc).where(
        cc.campaign_id == campaign.id, cc.locked_by.is_(None),
        or_(and_(cc.state == ContactState.PENDING, or_(cc.next_at.is_(None), cc.next_at <= now)),
            and_(cc.state.in_([ContactState.SCHEDULED, ContactState.BLOCKED]), cc.next_at.is_not(None),
                 cc.next_at <= now)),
        cc.assigned_user_id == agent_id if agent_id is not None else cc.assigned_user_id.is_(None))
    if campaign.status == CampaignStatus.TEST:
        query = query.where(cc.in_test.is_(True))
    query = query.order_by(case((cc.state == ContactState.PENDING, 1), else_=0), cc.next_at.asc().nulls_first(),
                           cc.position, cc.id).limit(limit)
    if lock and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def _number_of(contact: Contact | None) -> str | None:
    """The number dialed: the contact's first (E.164)."""
    if contact is None or not contact.phones:
        return None
    return contact.phones[0].e164


# --- placing a dial ----------------------------------------------------------------------------


def _try_dial(session: Session, ctx: Context, campaign: Campaign, cc: CampaignContact, now: datetime,
              agent_id: int | None, reserved: bool) -> Call | None:
    """The calling rules, then the dial; None when refused (the refusal is recorded)."""
    contact = session.get(Contact, cc.contact_id)
    number = _number_of(contact)
    if number is None:
        _no_number(cc, now)
        return None
    mode = DialMode(campaign.dial_mode)
    decision = compliance.check_dial(session, number=number, contact=contact, campaign=campaign, mode=mode.value,
                                     now=now, agent_reserved=reserved)
    if not decision.allowed:
        _block(session, ctx, campaign, cc, contact, number, decision, now, agent_id, keep_lock=False)
        return None
    return _place(session, ctx, campaign, cc, contact, number, decision, now, agent_id)


def _no_number(cc: CampaignContact, now: datetime) -> None:
    """A contact without a phone number cannot be called: done, as an invalid number."""
    cc.state, cc.last_outcome, cc.next_at, cc.locked_by, cc.updated_at = (
        ContactState.DONE, Outcome.INVALID, None, None, now)


def _block(session: Session, ctx: Context, campaign: Campaign, cc: CampaignContact, contact: Contact, number: str,
           decision: Decision, now: datetime, agent_id: int | None, keep_lock: bool) -> DialAttempt:
    """A dial the calling rules refuse: the attempt with its reasons, the contact blocked until
    the rules may allow it (never if ``retry_at`` is None), the supervisor told — and the agent
    who previews it (``keep_lock``: the record stays on their desktop with the reasons)."""
    attempt = DialAttempt(campaign_id=campaign.id, campaign_contact_id=cc.id, contact_id=cc.contact_id, number=number,
                          at=now, mode=campaign.dial_mode, test=campaign.status == CampaignStatus.TEST,
                          agent_id=agent_id, allowed=False, reasons=decision.stored_reasons(),
                          outcome=Outcome.BLOCKED, ended_at=now)
    session.add(attempt)
    session.flush()
    cc.state, cc.last_outcome, cc.next_at, cc.updated_at = ContactState.BLOCKED, Outcome.BLOCKED, decision.retry_at, now
    cc.locked_by = agent_id if keep_lock else None
    payload = {"action": "blocked", "campaign_id": campaign.id, "campaign": campaign.name,
               "campaign_contact_id": cc.id, "contact_id": cc.contact_id, "contact": formal_name(contact),
               "number": phones.display(number, ctx.settings.default_region), "attempt_id": attempt.id,
               "reasons": attempt.reasons, "retry_at": decision.retry_at.isoformat() if decision.retry_at else None,
               "at": now.isoformat()}
    emit(session, FLOOR, "dial_blocked", payload, now)
    if agent_id is not None:
        emit(session, user_channel(agent_id), "dialer", payload, now)
    return attempt


def _place(session: Session, ctx: Context, campaign: Campaign, cc: CampaignContact, contact: Contact, number: str,
           decision: Decision, now: datetime, agent_id: int | None, actor_id: int | None = None) -> Call:
    """The dial itself: the call (``dialing``), the attempt with the network's draw, the contact
    in progress, the agent on the call (preview, progressive, a reserved callback)."""
    call = Call(direction=Direction.OUTBOUND, media=Media.TEXT, state=CallState.DIALING, queue_id=None,
                caller_number=number, contact_id=contact.id, agent_id=agent_id, campaign_id=campaign.id,
                created_at=now, state_since=now, declined_by=[], priority=0)
    session.add(call)
    session.flush()
    attempt = DialAttempt(campaign_id=campaign.id, campaign_contact_id=cc.id, contact_id=contact.id, call_id=call.id,
                          number=number, at=now, mode=campaign.dial_mode,
                          test=campaign.status == CampaignStatus.TEST, agent_id=agent_id, allowed=True,
                          reasons=decision.stored_reasons())
    session.add(attempt)
    session.flush()
    fate = draw(NetworkProfile.from_dict(campaign.network), campaign.network_seed, attempt.id)
    attempt.network_response, attempt.network_after_s = fate.response.value, fate.after_s
    cc.state, cc.attempts, cc.updated_at = ContactState.IN_PROGRESS, (cc.attempts or 0) + 1, now
    cc.locked_by = agent_id
    calls._record(session, call, "dial", None, CallState.DIALING, now, actor_id,
                  {"attempt_id": attempt.id, "mode": campaign.dial_mode, "campaign_id": campaign.id})
    if agent_id is not None:
        change_state(session, agent_id, AgentState.ON_CALL, now, call_id=call.id)
    calls._notify(session, call, "dial", now)
    return call


# --- how dials end ------------------------------------------------------------------------------


def _attempt_of(session: Session, call: Call) -> DialAttempt | None:
    return session.scalars(select(DialAttempt).where(DialAttempt.call_id == call.id)
                           .order_by(DialAttempt.id.desc()).limit(1)).first()


def _connect(session: Session, call: Call, attempt: DialAttempt, now: datetime, response: str) -> None:
    calls._apply(session, call, CallAction.CONNECT, now, None, data={"response": response})
    call.answered_at = now
    attempt.answered_at = attempt.answered_at or now
    attempt.connected_at = now


def _fail(session: Session, call: Call, attempt: DialAttempt | None, outcome: Outcome, now: datetime,
          actor_id: int | None = None) -> None:
    """The dial ends without a conversation; the agent on it is free again."""
    agent_id = call.agent_id
    calls._apply(session, call, CallAction.FAIL, now, actor_id, data={"outcome": outcome.value})
    call.ended_at = call.closed_at = now
    if agent_id is not None:
        change_state(session, agent_id, AgentState.AVAILABLE, now, call_id=call.id)
    if attempt is not None:
        _finish(session, attempt, outcome, now)


def drop_message(campaign: Campaign, script: CallScript | None, number: str | None, region: str) -> str:
    """What a dropped call hears: the campaign's message, else one naming the company
    (the script's charter, else the campaign) and the presented number to call back."""
    if (campaign.drop_message or "").strip():
        return campaign.drop_message.strip()
    company = campaign.name
    if script is not None:
        from .scripts import parsed

        try:
            company = parsed(script).charter.company or company
        except DomainError:
            pass
    shown = phones.display(number, region) if number else ""
    return DEFAULT_DROP_MESSAGE % {"company": company, "campaign": campaign.name, "number": shown}


def _drop(session: Session, ctx: Context, campaign: Campaign, call: Call, attempt: DialAttempt, now: datetime) -> None:
    """Answered, no agent within ``drop_after_s``: the informational message, then the line is released."""
    script = session.get(CallScript, campaign.script_id) if campaign.script_id else None
    calls._system_line(session, call, drop_message(campaign, script, campaign.presented_number,
                                                   ctx.settings.default_region), now)
    calls._apply(session, call, CallAction.DROP, now, None, data={"outcome": Outcome.DROPPED.value})
    call.ended_at = call.closed_at = now
    _finish(session, attempt, Outcome.DROPPED, now)


def _finish(session: Session, attempt: DialAttempt, outcome: Outcome, now: datetime,
            callback_at: datetime | None = None, assignee_id: int | None = None) -> None:
    """The attempt's outcome, and the contact's next state per the campaign's retry rules."""
    attempt.outcome = outcome.value
    attempt.ended_at = attempt.ended_at or now
    cc = session.get(CampaignContact, attempt.campaign_contact_id) if attempt.campaign_contact_id else None
    campaign = session.get(Campaign, attempt.campaign_id) if attempt.campaign_id else None
    if cc is None or campaign is None:
        return
    step = reschedule(outcome, cc.attempts or 0, campaign.max_attempts or 1, now, campaign.retry_minutes or {},
                      callback_at)
    cc.state, cc.next_at, cc.last_outcome, cc.locked_by, cc.updated_at = step.state, step.at, outcome.value, None, now
    if outcome is Outcome.CALLBACK:
        cc.assigned_user_id = assignee_id  # "pour moi": back to this agent; else to whoever is free
    elif step.state in (ContactState.DONE, ContactState.EXHAUSTED):
        cc.assigned_user_id = None
    emit(session, FLOOR, "dial_outcome", {"campaign_id": campaign.id, "campaign_contact_id": cc.id,
                                          "contact_id": cc.contact_id, "outcome": outcome.value,
                                          "state": str(step.state), "call_id": attempt.call_id,
                                          "at": now.isoformat()}, now)


def on_close(session: Session, call: Call, disposition: Disposition, callback_due: datetime | None, now: datetime,
             for_me: bool = True) -> None:
    """A qualified campaign call: the qualification's outcome on the attempt, the contact rescheduled.

    No specific outcome on the qualification: "connected" (reached). A callback
    asked for at wrap-up: the contact comes back at that time — to this agent
    when it is "pour moi". "Ne plus appeler": the number joins the company's own
    opposition list ("liste repoussoir"), checked before every dial."""
    attempt = _attempt_of(session, call)
    if attempt is None:
        return
    try:
        outcome = Outcome(disposition.outcome) if disposition.outcome else Outcome.CONNECTED
    except ValueError:
        outcome = Outcome.CONNECTED
    if callback_due is not None:
        outcome = Outcome.CALLBACK
    attempt.ended_at = call.ended_at or now
    _finish(session, attempt, outcome, now, callback_at=callback_due,
            assignee_id=call.agent_id if for_me else None)
    if outcome is Outcome.DO_NOT_CALL:
        compliance.add_to_own_list(session, attempt.number, call.agent_id, disposition.label, now)


def end_dial(session: Session, call: Call, now: datetime, actor_id: int | None, by_agent: bool) -> None:
    """Someone hangs up while the number rings: the agent cancels the dial, or the callee
    (a trainer playing the called party) rejects it, which the caller hears as busy."""
    _fail(session, call, _attempt_of(session, call), Outcome.CANCELLED if by_agent else Outcome.BUSY, now, actor_id)


def cancel_dial(ctx: Context, actor: Actor, call_id: int) -> Call:
    """The agent hangs up while it rings ("Raccrocher" during "Numérotation…")."""
    with ctx.unit() as session:
        now = ctx.now()
        call = calls._load(session, call_id, lock=True)
        if call.agent_id != actor.id:
            raise PermissionDenied(N_("Cet appel n'est pas sur votre poste."))
        state = CallState(call.state)
        if state in LIVE:
            pass  # answered meanwhile: an ordinary hang-up, below
        elif state != CallState.DIALING:
            return call  # already ended: a double click cancels once
        else:
            end_dial(session, call, now, actor.id, by_agent=True)
            return call
    return calls.hang_up(ctx, actor, call_id)


# --- the ticker -----------------------------------------------------------------------------------


def tick(ctx: Context) -> None:
    """Once a second (from ``calls.tick``): apply the network's responses, hand answered
    calls to free agents or drop them, then pace each progressive or predictive campaign.
    Two small reads when no campaign is dialing."""
    with ctx.read() as session:
        active = session.execute(select(Campaign.id, Campaign.dial_mode)
                                 .where(Campaign.status.in_([s.value for s in DIALING_STATUSES]))).all()
        ringing = session.scalar(select(Call.id).where(Call.state == _DIALING).limit(1)) is not None
    if ringing:
        _advance(ctx)
    for campaign_id, mode in active:
        if mode in AUTOMATED_MODES:
            try:
                _pace(ctx, campaign_id)
            except Exception:  # one campaign's fault (e.g. settings edited by hand) never stops the others
                log.exception("dialer: pacing campaign %s failed", campaign_id)


def _advance(ctx: Context) -> None:
    """Dials whose ringing time is over get the network's response; answered calls of a
    predictive campaign go to a free agent, or are dropped after ``drop_after_s``."""
    with ctx.read() as session:
        now = ctx.now()
        rows = session.execute(select(Call.id, Call.agent_id, DialAttempt.at, DialAttempt.network_after_s,
                                      DialAttempt.answered_at)
                               .join(DialAttempt, DialAttempt.call_id == Call.id)
                               .where(Call.state == _DIALING)).all()
    due = [call_id for call_id, agent_id, at, after_s, answered_at in rows
           if answered_at is not None and agent_id is None
           or answered_at is None and now >= as_utc(at) + timedelta(seconds=after_s or 0)]
    if not due:
        return
    with ctx.unit() as session:
        now = ctx.now()
        query = select(Call).where(Call.id.in_(due), Call.state == _DIALING).order_by(Call.id) \
            .execution_options(populate_existing=True)
        if session.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        waiting: list[tuple[Call, DialAttempt]] = []
        changed: set[int] = set()
        for call in session.scalars(query).all():
            attempt = _attempt_of(session, call)
            if attempt is None:
                continue
            if attempt.answered_at is None:
                response = Response(attempt.network_response or Response.NO_ANSWER)
                if response not in HUMAN:
                    if response is Response.MACHINE:
                        attempt.answered_at = now
                    _fail(session, call, attempt, _NETWORK_OUTCOME[response], now)
                    changed.add(call.campaign_id)
                    continue
                if call.agent_id is not None:  # preview, progressive, a reserved callback: the agent is on it
                    _connect(session, call, attempt, now, response.value)
                    changed.add(call.campaign_id)
                    continue
                attempt.answered_at = now  # predictive: a person on the line, waiting for an agent
            waiting.append((call, attempt))
        changed |= _hand_over(session, ctx, waiting, now)
        for campaign_id in changed:
            campaign = session.get(Campaign, campaign_id)
            if campaign is not None:
                emit(session, FLOOR, "dialer", _stats(session, campaign, now).as_dict(), now)


def _hand_over(session: Session, ctx: Context, waiting: list[tuple[Call, DialAttempt]], now: datetime) -> set[int]:
    """Answered predictive calls, oldest answer first, to the campaign's longest idle free agent;
    a call nobody took within the campaign's ``drop_after_s`` is dropped."""
    changed: set[int] = set()
    free: dict[int, list[AgentPresence]] = {}
    for call, attempt in sorted(waiting, key=lambda pair: (as_utc(pair[1].answered_at), pair[0].id)):
        campaign = session.get(Campaign, call.campaign_id)
        if call.campaign_id not in free:
            free[call.campaign_id] = _free_agents(session, call.campaign_id)
        agents = free[call.campaign_id]
        if agents:
            presence = agents.pop(0)
            call.agent_id = presence.user_id
            change_state(session, presence.user_id, AgentState.ON_CALL, now, call_id=call.id)
            response = attempt.network_response or Response.ANSWERED.value
            _connect(session, call, attempt, now, response)
            _reserve(session, attempt, presence.user_id)
            changed.add(call.campaign_id)
        elif (now - as_utc(attempt.answered_at)).total_seconds() >= (campaign.drop_after_s or 0):
            _drop(session, ctx, campaign, call, attempt, now)
            changed.add(call.campaign_id)
    return changed


def _reserve(session: Session, attempt: DialAttempt, agent_id: int) -> None:
    """The agent who got a predictive call holds its contact while on it, and the attempt names them."""
    attempt.agent_id = agent_id
    cc = session.get(CampaignContact, attempt.campaign_contact_id) if attempt.campaign_contact_id else None
    if cc is not None:
        cc.locked_by = agent_id


def _free_agents(session: Session, campaign_id: int, lock: bool = True) -> list[AgentPresence]:
    """The campaign's available agents, longest idle first (``lock``: locked on PostgreSQL, as routing does)."""
    query = select(AgentPresence).where(AgentPresence.campaign_id == campaign_id,
                                        AgentPresence.state == AgentState.AVAILABLE) \
        .order_by(AgentPresence.idle_since, AgentPresence.user_id).execution_options(populate_existing=True)
    if lock and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    presences = list(session.scalars(query))
    if not presences:
        return []
    # an agent with a call still on their desktop is not free, whatever their presence says
    on_call = set(session.scalars(select(Call.agent_id).where(
        Call.agent_id.in_([p.user_id for p in presences]), Call.state.in_([s.value for s in WITH_AGENT]))))
    return [p for p in presences if p.user_id not in on_call]


def _pace(ctx: Context, campaign_id: int) -> None:
    """One pacing round for a progressive or predictive campaign."""
    with ctx.read() as session:  # most seconds nothing is due: decide without the write lock first
        now = ctx.now()
        campaign = session.get(Campaign, campaign_id)
        if campaign is None or not _may_dial(campaign, now):
            return
        free = _free_agents(session, campaign.id, lock=False)
        if not free:
            if campaign.dial_mode != DialMode.PREDICTIVE or not _decision(session, campaign, now, 0).dials:
                return
        elif not _due(session, campaign, now, 1, lock=False) and not any(
                _due(session, campaign, now, 1, agent_id=p.user_id, lock=False) for p in free):
            return
    with ctx.unit() as session:
        now = ctx.now()
        query = select(Campaign).where(Campaign.id == campaign_id).execution_options(populate_existing=True)
        if session.bind.dialect.name == "postgresql":
            query = query.with_for_update()  # one pacing round per campaign at a time, across instances
        campaign = session.scalars(query).first()
        if campaign is None or not _may_dial(campaign, now):
            return
        free = _free_agents(session, campaign.id)
        placed = blocked = 0
        # callbacks promised by an agent come back to that agent, before anything else
        for presence in list(free):
            for cc in _due(session, campaign, now, 1, agent_id=presence.user_id):
                if _try_dial(session, ctx, campaign, cc, now, presence.user_id, reserved=True) is not None:
                    free.remove(presence)
                    placed += 1
                else:
                    blocked += 1
        decision = _decision(session, campaign, now, len(free))
        wanted = decision.dials
        if campaign.dial_mode == DialMode.PROGRESSIVE:
            wanted = min(wanted, len(free))
        if wanted > 0:
            dialed = 0
            for cc in _due(session, campaign, now, wanted + MAX_BLOCKED_PER_TICK):
                if dialed >= wanted or blocked >= MAX_BLOCKED_PER_TICK:
                    break
                agent_id = free[dialed].user_id if campaign.dial_mode == DialMode.PROGRESSIVE else None
                if _try_dial(session, ctx, campaign, cc, now, agent_id, reserved=agent_id is not None) is None:
                    blocked += 1
                else:
                    dialed += 1
            placed += dialed
        if placed or blocked:
            emit(session, FLOOR, "dialer", _stats(session, campaign, now, decision).as_dict(), now)


def _may_dial(campaign: Campaign, now: datetime) -> bool:
    return (campaign.status in DIALING_STATUSES and campaign.dial_mode in AUTOMATED_MODES
            and window_open(campaign, now))


# --- pacing figures -------------------------------------------------------------------------------


@dataclass
class _Today:
    """The campaign's day so far (its local day) and its lines and agents now: what ``pacing.decide`` weighs."""

    profile: NetworkProfile
    dials: int = 0
    connected: int = 0
    dropped: int = 0
    #: dials placed at least one give-up time ago (every one answered or not by now), and those a
    #: person answered: the measured answer rate. Counted as they resolve, busy numbers (known in
    #: 2 s) would come first and unanswered ones (25 s) last: the rate would read low, then high
    settled: int = 0
    human: int = 0
    #: mean ring time before a person answered, on the same settled dials (quick answers come first too)
    mean_ring_s: float | None = None
    #: ringing with no agent on the line yet (predictive), and answered waiting for an agent; a
    #: dial an agent already sits on (progressive, a reserved callback) counts with the busy agents
    in_flight: int = 0
    waiting: int = 0
    #: how long each of the ``in_flight`` lines has rung
    in_flight_ages_s: tuple[float, ...] = ()
    #: handling times (talk + hold + wrap-up) of the calls put through in the last ``HANDLE_WINDOW_S``, closed
    recent_handle_s: tuple[float, ...] = ()
    #: how long each busy agent of the campaign has been on their call (talk + wrap-up so far)
    busy_elapsed_s: tuple[float, ...] = ()


def give_up_s(profile: NetworkProfile) -> float:
    """How long the network lets an unanswered dial ring: every dial placed that long ago has its answer."""
    return max(MIN_NO_ANSWER_RING_S, profile.no_answer_after_s)


def _today(session: Session, campaign: Campaign, now: datetime) -> _Today:
    start = _day_start(campaign, now)
    profile = NetworkProfile.from_dict(campaign.network)
    a = DialAttempt
    human = a.network_response.in_([r.value for r in HUMAN])
    # a dial the agent hung up while it rang tells nothing about the list
    settled = and_(a.at <= now - timedelta(seconds=give_up_s(profile)),
                   or_(a.answered_at.is_not(None), a.outcome.is_not(None)),
                   a.outcome.is_distinct_from(Outcome.CANCELLED))
    row = session.execute(select(
        func.count(a.id),
        func.sum(case((a.connected_at.is_not(None), 1), else_=0)),
        func.sum(case((a.outcome == Outcome.DROPPED, 1), else_=0)),
        func.sum(case((settled, 1), else_=0)),
        func.sum(case((and_(settled, human), 1), else_=0)),
        func.avg(case((and_(settled, human, a.answered_at.is_not(None)), a.network_after_s))),
    ).where(a.campaign_id == campaign.id, a.allowed.is_(True), a.at >= start)).one()
    today = _Today(profile, row[0] or 0, row[1] or 0, row[2] or 0, row[3] or 0, row[4] or 0,
                   float(row[5]) if row[5] is not None else None)
    ages = []
    for at, answered_at in session.execute(
            select(DialAttempt.at, DialAttempt.answered_at).select_from(Call)
            .join(DialAttempt, DialAttempt.call_id == Call.id)
            .where(Call.campaign_id == campaign.id, Call.state == _DIALING, Call.agent_id.is_(None))):
        if answered_at is None:
            ages.append(max(0.0, (now - as_utc(at)).total_seconds()))
        else:
            today.waiting += 1
    today.in_flight, today.in_flight_ages_s = len(ages), tuple(ages)
    today.recent_handle_s = tuple(float(seconds or 0) for seconds in session.scalars(
        select(Call.talk_seconds + Call.hold_seconds + Call.wrap_up_seconds).where(
            Call.campaign_id == campaign.id, Call.state == CallState.CLOSED,
            Call.answered_at >= now - timedelta(seconds=HANDLE_WINDOW_S))))
    today.busy_elapsed_s = _busy_elapsed(session, campaign.id, now)
    return today


def _busy_elapsed(session: Session, campaign_id: int, now: datetime) -> tuple[float, ...]:
    """For each busy agent of the campaign, the time since their call was put through (0 while
    their dial still rings); without a call, since they became busy."""
    started: dict[int, float] = {}
    for user_id, since, call_id, answered_at in session.execute(
            select(AgentPresence.user_id, AgentPresence.since, Call.id, Call.answered_at).select_from(AgentPresence)
            .outerjoin(Call, and_(Call.agent_id == AgentPresence.user_id,
                                  Call.state.in_([s.value for s in WITH_AGENT])))
            .where(AgentPresence.campaign_id == campaign_id, AgentPresence.state.in_([s.value for s in BUSY]))):
        moment = answered_at if answered_at is not None else since if call_id is None else now
        elapsed = max(0.0, (now - as_utc(moment)).total_seconds())
        started[user_id] = max(elapsed, started.get(user_id, 0.0))
    return tuple(started.values())


def _input(campaign: Campaign, today: _Today, free: int, busy: int) -> pacing.PacingInput:
    profile = today.profile
    return pacing.PacingInput(
        mode=campaign.dial_mode, free_agents=free, busy_agents=busy, in_flight=today.in_flight,
        waiting=today.waiting, answer_rate=today.human / today.settled if today.settled else None,
        prior_answer_rate=profile.human_rate, connected_today=today.connected, dropped_today=today.dropped,
        abandon_cap=campaign.abandon_cap, mean_ring_s=today.mean_ring_s or profile.answer_median_s,
        mean_handle_s=pacing.handling_mean(today.recent_handle_s, today.busy_elapsed_s, PRIOR_HANDLE_S),
        samples=today.settled, in_flight_ages_s=today.in_flight_ages_s, network=profile,
        busy_elapsed_s=today.busy_elapsed_s, recent_handle_s=today.recent_handle_s)


def pacing_input(ctx: Context, campaign_id: int) -> pacing.PacingInput:
    """The campaign's state as its pacing weighs it now (agents, lines, measured rates): what
    ``tick`` would ask ``pacing.decide`` about, for the supervisor's questions and the tests."""
    with ctx.read() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFoundError(N_("Campagne introuvable."))
        now = ctx.now()
        today = _today(session, campaign, now)
        free = len(_free_agents(session, campaign.id, lock=False))
        return _input(campaign, today, free, len(today.busy_elapsed_s))


def _decision(session: Session, campaign: Campaign, now: datetime, free: int) -> pacing.PacingDecision:
    today = _today(session, campaign, now)
    return pacing.decide(_input(campaign, today, free, len(today.busy_elapsed_s)))


# --- what the supervisor sees -----------------------------------------------------------------------


@dataclass(frozen=True)
class DialerStats:
    """The dialer of one campaign now: pacing, today's abandon rate, agents."""

    campaign_id: int
    mode: str
    status: str
    #: lines dialed per agent able to take a call, by the pacing's rule now
    dial_level: float
    #: why the pacing dials as it does (``PacingDecision.reason``), and what that means: a French
    #: msgid (``pacing.REASON_LABELS``), translated where it is shown
    reason: str
    reason_label: str
    #: dropped / connected, today (the campaign's local day), against the cap
    abandon_rate: float
    abandon_cap: float
    agents_logged_in: int
    agents_free: int
    agents_busy: int
    #: busy / (free + busy) now: the share of working agents on a call or in wrap-up
    occupancy: float
    in_flight: int
    waiting: int
    dials_today: int
    connected_today: int
    dropped_today: int

    def as_dict(self) -> dict:
        return asdict(self)


def stats(ctx: Context, campaign_id: int) -> DialerStats:
    with ctx.read() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFoundError(N_("Campagne introuvable."))
        return _stats(session, campaign, ctx.now())


def _stats(session: Session, campaign: Campaign, now: datetime, decision: pacing.PacingDecision | None = None) -> DialerStats:
    counts = dict(session.execute(select(AgentPresence.state, func.count()).where(
        AgentPresence.campaign_id == campaign.id, AgentPresence.state != AgentState.OFFLINE)
        .group_by(AgentPresence.state)).all())
    free = len(_free_agents(session, campaign.id, lock=False))
    busy = sum(counts.get(s.value, 0) for s in BUSY)
    today = _today(session, campaign, now)
    if decision is None:
        decision = pacing.decide(_input(campaign, today, free, busy))
    return DialerStats(
        campaign_id=campaign.id, mode=campaign.dial_mode, status=campaign.status, dial_level=decision.dial_level,
        reason=decision.reason, reason_label=pacing.REASON_LABELS.get(decision.reason, decision.reason),
        abandon_rate=round(pacing.abandon_rate(today.connected, today.dropped), 4),
        abandon_cap=campaign.abandon_cap, agents_logged_in=sum(counts.values()), agents_free=free, agents_busy=busy,
        occupancy=round(busy / (free + busy), 4) if free + busy else 0.0, in_flight=today.in_flight,
        waiting=today.waiting, dials_today=today.dials, connected_today=today.connected,
        dropped_today=today.dropped)


# --- preview mode ----------------------------------------------------------------------------------


@dataclass
class PreviewView:
    """The record an agent previews before dialing, and the calling rules' verdict on it now."""

    campaign: Campaign
    campaign_contact: CampaignContact
    contact: Contact
    #: the number that will be dialed (E.164; None: the contact has none)
    number: str | None
    decision: Decision
    #: this contact's earlier attempts in the campaign, newest first
    attempts: list[DialAttempt]
    script: CallScript | None

    @property
    def allowed(self) -> bool:
        return self.decision.allowed and self.number is not None


def preview(ctx: Context, actor: Actor) -> PreviewView | None:
    """The next record for this agent (their callbacks first), locked to them; the same one
    again while they have not dialed or skipped it. None when nothing is due.

    A record the calling rules refuse is recorded as blocked (attempt, reasons, the
    supervisor told) and shown with its reasons: the agent moves on with "Passer"."""
    with ctx.unit() as session:
        now = ctx.now()
        campaign = _joined(session, actor)
        _require_preview(session, campaign, actor, now)
        cc = _previewed(session, campaign, actor.id)
        if cc is not None:
            return _preview_view(session, campaign, cc, now)
        _release_stale_previews(session, campaign)
        while True:
            picked = _due(session, campaign, now, 1, agent_id=actor.id) or _due(session, campaign, now, 1)
            if not picked:
                return None
            cc = picked[0]
            contact = session.get(Contact, cc.contact_id)
            number = _number_of(contact)
            if number is None:
                _no_number(cc, now)
                continue
            cc.locked_by, cc.updated_at = actor.id, now
            decision = compliance.check_dial(session, number=number, contact=contact, campaign=campaign,
                                             mode=DialMode.PREVIEW.value, now=now, agent_reserved=True)
            if not decision.allowed:
                _block(session, ctx, campaign, cc, contact, number, decision, now, actor.id, keep_lock=True)
            return _preview_view(session, campaign, cc, now, decision)


def explain(campaign: Campaign, reasons) -> list[tuple[Reason, str]]:
    """Each refusal reason with its rule's title in the campaign's country profile ("" if unknown)."""
    try:
        profile = compliance.load_profile(campaign.country or "FR")
    except ProfileError:  # no profile file for that country: the reason still names its rule id
        profile = None
    rows = []
    for reason in reasons:
        rule = profile.rule(reason.rule) if profile is not None else None
        rows.append((reason, rule.label if rule is not None else ""))
    return rows


def current_preview(ctx: Context, actor: Actor) -> PreviewView | None:
    """The record the agent is previewing, if any (read only: a page reload shows it again)."""
    with ctx.read() as session:
        presence = session.get(AgentPresence, actor.id)
        campaign = session.get(Campaign, presence.campaign_id) if presence and presence.campaign_id else None
        if campaign is None or campaign.dial_mode != DialMode.PREVIEW:
            return None
        cc = _previewed(session, campaign, actor.id)
        return _preview_view(session, campaign, cc, ctx.now()) if cc is not None else None


def _previewed(session: Session, campaign: Campaign, agent_id: int) -> CampaignContact | None:
    return session.scalars(select(CampaignContact).where(
        CampaignContact.campaign_id == campaign.id, CampaignContact.locked_by == agent_id,
        CampaignContact.state != ContactState.IN_PROGRESS).order_by(CampaignContact.id).limit(1)).first()


def _require_preview(session: Session, campaign: Campaign, actor: Actor, now: datetime) -> None:
    if campaign.dial_mode != DialMode.PREVIEW:
        raise DomainError(N_("La campagne « %(name)s » n'est pas en mode aperçu : ses appels arrivent seuls."),
                          "campaign_id", name=campaign.name)
    _require_dialing(campaign, now)
    if calls._has_work(session, and_(Call.agent_id == actor.id, Call.state.in_([s.value for s in WITH_AGENT]))):
        raise IllegalTransition(N_("Terminez d'abord l'appel en cours (qualification comprise)."))


def _preview_view(session: Session, campaign: Campaign, cc: CampaignContact, now: datetime,
                  decision: Decision | None = None) -> PreviewView:
    contact = session.get(Contact, cc.contact_id)
    _ = list(contact.phones)  # loaded before the session closes
    attempts = list(session.scalars(select(DialAttempt).where(DialAttempt.campaign_contact_id == cc.id)
                                    .order_by(DialAttempt.id.desc()).limit(10)))
    number = _number_of(contact)
    if decision is None:
        if cc.state == ContactState.BLOCKED and attempts and not attempts[0].allowed:
            decision = Decision(False, tuple(Reason(r.get("rule", ""), r.get("reference", ""), r.get("message", ""),
                                                    r.get("msgid", ""), tuple((r.get("params") or {}).items()))
                                             for r in attempts[0].reasons or []), as_utc(cc.next_at) if cc.next_at else None)
        elif number is not None:
            decision = compliance.check_dial(session, number=number, contact=contact, campaign=campaign,
                                             mode=DialMode.PREVIEW.value, now=now, agent_reserved=True)
        else:
            decision = Decision(False)
    script = session.get(CallScript, campaign.script_id) if campaign.script_id else None
    return PreviewView(campaign, cc, contact, number, decision, attempts, script)


def _release_previews(session: Session, agent_id: int, now: datetime) -> None:
    """An agent leaving a campaign gives back the records they were previewing."""
    for cc in session.scalars(select(CampaignContact).where(CampaignContact.locked_by == agent_id,
                                                            CampaignContact.state != ContactState.IN_PROGRESS)):
        cc.locked_by, cc.updated_at = None, now


def _release_stale_previews(session: Session, campaign: Campaign) -> None:
    """Records previewed by agents no longer working the campaign (logged out, gone elsewhere) go back to the list."""
    working = select(AgentPresence.user_id).where(AgentPresence.campaign_id == campaign.id,
                                                  AgentPresence.state != AgentState.OFFLINE)
    for cc in session.scalars(select(CampaignContact).where(
            CampaignContact.campaign_id == campaign.id, CampaignContact.locked_by.is_not(None),
            CampaignContact.state != ContactState.IN_PROGRESS, CampaignContact.locked_by.not_in(working))):
        cc.locked_by = None


def dial(ctx: Context, actor: Actor, campaign_contact_id: int) -> Call:
    """"Appeler": dial the previewed record. A double click dials once: the second click
    finds the call the first one placed."""
    with ctx.unit() as session:
        now = ctx.now()
        query = select(CampaignContact).where(CampaignContact.id == campaign_contact_id)
        if session.bind.dialect.name == "postgresql":
            query = query.with_for_update()
        cc = session.scalars(query.execution_options(populate_existing=True)).first()
        if cc is None:
            raise NotFoundError(N_("Fiche de campagne introuvable."))
        placed = session.scalars(select(Call).join(DialAttempt, DialAttempt.call_id == Call.id).where(
            DialAttempt.campaign_contact_id == cc.id, Call.agent_id == actor.id,
            Call.state.in_([s.value for s in WITH_AGENT]))).first()
        if placed is not None:
            return placed
        campaign = _joined(session, actor)
        if campaign.id != cc.campaign_id:
            raise PermissionDenied(N_("Cette fiche n'appartient pas à la campagne que vous travaillez."))
        _require_preview(session, campaign, actor, now)
        if cc.locked_by != actor.id:
            raise ConflictError(N_("Cette fiche n'est plus sur votre poste : affichez la fiche suivante."))
        if cc.state == ContactState.BLOCKED and cc.next_at is None:
            raise DomainError(N_("Les règles d'appel interdisent d'appeler ce contact : passez à la fiche suivante."),
                              "dial")
        contact = session.get(Contact, cc.contact_id)
        number = _number_of(contact)
        if number is None:
            raise DomainError(N_("Ce contact n'a pas de numéro de téléphone."), "dial")
        decision = compliance.check_dial(session, number=number, contact=contact, campaign=campaign,
                                         mode=DialMode.PREVIEW.value, now=now, agent_reserved=True)
        if decision.allowed:
            return _place(session, ctx, campaign, cc, contact, number, decision, now, actor.id, actor.id)
        _block(session, ctx, campaign, cc, contact, number, decision, now, actor.id, keep_lock=True)
    raise DomainError(N_("Appel bloqué par les règles d'appel : les raisons sont affichées sur la fiche."), "dial")


def skip(ctx: Context, actor: Actor, campaign_contact_id: int) -> PreviewView | None:
    """"Passer": the record goes back to the list (not before ``SKIP_MINUTES``; a blocked one
    waits for its rules), and the next one is shown. A double click skips once."""
    with ctx.unit() as session:
        now = ctx.now()
        query = select(CampaignContact).where(CampaignContact.id == campaign_contact_id)
        if session.bind.dialect.name == "postgresql":
            query = query.with_for_update()
        cc = session.scalars(query.execution_options(populate_existing=True)).first()
        if cc is None:
            raise NotFoundError(N_("Fiche de campagne introuvable."))
        if cc.locked_by == actor.id and cc.state != ContactState.IN_PROGRESS:
            if cc.state in (ContactState.PENDING, ContactState.SCHEDULED):
                cc.next_at = now + timedelta(minutes=SKIP_MINUTES)
            cc.locked_by, cc.updated_at = None, now
        elif cc.locked_by is not None and cc.locked_by != actor.id:
            raise ConflictError(N_("Cette fiche n'est plus sur votre poste : affichez la fiche suivante."))
    return preview(ctx, actor)


# --- the trainer plays the called party ------------------------------------------------------------


def calls_to_play(ctx: Context, limit: int = 20) -> list[calls.CallView]:
    """Outbound calls ringing or connected that no trainer plays yet (the caller console's list)."""
    with ctx.read() as session:
        rows = session.scalars(select(Call).where(
            Call.direction == Direction.OUTBOUND, Call.caller_user_id.is_(None),
            Call.state.in_([CallState.DIALING.value] + [s.value for s in LIVE])).order_by(Call.id).limit(limit)).all()
        return [calls._view(session, call, ctx.now()) for call in rows]


def play_callee(ctx: Context, actor: Actor, call_id: int) -> Call:
    """"Jouer l'appelé": the trainer becomes the called party and talks on the call's line."""
    if not actor.is_supervisor:
        raise PermissionDenied(N_("Seuls les formateurs et superviseurs peuvent jouer l'appelé."))
    with ctx.unit() as session:
        now = ctx.now()
        call = calls._load(session, call_id, lock=True)
        if call.caller_user_id == actor.id:
            return call
        if call.direction != Direction.OUTBOUND:
            raise IllegalTransition(N_("Seul un appel sortant a un appelé à jouer."))
        if call.caller_user_id is not None:
            raise ConflictError(N_("Un autre formateur joue déjà cet appelé."))
        if CallState(call.state) not in (CallState.DIALING, *LIVE):
            raise IllegalTransition(N_("Cet appel est terminé : il n'y a plus d'appelé à jouer."))
        call.caller_user_id = actor.id
        calls._record(session, call, "callee", call.state, call.state, now, actor.id, {"user_id": actor.id})
        calls._notify(session, call, "callee", now)
        return call
