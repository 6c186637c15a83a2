"""The queues' routing rules through the services, on real databases: skills,
strategies, priorities, opening hours and holidays, overflow to a queue or a
team, maximum wait, position announcements and the caller's callback request."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from plateau.domain.errors import IllegalTransition
from plateau.services import agents, calls
from plateau.services.users import actor_for
from plateau.store.models import (AgentSkill, Call, CallEvent, Callback, Event, Queue, QueueMember, QueueSkill, Skill,
                                  Team, User, Utterance)
from tests.helpers import make_queue, make_user


@pytest.fixture
def floor(ctx):
    """Two queues (French, Arabic-speaking) and three agents with different skills and teams."""
    trainer = actor_for(make_user(ctx, "formateur", role="supervisor"))
    ana = actor_for(make_user(ctx, "ana"))      # fr 5, team A
    bilal = actor_for(make_user(ctx, "bilal"))  # fr 3 + ar 5, team B
    chloe = actor_for(make_user(ctx, "chloe"))  # fr 4, team B, in no queue
    fr_queue, dispositions = make_queue(ctx, [ana, bilal], code="fr", name="Service clients")
    with ctx.unit() as session:
        teams = [Team(code="a", name="Équipe A"), Team(code="b", name="Équipe B")]
        skills = [Skill(code="fr", label="Français", kind="language"), Skill(code="ar", label="Arabe", kind="language")]
        session.add_all(teams + skills)
        session.flush()
        ar_queue = Queue(code="ar", name="Service arabophone")
        session.add(ar_queue)
        session.flush()
        session.add_all([QueueMember(queue_id=ar_queue.id, user_id=ana.id), QueueMember(queue_id=ar_queue.id, user_id=bilal.id),
                         QueueSkill(queue_id=ar_queue.id, skill_id=skills[1].id, min_level=3),
                         AgentSkill(user_id=ana.id, skill_id=skills[0].id, level=5),
                         AgentSkill(user_id=bilal.id, skill_id=skills[0].id, level=3),
                         AgentSkill(user_id=bilal.id, skill_id=skills[1].id, level=5),
                         AgentSkill(user_id=chloe.id, skill_id=skills[0].id, level=4)])
        session.get(User, ana.id).team_id = teams[0].id
        session.get(User, bilal.id).team_id = teams[1].id
        session.get(User, chloe.id).team_id = teams[1].id
        team_b = teams[1].id
        ar_id = ar_queue.id
    return {"trainer": trainer, "ana": ana, "bilal": bilal, "chloe": chloe, "fr": fr_queue, "ar": ar_id,
            "team_b": team_b, "info": dispositions[0]}


def _available(ctx, *actors):
    for actor in actors:
        agents.set_state(ctx, actor, "available")
        ctx.clock.advance(seconds=1)


def _queue(ctx, queue_id, **values):
    with ctx.unit() as session:
        queue = session.get(Queue, queue_id)
        for name, value in values.items():
            setattr(queue, name, value)


def _place(ctx, floor, queue, number="+33612345678"):
    return calls.place_call(ctx, floor["trainer"], floor[queue], number, "FR")


def test_a_queue_requiring_arabic_rings_only_the_arabic_speaker(ctx, floor):
    _available(ctx, floor["bilal"], floor["ana"])  # bilal idle longest, but first a French call
    fr_call = _place(ctx, floor, "fr")
    assert fr_call.agent_id == floor["bilal"].id
    ar_call = _place(ctx, floor, "ar", "+212661234567")
    assert ar_call.state == "offered", "ana has no Arabic: the call waits for bilal"
    calls.answer(ctx, floor["bilal"], fr_call.id)
    calls.hang_up(ctx, floor["bilal"], fr_call.id)
    calls.close(ctx, floor["bilal"], fr_call.id, floor["info"])
    with ctx.read() as session:
        assert session.get(Call, ar_call.id).agent_id == floor["bilal"].id


def test_most_skilled_strategy_prefers_the_higher_level(ctx, floor):
    with ctx.unit() as session:
        fr_skill = session.scalar(select(Skill.id).where(Skill.code == "fr"))
        session.add(QueueSkill(queue_id=floor["fr"], skill_id=fr_skill, min_level=1))
    _queue(ctx, floor["fr"], strategy="most_skilled")
    _available(ctx, floor["ana"], floor["bilal"])  # ana idle longest AND most skilled (5 vs 3)
    assert _place(ctx, floor, "fr").agent_id == floor["ana"].id
    _queue(ctx, floor["fr"], strategy="longest_idle")


def test_round_robin_takes_turns(ctx, floor):
    _queue(ctx, floor["fr"], strategy="round_robin")
    _available(ctx, floor["ana"], floor["bilal"])
    first = _place(ctx, floor, "fr")
    calls.hang_up(ctx, floor["trainer"], first.id)  # abandons while ringing: the agent is free again
    second = _place(ctx, floor, "fr")
    assert {first.agent_id, second.agent_id} == {floor["ana"].id, floor["bilal"].id}


def test_higher_priority_queue_served_first(ctx, floor):
    _queue(ctx, floor["ar"], priority=5)
    older = _place(ctx, floor, "fr")
    ctx.clock.advance(seconds=30)
    urgent = _place(ctx, floor, "ar", "+212661234567")
    _available(ctx, floor["bilal"])
    with ctx.read() as session:
        assert session.get(Call, urgent.id).agent_id == floor["bilal"].id
        assert session.get(Call, older.id).state == "offered"


def test_closed_queue_tells_the_caller_and_ends_the_call(ctx, floor):
    # FixedClock starts on a weekday morning; hours only on Sunday make the queue closed now
    _queue(ctx, floor["fr"], hours={"sun": [["10:00", "11:00"]]}, closed_message="Nous sommes fermés.")
    _available(ctx, floor["ana"])
    call = _place(ctx, floor, "fr")
    assert call.state == "deflected" and call.agent_id is None
    with ctx.read() as session:
        line = session.scalars(select(Utterance).where(Utterance.call_id == call.id)).one()
        reason = session.scalars(select(CallEvent.data).where(CallEvent.call_id == call.id, CallEvent.action == "deflect")).one()
    assert line.speaker == "system" and line.text.startswith("Nous sommes fermés.")
    assert "à 10:00" in line.text
    assert reason["reason"] == "closed"
    assert agents.get_presence(ctx, floor["ana"].id).state == "available"


def test_public_holiday_closes_the_queue(ctx, floor):
    _queue(ctx, floor["fr"], holiday_country="FR")
    ctx.clock.set(datetime(2026, 12, 25, 10, 0, tzinfo=timezone.utc))
    assert _place(ctx, floor, "fr").state == "deflected"
    ctx.clock.set(datetime(2026, 12, 28, 10, 0, tzinfo=timezone.utc))
    assert _place(ctx, floor, "fr").state == "offered"


def test_overflow_to_another_queue_after_the_delay(ctx, floor):
    with ctx.unit() as session:
        overflow = Queue(code="debord", name="Débordement")
        session.add(overflow)
        session.flush()
        session.add(QueueMember(queue_id=overflow.id, user_id=floor["chloe"].id))
        overflow_id = overflow.id
    _queue(ctx, floor["fr"], overflow_after_s=60, overflow_queue_id=overflow_id)
    _available(ctx, floor["chloe"])
    call = _place(ctx, floor, "fr")
    assert call.state == "offered"
    ctx.clock.advance(seconds=59)
    calls.tick(ctx)
    ctx.clock.advance(seconds=1)
    calls.tick(ctx)
    with ctx.read() as session:
        moved = session.get(Call, call.id)
        event = session.scalars(select(CallEvent).where(CallEvent.call_id == call.id, CallEvent.action == "overflow")).one()
    assert moved.queue_id == overflow_id and moved.agent_id == floor["chloe"].id and moved.state == "ringing"
    assert event.data == {"from_queue_id": floor["fr"], "queue_id": overflow_id}


def test_overflow_to_a_team_reaches_agents_outside_the_queue(ctx, floor):
    _queue(ctx, floor["fr"], overflow_after_s=30, overflow_team_id=floor["team_b"])
    _available(ctx, floor["chloe"])
    call = _place(ctx, floor, "fr")
    ctx.clock.advance(seconds=30)
    calls.tick(ctx)
    with ctx.read() as session:
        moved = session.get(Call, call.id)
    assert moved.target_team_id == floor["team_b"] and moved.agent_id == floor["chloe"].id


def test_overflow_loops_stop(ctx, floor):
    _queue(ctx, floor["fr"], overflow_after_s=10, overflow_queue_id=floor["ar"])
    _queue(ctx, floor["ar"], overflow_after_s=10, overflow_queue_id=floor["fr"])
    call = _place(ctx, floor, "fr")
    for _ in range(10):
        ctx.clock.advance(seconds=10)
        calls.tick(ctx)
    with ctx.read() as session:
        overflows = session.scalars(select(CallEvent).where(CallEvent.call_id == call.id, CallEvent.action == "overflow")).all()
        assert session.get(Call, call.id).state == "offered"
    assert len(overflows) == calls.MAX_OVERFLOWS


def test_maximum_wait_ends_the_call_with_a_message(ctx, floor):
    _queue(ctx, floor["fr"], max_wait_s=120)
    call = _place(ctx, floor, "fr")
    ctx.clock.advance(seconds=120)
    calls.tick(ctx)
    with ctx.read() as session:
        ended = session.get(Call, call.id)
        line = session.scalars(select(Utterance).where(Utterance.call_id == call.id)).one()
    assert ended.state == "deflected" and ended.ended_at is not None
    assert "Tous nos conseillers sont occupés" in line.text


def test_waiting_callers_hear_their_position_when_the_line_moves(ctx, floor):
    first = _place(ctx, floor, "fr", "+33612345601")
    second = _place(ctx, floor, "fr", "+33612345602")
    _available(ctx, floor["ana"])
    with ctx.read() as session:
        statuses = [e.payload for e in session.scalars(select(Event).where(
            Event.channel == f"user:{floor['trainer'].id}", Event.type == "queue_status").order_by(Event.id))]
    last = [s for s in statuses if s["call_id"] == second.id][-1]
    assert last["position"] == 1 and last["queue"] == "Service clients"
    assert last["estimated_wait_s"] == 240  # one agent serving, default AHT before any history
    assert first.id not in [s["call_id"] for s in statuses[-1:]]


def test_caller_asks_for_a_callback_past_the_threshold(ctx, floor):
    _queue(ctx, floor["fr"], callback_after_s=60)
    call = _place(ctx, floor, "fr")
    with pytest.raises(IllegalTransition):
        calls.request_callback(ctx, floor["trainer"], call.id)
    ctx.clock.advance(seconds=60)
    calls.tick(ctx)
    with ctx.read() as session:
        offer = session.scalars(select(Event).where(Event.type == "queue_status").order_by(Event.id.desc())).first()
    assert offer.payload["callback_available"] is True
    callback = calls.request_callback(ctx, floor["trainer"], call.id)
    with ctx.read() as session:
        stored = session.get(Callback, callback.id)
        ended = session.get(Call, call.id)
    assert stored.source == "caller" and stored.number == "+33612345678" and stored.queue_id == floor["fr"]
    assert stored.status == "open" and stored.due_at == ended.ended_at
    assert ended.state == "deflected"
    with pytest.raises(IllegalTransition):
        calls.request_callback(ctx, floor["trainer"], call.id)
