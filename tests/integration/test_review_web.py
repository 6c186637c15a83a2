"""The review page of a call, through the real app on SQLite and PostgreSQL: the trainee's
self-assessment first (no result before), then self / automatic / trainer side by side, the
trainer's changes with a comment, feedback, and the evidence marked in the transcript."""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from plateau.services import frameworks, ratings, review, scenarios
from plateau.services.ratings import Judgement
from plateau.services.users import actor_for
from plateau.store.models import Call, PracticeAttempt, Rating, Utterance
from tests.helpers import login, make_user

FILEA = "filea-appels-sortants"
#: (seconds from the call's creation, speaker, text)
TURNS = [
    (1.0, "caller", "Allô ?"),
    (2.0, "agent", "Bonjour, je suis Lina de la société Solaris, je vous appelle au sujet de votre toiture."),
    (9.0, "caller", "Ah oui, bonjour."),
    (14.0, "agent", "Auriez-vous deux minutes pour que je vous présente notre offre ?"),
    (20.0, "caller", "C'est trop cher, ces panneaux."),
    (26.0, "agent", "Je comprends, c'est une vraie question. Justement, l'étude est gratuite."),
]


# --- a small DOM, to check structure rather than text ------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict):
        self.tag, self.attrs, self.children = tag, attrs, []

    def text(self) -> str:
        return " ".join("".join(c if isinstance(c, str) else " " + c.text() + " " for c in self.children).split())

    def all(self, tag: str | None = None, **attrs) -> list["Node"]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if (tag is None or child.tag == tag) and all(child.attrs.get(k.rstrip("_")) == v for k, v in attrs.items()):
                    found.append(child)
                found.extend(child.all(tag, **attrs))
        return found

    def by_id(self, ident: str) -> "Node | None":
        hits = self.all(id=ident)
        return hits[0] if hits else None

    def links(self) -> list[str]:
        return [a.attrs.get("href") for a in self.all("a")]


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def dom(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    return builder.root


# --- fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture
def app(ctx):
    """The app on both backends."""
    from plateau.web.app import create_app

    return create_app(ctx, background=False)


@pytest.fixture
def people(ctx):
    return {"lina": actor_for(make_user(ctx, "lina", name="Lina Stagiaire")),
            "chef": actor_for(make_user(ctx, "chef", role="supervisor", name="Chef Formateur"))}


def _call(ctx, agent_id: int, scenario: str | None = None) -> int:
    start = ctx.now()
    with ctx.unit() as session:
        call = Call(state="closed", direction="outbound", caller_number="+33612345678", agent_id=agent_id,
                    created_at=start, state_since=start, declined_by=[])
        session.add(call)
        session.flush()
        session.add_all([Utterance(call_id=call.id, speaker=speaker, text=text, at=start + timedelta(seconds=t))
                         for t, speaker, text in TURNS])
        if scenario:
            session.add(PracticeAttempt(scenario=scenario, trainee_id=agent_id, call_id=call.id, seed=3,
                                        started_at=start))
    return call.id


@pytest.fixture
def call_id(ctx, people):
    return _call(ctx, people["lina"].id)


@pytest.fixture
def auto(ctx, call_id):
    return record_auto(ctx, call_id)


def record_auto(ctx, call_id):
    """The automatic results: 01 from turn 2 (t and quote), 03 from turn 4 by its quote alone (the
    evaluator's clock is 5 s off), 09 from turn 6 and an event, 12 from a timing; the others met or not."""
    criteria = frameworks.get(FILEA).criteria()
    evidence = {
        f"{FILEA}/01": [{"kind": "turn", "t": 2.0, "speaker": "agent", "quote": "je suis Lina de la société Solaris"}],
        f"{FILEA}/03": [{"kind": "turn", "t": 19.0, "speaker": "agent",
                         "quote": "Auriez-vous deux minutes pour que je vous présente notre offre ?"}],
        f"{FILEA}/09": [{"kind": "turn", "t": 26.2, "speaker": "agent", "quote": "Je comprends"},
                        {"kind": "event", "t": 27.0, "type": "hold"}],
        f"{FILEA}/12": [{"kind": "timing", "t": 30.0, "duration_s": 12.0, "what": "silence"}],
    }
    judgements = [Judgement(c.id, "not_assessable" if c.assessable == "human" else ("not_met" if c.id.endswith("/09")
                            else "met"), evidence.get(c.id, []), f"Raison automatique {c.label}.")
                  for c in criteria]
    ratings.record_auto(ctx, call_id, FILEA, judgements)
    return judgements


@pytest.fixture
def lina(app, people):
    with TestClient(app) as client:
        yield client, login(client, "lina")


@pytest.fixture
def chef(app, people):
    with TestClient(app) as client:
        yield client, login(client, "chef")


def _answers(result: str = "met", skip: int | None = None) -> dict[str, str]:
    criteria = frameworks.get(FILEA).criteria()
    return {f"answer-{c.id}": result for n, c in enumerate(criteria, 1) if n != skip}


def _self_assess(lina, call_id, **answers):
    client, token = lina
    return client.post(f"/calls/{call_id}/review/self", data={"csrf_token": token, "framework": FILEA,
                                                              **(answers or _answers())}, follow_redirects=False)


def _count(ctx, **where) -> int:
    with ctx.read() as session:
        query = select(func.count()).select_from(Rating)
        for key, value in where.items():
            query = query.where(getattr(Rating, key) == value)
        return session.scalar(query)


# --- the trainee -------------------------------------------------------------------------------------------


def test_the_trainee_fills_the_grid_before_seeing_any_result(ctx, auto, call_id, lina):
    client, _ = lina
    page = client.get(f"/calls/{call_id}/review")
    assert page.status_code == 200
    doc = dom(page.text)
    assert [h.text() for h in doc.all("h1")] == [f"Évaluation de l'appel n° {call_id}"]
    fieldsets = doc.all("fieldset")
    assert len(fieldsets) == 15
    first = fieldsets[0]
    legend = first.all("legend")[0].text()
    assert legend.startswith(f"{FILEA}/01 — Le candidat se présente")
    radios = first.all("input", type="radio")
    assert [r.attrs["value"] for r in radios] == ["met", "not_met", "not_assessable"]
    assert [label.text() for label in first.all("label")] == ["Acquis", "Non acquis", "Non évaluable"]
    assert all(label.attrs["for"] == radio.attrs["id"] for label, radio in zip(first.all("label"), radios))
    # the transcript is there, and nothing of the results: no table, no rationale, no mark, no evidence label
    assert doc.by_id("turn-2") is not None and doc.by_id("review-table") is None
    assert "Raison automatique" not in page.text and "<mark>" not in page.text and "Preuve :" not in page.text
    assert doc.by_id("results-hidden") is not None and doc.by_id("feedback-form") is None


def test_a_self_assessment_with_a_missing_answer_is_refused_with_messages_and_saves_nothing(ctx, auto, call_id, lina):
    response = _self_assess(lina, call_id, **_answers("not_met", skip=15))
    assert response.status_code == 422
    doc = dom(response.text)
    summary = doc.by_id("review-error")
    assert summary.attrs["role"] == "alert"
    assert summary.links() == ["#self-15-met"]
    assert "Critère 15 : Choisissez un résultat pour ce critère" in summary.text()
    fifteen = doc.by_id("self-15")
    assert fifteen.attrs["aria-describedby"] == "self-15-error"
    assert "Choisissez un résultat" in doc.by_id("self-15-error").text()
    assert doc.by_id("self-14-error") is None
    # what was answered stays checked; nothing was saved and no result leaked
    assert "checked" in doc.by_id("self-3-not_met").attrs and "checked" not in doc.by_id("self-3-met").attrs
    assert _count(ctx, source="self") == 0 and "Raison automatique" not in response.text


def test_after_self_assessing_the_trainee_sees_self_automatic_and_trainer_side_by_side(ctx, auto, call_id, lina, chef,
                                                                                       people):
    ratings.override(ctx, people["chef"], call_id, FILEA, f"{FILEA}/09", "met", "L'objection est traitée, à l'oral.")
    response = _self_assess(lina, call_id, **_answers("met"))
    assert response.status_code == 303
    assert response.headers["location"] == f"/calls/{call_id}/review?framework={FILEA}&done=self#results"
    client, _ = lina
    page = client.get(response.headers["location"])
    doc = dom(page.text)
    assert doc.all("fieldset") == []  # filled once
    assert doc.by_id("review-done").text().startswith("Auto-évaluation enregistrée")
    table = doc.by_id("review-table")
    assert table.all("caption")
    assert [(th.text(), th.attrs.get("scope")) for th in table.all("thead")[0].all("th")] == [
        ("Critère", "col"), ("Auto-évaluation", "col"), ("Évaluation automatique", "col"), ("Formateur", "col"),
        ("Résultat retenu", "col")]
    rows = table.all("tbody")[0].all("tr")
    assert len(rows) == 15
    ninth = [cell.text() for cell in rows[8].children if isinstance(cell, Node)]
    assert ninth[0].startswith(f"{FILEA}/09") and rows[8].all("th")[0].attrs["scope"] == "row"
    assert ninth[1] == "Acquis"
    assert ninth[2].startswith("Non acquis Raison automatique 09.")
    assert ninth[3].startswith("Acquis Commentaire : L'objection est traitée, à l'oral. par Chef Formateur, le ")
    assert ninth[4].startswith("Acquis (décision du formateur)")
    assert "Modifier le résultat" not in page.text  # a trainee does not change results
    overall = doc.by_id("overall").text()
    # 11 call-assessable criteria, all met once the trainer changed 09; the 4 human ones are not assessable
    assert "Résultat retenu : 11 critères acquis sur 11 évalués (100 %)." in overall
    assert "certificat si au moins 70 % des critères évalués sont acquis" in overall
    assert "Selon cette règle : certificat obtenu." in overall
    assert "Auto-évaluation : 15 critères acquis sur 15 évalués." in overall


def test_the_trainer_sees_every_column_even_before_the_self_assessment(ctx, auto, call_id, chef):
    client, _ = chef
    doc = dom(client.get(f"/calls/{call_id}/review").text)
    assert doc.all("fieldset") == [] and doc.by_id("review-table") is not None
    first = [c.text() for c in doc.by_id("review-table").all("tbody")[0].all("tr")[0].children if isinstance(c, Node)]
    assert first[1] == "Non remplie" and first[2].startswith("Acquis Raison automatique 01.")
    assert doc.by_id("evaluate").text() == "Lancer l'évaluation automatique"


# --- the trainer's changes and feedback --------------------------------------------------------------------------


def test_a_trainer_override_needs_a_comment_and_keeps_the_automatic_result(ctx, auto, call_id, chef):
    client, token = chef
    criterion = f"{FILEA}/03"
    refused = client.post(f"/calls/{call_id}/review/override", data={
        "csrf_token": token, "framework": FILEA, "criterion_id": criterion, "result": "not_met", "comment": "  "})
    assert refused.status_code == 422
    doc = dom(refused.text)
    assert doc.by_id("review-error").links() == ["#override-3-comment"]
    assert doc.by_id("override-3-comment").attrs["aria-invalid"] == "true"
    assert "Dites pourquoi vous changez ce résultat." in doc.by_id("override-3-comment-error").text()
    assert "selected" in doc.by_id("override-3-result").all("option", value="not_met")[0].attrs
    assert "open" in _details_of(doc, "override-3").attrs  # the form stays open on its error
    assert _count(ctx, source="trainer") == 0

    done = client.post(f"/calls/{call_id}/review/override", data={
        "csrf_token": token, "framework": FILEA, "criterion_id": criterion, "result": "not_met",
        "comment": "L'accord n'a pas été demandé."}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("&done=override#criterion-3")
    doc = dom(client.get(done.headers["location"]).text)
    row = doc.by_id("review-table").all("tbody")[0].all("tr")[2]
    assert row.all("th")[0].attrs["id"] == "criterion-3"
    cells = [c for c in row.children if isinstance(c, Node)]
    assert cells[2].text().startswith("Acquis Raison automatique 03.")
    assert cells[3].text().startswith("Non acquis Commentaire : L'accord n'a pas été demandé. par Chef Formateur")
    assert cells[4].text().startswith("Non acquis (décision du formateur)")
    history = cells[4].all("details")[0]
    assert history.all("summary")[0].text() == "Historique (2 évaluations)"
    entries = [li.text() for li in history.all("li")]
    assert entries[0].startswith("Évaluation automatique : Acquis, le ")
    assert entries[1].startswith("Formateur : Non acquis, par Chef Formateur, le ")
    assert "L'accord n'a pas été demandé." in entries[1]
    assert _count(ctx, criterion_id=criterion) == 2
    assert doc.by_id("review-done").attrs.get("data-announce") is not None


def _details_of(doc: Node, form_id: str) -> Node:
    for details in doc.all("details"):
        if any(form.attrs.get("id") == form_id for form in details.all("form")):
            return details
    raise AssertionError(form_id)


def test_feedback_is_written_by_the_trainer_and_read_by_the_trainee_after_self_assessing(ctx, auto, call_id, chef, lina):
    client, token = chef
    empty = client.post(f"/calls/{call_id}/review/feedback", data={"csrf_token": token, "framework": FILEA, "text": " "})
    assert empty.status_code == 422
    assert "Écrivez votre retour" in dom(empty.text).by_id("feedback-text-error").text()
    saved = client.post(f"/calls/{call_id}/review/feedback", follow_redirects=False, data={
        "csrf_token": token, "framework": FILEA, "text": "Belle reformulation ; pensez au récapitulatif."})
    assert saved.status_code == 303 and saved.headers["location"].endswith("done=feedback#feedback")
    trainee, trainee_token = lina
    assert "Belle reformulation" not in trainee.get(f"/calls/{call_id}/review").text  # not before the grid
    refused = trainee.post(f"/calls/{call_id}/review/feedback", data={"csrf_token": trainee_token, "framework": FILEA,
                                                                      "text": "moi aussi"})
    assert refused.status_code == 403
    _self_assess(lina, call_id)
    doc = dom(trainee.get(f"/calls/{call_id}/review").text)
    feedback = doc.by_id("feedback").text()
    assert "Belle reformulation ; pensez au récapitulatif. par Chef Formateur" in feedback
    assert doc.by_id("feedback-form") is None


# --- evidence ---------------------------------------------------------------------------------------------------


def test_evidence_links_and_marks_point_at_the_cited_turns(ctx, auto, call_id, chef):
    client, _ = chef
    doc = dom(client.get(f"/calls/{call_id}/review").text)
    rows = doc.by_id("review-table").all("tbody")[0].all("tr")
    assert rows[0].all("ul", class_="evidence")[0].links() == ["#turn-2"]
    assert rows[2].all("ul", class_="evidence")[0].links() == ["#turn-4"]  # found by its quote, 5 s off
    ninth = rows[8].all("ul", class_="evidence")[0]
    assert ninth.links() == ["#turn-6"]
    assert "Événement « mise en attente » à 00:27" in ninth.text()
    assert "Mesure : silence de 00:12 à partir de 00:30" in rows[11].text()
    # every turn is an anchor; the cited ones carry a mark and a visible label back to their criteria
    assert [li.attrs["id"] for li in doc.by_id("transcript").all("li")] == [f"turn-{n}" for n in range(1, 7)]
    two = doc.by_id("turn-2")
    assert [m.text() for m in two.all("mark")] == ["je suis Lina de la société Solaris"]
    assert two.all("span", class_="evidence-label")[0].text() == "Preuve : critère 01"
    assert two.links() == ["#criterion-1"]
    assert [m.text() for m in doc.by_id("turn-4").all("mark")] == [TURNS[3][2]]
    assert doc.by_id("turn-6").links() == ["#criterion-9"] and doc.by_id("turn-6").all("mark")[0].text() == "Je comprends"
    for quiet in ("turn-1", "turn-3", "turn-5"):
        assert doc.by_id(quiet).all("mark") == [] and "Preuve" not in doc.by_id(quiet).text()
    assert doc.by_id("criterion-1").attrs["scope"] == "row"


def test_turn_matching_prefers_time_and_speaker_then_the_quote():
    def turn(number, t, speaker, text):
        return review.TurnView(number, number, t, speaker, text, None, pieces=[(text, False)])

    turns = [turn(1, 1.0, "caller", "Bonjour"), turn(2, 1.3, "agent", "Bonjour madame"), turn(3, 8.0, "agent", "Au revoir")]
    assert review.find_turn(turns, {"kind": "turn", "t": 1.2, "speaker": "agent"}).number == 2
    assert review.find_turn(turns, {"kind": "turn", "t": 1.1}).number == 1
    assert review.find_turn(turns, {"kind": "turn", "t": 40.0, "quote": "au revoir"}).number == 3
    assert review.find_turn(turns, {"kind": "turn", "t": 40.0}) is None
    assert review.find_turn(turns, {"kind": "event", "t": 1.0, "type": "hold"}) is None
    assert review.marked("abc def ghi", ["def", "c d"]) == [("ab", False), ("c def", True), (" ghi", False)]
    assert review.marked("abc", ["zzz"]) == [("abc", True)]


# --- who may see and do what ---------------------------------------------------------------------------------------


def test_another_agent_sees_nothing_and_changes_nothing(ctx, app, auto, call_id, people, lina):
    make_user(ctx, "omar", name="Omar Autre")
    with TestClient(app) as other:
        token = login(other, "omar")
        page = other.get(f"/calls/{call_id}/review")
        assert page.status_code == 403
        assert "Seuls l'agent de l'appel et les formateurs" in dom(page.text).text() and "Raison automatique" not in page.text
        assert _self_assess((other, token), call_id).status_code == 403
    trainee, token = lina
    assert trainee.post(f"/calls/{call_id}/review/override", data={
        "csrf_token": token, "framework": FILEA, "criterion_id": f"{FILEA}/01", "result": "not_met",
        "comment": "je préfère"}).status_code == 403
    assert trainee.post(f"/calls/{call_id}/review/evaluate",
                        data={"csrf_token": token, "framework": FILEA}).status_code == 403
    assert _count(ctx, source="self") == 0 and _count(ctx, source="trainer") == 0


def test_an_unknown_framework_or_call_is_a_404_with_a_message(ctx, call_id, chef):
    client, _ = chef
    page = client.get(f"/calls/{call_id}/review?framework=inconnu")
    assert page.status_code == 404 and "Référentiel inconnu : « inconnu »." in page.text
    assert client.get("/calls/999999/review").status_code == 404


def test_the_framework_is_chosen_in_a_labelled_select_and_defaults_to_the_scenarios(ctx, people, chef):
    client, _ = chef
    practice = _call(ctx, people["lina"].id, scenario="reclamation-facture-colere")
    real = _call(ctx, people["lina"].id, scenario=None)
    doc = dom(client.get(f"/calls/{practice}/review").text)
    select_ = doc.by_id("review-framework")
    assert doc.all("label", for_="review-framework")
    assert [o.attrs["value"] for o in select_.all("option") if "selected" in o.attrs] == ["mc-acvd"]
    assert {o.attrs["value"] for o in select_.all("option")} >= {FILEA, "mc-acvd", "ofppt-teleconseiller"}
    doc = dom(client.get(f"/calls/{real}/review").text)
    assert [o.attrs["value"] for o in doc.by_id("review-framework").all("option") if "selected" in o.attrs] == [FILEA]
    assert "Ce référentiel ne fixe pas de règle" in client.get(f"/calls/{real}/review?framework=mc-acvd").text


# --- the automatic evaluation --------------------------------------------------------------------------------------


def test_without_the_evaluator_the_button_says_it_is_not_available_and_stores_nothing(ctx, call_id, chef, monkeypatch):
    monkeypatch.setitem(sys.modules, "plateau.services.call_export", None)  # as before it lands
    client, token = chef
    response = client.post(f"/calls/{call_id}/review/evaluate", data={"csrf_token": token, "framework": FILEA})
    assert response.status_code == 422
    assert "L'évaluation automatique n'est pas disponible." in dom(response.text).by_id("review-error").text()
    assert _count(ctx) == 0


def test_the_evaluation_refuses_a_call_still_in_progress(ctx, people, chef):
    client, token = chef
    live = _call(ctx, people["lina"].id, scenario=None)
    with ctx.unit() as session:
        session.get(Call, live).state = "connected"
    response = client.post(f"/calls/{live}/review/evaluate", data={"csrf_token": token, "framework": FILEA})
    assert response.status_code == 422 and "pas encore clôturé" in response.text and _count(ctx) == 0


def test_the_evaluation_stores_the_evaluators_results_with_evidence_on_the_quoted_turns(ctx, people, chef):
    """The real evaluator on a stored practice call: the scenario's criteria are assessed, and each
    quote it gives as evidence is found in the turn the page links it to."""
    client, token = chef
    call_id = _call(ctx, people["lina"].id, scenario="prospection-rdv-photovoltaique")
    response = client.post(f"/calls/{call_id}/review/evaluate", data={"csrf_token": token, "framework": FILEA},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith("done=evaluate#results")
    assessed = scenarios.get("prospection-rdv-photovoltaique").framework.criteria
    with ctx.read() as session:
        rated = set(session.scalars(select(Rating.criterion_id).where(Rating.source == "auto")))
    assert rated == set(assessed)
    doc = dom(client.get(response.headers["location"]).text)
    assert doc.by_id("review-done").text() == "Évaluation automatique terminée : résultats enregistrés."
    linked = 0
    for item in doc.by_id("review-table").all("li"):
        for href in item.links():
            quote = re.search(r"« (.*) »", item.text())
            if href.startswith("#turn-") and quote:
                assert quote.group(1) in doc.by_id(href[1:]).text(), (href, quote.group(1))
                linked += 1
    assert linked  # the greeting at least is quoted
