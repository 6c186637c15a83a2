"""Supervision on real databases: the wallboard snapshot, silent listening, whispers,
taking a call over, imposed pauses and log-offs; then the same through HTTP."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from plateau.domain.errors import DomainError, IllegalTransition, PermissionDenied, ValidationError
from plateau.services import agents, calls, supervision
from plateau.services.users import actor_for
from plateau.store.models import (AgentPresence, CallEvent, CallMonitor, Contact, ContactPhone, Disposition, Event, Queue,
                                  QueueDisposition, QueueMember, Team, User, Whisper)
from tests.helpers import login, make_user

AGENTS = ("alice", "bruno", "chloe", "david", "emma", "farid")


@pytest.fixture
def floor(ctx):
    """Two queues (the second one with no agent and an alert at one waiting call), a team,
    six agents in "Service clients", a trainer playing callers, a floor supervisor, Karim Benali."""
    with ctx.unit() as session:
        people = {"trainer": _person(session, ctx, "formateur", "supervisor", "Formateur"),
                  "boss": _person(session, ctx, "chef", "supervisor", "Chef de plateau")}
        for name in AGENTS:
            people[name] = _person(session, ctx, name, "agent", name.title())
        team = Team(code="equipe-a", name="Équipe A")
        queue = Queue(code="service-clients", name="Service clients", alert_waiting=3, alert_longest_wait_s=60,
                      alert_abandon_rate=0.1, sl_threshold_s=20, sl_target=0.8)
        billing = Queue(code="facturation", name="Facturation", alert_waiting=1)
        session.add_all([team, queue, billing])
        session.flush()
        info = Disposition(code="info", label="Information donnée")
        session.add(info)
        session.flush()
        session.add(QueueDisposition(queue_id=queue.id, disposition_id=info.id, position=1))
        for name in AGENTS:
            session.add(QueueMember(queue_id=queue.id, user_id=people[name].id))
        session.get(User, people["alice"].id).team_id = team.id
        now = ctx.now()
        karim = Contact(kind="person", civility="M.", first_name="Karim", last_name="Benali", search_name="benali karim",
                        created_at=now, updated_at=now, tags=[])
        session.add(karim)
        session.flush()
        session.add(ContactPhone(contact_id=karim.id, e164="+33612345678", label="mobile"))
    return {**people, "queue": queue.id, "billing": billing.id, "info": info.id}


def _person(session, ctx, username: str, role: str, name: str):
    """Someone who never logs in here: no password to hash (argon2 costs a good part of a second)."""
    user = User(username=username, display_name=name, password_hash="!", role=role, locale="fr", prefs={},
                created_at=ctx.now())
    session.add(user)
    session.flush()
    session.add(AgentPresence(user_id=user.id, state="offline", since=ctx.now()))
    return actor_for(user)


def _ring(ctx, floor, agent: str, number: str = "0612345678", queue: str = "queue"):
    """Make ``agent`` the only available agent and place a call: it rings them."""
    agents.set_state(ctx, floor[agent], "available")
    call = calls.place_call(ctx, floor["trainer"], floor[queue], number)
    assert call.agent_id == floor[agent].id
    return call


def _live(ctx, floor, agent: str, number: str = "0612345678"):
    call = _ring(ctx, floor, agent, number)
    calls.answer(ctx, floor[agent], call.id)
    return call


def _events(ctx, channel: str, after: int = 0) -> list[Event]:
    with ctx.read() as session:
        return list(session.scalars(select(Event).where(Event.channel == channel, Event.id > after).order_by(Event.id)))


def _last_event_id(ctx) -> int:
    with ctx.read() as session:
        return session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1)) or 0


def _channel(actor) -> str:
    return f"user:{actor.id}"


# --- the snapshot ----------------------------------------------------------------------------------


def test_the_wallboard_shows_every_agent_and_queue_with_calls_in_every_state(ctx, floor):
    # today so far: one call handled and closed, one abandoned after 10 s of ringing
    done = _live(ctx, floor, "alice")
    ctx.clock.advance(seconds=30)
    calls.hang_up(ctx, floor["alice"], done.id)
    ctx.clock.advance(seconds=10)
    calls.close(ctx, floor["alice"], done.id, floor["info"])
    agents.set_state(ctx, floor["alice"], "paused", "admin")
    lost = _ring(ctx, floor, "bruno")
    ctx.clock.advance(seconds=10)
    calls.hang_up(ctx, floor["trainer"], lost.id)
    agents.set_state(ctx, floor["bruno"], "paused", "admin")
    # now: connected, on hold, wrap-up, ringing, a lunch break, someone offline, calls waiting
    connected = _live(ctx, floor, "alice")
    held = _live(ctx, floor, "bruno", "0698765432")
    calls.hold(ctx, floor["bruno"], held.id)
    wrapping = _live(ctx, floor, "chloe")
    calls.hang_up(ctx, floor["chloe"], wrapping.id)
    ringing = _ring(ctx, floor, "david")
    agents.set_state(ctx, floor["emma"], "paused", "lunch")
    waiting = calls.place_call(ctx, floor["trainer"], floor["queue"], "0611111111")
    billing = calls.place_call(ctx, floor["trainer"], floor["billing"], "0622222222")
    assert (waiting.state, billing.state) == ("offered", "offered")
    ctx.clock.advance(seconds=75)

    board = supervision.wallboard(ctx, floor["boss"])
    by_name = {agent.name: agent for agent in board.agents}
    assert list(by_name) == ["Alice", "Bruno", "Chloe", "David", "Emma", "Farid"], "agents only, by name"
    alice, bruno, chloe, david, emma, farid = (by_name[n] for n in ("Alice", "Bruno", "Chloe", "David", "Emma", "Farid"))
    assert (alice.state, alice.team, alice.call.state, alice.call.call_id) == ("on_call", "Équipe A", "connected", connected.id)
    assert alice.call.caller == "Monsieur Karim Benali" and alice.call.queue == "Service clients"
    assert alice.call.duration_s == 75 and alice.queues == ("Service clients",)
    assert (bruno.state, bruno.call.state, bruno.call.caller) == ("on_call", "on_hold", "06 98 76 54 32")
    assert (chloe.state, chloe.call.state) == ("wrap_up", "wrap_up")
    assert (david.state, david.call.state, david.call.call_id) == ("on_call", "ringing", ringing.id)
    assert (emma.state, emma.pause_reason, emma.call) == ("paused", "lunch", None)
    assert (farid.state, farid.call) == ("offline", None)
    assert (board.at - emma.since).total_seconds() == 75

    queues = {q.name: q for q in board.queues}
    service = queues["Service clients"]
    assert (service.waiting, service.longest_wait_s, service.available, service.busy) == (1, 75, 0, 4)
    today = service.today
    assert (today.offered, today.handled, today.abandoned, today.service_level) == (7, 4, 1, 0.8)
    assert today.abandon_rate == pytest.approx(1 / 7)
    assert today.aht_s == 40  # the one closed call: 30 s of talk + 10 s of wrap-up
    assert [a.code for a in service.alerts] == ["longest_wait", "abandon_rate"]
    assert [a.render() for a in queues["Facturation"].alerts] == ["Alerte : 1 appel en attente (seuil 1)",
                                                                  "Alerte : un appel attend depuis 75 s (seuil 60 s)"]
    snapshot = board.as_dict()
    assert snapshot["queues"][0]["alerts"][0] == {"code": "waiting", "text": "Alerte : 1 appel en attente (seuil 1)"}
    assert snapshot["agents"][0]["call"]["call_id"] == connected.id


def test_a_supervisor_on_a_call_appears_beside_the_agents(ctx, floor):
    call = _live(ctx, floor, "alice")
    supervision.take_over(ctx, floor["boss"], call.id)
    board = supervision.wallboard(ctx, floor["boss"])
    boss = next(agent for agent in board.agents if agent.user_id == floor["boss"].id)
    assert (boss.state, boss.call.call_id) == ("on_call", call.id)
    assert floor["trainer"].id not in {agent.user_id for agent in board.agents}, "offline supervisors stay off the board"


def test_agents_cannot_see_the_wallboard_or_supervise(ctx, floor):
    call = _live(ctx, floor, "alice")
    bruno = floor["bruno"]
    for attempt in (lambda: supervision.wallboard(ctx, bruno), lambda: supervision.listen(ctx, bruno, call.id),
                    lambda: supervision.stop_listening(ctx, bruno, call.id),
                    lambda: supervision.whisper(ctx, bruno, floor["alice"].id, "Psst"),
                    lambda: supervision.take_over(ctx, bruno, call.id),
                    lambda: supervision.force_pause(ctx, bruno, floor["alice"].id),
                    lambda: supervision.force_log_off(ctx, bruno, floor["alice"].id)):
        with pytest.raises(PermissionDenied):
            attempt()


# --- silent listening ---------------------------------------------------------------------------------


def test_a_listening_supervisor_gets_the_transcript_and_nobody_is_told(ctx, floor):
    call = _live(ctx, floor, "alice")
    calls.say(ctx, floor["alice"], call.id, "Avant l'écoute.")
    mark = _last_event_id(ctx)
    monitor = supervision.listen(ctx, floor["boss"], call.id)
    assert supervision.listen(ctx, floor["boss"], call.id).id == monitor.id, "listening twice keeps one monitor"
    assert supervision.is_listening(ctx, floor["boss"], call.id)
    calls.say(ctx, floor["trainer"], call.id, "Bonjour, ma facture est fausse.")
    calls.say(ctx, floor["alice"], call.id, "Je regarde votre facture.")
    calls.hold(ctx, floor["alice"], call.id)
    calls.resume(ctx, floor["alice"], call.id)
    assert supervision.stop_listening(ctx, floor["boss"], call.id) is True
    assert supervision.stop_listening(ctx, floor["boss"], call.id) is False
    calls.say(ctx, floor["trainer"], call.id, "Après l'écoute.")

    heard = _events(ctx, _channel(floor["boss"]), mark)
    assert [e.payload["text"] for e in heard if e.type == "utterance"] == ["Bonjour, ma facture est fausse.",
                                                                          "Je regarde votre facture."]
    assert [e.payload["action"] for e in heard if e.type == "call"] == ["hold", "resume"]
    # the agent and the caller: their usual events, nothing about the écoute
    for person in ("alice", "trainer"):
        seen = _events(ctx, _channel(floor[person]), mark)
        assert {e.type for e in seen} <= {"utterance", "call"}
        assert [e.payload["text"] for e in seen if e.type == "utterance"] == [
            "Bonjour, ma facture est fausse.", "Je regarde votre facture.", "Après l'écoute."]
        for event in seen:
            assert "Chef de plateau" not in json.dumps(event.payload, ensure_ascii=False)
            assert not any("supervis" in key or "listen" in key or "monitor" in key for key in event.payload)
    floor_events = [e for e in _events(ctx, "floor", mark) if e.type == "supervision"]
    assert [e.payload["action"] for e in floor_events] == ["listen", "stop_listening"]
    with ctx.read() as session:
        row = session.get(CallMonitor, monitor.id)
        assert row.mode == "listen" and row.ended_at is not None


def test_several_supervisors_can_listen_to_one_call(ctx, floor):
    call = _live(ctx, floor, "alice")
    with ctx.unit() as session:
        other = _person(session, ctx, "cheffe", "supervisor", "Cheffe")
    supervision.listen(ctx, floor["boss"], call.id)
    supervision.listen(ctx, other, call.id)
    mark = _last_event_id(ctx)
    calls.say(ctx, floor["trainer"], call.id, "Allô ?")
    for supervisor in (floor["boss"], other):
        assert [e.payload["text"] for e in _events(ctx, _channel(supervisor), mark)] == ["Allô ?"]
    board = supervision.wallboard(ctx, floor["boss"])
    alice = next(agent for agent in board.agents if agent.user_id == floor["alice"].id)
    assert alice.listeners == ("Chef de plateau", "Cheffe")


def test_listening_is_refused_on_a_finished_call_and_to_ones_own_call(ctx, floor):
    call = _ring(ctx, floor, "alice")
    calls.hang_up(ctx, floor["trainer"], call.id)
    agents.set_state(ctx, floor["alice"], "offline")
    with pytest.raises(IllegalTransition, match="terminé"):
        supervision.listen(ctx, floor["boss"], call.id)
    live = _live(ctx, floor, "bruno")
    with pytest.raises(DomainError, match="déjà sur cet appel"):
        supervision.listen(ctx, floor["trainer"], live.id)


# --- whisper ----------------------------------------------------------------------------------------------


def test_a_whisper_reaches_the_agent_only(ctx, floor):
    call = _live(ctx, floor, "alice")
    supervision.listen(ctx, floor["boss"], call.id)
    mark = _last_event_id(ctx)
    whisper = supervision.whisper(ctx, floor["boss"], floor["alice"].id, "  Proposez l'échéancier.  ", call.id)
    assert whisper.text == "Proposez l'échéancier."
    [shown] = _events(ctx, _channel(floor["alice"]), mark)
    assert shown.type == "whisper"
    assert shown.payload.items() >= {"text": "Proposez l'échéancier.", "from": "Chef de plateau",
                                     "call_id": call.id}.items()
    assert _events(ctx, _channel(floor["trainer"]), mark) == [], "the caller never gets it"
    assert _events(ctx, _channel(floor["boss"]), mark) == [], "a whisper is not a line of the call"
    [on_floor] = _events(ctx, "floor", mark)
    assert on_floor.type == "supervision" and "text" not in on_floor.payload
    assert [w.text for w, _ in supervision.recent_whispers(ctx, floor["alice"].id)] == ["Proposez l'échéancier."]
    with ctx.read() as session:
        assert [u.text for u in calls.view(ctx, call.id).transcript] == []
        assert session.scalar(select(Whisper.to_user_id)) == floor["alice"].id


def test_a_whisper_is_checked(ctx, floor):
    call = _live(ctx, floor, "alice")
    with pytest.raises(ValidationError) as empty:
        supervision.whisper(ctx, floor["boss"], floor["alice"].id, "   ")
    assert "text" in empty.value.errors
    with pytest.raises(ValidationError):
        supervision.whisper(ctx, floor["boss"], floor["alice"].id, "x" * (calls.MAX_UTTERANCE + 1))
    with pytest.raises(DomainError) as elsewhere:
        supervision.whisper(ctx, floor["boss"], floor["bruno"].id, "Courage", call.id)
    assert elsewhere.value.render() == "Cet appel n'est plus sur le poste de Bruno."
    with pytest.raises(DomainError, match="introuvable"):
        supervision.whisper(ctx, floor["boss"], 999999, "Allô")
    with ctx.read() as session:
        assert session.scalar(select(Whisper.id)) is None


# --- take over -----------------------------------------------------------------------------------------------


def test_taking_over_moves_the_call_and_frees_the_agent(ctx, floor):
    call = _live(ctx, floor, "alice")
    calls.say(ctx, floor["trainer"], call.id, "Je veux parler à un responsable.")
    supervision.listen(ctx, floor["boss"], call.id)
    waiting = calls.place_call(ctx, floor["trainer"], floor["queue"], "0611111111")
    assert waiting.state == "offered"
    mark = _last_event_id(ctx)
    ctx.clock.advance(seconds=5)
    taken = supervision.take_over(ctx, floor["boss"], call.id)
    assert supervision.take_over(ctx, floor["boss"], call.id).id == taken.id, "a double click takes once"

    view = calls.view(ctx, call.id)
    assert (view.call.state, view.call.agent_id) == ("connected", floor["boss"].id)
    assert agents.get_presence(ctx, floor["boss"].id).state == "on_call"
    # the former agent was released, available: the waiting call rings them at once
    assert calls.view(ctx, waiting.id).call.agent_id == floor["alice"].id
    with ctx.read() as session:
        event = session.scalars(select(CallEvent).where(CallEvent.call_id == call.id, CallEvent.action == "take_over")).one()
        assert (event.actor_id, event.agent_id, event.data) == (floor["boss"].id, floor["boss"].id,
                                                                 {"from_agent_id": floor["alice"].id})
        modes = session.execute(select(CallMonitor.mode, CallMonitor.ended_at.is_not(None))
                                .where(CallMonitor.call_id == call.id).order_by(CallMonitor.id)).all()
        assert modes == [("listen", True), ("take_over", True)]
    # the caller and both desktops are told
    for person in ("alice", "trainer", "boss"):
        assert "take_over" in [e.payload.get("action") for e in _events(ctx, _channel(floor[person]), mark)
                               if e.type == "call"], person
    # the supervisor carries on as the call's agent, to its qualification
    calls.say(ctx, floor["boss"], call.id, "Bonjour, je suis la responsable.")
    calls.hang_up(ctx, floor["boss"], call.id)
    calls.close(ctx, floor["boss"], call.id, floor["info"])
    assert calls.view(ctx, call.id).call.state == "closed"


def test_taking_over_is_refused_unless_the_call_is_live_and_the_supervisor_free(ctx, floor):
    ringing = _ring(ctx, floor, "alice")
    with pytest.raises(IllegalTransition, match="en communication ou en attente"):
        supervision.take_over(ctx, floor["boss"], ringing.id)
    calls.answer(ctx, floor["alice"], ringing.id)
    other = _live(ctx, floor, "bruno")
    supervision.take_over(ctx, floor["boss"], other.id)
    with pytest.raises(DomainError, match="votre propre appel"):
        supervision.take_over(ctx, floor["boss"], ringing.id)
    with pytest.raises(DomainError, match="déjà sur cet appel"):
        supervision.take_over(ctx, floor["trainer"], ringing.id)
    assert calls.view(ctx, ringing.id).call.agent_id == floor["alice"].id


# --- imposed pause and log-off -----------------------------------------------------------------------------


def test_a_forced_pause_applies_to_a_free_agent_and_tells_their_desktop(ctx, floor):
    agents.set_state(ctx, floor["alice"], "available")
    mark = _last_event_id(ctx)
    presence = supervision.force_pause(ctx, floor["boss"], floor["alice"].id)
    assert (presence.state, presence.pause_reason) == ("paused", "supervisor")
    assert [(e.type, e.payload["state"]) for e in _events(ctx, _channel(floor["alice"]), mark)] == [("agent_state", "paused")]
    assert [e.type for e in _events(ctx, "floor", mark)] == ["agent_state", "supervision"]
    supervision.force_pause(ctx, floor["boss"], floor["alice"].id)  # again: nothing new
    assert len(_events(ctx, "floor", mark)) == 2
    coached = supervision.force_pause(ctx, floor["boss"], floor["alice"].id, "coaching")
    assert coached.pause_reason == "coaching"
    # the agent comes back by themselves, and cannot pick the supervisor's reason
    with pytest.raises(DomainError):
        agents.set_state(ctx, floor["alice"], "paused", "supervisor")
    agents.set_state(ctx, floor["alice"], "available")


def test_a_forced_pause_is_refused_with_a_call_on_the_desktop_or_offline(ctx, floor):
    call = _live(ctx, floor, "alice")
    with pytest.raises(DomainError) as refused:
        supervision.force_pause(ctx, floor["boss"], floor["alice"].id)
    assert refused.value.render() == ("Alice a un appel sur son poste : la pause pourra être imposée une fois "
                                      "l'appel clôturé.")
    calls.hang_up(ctx, floor["alice"], call.id)
    with pytest.raises(DomainError):
        supervision.force_pause(ctx, floor["boss"], floor["alice"].id)  # wrap-up is still the call's
    with pytest.raises(DomainError, match="hors ligne"):
        supervision.force_pause(ctx, floor["boss"], floor["farid"].id)
    with pytest.raises(DomainError, match="motif"):
        supervision.force_pause(ctx, floor["boss"], floor["bruno"].id, "no_answer")
    assert agents.get_presence(ctx, floor["alice"].id).state == "wrap_up"


def test_log_off_is_refused_while_a_call_is_on_the_desktop(ctx, floor):
    call = _ring(ctx, floor, "alice")
    with pytest.raises(DomainError, match="impossible de le déconnecter"):
        supervision.force_log_off(ctx, floor["boss"], floor["alice"].id)
    calls.hang_up(ctx, floor["trainer"], call.id)
    mark = _last_event_id(ctx)
    assert supervision.force_log_off(ctx, floor["boss"], floor["alice"].id).state == "offline"
    assert supervision.force_log_off(ctx, floor["boss"], floor["alice"].id).state == "offline"
    assert [e.payload["state"] for e in _events(ctx, _channel(floor["alice"]), mark)] == ["offline"]
    # an offline agent gets no call
    waiting = calls.place_call(ctx, floor["trainer"], floor["queue"], "0611111111")
    assert waiting.state == "offered"


# --- HTTP ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def web_floor(sqlite_ctx, client):
    ctx = sqlite_ctx
    with ctx.unit() as session:
        trainer = _person(session, ctx, "formateur", "supervisor", "Formateur")
    boss = actor_for(make_user(ctx, "chef", role="supervisor", name="Chef de plateau"))
    alice = actor_for(make_user(ctx, "alice"))
    with ctx.unit() as session:
        queue = Queue(code="service-clients", name="Service clients", alert_waiting=1)
        session.add(queue)
        session.flush()
        session.add(QueueMember(queue_id=queue.id, user_id=alice.id))
    agents.set_state(ctx, alice, "available")
    call = calls.place_call(ctx, trainer, queue.id, "0612345678")
    calls.answer(ctx, alice, call.id)
    calls.say(ctx, trainer, call.id, "Bonjour, c'est au sujet de ma facture.")
    return {"ctx": ctx, "client": client, "boss": boss, "alice": alice, "trainer": trainer, "call": call.id,
            "queue": queue.id}


def test_the_wallboard_page_and_its_json(web_floor):
    client = web_floor["client"]
    login(client, "alice")
    assert client.get("/wallboard").status_code == 403
    assert client.get("/api/wallboard").status_code == 403
    client.cookies.clear()
    login(client, "chef")
    page = client.get("/wallboard")
    assert page.status_code == 200
    assert "<caption" in page.text and 'scope="col"' in page.text
    assert f'id="agent-{web_floor["alice"].id}"' in page.text and f'id="listen-{web_floor["alice"].id}"' in page.text
    assert "En appel" in page.text and "06 12 34 56 78" in page.text
    snapshot = client.get("/api/wallboard").json()
    assert snapshot["agents"][0]["call"]["call_id"] == web_floor["call"]
    assert snapshot["queues"][0]["waiting"] == 0
    fragment = client.get("/wallboard/fragment/tables")
    assert 'id="agents-region"' in fragment.text and "<html" not in fragment.text


def test_every_alert_has_its_words_for_the_end_of_alert_announcement():
    from plateau.domain.wallboard import ALERT_CODES
    from plateau.web.wallboard import ALERT_LABELS

    assert set(ALERT_LABELS) == set(ALERT_CODES)


def test_an_alert_is_written_out_on_the_page(web_floor):
    calls.place_call(web_floor["ctx"], web_floor["trainer"], web_floor["queue"], "0611111111")
    client = web_floor["client"]
    login(client, "chef")
    page = client.get("/wallboard").text
    assert "Alerte : 1 appel en attente (seuil 1)" in page
    assert 'class="in-alert"' in page and "1 file en alerte" in page


def test_listening_through_the_pages(web_floor):
    client, call_id = web_floor["client"], web_floor["call"]
    token = login(client, "chef")
    assert client.post(f"/wallboard/calls/{call_id}/listen").status_code == 403, "no CSRF token, no écoute"
    response = client.post(f"/wallboard/calls/{call_id}/listen", data={"csrf_token": token}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, f"/wallboard/calls/{call_id}")
    page = client.get(f"/wallboard/calls/{call_id}")
    assert "Bonjour, c&#39;est au sujet de ma facture." in page.text
    assert 'aria-live="polite"' in page.text and 'id="listen-stop"' in page.text
    assert "ni l&#39;agent ni l&#39;appelant n&#39;en sont informés" in page.text, "the result is shown once"
    assert "ni l&#39;agent ni l&#39;appelant n&#39;en sont informés" not in client.get("/wallboard").text
    assert supervision.is_listening(web_floor["ctx"], web_floor["boss"], call_id)
    response = client.post(f"/wallboard/calls/{call_id}/stop", data={"csrf_token": token}, follow_redirects=False)
    assert response.headers["location"] == "/wallboard"
    assert not supervision.is_listening(web_floor["ctx"], web_floor["boss"], call_id)


def test_whisper_and_refusals_answer_htmx_with_a_fragment(web_floor):
    client, alice = web_floor["client"], web_floor["alice"]
    token = login(client, "chef")
    headers = {"HX-Request": "true", "X-CSRF-Token": token}
    sent = client.post(f"/wallboard/agents/{alice.id}/whisper", headers=headers,
                       data={"text": "Pensez à reformuler.", "call_id": str(web_floor["call"])})
    assert sent.status_code == 200 and 'data-announce="Message envoyé à Alice."' in sent.text
    refused = client.post(f"/wallboard/agents/{alice.id}/pause", headers=headers, data={"reason": "supervisor"})
    assert refused.status_code == 422
    assert "Alice a un appel sur son poste" in refused.text and 'role="alert"' in refused.text
    plain = client.post(f"/wallboard/agents/{alice.id}/whisper",
                        data={"text": "Bien joué.", "csrf_token": token, "back": "https://ailleurs.example/"},
                        follow_redirects=False)
    assert plain.headers["location"] == "/wallboard", "no redirect outside the wallboard"
    assert "Message envoyé à Alice." in client.get("/wallboard").text


def test_the_json_actions_and_their_refusals(web_floor):
    client, alice = web_floor["client"], web_floor["alice"]
    token = login(client, "chef")
    headers = {"X-CSRF-Token": token}
    done = client.post(f"/api/supervision/agents/{alice.id}/whisper", headers=headers, json={"text": "Courage !"})
    assert done.json() == {"ok": True, "message": "Message envoyé à Alice.", "next_url": "/wallboard"}
    refused = client.post(f"/api/supervision/agents/{alice.id}/log-off", headers=headers)
    assert refused.status_code == 422 and "impossible de le déconnecter" in refused.json()["detail"]
    empty = client.post(f"/api/supervision/agents/{alice.id}/whisper", headers=headers, json={"text": " "})
    assert empty.status_code == 422 and empty.json()["errors"] == {"text": "Le message est vide."}
    taken = client.post(f"/api/supervision/calls/{web_floor['call']}/take-over", headers=headers)
    assert taken.json()["next_url"] == "/desktop"
    assert calls.view(web_floor["ctx"], web_floor["call"]).call.agent_id == web_floor["boss"].id
    paused = client.post(f"/api/supervision/agents/{alice.id}/pause", headers=headers, json={"reason": "coaching"})
    assert paused.json()["message"] == "Alice est en pause : Accompagnement / double écoute."
    off = client.post(f"/api/supervision/agents/{alice.id}/log-off", headers=headers)
    assert off.json()["message"] == "Alice est hors ligne."


def test_take_over_through_the_page_leads_to_the_desktop(web_floor):
    client, call_id = web_floor["client"], web_floor["call"]
    token = login(client, "chef")
    response = client.post(f"/wallboard/calls/{call_id}/take-over", data={"csrf_token": token}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/desktop")
    desktop = client.get("/desktop").text
    assert f'data-call-id="{call_id}"' in desktop and "En communication" in desktop


def test_the_desktop_shows_todays_whispers(web_floor):
    ctx, client = web_floor["ctx"], web_floor["client"]
    supervision.whisper(ctx, web_floor["boss"], web_floor["alice"].id, "Très bonne reformulation.")
    login(client, "alice")
    desktop = client.get("/desktop").text
    assert 'id="whisper-panel"' in desktop and 'hx-get="/whispers"' in desktop
    listed = client.get("/whispers").text
    assert "Message du superviseur : <bdi>Très bonne reformulation.</bdi>" in listed and "Chef de plateau" in listed
