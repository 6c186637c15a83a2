"""Past calls of the demo company, so history pages and reports are not empty.

Each call replays a conversation of ``data/demo/history.yaml`` through the
domain state machine (offer → ring → answer → [hold → resume] → hang up →
close), with the same events, durations, utterances, notes, field changes
and callbacks that live calls leave behind. Times fall in opening hours over
the last four months; the most recent promised callbacks are still open.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..domain.calls import CallAction, CallState, Transition, durations, next_state
from ..domain.contacts import formal_name
from ..store.models import (Call, CallEvent, Callback, Contact, ContactChange, ContactPhone, Disposition, Note, Queue,
                            User, Utterance)
from .context import Context
from .demo_data import DemoData, HistoryCall

#: streets the demo customers lived in before a move recorded in history
PREVIOUS_STREETS = ("rue Victor Hugo", "avenue Jean Jaurès", "impasse des Lilas", "rue de la République",
                    "boulevard Pasteur", "allée des Tilleuls", "rue du Général-Leclerc", "chemin des Vignes")
OPEN_CALLBACKS = 6
HISTORY_DAYS = 120


@dataclass
class _Plan:
    start: datetime
    template: HistoryCall
    contact_id: int
    number: str
    open_callback_due: datetime | None = None


@dataclass
class _Replay:
    """A call's rows before they are written: the call, then what hangs off it."""

    call: Call
    events: list[dict] = field(default_factory=list)
    children: list = field(default_factory=list)


def seed_history(ctx: Context, data: DemoData, rng: random.Random, count: int, agents: list[User], trainer: User,
                 featured_ids: list[int]) -> int:
    """Write ``count`` closed calls (three of them for the first featured customer)."""
    if count <= 0 or not agents:
        return 0
    now, tz = ctx.now(), ZoneInfo(ctx.settings.timezone)
    with ctx.unit() as session:
        queues = {q.code: q for q in session.scalars(select(Queue))}
        dispositions = {d.code: d for d in session.scalars(select(Disposition))}
        pool = session.execute(select(ContactPhone.contact_id, ContactPhone.e164, Contact.customer_number)
                               .join(Contact, Contact.id == ContactPhone.contact_id)
                               .where(ContactPhone.position == 0, Contact.kind == "person")
                               .order_by(ContactPhone.contact_id).limit(5000)).all()
        if not pool:
            return 0
        plans = _featured_plans(session, data, featured_ids, now, tz)
        with_number = [row for row in pool if row.customer_number] or pool
        templates = data.history.calls
        for _ in range(max(0, count - len(plans))):
            template = rng.choice(templates)
            row = rng.choice(with_number if _needs_number(template) else pool)
            plans.append(_Plan(_opening_hours(rng, now, tz), template, row.contact_id, row.e164))
        plans.sort(key=lambda p: p.start)
        callbacks = [p for p in plans if p.template.callback]
        for index, plan in enumerate(callbacks[-OPEN_CALLBACKS:]):
            day = (now.astimezone(tz) + timedelta(days=index + 1)).date()
            plan.open_callback_due = datetime.combine(day, time(10 if index % 2 else 15, 30), tz).astimezone(ZoneInfo("UTC"))
        contacts = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_({p.contact_id for p in plans})))}
        replays = []
        for plan in plans:
            agent = rng.choice(agents)
            replays.append(_replay(rng, plan, agent, trainer, queues[plan.template.queue],
                                   dispositions[plan.template.disposition], contacts[plan.contact_id], data, tz))
        session.add_all([r.call for r in replays])
        session.flush()
        for replay in replays:
            session.add_all([CallEvent(call_id=replay.call.id, **event) for event in replay.events])
            for child in replay.children:
                child.call_id = replay.call.id
            session.add_all(replay.children)
    return len(plans)


def _featured_plans(session, data: DemoData, featured_ids: list[int], now: datetime, tz: ZoneInfo) -> list[_Plan]:
    """The featured customer's story: moved house, a payment plan, a power cut."""
    if not featured_ids:
        return []
    number = session.scalar(select(ContactPhone.e164).where(ContactPhone.contact_id == featured_ids[0])
                            .order_by(ContactPhone.position).limit(1))
    if number is None:
        return []
    firsts: dict[str, HistoryCall] = {}
    for template in data.history.calls:
        firsts.setdefault(template.queue, template)
    plans = []
    for (days, at), template in zip([(75, time(10, 15)), (40, time(14, 40)), (12, time(17, 5))], firsts.values()):
        local = datetime.combine((now.astimezone(tz) - timedelta(days=days)).date(), at, tz)
        plans.append(_Plan(local.astimezone(ZoneInfo("UTC")), template, featured_ids[0], number))
    return plans


def _needs_number(template: HistoryCall) -> bool:
    return any("{customer_number}" in text for _, text in template.lines)


