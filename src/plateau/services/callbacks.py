"""Callback tasks ("rappels"): the agents' list, taking one, closing it, moving it.

A callback is promised by an agent at wrap-up (for themselves or for the
queue's team) or asked for by a caller waiting in a queue
(``calls.request_callback``). An agent works those assigned to them and the
unassigned ones of the queues they belong to, oldest due first, so they are
honoured in the order they were promised ("kept in order").

Taking one ("Prendre") is a conditional UPDATE (still open, still
unassigned): when two agents click at once, the database lets exactly one
through and the other is told who has it. Every change is announced on the
floor channel and on the channels of the agents who could see the callback,
so their desktops drop a callback someone else took.

Calling the number back from Plateau does not exist yet: "Fait" records
that the agent called back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ..domain.clock import as_utc
from ..domain.contacts import formal_name
from ..domain.errors import N_, ConflictError, DomainError, IllegalTransition, NotFoundError, PermissionDenied, ValidationError
from ..store.models import Call, Callback, Contact, ContactPhone, Queue, QueueMember, User
from .context import FLOOR, Actor, Context, emit, user_channel

OPEN, DONE, CANCELLED = "open", "done", "cancelled"
OUTCOMES = (DONE, CANCELLED)
SOURCE_LABELS = {"caller": N_("Demandé par l'appelant en attente"), "agent": N_("Promis par un agent")}
STATUS_LABELS = {OPEN: N_("À faire"), DONE: N_("Fait"), CANCELLED: N_("Annulé")}
#: a callback due longer ago than this is shown as late
LATE_AFTER = timedelta(minutes=15)
MAX_NOTE = 2000


@dataclass
class CallbackView:
    """A callback as the lists show it."""

    callback: Callback
    #: the number to call (E.164): the callback's own, else the call's, else the contact's first
    number: str
    contact_name: str
    queue_name: str
    assignee_name: str
    #: "upcoming", "due" or "late" (more than LATE_AFTER past its time)
    timing: str

    @property
    def mine_to_take(self) -> bool:
        return self.callback.assigned_user_id is None


def timing(due_at: datetime, now: datetime) -> str:
    due_at = as_utc(due_at)
    if due_at > now:
        return "upcoming"
    return "late" if now - due_at > LATE_AFTER else "due"


def _visible_to(actor_id: int):
    """Open callbacks an agent works: theirs, and the unassigned ones of their queues."""
    queues = select(QueueMember.queue_id).where(QueueMember.user_id == actor_id)
    return or_(Callback.assigned_user_id == actor_id,
               Callback.assigned_user_id.is_(None) & Callback.queue_id.in_(queues))


def list_callbacks(ctx: Context, actor: Actor, scope: str = "mine", due_only: bool = False) -> list[CallbackView]:
    """Open callbacks by due time then id. ``scope="floor"``: every open one (supervisors)."""
    if scope == "floor" and not actor.is_supervisor:
        raise PermissionDenied(N_("Réservé aux superviseurs, formateurs et administrateurs."))
    with ctx.read() as session:
        now = ctx.now()
        query = select(Callback).where(Callback.status == OPEN).order_by(Callback.due_at, Callback.id)
        if scope != "floor":
            query = query.where(_visible_to(actor.id))
        if due_only:
            query = query.where(Callback.due_at <= now)
        return _views(session, list(session.scalars(query)), now)


def count_upcoming(ctx: Context, actor: Actor) -> int:
    """How many of the agent's open callbacks are not due yet (the desktop panel lists only due ones)."""
    with ctx.read() as session:
        return session.scalar(select(func.count()).select_from(Callback).where(
            Callback.status == OPEN, _visible_to(actor.id), Callback.due_at > ctx.now())) or 0


