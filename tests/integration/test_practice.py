"""Practice calls on real databases (SQLite and PostgreSQL), with an injected clock: a scenario's
simulated caller rings the trainee's own desktop (or is dialled and picks up), answers the agent's
lines as the pure persona would (same seed, same words), reacts to holds, silences and transfers,
hangs up when its patience runs out, and leaves the attempt with its outcome; trainers assign
scenarios to trainees or teams; who may do what."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from plateau.domain.errors import DomainError, IllegalTransition, NotFoundError, PermissionDenied, ValidationError
from plateau.domain.persona import Persona, play
from plateau.services import agents, calls, dialer, practice, scenarios
from plateau.services.users import actor_for
from plateau.store.models import (AgentPresence, Call, CallEvent, Campaign, CampaignDisposition, Contact,
                                  ContactPhone, Disposition, Event, PracticeAttempt, Queue, QueueDisposition,
                                  QueueMember, Rating, Team, User, Utterance)
from tests.helpers import make_user

AGENTS = Path(__file__).resolve().parents[1] / "data" / "scenarios"
DISPOSITIONS = ("contract_change", "move_processed", "transferred", "complaint_logged", "info_given")


def agent_file(code: str) -> dict:
    """A strong and a weak agent for the scenario (tests/data/scenarios/<code>.yaml)."""
    return yaml.safe_load((AGENTS / f"{code}.yaml").read_text(encoding="utf-8"))


def said(lines: list) -> list[str]:
    """The agent's spoken lines of a test file (its desktop events are done by hand where needed)."""
    return [line for line in lines if isinstance(line, str)]


@pytest.fixture
def floor(ctx):
    """The queues « service-clients » and « facturation » with their qualifications, a trainer, and
    Bruno, an agent of both queues (a real colleague a simulated caller must never ring)."""
    trainer = actor_for(make_user(ctx, "formatrice", role="supervisor", name="Fanny Formatrice"))
    bruno = actor_for(make_user(ctx, "bruno", name="Bruno Collègue"))
    with ctx.unit() as session:
        rows = [Disposition(code=code, label=code.replace("_", " ").capitalize()) for code in DISPOSITIONS]
        service = Queue(code="service-clients", name="Service clients", ring_timeout_s=20)
        billing = Queue(code="facturation", name="Facturation")
        team = Team(code="promo-2026", name="Promotion 2026")
        session.add_all([*rows, service, billing, team])
        session.flush()
        for queue in (service, billing):
            session.add_all([QueueDisposition(queue_id=queue.id, disposition_id=row.id, position=n)
                             for n, row in enumerate(rows)])
            session.add(QueueMember(queue_id=queue.id, user_id=bruno.id))
    agents.set_state(ctx, bruno, "available")
    return {"trainer": trainer, "bruno": bruno, "service": service.id, "billing": billing.id, "team": team.id,
            "dispositions": {row.code: row.id for row in rows}}


def trainee(ctx, username: str, name: str, role: str = "agent", team_id: int | None = None):
    user = make_user(ctx, username, role=role, name=name)
    if team_id is not None:
        with ctx.unit() as session:
            session.get(User, user.id).team_id = team_id
    return actor_for(user)


def call_of(ctx, attempt: PracticeAttempt) -> Call:
    with ctx.read() as session:
        return session.get(Call, attempt.call_id)


def transcript(ctx, call_id: int, speaker: str | None = None) -> list[str]:
    with ctx.read() as session:
        query = select(Utterance).where(Utterance.call_id == call_id).order_by(Utterance.id)
        return [u.text for u in session.scalars(query) if speaker is None or u.speaker == speaker]


def say_all(ctx, actor, call_id: int, lines: list[str], pause: float = 6.0) -> None:
    """The trainee types each line, a few seconds apart, while the line is open."""
    for line in lines:
        if call_of_id(ctx, call_id).state != "connected":
            break
        ctx.clock.advance(seconds=pause)
        calls.say(ctx, actor, call_id, line)


def call_of_id(ctx, call_id: int) -> Call:
    with ctx.read() as session:
        return session.get(Call, call_id)


def attempt(ctx, attempt_id: int) -> PracticeAttempt:
    with ctx.read() as session:
        return session.get(PracticeAttempt, attempt_id)


