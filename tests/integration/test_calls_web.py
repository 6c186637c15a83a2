"""The calls API and pages over HTTP: the same rules as the services, with
translated messages, CSRF, permissions; a reload mid-call shows the call."""

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from plateau.services import agents
from plateau.services.users import actor_for
from plateau.store.models import Contact, ContactPhone
from tests.helpers import login, make_queue, make_user


def _setup(ctx):
    trainer = make_user(ctx, "formateur", role="supervisor")
    agent = make_user(ctx, "amina", name="Amina Saïdi")
    queue_id, (info_id,) = make_queue(ctx, [agent])
    with ctx.unit() as session:
        now = ctx.now()
        karim = Contact(kind="person", civility="M.", first_name="Karim", last_name="Benali",
                        search_name="benali karim", created_at=now, updated_at=now, tags=[])
        session.add(karim)
        session.flush()
        session.add(ContactPhone(contact_id=karim.id, e164="+33612345678"))
    agents.set_state(ctx, actor_for(agent), "available")
    return trainer, agent, queue_id, info_id


def _client(app, username):
    client = TestClient(app)
    token = login(client, username)
    client.headers["X-CSRF-Token"] = token
    return client


def test_call_over_the_api_with_refusals(app, sqlite_ctx):
    trainer, agent, queue_id, info_id = _setup(sqlite_ctx)
    console = _client(app, "formateur")
    desk = _client(app, "amina")
    bad = console.post("/api/calls", json={"queue_id": queue_id, "number": "06 12", "region": "FR"})
    assert bad.status_code == 422 and "number" in bad.json()["errors"]
    call = console.post("/api/calls", json={"queue_id": queue_id, "number": "06 12 34 56 78", "region": "FR"}).json()
    assert call["state"] == "ringing"
    first = desk.post(f"/api/calls/{call['id']}/answer")
    second = desk.post(f"/api/calls/{call['id']}/answer")
    assert first.status_code == second.status_code == 200 and second.json()["state"] == "connected"
    assert desk.post(f"/api/calls/{call['id']}/say", json={"text": "Bonjour !"}).status_code == 201
    # a reload mid-call shows the call, the contact and the transcript
    page = desk.get("/desktop")
    assert "Monsieur Karim Benali" in page.text and "Bonjour !" in page.text and 'id="call-hold"' in page.text
    assert desk.post(f"/api/calls/{call['id']}/hangup").json()["state"] == "wrap_up"
    refused = desk.post(f"/api/calls/{call['id']}/close", json={"disposition_id": None})
    assert refused.status_code == 422
    assert refused.json()["errors"]["disposition"] == "Choisissez une qualification : l'appel ne peut pas être clôturé sans."
    closed = desk.post(f"/api/calls/{call['id']}/close", json={"disposition_id": info_id, "note": "RAS"})
    assert closed.json()["state"] == "closed" and closed.json()["disposition"] == "info"
    assert "Information donnée" in desk.get("/calls").text
    detail = desk.get(f"/calls/{call['id']}").text
    assert "Bonjour !" in detail and "RAS" in detail and "Qualifié et clôturé" in detail


def test_api_without_csrf_header_is_refused(app, sqlite_ctx):
    _setup(sqlite_ctx)
    client = TestClient(app)
    login(client, "amina")
    assert client.post("/api/agent/state", json={"state": "paused", "pause_reason": "lunch"}).status_code == 403


def test_agent_state_api_names_the_missing_reason(app, sqlite_ctx):
    _setup(sqlite_ctx)
    desk = _client(app, "amina")
    response = desk.post("/api/agent/state", json={"state": "paused"})
    assert response.status_code == 422 and response.json()["field"] == "pause_reason"
    assert desk.post("/api/agent/state", json={"state": "paused", "pause_reason": "lunch"}).json()["state"] == "paused"


def test_agents_cannot_read_other_agents_calls(app, sqlite_ctx):
    trainer, agent, queue_id, _ = _setup(sqlite_ctx)
    make_user(sqlite_ctx, "bruno")
    console = _client(app, "formateur")
    call = console.post("/api/calls", json={"queue_id": queue_id, "number": "0612345678"}).json()
    other = _client(app, "bruno")
    assert other.get(f"/api/calls/{call['id']}").status_code == 403
    assert other.get(f"/calls/{call['id']}").status_code == 403


def test_preferences_are_validated_and_saved(app, sqlite_ctx):
    _setup(sqlite_ctx)
    desk = _client(app, "amina")
    token = desk.headers["X-CSRF-Token"]
    bad = desk.post("/preferences", data={"csrf_token": token, "ring_timeout_s": "1", "wrap_up_limit_s": "120",
                                          "session_timeout_min": "60", "locale": "fr"})
    assert bad.status_code == 422 and "Choisissez une valeur entre 5 et 300." in bad.text
    good = desk.post("/preferences", data={"csrf_token": token, "ring_timeout_s": "45", "wrap_up_limit_s": "120",
                                           "session_timeout_min": "60", "shortcut_answer": "Q", "locale": "fr"})
    assert good.status_code == 200 and "Préférences enregistrées." in good.text
    assert '"answer": "Q"' in desk.get("/desktop").text.replace("&#34;", '"')


def test_a_new_shortcut_cannot_take_a_key_already_used(app, sqlite_ctx):
    _setup(sqlite_ctx)
    desk = _client(app, "amina")
    response = desk.post("/preferences", data={"csrf_token": desk.headers["X-CSRF-Token"], "shortcut_answer": "H"})
    assert response.status_code == 422 and "La touche H est déjà utilisée" in response.text


def test_queues_api_lists_dispositions_and_the_choice_form_works_without_javascript(app, sqlite_ctx):
    trainer, agent, queue_id, info_id = _setup(sqlite_ctx)
    desk = _client(app, "amina")
    queues = desk.get("/api/queues").json()
    assert queues == [{"id": queue_id, "code": "service-clients", "name": "Service clients",
                       "dispositions": [{"id": info_id, "code": "info", "label": "Information donnée",
                                         "requires_callback": False}]}]
    console = _client(app, "formateur")
    call = console.post("/api/calls", json={"queue_id": queue_id, "number": "0612345678"}).json()
    desk.post(f"/api/calls/{call['id']}/answer")
    with sqlite_ctx.read() as session:
        karim_id = session.scalars(select(Contact.id)).one()
    response = desk.post(f"/calls/{call['id']}/contact", data={"contact_id": karim_id,
                                                                "csrf_token": desk.headers["X-CSRF-Token"]},
                         follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/desktop"
    assert desk.get(f"/api/calls/{call['id']}").json()["contact_id"] == karim_id


def test_console_calls_from_a_contact_of_the_file(app, sqlite_ctx):
    _, _, queue_id, _ = _setup(sqlite_ctx)
    console = _client(app, "formateur")
    found = console.get("/console/contacts", params={"q": "benali"}).text
    assert "Karim Benali" in found and "06 12 34 56 78" in found
    contact_id = int(re.search(r'data-contact-id="(\d+)"', found).group(1))
    call = console.post("/api/calls", json={"queue_id": queue_id, "contact_id": contact_id}).json()
    assert call["caller_number"] == "+33612345678" and call["state"] == "ringing"
    assert "Karim Benali" in console.get("/console/calls").text
