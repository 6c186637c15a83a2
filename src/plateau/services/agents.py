"""Agent presence: the state an agent picks, and the ones calls impose."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.agents import BUSY, AgentState, check_choice
from ..store.models import AgentPresence, AgentStateChange, QueueMember, User
from .context import FLOOR, Actor, Context, emit, user_channel


def presence_of(session: Session, user_id: int, now: datetime) -> AgentPresence:
    presence = session.get(AgentPresence, user_id)
    if presence is None:
        presence = AgentPresence(user_id=user_id, state=AgentState.OFFLINE, since=now, idle_since=None)
        session.add(presence)
        session.flush()
    return presence


def change_state(session: Session, user_id: int, state: AgentState, now: datetime,
                 pause_reason: str | None = None, call_id: int | None = None) -> AgentPresence:
    """Set and log a state; the single place presence changes (calls use it too)."""
    presence = presence_of(session, user_id, now)
    if presence.state == state and presence.pause_reason == pause_reason:
        return presence
    presence.state = state
    presence.pause_reason = pause_reason
    presence.since = now
    if state == AgentState.AVAILABLE:
        presence.idle_since = now
    session.add(AgentStateChange(user_id=user_id, state=state, pause_reason=pause_reason, at=now, call_id=call_id))
    payload = {"user_id": user_id, "state": str(state), "pause_reason": pause_reason, "since": now.isoformat(),
               "call_id": call_id}
    emit(session, user_channel(user_id), "agent_state", payload, now)
    emit(session, FLOOR, "agent_state", payload, now)
    return presence


def set_state(ctx: Context, actor: Actor, state: str, pause_reason: str | None = None) -> AgentPresence:
    """The agent picks Disponible, En pause (with a reason) or Hors ligne."""
    with ctx.unit() as session:
        now = ctx.now()
        presence = presence_of(session, actor.id, now)
        wanted = AgentState(state) if state in AgentState.__members__.values() else None
        if wanted is None:
            from ..domain.errors import N_, DomainError

            raise DomainError(N_("État inconnu."), "state")
        reason = check_choice(AgentState(presence.state), wanted, pause_reason)
        change_state(session, actor.id, wanted, now, reason)
    if wanted == AgentState.AVAILABLE:
        from . import calls

        calls.route_waiting(ctx)
    return presence


def log_off(ctx: Context, actor: Actor) -> None:
    """On logout: offline, unless a call still needs the agent."""
    with ctx.unit() as session:
        presence = presence_of(session, actor.id, ctx.now())
        if AgentState(presence.state) not in BUSY:
            change_state(session, actor.id, AgentState.OFFLINE, ctx.now())


def get_presence(ctx: Context, user_id: int) -> AgentPresence:
    with ctx.read() as session:
        presence = session.get(AgentPresence, user_id)
        return presence or AgentPresence(user_id=user_id, state=AgentState.OFFLINE, since=ctx.now())


def state_log(ctx: Context, user_id: int, limit: int = 50) -> list[AgentStateChange]:
    with ctx.read() as session:
        return list(session.scalars(select(AgentStateChange).where(AgentStateChange.user_id == user_id)
                                    .order_by(AgentStateChange.id.desc()).limit(limit)))


def queue_ids_of(session: Session, user_id: int) -> set[int]:
    return set(session.scalars(select(QueueMember.queue_id).where(QueueMember.user_id == user_id)))


def agents(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.role == "agent", User.active.is_(True)).order_by(User.display_name)))