def presence(ctx, user_id: int) -> str:
    with ctx.read() as session:
        return session.get(AgentPresence, user_id).state


# --- an inbound practice call, from the ring to the close ---------------------------------------------


def test_an_inbound_practice_call_rings_the_trainee_and_the_caller_answers_like_the_persona(ctx, floor):
    code = "information-option-verte"
    data = agent_file(code)
    julie = trainee(ctx, "julie", data["agent"])
    started = practice.start_practice(ctx, julie, code)
    call = call_of(ctx, started)
    assert (call.state, call.agent_id, call.queue_id, call.direction) == (
        "ringing", julie.id, floor["service"], "inbound")
    assert presence(ctx, julie.id) == "on_call" and presence(ctx, floor["bruno"].id) == "available"
    assert started.seed == practice.derive_seed(started.id)
    with ctx.read() as session:  # the scenario's customer, created in the CRM with its number
        contact = session.get(Contact, call.contact_id)
        assert (contact.last_name, contact.customer_number) == ("Martin", "EH00230417")
        assert [p.e164 for p in contact.phones] == ["+33678451203"]

    ctx.clock.advance(seconds=3)
    calls.answer(ctx, julie, call.id)
    lines = said(data["strong"]["lines"])
    say_all(ctx, julie, call.id, lines)

    expected = play(scenarios.get(code), started.seed, lines, data["agent"])
    assert transcript(ctx, call.id, "caller") == [t["text"] for t in expected.turns if t["speaker"] == "caller"]
    assert transcript(ctx, call.id) == [t["text"] for t in expected.turns]  # in order, turn after turn
    ended = call_of(ctx, started)
    assert ended.state == "wrap_up", "the caller said goodbye and released the line"
    assert presence(ctx, julie.id) == "wrap_up"
    assert attempt(ctx, started.id).outcome == "agreed" and attempt(ctx, started.id).ended_at is None

    ctx.clock.advance(seconds=20)
    calls.close(ctx, julie, call.id, floor["dispositions"]["contract_change"])
    done = attempt(ctx, started.id)
    assert done.ended_at is not None and done.outcome == "agreed"
    assert presence(ctx, julie.id) == "available"
    with ctx.read() as session:  # evaluated against the scenario's framework, waiting for the self-assessment
        rated = session.scalars(select(Rating.framework).where(Rating.call_id == call.id, Rating.source == "auto")
                                .distinct()).all()
    assert rated == ["mc-acvd"]
    row = practice.home(ctx, julie).attempts[0]
    assert row.review_url == f"/calls/{call.id}/review?framework=mc-acvd" and row.to_self_assess
    with ctx.read() as session:  # the desktop is told where the self-assessment waits
        told = session.scalars(select(Event).where(Event.channel == f"user:{julie.id}", Event.type == "practice")).one()
    assert told.payload["review_url"] == row.review_url and told.payload["outcome"] == "agreed"


def test_the_same_seed_plays_the_same_caller_and_the_caller_is_rebuilt_from_the_store(ctx, floor):
    code = "information-option-verte"
    data = agent_file(code)
    lines = said(data["strong"]["lines"])[:6]
    julie = trainee(ctx, "julie", data["agent"], role="supervisor")  # a trainer may choose the seed
    runs = []
    for seed in (data["seed"], data["seed"], data["seed"] + 1):
        started = practice.start_practice(ctx, julie, code, seed=seed)
        call_id = started.call_id
        calls.answer(ctx, julie, call_id)
        say_all(ctx, julie, call_id, lines)
        runs.append(transcript(ctx, call_id, "caller"))
        with ctx.read() as session:
            call = session.get(Call, call_id)
            caller = practice.rebuild(session, call, session.get(PracticeAttempt, started.id))
            last = session.scalars(select(CallEvent).where(CallEvent.call_id == call_id, CallEvent.action == "persona")
                                   .order_by(CallEvent.id.desc())).first()
        assert caller.state.turns == len(lines) and round(caller.state.mood, 2) == last.data["mood"]
        calls.hang_up(ctx, julie, call_id)
        calls.close(ctx, julie, call_id, floor["dispositions"]["info_given"])
    assert runs[0] == runs[1]
    assert runs[2] != runs[0] and len(runs[2]) == len(runs[0]), "another seed: other words, the same behaviour"


