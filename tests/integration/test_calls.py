"""Calls through the services on real databases: placing, routing, answering,
holding, transferring, hanging up, qualifying; every transition persisted."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from plateau.domain.errors import IllegalTransition, PermissionDenied, ValidationError
from plateau.services import agents, calls
from plateau.services.calls import CallbackRequest
from plateau.services.users import actor_for
from plateau.store.models import (AgentPresence, AgentStateChange, Call, CallEvent, Callback, Contact, ContactPhone,
                                  Disposition, Event, Note, Queue, QueueDisposition, QueueMember)
from tests.helpers import make_user


@pytest.fixture
def floor(ctx):
    """A queue with two dispositions, a trainer, two agents in the queue, and Karim Benali."""
    trainer = actor_for(make_user(ctx, "formateur", role="supervisor"))
    alice = actor_for(make_user(ctx, "alice"))
    bruno = actor_for(make_user(ctx, "bruno"))
    with ctx.unit() as session:
        queue = Queue(code="service-clients", name="Service clients", ring_timeout_s=20)
        other = Queue(code="facturation", name="Facturation")
        session.add_all([queue, other])
        session.flush()
        info = Disposition(code="info", label="Information donnée")
        callback = Disposition(code="rappel", label="Rappel à programmer", requires_callback=True)
        session.add_all([info, callback])
        session.flush()
        session.add_all([QueueDisposition(queue_id=queue.id, disposition_id=info.id, position=1),
                         QueueDisposition(queue_id=queue.id, disposition_id=callback.id, position=2),
                         QueueMember(queue_id=queue.id, user_id=alice.id),
                         QueueMember(queue_id=queue.id, user_id=bruno.id),
                         QueueMember(queue_id=other.id, user_id=bruno.id)])
        now = ctx.now()
        karim = Contact(kind="person", civility="M.", first_name="Karim", last_name="Benali", search_name="benali karim",
                        created_at=now, updated_at=now, tags=[])
        session.add(karim)
        session.flush()
        session.add(ContactPhone(contact_id=karim.id, e164="+33612345678", label="mobile"))
    return {"trainer": trainer, "alice": alice, "bruno": bruno, "queue": queue.id, "other": other.id,
            "info": info.id, "callback": callback.id, "karim": karim.id}


def _available(ctx, *actors):
    for actor in actors:
        agents.set_state(ctx, actor, "available")
        ctx.clock.advance(seconds=1)


def test_a_call_rings_the_longest_idle_agent_and_answer_pops_the_contact(ctx, floor):
    _available(ctx, floor["bruno"], floor["alice"])  # bruno idle first
    call = calls.place_call(ctx, floor["trainer"], floor["queue"], "06 12 34 56 78", "FR")
    assert call.state == "ringing" and call.agent_id == floor["bruno"].id
    assert call.caller_number == "+33612345678"
    assert agents.get_presence(ctx, floor["bruno"].id).state == "on_call"
    ctx.clock.advance(seconds=4)
    answered = calls.answer(ctx, floor["bruno"], call.id)
    assert answered.state == "connected" and answered.contact_id == floor["karim"]
    view = calls.view(ctx, call.id)
    assert view.caller_label == "Monsieur Karim Benali"
    assert view.durations.ring == 4


def test_double_answer_answers_once(ctx, floor):
    _available(ctx, floor["alice"])
    call = calls.place_call(ctx, floor["trainer"], floor["queue"], "+212 6 61 23 45 67")
    calls.answer(ctx, floor["alice"], call.id)
    calls.answer(ctx, floor["alice"], call.id)
    with ctx.read() as session:
        answers = session.scalar(select(func.count()).select_from(CallEvent)
                                 .where(CallEvent.call_id == call.id, CallEvent.action == "answer"))
    assert answers == 1


def test_another_agent_cannot_answer(ctx, floor):
    _available(ctx, floor["alice"])
    call = calls.place_call(ctx, floor["trainer"], floor["queue"], "0550 12 34 56", "DZ")
    assert call.caller_number == "+213550123456"
    with pytest.raises(IllegalTransition):
        calls.answer(ctx, floor["bruno"], call.id)


def test_malformed_number_is_refused_and_nothing_is_written(ctx, floor):
    with pytest.raises(ValidationError) as info:
        calls.place_call(ctx, floor["trainer"], floor["queue"], "12ab", "FR")
    assert "number" in info.value.errors
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(Call)) == 0


def test_agents_cannot_place_console_calls(ctx, floor):
    with pytest.raises(PermissionDenied):
        calls.place_call(ctx, floor["alice"], floor["queue"], "0612345678")


def test_call_waits_in_queue_until_an_agent_is_available(ctx, floor):
    call = calls.place_call(ctx, floor["trainer"], floor["queue"], "0612345678")
    assert call.state == "offered"
    ctx.clock.advance(seconds=30)
    _available(ctx, floor["alice"])
    view = calls.view(ctx, call.id)
    assert view.call.state == "ringing" and view.call.agent_id == floor["alice"].id
    assert view.durations.wait == 30


def test_ring_timeout_pauses_the_agent_and_rings_the_next(ctx, floor):
    _available(ctx, floor["alice"], floor["bruno"])
    call = calls.place_call(ctx, floor["trainer"], floor["queue"], "0612345678")
    assert call.agent_id == floor["alice"].id
    ctx.clock.advance(seconds=19)
    calls.tick(ctx)
    assert calls.view(ctx, call.id).call.agent_id == floor["alice"].id
    ctx.clock.advance(seconds=1)
    calls.tick(ctx)
    view = calls.view(ctx, call.id)
    assert view.call.agent_id == floor["bruno"].id and view.call.state == "ringing"
    alice = agents.get_presence(ctx, floor["alice"].id)
    assert (alice.state, alice.pause_reason) == ("paused", "no_answer")
    assert view.call.declined_by == [floor["alice"].id]


def test_caller_hanging_up_while_ringing_abandons_and_frees_the_agent(ctx, floor):
    _available(ctx, floor["alice"])
    call = calls.place_call(ctx, floor["trainer"], floor["queue"], "0612345678")
    calls.hang_up(ctx, floor["trainer"], call.id)
    assert calls.view(ctx, call.id).call.state == "abandoned"
    assert agents.get_presence(ctx, floor["alice"].id).state == "available"


def test_full_call_with_hold_transcript_and_qualification(ctx, floor):
    _available(ctx, floor["alice"])
    call = calls.place_call(ctx, floor["trainer"], floor["queue"], "0612345678")
    calls.answer(ctx, floor["alice"], call.id)
    calls.say(ctx, floor["alice"], call.id, "Énergie Horizon, Alice à votre écoute, bonjour !")
    ctx.clock.advance(seconds=10)
    calls.say(ctx, floor["trainer"], call.id, "Bonjour, j'ai une question sur ma facture.")
    calls.hold(ctx, floor["alice"], call.id)
    with pytest.raises(IllegalTransition):
        calls.say(ctx, floor["alice"], call.id, "Vous êtes là ?")
    ctx.clock.advance(seconds=30)
    calls.resume(ctx, floor["alice"], call.id)
    ctx.clock.advance(seconds=20)
    calls.hang_up(ctx, floor["alice"], call.id)
    assert agents.get_presence(ctx, floor["alice"].id).state == "wrap_up"
    with pytest.raises(ValidationError) as info:
        calls.close(ctx, floor["alice"], call.id, None)
    assert "disposition" in info.value.errors
    assert calls.view(ctx, call.id).call.state == "wrap_up"
    ctx.clock.advance(seconds=15)
    tomorrow = (ctx.now() + timedelta(days=1)).date().isoformat()
    calls.close(ctx, floor["alice"], call.id, floor["callback"], note="Rappeler pour l'échéancier",
                callback=CallbackRequest(date=tomorrow, time="10:30", assignee="me"))
    view = calls.view(ctx, call.id)
    assert view.call.state == "closed"
    assert (view.call.talk_seconds, view.call.hold_seconds, view.call.wrap_up_seconds) == (30, 30, 15)
    assert [u.speaker for u in view.transcript] == ["agent", "caller"]
    assert agents.get_presence(ctx, floor["alice"].id).state == "available"
    with ctx.read() as session:
        callback = session.scalars(select(Callback)).one()
        assert callback.assigned_user_id == floor["alice"].id and callback.contact_id == floor["karim"]
        assert session.scalars(select(Note)).one().body == "Rappeler pour l'échéancier"
        actions = session.scalars(select(CallEvent.action).where(CallEvent.call_id == call.id).order_by(CallEvent.id)).all()
        assert actions == ["offer", "ring", "answer", "hold", "resume", "hang_up", "close"]
        states = session.scalars(select(AgentStateChange.state).where(AgentStateChange.user_id == floor["alice"].id)
                                 .order_by(AgentStateChange.id)).all()
        assert states == ["available", "on_call", "wrap_up", "available"]


def test_disposition_requiring_a_callback_needs_a_date(ctx, floor):
    _available(ctx, floor["alice"])
    call = calls.place_call(ctx, floor["trainer"], floor["queue"], "0612345678")
    calls.answer(ctx, floor["alice"], call.id)
    calls.hang_up(ctx, floor["trainer"], call.id)
    with pytest.raises(ValidationError) as info:
        calls.close(ctx, floor["alice"], call.id, floor["callback"])
    assert "callback_date" in info.value.errors
    with pytest.raises(ValidationError) as info:
        calls.close(ctx, floor["alice"], call.id, floor["info"],
                    callback=CallbackRequest(date=ctx.now().date().isoformat(), time="00:01"))
    assert "callback_date" in info.value.errors  # in the past


def test_transfer_to_a_queue_rings_an_agent_of_that_queue_with_the_note(ctx, floor):
    _available(ctx, floor["alice"], floor["bruno"])
    call = calls.place_call(ctx, floor["trainer"], floor["queue"], "0612345678")
    calls.answer(ctx, floor["alice"], call.id)
    calls.transfer(ctx, floor["alice"], call.id, queue_id=floor["other"], note="Facture de mars contestée")
    view = calls.view(ctx, call.id)
    assert view.call.state == "ringing" and view.call.agent_id == floor["bruno"].id
    assert view.call.transfer_note == "Facture de mars contestée"
    assert agents.get_presence(ctx, floor["alice"].id).state == "available"
    calls.answer(ctx, floor["bruno"], call.id)
    calls.say(ctx, floor["bruno"], call.id, "Bonjour, je reprends votre dossier.")


def test_transfer_needs_exactly_one_target_and_an_available_agent(ctx, floor):
    _available(ctx, floor["alice"])
    call = calls.place_call(ctx, floor["trainer"], floor["queue"], "0612345678")
    calls.answer(ctx, floor["alice"], call.id)
    with pytest.raises(ValidationError):
        calls.transfer(ctx, floor["alice"], call.id)
    with pytest.raises(ValidationError):
        calls.transfer(ctx, floor["alice"], call.id, agent_id=floor["bruno"].id)  # bruno offline
    assert calls.view(ctx, call.id).call.state == "connected"


def test_unknown_number_and_several_matches(ctx, floor):
    with ctx.unit() as session:
        now = ctx.now()
        twin = Contact(kind="person", first_name="Karima", last_name="Benali", search_name="benali karima",
                       created_at=now, updated_at=now, tags=[])
        session.add(twin)
        session.flush()
        session.add(ContactPhone(contact_id=twin.id, e164="+33612345678"))
    _available(ctx, floor["alice"])
    call = calls.place_call(ctx, floor["trainer"], floor["queue"], "0612345678")
    calls.answer(ctx, floor["alice"], call.id)
    view = calls.view(ctx, call.id)
    assert view.contact is None and len(view.matches) == 2
    calls.attach_contact(ctx, floor["alice"], call.id, twin.id)
    assert calls.view(ctx, call.id).contact.first_name == "Karima"


def test_every_change_reaches_the_outbox_for_agent_and_caller(ctx, floor):
    _available(ctx, floor["alice"])
    call = calls.place_call(ctx, floor["trainer"], floor["queue"], "0612345678")
    calls.answer(ctx, floor["alice"], call.id)
    calls.say(ctx, floor["trainer"], call.id, "Allô ?")
    with ctx.read() as session:
        rows = session.execute(select(Event.channel, Event.type, Event.payload).order_by(Event.id)).all()
    alice_calls = [p["action"] for c, t, p in rows if c == f"user:{floor['alice'].id}" and t == "call"]
    trainer_lines = [p["text"] for c, t, p in rows if c == f"user:{floor['trainer'].id}" and t == "utterance"]
    assert alice_calls == ["ring", "answer"]
    assert trainer_lines == ["Allô ?"]
    ring = next(p for c, t, p in rows if t == "call" and p["action"] == "ring")
    assert (ring["queue"], ring["caller"]) == ("Service clients", "Monsieur Karim Benali")


def test_agent_cannot_leave_during_a_call_or_pause_without_reason(ctx, floor):
    _available(ctx, floor["alice"])
    with pytest.raises(Exception) as info:
        agents.set_state(ctx, floor["alice"], "paused")
    assert "motif" in info.value.message
    agents.set_state(ctx, floor["alice"], "paused", "lunch")
    agents.set_state(ctx, floor["alice"], "available")
    calls.place_call(ctx, floor["trainer"], floor["queue"], "0612345678")
    with pytest.raises(Exception):
        agents.set_state(ctx, floor["alice"], "offline")
    with ctx.read() as session:
        assert session.get(AgentPresence, floor["alice"].id).state == "on_call"
