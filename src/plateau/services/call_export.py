"""A stored call in the ``CALL.json`` format the evaluator reads (``plateau calls export ID``).

Everything the call left in the store becomes turns and events, on one time
line: ``t`` is in seconds from the moment the call was answered
(``Call.answered_at``: the conversation starts there, so the agent's
greeting is near 0), or from its creation when it never was; anything
earlier (a voice-menu message) is put at 0. The mapping, documented in
``docs/assessment.md``:

- ``Utterance`` rows → ``turns`` (agent, caller); the system's lines (queue
  announcements) → ``system_message`` events, kept and ignored by the evaluator;
- ``CallEvent`` rows: hold, resume, transfer (``to``: the queue or agent),
  hang_up → ``hangup`` (``by``: agent or caller), take_over → ``take_over``;
  the other transitions (offer, ring, answer…) are not exported;
- the qualification → ``disposition`` (code, label) at the close;
- ``ContactChange`` rows of the call → ``crm_update`` (field, value, old);
  ``Note`` rows → ``note``; ``Callback`` → ``callback`` (at);
  ``Appointment`` → ``appointment`` (at, with: the advisor, mode, status);
  ``PaymentPlan`` → ``payment_plan`` (euros); ``Sale`` → ``sale`` (euros, products);
- ``ScriptAnswer`` rows → ``survey_answer`` when the call belongs to a survey
  campaign, else ``script_answer`` (question, value, step, label);
- the company, greeting and closing charters and the « mots à bannir » come
  from the script the call follows (its campaign's, else its queue's); the
  company falls back to the campaign's or queue's name;
- ``scenario`` is the campaign's or queue's code; ``media`` the call's (a typed
  practice call is « text »: its pauses are typing time, not silences).

The result is checked with ``parse_call`` before it is returned: an export
is always a valid ``CALL.json``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..domain.assessment_call import CallRecord, parse_call
from ..domain.campaigns import CampaignType
from ..domain.clock import as_utc
from ..domain.contacts import formal_name
from ..domain.errors import N_, DomainError, NotFoundError
from ..store.models import (Advisor, Appointment, Call, CallEvent, Callback, Campaign, Contact, ContactChange,
                            Disposition, Note, PaymentPlan, Queue, Sale, ScriptAnswer, User, Utterance)
from .context import Context
from .scripts import parsed, script_of

#: call-event actions exported, and their type in CALL.json
ACTIONS = {"hold": "hold", "resume": "resume", "transfer": "transfer", "hang_up": "hangup", "take_over": "take_over"}


def export_call(ctx: Context, call_id: int) -> dict:
    """The call as a ``CALL.json`` dictionary (see the module docstring); NotFoundError if unknown."""
    with ctx.read() as session:
        call = session.get(Call, call_id)
        if call is None:
            raise NotFoundError(N_("Appel introuvable : n° %(id)s."), "id", id=call_id)
        origin = as_utc(call.answered_at or call.created_at)

        def at(moment: datetime | None) -> float:
            return round(max(0.0, (as_utc(moment) - origin).total_seconds()), 1) if moment else 0.0

        names = _Names(session)
        turns, events = _conversation(session, call, at)
        events += _call_events(session, call, at, names)
        events += _records(session, call, at, names)
        events.sort(key=lambda event: event["t"])
        source, script_row = script_of(session, call)
        script = None
        if script_row is not None:
            try:
                script = parsed(script_row)
            except DomainError:  # a script edited outside the editor: export without its charter
                script = None
        campaign = session.get(Campaign, call.campaign_id) if call.campaign_id else None
        queue = session.get(Queue, call.queue_id) if call.queue_id else None
        company = (script.charter.company if script else "") or source or "Plateau"
        data: dict = {
            "id": call.id,
            "exported_at": ctx.now().isoformat(),
            "direction": call.direction,
            "company": {"name": company},
            "agent": {"name": names.user(call.agent_id) or _last_agent(session, call, names) or "—"},
            "scenario": (campaign.code if campaign else queue.code if queue else ""),
            "media": call.media if call.media in ("voice", "text") else "voice",
            "turns": turns,
            "events": events,
        }
        contact = session.get(Contact, call.contact_id) if call.contact_id else None
        if contact is not None:
            data["contact"] = {"id": contact.id, "name": formal_name(contact),
                               **({"company": contact.company_name} if contact.company_name else {})}
        if script is not None:
            data["charter"] = {"company": script.charter.company, "greeting": script.charter.greeting,
                               "closing": script.charter.closing}
            data["banned_words"] = list(script.banned_words)
    parse_call(data)  # an export must always be readable by the evaluator
    return data


def call_record(ctx: Context, call_id: int) -> CallRecord:
    """The stored call, ready for ``domain.assessment.assess``."""
    return parse_call(export_call(ctx, call_id))


class _Names:
    """Display names of users and advisors, each read once."""

    def __init__(self, session):
        self.session = session
        self._users: dict[int, str] = {}

    def user(self, user_id: int | None) -> str:
        if user_id is None:
            return ""
        if user_id not in self._users:
            row = self.session.get(User, user_id)
            self._users[user_id] = row.display_name if row else ""
        return self._users[user_id]


def _last_agent(session, call: Call, names: _Names) -> str:
    """A transferred or closed call may have no agent any more: the last one who spoke."""
    user_id = session.scalar(select(Utterance.user_id).where(Utterance.call_id == call.id, Utterance.speaker == "agent")
                             .order_by(Utterance.at.desc(), Utterance.id.desc()).limit(1))
    return names.user(user_id)


def _conversation(session, call: Call, at) -> tuple[list[dict], list[dict]]:
    turns, events = [], []
    rows = session.scalars(select(Utterance).where(Utterance.call_id == call.id)
                           .order_by(Utterance.at, Utterance.id)).all()
    for row in rows:
        if row.speaker in ("agent", "caller") and row.text.strip():
            turns.append({"t": at(row.at), "speaker": row.speaker, "text": row.text})
        elif row.text.strip():
            events.append({"t": at(row.at), "type": "system_message", "text": row.text})
    return turns, events


def _call_events(session, call: Call, at, names: _Names) -> list[dict]:
    events = []
    rows = session.scalars(select(CallEvent).where(CallEvent.call_id == call.id)
                           .order_by(CallEvent.at, CallEvent.id)).all()
    for row in rows:
        kind = ACTIONS.get(row.action)
        if kind is None:
            continue
        event: dict = {"t": at(row.at), "type": kind}
        data = row.data or {}
        if kind == "hangup":
            agents = {call.agent_id, row.agent_id} - {None}
            if row.actor_id is not None and row.actor_id in agents:
                event["by"] = "agent"
            elif row.actor_id is not None and row.actor_id == call.caller_user_id:
                event["by"] = "caller"
            elif data.get("by") in ("agent", "caller"):  # the simulated caller of a practice call hung up
                event["by"] = data["by"]
        elif kind == "transfer":
            if data.get("queue_id"):
                queue = session.get(Queue, data["queue_id"])
                event["to"] = queue.name if queue else ""
            elif data.get("agent_id"):
                event["to"] = names.user(data["agent_id"])
            if data.get("note"):
                event["note"] = data["note"]
        events.append(event)
    return events


def _euros(cents: int | None) -> float:
    return round((cents or 0) / 100, 2)


def _records(session, call: Call, at, names: _Names) -> list[dict]:
    """What was recorded for the caller during the call: CRM, notes, actions, answers, the qualification."""
    events: list[dict] = []
    for change in session.scalars(select(ContactChange).where(ContactChange.call_id == call.id)
                                  .order_by(ContactChange.at, ContactChange.id)):
        events.append({"t": at(change.at), "type": "crm_update", "field": change.field, "value": change.new_value,
                       "old": change.old_value})
    for note in session.scalars(select(Note).where(Note.call_id == call.id).order_by(Note.created_at, Note.id)):
        events.append({"t": at(note.created_at), "type": "note", "text": note.body})
    for callback in session.scalars(select(Callback).where(Callback.call_id == call.id).order_by(Callback.id)):
        event = {"t": at(callback.created_at), "type": "callback", "at": as_utc(callback.due_at).isoformat()}
        if callback.note:
            event["note"] = callback.note
        events.append(event)
    for appointment in session.scalars(select(Appointment).where(Appointment.call_id == call.id)
                                       .order_by(Appointment.id)):
        advisor = session.get(Advisor, appointment.advisor_id)
        event = {"t": at(appointment.created_at), "type": "appointment",
                 "at": as_utc(appointment.starts_at).isoformat(), "with": advisor.name if advisor else "",
                 "mode": appointment.mode, "status": appointment.status}
        if appointment.note:
            event["note"] = appointment.note
        events.append(event)
    for plan in session.scalars(select(PaymentPlan).where(PaymentPlan.call_id == call.id).order_by(PaymentPlan.id)):
        events.append({"t": at(plan.created_at), "type": "payment_plan", "kind": plan.kind,
                       "total": _euros(plan.total_cents), "debt": _euros(plan.debt_cents),
                       "instalments": [{"due": str(item.get("due", "")), "amount": _euros(item.get("amount_cents"))}
                                       for item in plan.instalments or []],
                       "method": plan.payment_method or ""})
    for sale in session.scalars(select(Sale).where(Sale.call_id == call.id).order_by(Sale.id)):
        events.append({"t": at(sale.created_at), "type": "sale", "amount": _euros(sale.amount_cents),
                       "additional": _euros(sale.additional_cents),
                       "products": [str(line.get("product", "")) for line in sale.lines or []],
                       "payment_terms": sale.payment_terms or "", "delivery_terms": sale.delivery_terms or ""})
    events += _answers(session, call, at)
    if call.disposition_id is not None:
        disposition = session.get(Disposition, call.disposition_id)
        if disposition is not None:
            events.append({"t": at(call.closed_at), "type": "disposition", "code": disposition.code,
                           "label": disposition.label})
    return events


def _answers(session, call: Call, at) -> list[dict]:
    rows = session.scalars(select(ScriptAnswer).where(ScriptAnswer.call_id == call.id)
                           .order_by(ScriptAnswer.at, ScriptAnswer.id)).all()
    if not rows:
        return []
    campaign = session.get(Campaign, call.campaign_id) if call.campaign_id else None
    kind = "survey_answer" if campaign is not None and campaign.kind == CampaignType.SURVEY else "script_answer"
    labels: dict[str, str] = {}
    _source, script_row = script_of(session, call)
    if script_row is not None:
        try:
            labels = {qid: question.label for qid, question in parsed(script_row).questions.items()}
        except DomainError:
            labels = {}
    return [{"t": at(row.at), "type": kind, "question": row.question_id, "value": row.value, "step": row.step_id,
             **({"label": labels[row.question_id]} if row.question_id in labels else {})} for row in rows]


__all__ = ["ACTIONS", "call_record", "export_call"]