def test_the_agent_hanging_up_first_settles_the_outcome(ctx, floor):
    code = "information-option-verte"
    julie = trainee(ctx, "julie", agent_file(code)["agent"])
    started = practice.start_practice(ctx, julie, code)
    calls.answer(ctx, julie, started.call_id)
    say_all(ctx, julie, started.call_id, ["Énergie Horizon, Julie à votre écoute, bonjour !"])
    calls.hang_up(ctx, julie, started.call_id)
    assert attempt(ctx, started.id).outcome == "refused"
    assert call_of(ctx, started).state == "wrap_up"


# --- a weak agent, silences, holds ---------------------------------------------------------------------------


def test_a_weak_agent_makes_the_caller_hang_up_and_the_call_goes_to_wrap_up(ctx, floor):
    code = "anglais-emmenagement"
    data = agent_file(code)
    thomas = trainee(ctx, "thomas", data["agent"])
    started = practice.start_practice(ctx, thomas, code)
    calls.answer(ctx, thomas, started.call_id)
    lines = said(data["weak"]["lines"])
    say_all(ctx, thomas, started.call_id, lines)
    expected = play(scenarios.get(code), started.seed, lines, data["agent"])
    assert expected.outcome == "hung_up"
    assert transcript(ctx, started.call_id, "caller") == [t["text"] for t in expected.turns if t["speaker"] == "caller"]
    call = call_of(ctx, started)
    assert call.state == "wrap_up" and presence(ctx, thomas.id) == "wrap_up"
    with ctx.read() as session:
        hang_up = session.scalars(select(CallEvent).where(CallEvent.call_id == call.id,
                                                          CallEvent.action == "hang_up")).one()
    assert hang_up.actor_id is None and hang_up.data["by"] == "caller"
    assert attempt(ctx, started.id).outcome == "hung_up"
    with pytest.raises(IllegalTransition):
        calls.say(ctx, thomas, call.id, "Allô ? Monsieur ?")
    calls.close(ctx, thomas, call.id, floor["dispositions"]["move_processed"])
    assert attempt(ctx, started.id).ended_at is not None and attempt(ctx, started.id).outcome == "hung_up"



def test_silence_on_tick_worries_the_caller_then_it_hangs_up(ctx, floor):
    code = "information-option-verte"
    scenario = scenarios.get(code)
    wait = scenario.persona.patience.silence_s * practice.TEXT_PACE  # typing time counts less than speech
    julie = trainee(ctx, "julie", agent_file(code)["agent"])
    started = practice.start_practice(ctx, julie, code)
    calls.answer(ctx, julie, started.call_id)
    ctx.clock.advance(seconds=wait - 2)
    calls.tick(ctx)
    assert transcript(ctx, started.call_id) == [], "not yet a silence for the caller"
    ctx.clock.advance(seconds=2)
    calls.tick(ctx)
    calls.tick(ctx)  # a second tick at the same moment says nothing more
    expected = play(scenario, started.seed, [{"silence": scenario.persona.patience.silence_s},
                                             {"silence": scenario.persona.patience.silence_s}])
    caller = [t["text"] for t in expected.turns if t["speaker"] == "caller"]
    assert transcript(ctx, started.call_id) == caller[:1]
    assert call_of(ctx, started).state == "connected"
    ctx.clock.advance(seconds=wait)
    calls.tick(ctx)
    assert transcript(ctx, started.call_id) == caller
    assert call_of(ctx, started).state == "wrap_up"
    assert attempt(ctx, started.id).outcome == "hung_up"