def _views(session: Session, rows: list[Callback], now: datetime) -> list[CallbackView]:
    contacts = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_({r.contact_id for r in rows} - {None})))}
    first_phone: dict[int, str] = {}
    for contact_id, e164 in session.execute(select(ContactPhone.contact_id, ContactPhone.e164)
                                            .where(ContactPhone.contact_id.in_(contacts))
                                            .order_by(ContactPhone.contact_id, ContactPhone.position)):
        first_phone.setdefault(contact_id, e164)
    call_numbers = dict(session.execute(select(Call.id, Call.caller_number)
                                        .where(Call.id.in_({r.call_id for r in rows} - {None}))).all())
    queues = dict(session.execute(select(Queue.id, Queue.name)).all())
    users = dict(session.execute(select(User.id, User.display_name)
                                 .where(User.id.in_({r.assigned_user_id for r in rows} - {None}))).all())
    return [CallbackView(
        callback=row,
        number=row.number or call_numbers.get(row.call_id) or first_phone.get(row.contact_id) or "",
        contact_name=formal_name(contacts[row.contact_id]) if row.contact_id in contacts else "",
        queue_name=queues.get(row.queue_id, "") if row.queue_id else "",
        assignee_name=users.get(row.assigned_user_id, "") if row.assigned_user_id else "",
        timing=timing(row.due_at, now)) for row in rows]


def get_callback(ctx: Context, actor: Actor, callback_id: int) -> CallbackView:
    with ctx.read() as session:
        callback = _load(session, callback_id)
        _require_access(session, actor, callback)
        return _views(session, [callback], ctx.now())[0]


# --- actions --------------------------------------------------------------------------------


def claim(ctx: Context, actor: Actor, callback_id: int) -> Callback:
    """Take a callback for oneself. Taking it twice is harmless; taken by someone else: refused."""
    with ctx.unit() as session:
        now = ctx.now()
        callback = _load(session, callback_id)
        _require_access(session, actor, callback)
        _claim(session, actor, callback, now)
        return callback


def _claim(session: Session, actor: Actor, callback: Callback, now: datetime) -> None:
    """Assign to ``actor`` in one conditional UPDATE, so that of two agents only one wins."""
    taken = session.execute(update(Callback).where(Callback.id == callback.id, Callback.status == OPEN,
                                                   Callback.assigned_user_id.is_(None))
                            .values(assigned_user_id=actor.id).execution_options(synchronize_session=False))
    session.refresh(callback)
    if taken.rowcount == 1:
        _notify(session, callback, "claim", now, {actor.id})
        return
    if callback.status != OPEN:
        raise IllegalTransition(N_("Ce rappel est déjà clôturé."))
    if callback.assigned_user_id != actor.id:
        raise ConflictError(N_("Ce rappel a déjà été pris par %(name)s."), "callback", name=_name(session, callback.assigned_user_id))


def complete(ctx: Context, actor: Actor, callback_id: int, outcome: str, note: str = "") -> Callback:
    """Close a callback: ``done`` (the agent called back) or ``cancelled`` (a reason is required).

    An unassigned callback is taken on the way. Repeating the same closing
    is harmless; closing it otherwise once closed is refused.
    """
    note = (note or "").strip()
    if outcome not in OUTCOMES:
        raise ValidationError({"outcome": DomainError(N_("Issue du rappel inconnue."), "outcome")})
    if outcome == CANCELLED and not note:
        raise ValidationError({"note": DomainError(N_("Indiquez pourquoi le rappel est annulé."), "note")})
    if len(note) > MAX_NOTE:
        raise ValidationError({"note": DomainError(N_("La note dépasse %(max)s caractères."), "note", max=MAX_NOTE)})
    with ctx.unit() as session:
        now = ctx.now()
        callback = _load(session, callback_id, lock=True)
        _require_access(session, actor, callback)
        if callback.status == outcome and callback.done_by == actor.id:
            return callback
        if callback.status != OPEN:
            raise IllegalTransition(N_("Ce rappel est déjà clôturé."))
        _take_if_needed(session, actor, callback, now)
        callback.status = outcome
        callback.done_at = now
        callback.done_by = actor.id
        if note:
            callback.note = f"{callback.note}\n{note}".strip() if callback.note else note
        _notify(session, callback, outcome, now, {actor.id})
        return callback


