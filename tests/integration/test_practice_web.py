"""The "Entraînement" page over real HTTP, on SQLite and PostgreSQL: the scenarios with their
« Commencer » buttons, starting a practice call that rings on the desktop, the caller's lines
sent to the desktop like the console's, a refusal shown on the page, trainers assigning a
scenario to a team (and only trainers), the trainee seeing it; the page's structure."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select

from plateau.services import scenarios
from plateau.store.models import (Call, Disposition, Event, PracticeAttempt, Queue, QueueDisposition,
                                  ScenarioAssignment, Team, User)
from tests.helpers import login, make_user

CODE = "information-option-verte"


@pytest.fixture
def app(ctx):
    """The app on both backends."""
    from plateau.web.app import create_app

    return create_app(ctx, background=False)


@pytest.fixture
def people(ctx):
    with ctx.unit() as session:
        team = Team(code="promo", name="Promotion 2026")
        queue = Queue(code="service-clients", name="Service clients")
        info = Disposition(code="contract_change", label="Changement de contrat")
        session.add_all([team, queue, info])
        session.flush()
        session.add(QueueDisposition(queue_id=queue.id, disposition_id=info.id))
    julie = make_user(ctx, "julie", name="Julie Roche")
    make_user(ctx, "chef", role="supervisor", name="Chef Formateur")
    with ctx.unit() as session:
        session.get(User, julie.id).team_id = team.id
    return {"julie": julie.id, "team": team.id}


def browser(app, username: str) -> TestClient:
    client = TestClient(app)
    client.headers["X-CSRF-Token"] = login(client, username)
    return client


class Outline(HTMLParser):
    """What the structure checks need: headings, tables and their captions, labelled controls."""

    def __init__(self):
        super().__init__()
        self.h1 = 0
        self.tables = 0
        self.captions = 0
        self.ids: set[str] = set()
        self.labelled: set[str] = set()
        self.controls: list[tuple[str, dict]] = []
        self.buttons: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "h1":
            self.h1 += 1
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag == "label" and attrs.get("for"):
            self.labelled.add(attrs["for"])
        elif tag in ("input", "select", "textarea") and attrs.get("type") != "hidden":
            self.controls.append((tag, attrs))
        elif tag == "button":
            self.buttons.append(attrs)


def outline(html: str) -> Outline:
    parsed = Outline()
    parsed.feed(html)
    return parsed


def test_the_page_lists_the_scenarios_with_accessible_start_buttons(app, people):
    julie = browser(app, "julie")
    response = julie.get("/practice")
    assert response.status_code == 200
    page = outline(response.text)
    assert page.h1 == 1 and page.tables >= 1 and page.tables == page.captions
    starts = [b for b in page.buttons if b.get("id", "").startswith("start-")]
    assert len(starts) == len(scenarios.list_scenarios())
    for button in starts:  # each « Commencer » names its scenario to a screen reader
        assert button.get("type") == "submit" and button["aria-describedby"] in page.ids
    assert all(attrs.get("id") in page.labelled for _tag, attrs in page.controls)
    assert 'name="seed"' not in response.text, "only trainers choose the seed"
    assert str(escape(scenarios.get(CODE).title)) in response.text and "Claire Martin, 34 ans" in response.text

    trainer = browser(app, "chef")
    page = outline(trainer.get("/practice").text)
    seeds = [attrs for tag, attrs in page.controls if attrs.get("name") == "seed"]
    assert seeds and all(attrs["id"] in page.labelled for attrs in seeds)
    assert {"assign-scenario", "assign-target", "assign-due_on", "assign-note"} <= page.labelled


def test_starting_a_practice_call_rings_on_the_desktop_and_the_caller_speaks_to_it(app, ctx, people):
    julie = browser(app, "julie")
    token = julie.headers["X-CSRF-Token"]
    response = julie.post("/practice/start", data={"scenario": CODE, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/desktop"
    with ctx.read() as session:
        call = session.scalars(select(Call)).one()
    assert call.state == "ringing" and call.agent_id == people["julie"]
    desktop = julie.get("/desktop").text
    assert "Madame Claire Martin" in desktop

    again = julie.post("/practice/start", data={"scenario": CODE, "csrf_token": token})
    assert again.status_code == 409 and 'role="alert"' in again.text and "déjà en ligne" in again.text
    assert outline(again.text).h1 == 1

    assert julie.post(f"/api/calls/{call.id}/answer").status_code == 200
    said = julie.post(f"/api/calls/{call.id}/say", json={"text": "Énergie Horizon, Julie à votre écoute, bonjour !"})
    assert said.status_code == 201
    with ctx.read() as session:
        events = [e.payload for e in session.scalars(select(Event).where(
            Event.channel == f"user:{people['julie']}", Event.type == "utterance").order_by(Event.id))]
    assert [e["speaker"] for e in events] == ["agent", "caller"]
    assert events[1]["call_id"] == call.id and events[1]["text"]
    assert str(escape(events[1]["text"])) in julie.get("/desktop").text, "a reload shows the caller's line"
    current = julie.get("/practice").text
    assert "Entraînement en cours" in current and 'href="/desktop"' in current


def test_a_bad_seed_is_named_and_starts_nothing(app, ctx, people):
    trainer = browser(app, "chef")
    response = trainer.post("/practice/start", data={"scenario": CODE, "seed": "douze",
                                                     "csrf_token": trainer.headers["X-CSRF-Token"]})
    assert response.status_code == 422
    assert f'href="#start-{CODE}-seed"' in response.text and 'aria-invalid="true"' in response.text
    with ctx.read() as session:
        assert session.scalars(select(PracticeAttempt)).first() is None


def test_a_trainer_assigns_a_scenario_to_a_team_and_the_trainee_sees_it(app, ctx, people):
    trainer = browser(app, "chef")
    token = trainer.headers["X-CSRF-Token"]
    due = (ctx.now() + timedelta(days=5)).date()
    refused = trainer.post("/practice/assignments", data={"scenario": CODE, "target": "", "due_on": "31/02",
                                                          "note": "", "csrf_token": token})
    assert refused.status_code == 422 and 'href="#assign-due_on"' in refused.text
    refused = trainer.post("/practice/assignments", data={"scenario": "", "target": "", "due_on": "",
                                                          "note": "", "csrf_token": token})
    assert refused.status_code == 422
    assert 'href="#assign-scenario"' in refused.text and 'href="#assign-target"' in refused.text
    with ctx.read() as session:
        assert session.scalars(select(ScenarioAssignment)).first() is None

    done = trainer.post("/practice/assignments", data={"scenario": CODE, "target": f"team:{people['team']}",
                                                       "due_on": due.isoformat(), "note": "Pour vendredi.",
                                                       "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/practice?done=assigned")
    progress = trainer.get(done.headers["location"]).text
    assert "Mise en situation assignée." in progress and "0 sur 1" in progress and "Julie Roche : à faire" in progress

    julie = browser(app, "julie")
    page = julie.get("/practice").text
    assert 'id="assigned-table"' in page and due.strftime("%d/%m/%Y") in page and "Pour vendredi." in page
    assert 'name="assignment_id"' in page


def test_an_agent_cannot_assign(app, ctx, people):
    julie = browser(app, "julie")
    response = julie.post("/practice/assignments", data={"scenario": CODE, "target": f"user:{people['julie']}",
                                                         "csrf_token": julie.headers["X-CSRF-Token"]})
    assert response.status_code == 403
    with ctx.read() as session:
        assert session.scalars(select(ScenarioAssignment)).first() is None