def test_speaking_resets_the_silence_and_a_long_hold_loses_the_caller(ctx, floor):
    code = "information-option-verte"
    scenario = scenarios.get(code)
    julie = trainee(ctx, "julie", agent_file(code)["agent"])
    started = practice.start_practice(ctx, julie, code)
    call_id = started.call_id
    calls.answer(ctx, julie, call_id)
    for _ in range(3):  # a turn now and then: never a long silence for the caller
        ctx.clock.advance(seconds=scenario.persona.patience.silence_s * practice.TEXT_PACE - 10)
        calls.tick(ctx)
        calls.say(ctx, julie, call_id, "Énergie Horizon, Julie à votre écoute, bonjour !")
    assert not any("toujours là" in text.lower() for text in transcript(ctx, call_id, "caller"))
    calls.say(ctx, julie, call_id, "Je vous mets en attente quelques instants, ne quittez pas.")
    calls.hold(ctx, julie, call_id)
    ctx.clock.advance(seconds=2 * scenario.persona.patience.hold_s)  # on hold, time counts in full
    calls.tick(ctx)
    assert call_of_id(ctx, call_id).state == "on_hold"
    ctx.clock.advance(seconds=1)
    calls.tick(ctx)
    assert call_of_id(ctx, call_id).state == "wrap_up"
    assert attempt(ctx, started.id).outcome == "hung_up"


def test_an_unannounced_hold_irritates_the_caller_at_the_resume(ctx, floor):
    code = "information-option-verte"
    data = agent_file(code)
    julie = trainee(ctx, "julie", data["agent"])
    started = practice.start_practice(ctx, julie, code)
    calls.answer(ctx, julie, started.call_id)
    first = said(data["strong"]["lines"])[:1]
    say_all(ctx, julie, started.call_id, first)
    calls.hold(ctx, julie, started.call_id)
    ctx.clock.advance(seconds=10)
    calls.resume(ctx, julie, started.call_id)
    expected = play(scenarios.get(code), started.seed,
                    [*first, {"event": "hold"}, {"silence": 10}, {"event": "resume"}], data["agent"])
    assert transcript(ctx, started.call_id, "caller") == [t["text"] for t in expected.turns if t["speaker"] == "caller"]
    assert "hold_unannounced" in expected.state.irritants
    with ctx.read() as session:
        caller = practice.rebuild(session, call_of(ctx, started), attempt(ctx, started.id))
    assert caller.state.irritants == ["hold_unannounced"]


# --- outbound, transfer, ring-out, cancel, the trainer's console --------------------------------------


@pytest.fixture
def survey_campaign(ctx):
    with ctx.unit() as session:
        now = ctx.now()
        campaign = Campaign(code="enquete-satisfaction-hiver", name="Enquête hiver", kind="survey", status="running",
                            country="FR", created_at=now, updated_at=now)
        done = Disposition(code="out_survey_done", label="Enquête complétée", outcome="survey_completed")
        session.add_all([campaign, done])
        session.flush()
        session.add(CampaignDisposition(campaign_id=campaign.id, disposition_id=done.id, position=0))
    return {"campaign": campaign.id, "done": done.id}


def test_an_outbound_practice_call_is_dialled_then_picks_up_on_tick_and_says_its_first_words(ctx, floor,
                                                                                               survey_campaign):
    code = "enquete-satisfaction-hiver"
    data = agent_file(code)
    yasmine = trainee(ctx, "yasmine", data["agent"])
    started = practice.start_practice(ctx, yasmine, code)
    call = call_of(ctx, started)
    assert (call.state, call.direction, call.agent_id, call.campaign_id) == (
        "dialing", "outbound", yasmine.id, survey_campaign["campaign"])
    assert presence(ctx, yasmine.id) == "on_call"
    calls.tick(ctx)
    assert call_of(ctx, started).state == "dialing", "it rings a little first"
    ctx.clock.advance(seconds=practice.OUTBOUND_RING_S)
    calls.tick(ctx)
    call = call_of(ctx, started)
    scenario = scenarios.get(code)
    first = Persona.start(scenario, started.seed, data["agent"]).first_words.text
    assert call.state == "connected" and call.answered_at is not None
    assert transcript(ctx, call.id) == [first]
    lines = said(data["strong"]["lines"])
    say_all(ctx, yasmine, call.id, lines)
    expected = play(scenario, started.seed, lines, data["agent"])
    assert transcript(ctx, call.id) == [t["text"] for t in expected.turns]
    assert call_of(ctx, started).state == "wrap_up" and attempt(ctx, started.id).outcome == "agreed"
    view = calls.view(ctx, call.id)
    assert [d.code for d in view.dispositions] == ["out_survey_done"], "the campaign's qualifications"
    calls.close(ctx, yasmine, call.id, survey_campaign["done"])
    assert attempt(ctx, started.id).ended_at is not None