def reschedule(ctx: Context, actor: Actor, callback_id: int, date: str, time: str, note: str = "") -> Callback:
    """Move a callback to another local date and time (in the future, within a year), checked like
    the wrap-up form's callback (``calls`` may one day announce new callbacks through this module,
    hence the import here)."""
    from .calls import CallbackRequest, _callback_due

    note = (note or "").strip()
    errors: dict[str, DomainError] = {}
    if len(note) > MAX_NOTE:
        errors["note"] = DomainError(N_("La note dépasse %(max)s caractères."), "note", max=MAX_NOTE)
    if not (date or "").strip():
        errors["callback_date"] = DomainError(N_("Indiquez la nouvelle date du rappel."), "callback_date")
    with ctx.unit() as session:
        now = ctx.now()
        callback = _load(session, callback_id, lock=True)
        _require_access(session, actor, callback)
        if callback.status != OPEN:
            raise IllegalTransition(N_("Ce rappel est déjà clôturé."))
        due = None if errors else _callback_due(ctx, CallbackRequest(date=date, time=time), now, errors)
        if errors:
            raise ValidationError(errors)
        _take_if_needed(session, actor, callback, now)
        callback.due_at = due
        if note:
            callback.note = f"{callback.note}\n{note}".strip() if callback.note else note
        _notify(session, callback, "reschedule", now, {actor.id})
        return callback


def _take_if_needed(session: Session, actor: Actor, callback: Callback, now: datetime) -> None:
    """Closing or moving someone's callback: one's own, an unassigned one (taken), or any for a supervisor."""
    if callback.assigned_user_id is None:
        _claim(session, actor, callback, now)
    elif callback.assigned_user_id != actor.id and not actor.is_supervisor:
        raise ConflictError(N_("Ce rappel a déjà été pris par %(name)s."), "callback",
                            name=_name(session, callback.assigned_user_id))


# --- internals --------------------------------------------------------------------------------


def _load(session: Session, callback_id: int, lock: bool = False) -> Callback:
    query = select(Callback).where(Callback.id == callback_id)
    if lock and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    callback = session.scalars(query).first()
    if callback is None:
        raise NotFoundError(N_("Rappel introuvable."))
    return callback


def _require_access(session: Session, actor: Actor, callback: Callback) -> None:
    """Supervisors reach every callback; an agent theirs and their queues' unassigned ones.

    A colleague's callback in one of my queues is not hidden: I am told who has it.
    """
    if actor.is_supervisor or callback.assigned_user_id == actor.id:
        return
    if _in_queue(session, actor, callback):
        if callback.assigned_user_id is None:
            return
        if callback.status != OPEN:
            raise IllegalTransition(N_("Ce rappel est déjà clôturé."))
        raise ConflictError(N_("Ce rappel a déjà été pris par %(name)s."), "callback",
                            name=_name(session, callback.assigned_user_id))
    raise PermissionDenied(N_("Ce rappel n'est pas pour vous."))


def _in_queue(session: Session, actor: Actor, callback: Callback) -> bool:
    return callback.queue_id is not None and session.scalar(
        select(QueueMember.user_id).where(QueueMember.queue_id == callback.queue_id,
                                          QueueMember.user_id == actor.id)) is not None


def _name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return user.display_name if user else ""


def audience(session: Session, callback: Callback) -> set[int]:
    """The agents whose list shows (or showed) this callback: its assignee and its queue's members."""
    users = {callback.assigned_user_id} - {None}
    if callback.queue_id is not None:
        users |= set(session.scalars(select(QueueMember.user_id).where(QueueMember.queue_id == callback.queue_id)))
    return users


def _notify(session: Session, callback: Callback, action: str, now: datetime, extra: set[int | None] = frozenset()) -> None:
    payload = {"id": callback.id, "action": action, "status": callback.status, "queue_id": callback.queue_id,
               "assigned_user_id": callback.assigned_user_id, "due_at": as_utc(callback.due_at).isoformat(),
               "at": now.isoformat()}
    for user_id in sorted(audience(session, callback) | (set(extra) - {None})):
        emit(session, user_channel(user_id), "callback", payload, now)
    emit(session, FLOOR, "callback", payload, now)


def notify_created(session: Session, callback: Callback, now: datetime) -> None:
    """For the code that creates callbacks (``calls``): tell the desktops that may take it."""
    _notify(session, callback, "new", now)