def _opening_hours(rng: random.Random, now: datetime, tz: ZoneInfo) -> datetime:
    """A moment of the last months when the service was open (Mon–Fri 8–20, Sat 9–17)."""
    day = (now.astimezone(tz) - timedelta(days=rng.randint(1, HISTORY_DAYS))).date()
    if day.weekday() == 6:
        day -= timedelta(days=1)
    opens, closes = (9, 17) if day.weekday() == 5 else (8, 20)
    minute = rng.randrange((closes - opens) * 60 - 30)
    local = datetime.combine(day, time(opens + minute // 60, minute % 60, rng.randrange(60)), tz)
    return local.astimezone(ZoneInfo("UTC"))


def _replay(rng: random.Random, plan: _Plan, agent: User, trainer: User, queue: Queue, disposition: Disposition,
            contact: Contact, data: DemoData, tz: ZoneInfo) -> _Replay:
    template = plan.template
    start = t = plan.start
    state = CallState.OFFERED
    transitions: list[Transition] = []
    replay = _Replay(call=None)  # type: ignore[arg-type]
    replay.events.append(dict(action="offer", from_state=None, to_state=str(state), at=start, actor_id=trainer.id,
                              agent_id=None, queue_id=queue.id, data={}))

    def step(action: CallAction, seconds: float, actor_id: int | None, payload: dict | None = None) -> None:
        nonlocal state, t
        t += timedelta(seconds=round(seconds, 1))
        target = next_state(state, action)
        replay.events.append(dict(action=str(action), from_state=str(state), to_state=str(target), at=t,
                                  actor_id=actor_id, agent_id=agent.id, queue_id=queue.id, data=payload or {}))
        transitions.append(Transition(action, t, target))
        state = target

    step(CallAction.RING, rng.uniform(2, 90), None, {"agent_id": agent.id})
    step(CallAction.ANSWER, rng.uniform(2, 12), agent.id)
    answered = t
    fields = {"agent": agent.display_name.split()[0], "name": formal_name(contact),
              "customer_number": contact.customer_number or ""}
    hold_before = rng.randrange(1, len(template.lines)) if len(template.lines) > 2 and rng.random() < 0.25 else None
    change_at = None
    for index, (speaker, text) in enumerate(template.lines):
        if index == hold_before:
            step(CallAction.HOLD, rng.uniform(3, 10), agent.id)
            step(CallAction.RESUME, rng.uniform(15, 120), agent.id)
        t += timedelta(seconds=round(rng.uniform(4, 9) + len(text) / 15, 1))
        replay.children.append(Utterance(speaker=speaker, user_id=agent.id if speaker == "agent" else trainer.id,
                                         text=text.format(**fields), media="text", at=t))
        if speaker == "agent" and index >= len(template.lines) // 2 and change_at is None:
            change_at = t
    by_caller = rng.random() < 0.5
    step(CallAction.HANG_UP, rng.uniform(2, 8), trainer.id if by_caller else agent.id,
         {"by": "caller" if by_caller else "agent"})
    ended = t
    wrap_up = rng.uniform(15, 150)
    closed = t + timedelta(seconds=round(wrap_up, 1))
    due = None
    if template.callback:
        due = plan.open_callback_due or datetime.combine(
            (closed.astimezone(tz) + timedelta(days=1)).date(), time(11, 0), tz).astimezone(ZoneInfo("UTC"))
    step(CallAction.CLOSE, wrap_up, agent.id, {"disposition": disposition.code,
                                                "callback": due.isoformat() if due else None})
    spent = durations(start, transitions)
    replay.call = Call(direction="inbound", media="text", state=str(state), queue_id=queue.id,
                       caller_number=plan.number, contact_id=contact.id, agent_id=agent.id,
                       caller_user_id=trainer.id, declined_by=[], created_at=start, state_since=closed,
                       answered_at=answered, ended_at=ended, closed_at=closed, ring_seconds=spent.ring,
                       talk_seconds=spent.talk, hold_seconds=spent.hold, wrap_up_seconds=spent.wrap_up,
                       wait_seconds=spent.wait, disposition_id=disposition.id)
    if template.note:
        replay.children.append(Note(contact_id=contact.id, author_id=agent.id, body=template.note, created_at=closed))
    change = _change(rng, template, contact, data)
    if change and change_at:
        field_name, old, new = change
        replay.children.append(ContactChange(contact_id=contact.id, field=field_name, old_value=old, new_value=new,
                                             user_id=agent.id, at=change_at))
    if due is not None:
        open_ = plan.open_callback_due is not None
        team = open_ and rng.random() < 0.5
        replay.children.append(Callback(contact_id=contact.id, due_at=due, assigned_user_id=None if team else agent.id,
                                        queue_id=queue.id if team else None, status="open" if open_ else "done",
                                        note=template.note, created_by=agent.id, created_at=closed))
    return replay


def _change(rng: random.Random, template: HistoryCall, contact: Contact, data: DemoData) -> tuple[str, str, str] | None:
    """The field the agent updated, from an invented old value to the current one."""
    if template.change == "address_line" and contact.address_line:
        return "address_line", f"{rng.randint(1, 90)} {rng.choice(PREVIOUS_STREETS)}", contact.address_line
    if template.change == "email" and contact.email:
        local, _, domain = contact.email.partition("@")
        others = [d for d in data.shape.email_domains if d != domain] or [domain]
        return "email", f"{local}.ancien@{rng.choice(others)}", contact.email
    return None