def test_a_transferred_practice_call_stays_with_the_trainee_for_wrap_up(ctx, floor):
    code = "transfert-difficulte-paiement"
    data = agent_file(code)
    yasmine = trainee(ctx, "yasmine", data["agent"])
    started = practice.start_practice(ctx, yasmine, code)
    calls.answer(ctx, yasmine, started.call_id)
    say_all(ctx, yasmine, started.call_id, said(data["strong"]["lines"]))
    calls.transfer(ctx, yasmine, started.call_id, queue_id=floor["billing"], note="Échéancier à étudier.")
    call = call_of(ctx, started)
    assert (call.state, call.agent_id, call.queue_id) == ("wrap_up", yasmine.id, floor["service"])
    assert presence(ctx, floor["bruno"].id) == "available", "a simulated caller never rings a colleague"
    with ctx.read() as session:
        moved = session.scalars(select(CallEvent).where(CallEvent.call_id == call.id,
                                                        CallEvent.action == "transfer")).one()
    assert moved.data["queue_id"] == floor["billing"] and moved.data["note"] == "Échéancier à étudier."
    assert attempt(ctx, started.id).outcome == "agreed"
    calls.close(ctx, yasmine, call.id, floor["dispositions"]["transferred"])
    assert attempt(ctx, started.id).ended_at is not None


def test_a_practice_call_left_ringing_hangs_up_and_rings_nobody_else(ctx, floor):
    julie = trainee(ctx, "julie", "Julie Roche")
    started = practice.start_practice(ctx, julie, "information-option-verte")
    ctx.clock.advance(seconds=25)
    calls.tick(ctx)
    call = call_of(ctx, started)
    assert call.state == "abandoned"
    assert presence(ctx, floor["bruno"].id) == "available"
    assert presence(ctx, julie.id) == "paused"
    done = attempt(ctx, started.id)
    assert done.outcome == "unanswered" and done.ended_at is not None


def test_a_cancelled_dial_ends_the_attempt(ctx, floor, survey_campaign):
    yasmine = trainee(ctx, "yasmine", "Yasmine Belkacem")
    started = practice.start_practice(ctx, yasmine, "enquete-satisfaction-hiver")
    dialer.cancel_dial(ctx, yasmine, started.call_id)
    calls.tick(ctx)
    done = attempt(ctx, started.id)
    assert call_of(ctx, started).state == "unreached"
    assert done.outcome == "cancelled" and done.ended_at is not None
    assert presence(ctx, yasmine.id) == "available"


def test_a_trainer_playing_the_called_party_silences_the_persona(ctx, floor, survey_campaign):
    yasmine = trainee(ctx, "yasmine", "Yasmine Belkacem")
    started = practice.start_practice(ctx, yasmine, "enquete-satisfaction-hiver")
    dialer.play_callee(ctx, floor["trainer"], started.call_id)
    ctx.clock.advance(seconds=practice.OUTBOUND_RING_S)
    calls.tick(ctx)
    assert call_of(ctx, started).state == "connected"
    calls.say(ctx, yasmine, started.call_id, "Bonjour Madame Perrin, Yasmine d'Énergie Horizon.")
    ctx.clock.advance(seconds=600)
    calls.tick(ctx)
    assert transcript(ctx, started.call_id, "caller") == []
    calls.say(ctx, floor["trainer"], started.call_id, "Oui, c'est moi.")
    assert transcript(ctx, started.call_id, "caller") == ["Oui, c'est moi."]


# --- who may do what ---------------------------------------------------------------------------------------


def test_a_trainee_on_a_call_cannot_start_a_practice_call(ctx, floor):
    julie = trainee(ctx, "julie", "Julie Roche")
    practice.start_practice(ctx, julie, "information-option-verte")
    with pytest.raises(DomainError) as refused:
        practice.start_practice(ctx, julie, "anglais-emmenagement")
    assert "déjà en ligne" in refused.value.render()
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(PracticeAttempt)) == 1


def test_only_a_trainer_chooses_the_seed_and_the_scenario_must_exist(ctx, floor):
    julie = trainee(ctx, "julie", "Julie Roche")
    with pytest.raises(PermissionDenied):
        practice.start_practice(ctx, julie, "information-option-verte", seed=7)
    with pytest.raises(NotFoundError):
        practice.start_practice(ctx, julie, "pas-de-scenario")
    with pytest.raises(ValidationError) as bad:
        practice.start_practice(ctx, floor["trainer"], "information-option-verte", seed=-1)
    assert set(bad.value.errors) == {"seed"}
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(Call)) == 0


def test_the_scenario_customer_is_reused_when_the_crm_has_its_number(ctx, floor):
    with ctx.unit() as session:
        now = ctx.now()
        claire = Contact(kind="person", last_name="Martin", first_name="Claire", search_name="martin claire",
                         created_at=now, updated_at=now, tags=[])
        session.add(claire)
        session.flush()
        session.add(ContactPhone(contact_id=claire.id, e164="+33678451203", label="mobile"))
    julie = trainee(ctx, "julie", "Julie Roche")
    started = practice.start_practice(ctx, julie, "information-option-verte")
    assert call_of(ctx, started).contact_id == claire.id
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 1


# --- assignments -----------------------------------------------------------------------------------------------


def test_a_trainer_assigns_a_scenario_to_a_team_and_the_trainee_sees_it_then_has_done_it(ctx, floor):
    julie = trainee(ctx, "julie", "Julie Roche", team_id=floor["team"])
    karim = trainee(ctx, "karim", "Karim Stagiaire", team_id=floor["team"])
    due = (ctx.now() + timedelta(days=7)).date()
    assignment = practice.assign(ctx, floor["trainer"], "information-option-verte", team_id=floor["team"],
                                 due_on=due, note="Avant vendredi.")
    mine = practice.home(ctx, julie).assigned
    assert [(a.assignment.id, a.title, a.assignment.due_on) for a in mine] == [
        (assignment.id, scenarios.get("information-option-verte").title, due)]
    assert not mine[0].done and [p.name for p in mine[0].people] == ["Julie Roche"]

    started = practice.start_practice(ctx, julie, "information-option-verte", assignment_id=assignment.id)
    assert started.assignment_id == assignment.id
    calls.answer(ctx, julie, started.call_id)
    say_all(ctx, julie, started.call_id, ["Énergie Horizon, Julie à votre écoute, bonjour !"])
    calls.hang_up(ctx, julie, started.call_id)
    calls.close(ctx, julie, started.call_id, floor["dispositions"]["info_given"])

    assert [p.name for p in practice.home(ctx, julie).assigned[0].done] == ["Julie Roche"]
    progress = practice.home(ctx, floor["trainer"]).assignments
    assert [(a.target, [(p.name, p.done) for p in a.people]) for a in progress] == [
        ("Promotion 2026", [("Julie Roche", True), ("Karim Stagiaire", False)])]
    assert practice.home(ctx, karim).assigned[0].done == []


def test_assigning_is_for_trainers_and_checks_every_field(ctx, floor):
    julie = trainee(ctx, "julie", "Julie Roche")
    with pytest.raises(PermissionDenied):
        practice.assign(ctx, julie, "information-option-verte", user_id=julie.id)
    with pytest.raises(ValidationError) as bad:
        practice.assign(ctx, floor["trainer"], "inconnu", user_id=julie.id, team_id=floor["team"],
                        due_on=(ctx.now() - timedelta(days=1)).date(), note="x" * 3000)
    assert set(bad.value.errors) == {"scenario", "target", "due_on", "note"}
    with pytest.raises(ValidationError) as gone:
        practice.assign(ctx, floor["trainer"], "information-option-verte", user_id=9999)
    assert set(gone.value.errors) == {"target"}
    with pytest.raises(NotFoundError):  # someone else's assignment cannot be started
        other = practice.assign(ctx, floor["trainer"], "information-option-verte", user_id=floor["bruno"].id)
        practice.start_practice(ctx, julie, "information-option-verte", assignment_id=other.id)
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(PracticeAttempt)) == 0
