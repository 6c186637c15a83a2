"""The dialer over HTTP: the desktop's "Campagne" panel, its commands (JSON and plain forms),
an outbound call on the desktop from "Numérotation…" to the campaign's qualification, and the
trainer console's "Jouer l'appelé"."""

import re
from datetime import datetime, timezone

from fastapi.testclient import TestClient

from plateau.domain.prefs import DEFAULT_SHORTCUTS
from plateau.services import agents, calls
from plateau.services.users import actor_for
from plateau.store.models import Team, User
from tests.helpers import login, make_user
from tests.integration.test_dialer import MONDAY, RING, make_campaign, people


def _client(app, username):
    client = TestClient(app)
    client.headers["X-CSRF-Token"] = login(client, username)
    client.headers["Accept"] = "application/json"
    return client


def _setup(ctx, **campaign):
    ctx.clock.set(MONDAY)
    boss = actor_for(make_user(ctx, "formateur", role="supervisor"))
    alice = actor_for(make_user(ctx, "alice", name="Alice Durand"))
    (bruno,) = people(ctx, "bruno")
    with ctx.unit() as session:
        team = Team(code="equipe-b", name="Équipe B")
        session.add(team)
    c = make_campaign(ctx, {"alice": alice, "bruno": bruno, "team": team.id}, **campaign)
    return boss, alice, c


def test_an_agent_works_a_preview_campaign_from_the_desktop(app, sqlite_ctx):
    ctx = sqlite_ctx
    boss, alice, c = _setup(ctx)
    desk = _client(app, "alice")
    page = desk.get("/desktop").text
    assert '<label for="dialer-campaign">Campagne</label>' in page and 'id="dialer-join"' in page
    assert "Offre fibre" in page and "Appeler la fiche affichée" in page  # the shortcut is in the help
    joined = desk.post("/dialer/join", json={"campaign_id": c["id"]})
    assert joined.status_code == 200 and joined.json()["campaign_id"] == c["id"]
    agents.set_state(ctx, alice, "available")
    panel = desk.get("/desktop/fragment/campaign").text
    assert "Madame Nadia0 Martin" in panel and "06 12 34 56 00" in panel and "appel autorisé" in panel
    assert re.search(r'id="dialer-dial"[^>]*>Appeler', panel) and re.search(r'id="dialer-skip"[^>]*>Passer', panel)
    assert "<kbd>D</kbd>" in panel and "<kbd>P</kbd>" in panel
    cc_id = c["contacts"][0]
    first = desk.post(f"/dialer/dial/{cc_id}", json={})
    second = desk.post(f"/dialer/dial/{cc_id}", json={})
    assert first.status_code == second.status_code == 200 and first.json()["call_id"] == second.json()["call_id"]
    call_id = first.json()["call_id"]
    status = desk.get("/desktop/fragment/status").text
    assert "Numérotation…" in status and f'data-api="/dialer/cancel/{call_id}"' in status
    assert "Madame Nadia0 Martin" in desk.get("/desktop/fragment/contact").text  # the record while it rings
    console = _client(app, "formateur")
    assert f"console-play-{call_id}" in console.get("/console/outbound").text
    assert console.post(f"/api/calls/{call_id}/play-callee").json()["call_id"] == call_id
    assert "Campagne « Offre fibre »" in console.get("/console/calls").text
    ctx.clock.advance(seconds=RING)
    calls.tick(ctx)
    status = desk.get("/desktop/fragment/status").text
    assert "Personne appelée" in status and "En communication" in status
    assert f'hx-get="/calls/{call_id}/work"' in desk.get("/desktop/fragment/work").text
    assert console.post(f"/api/calls/{call_id}/say", json={"text": "Allô ?"}).status_code == 201
    assert desk.post(f"/api/calls/{call_id}/hangup").json()["state"] == "wrap_up"
    wrapup = desk.get("/desktop/fragment/wrapup").text
    assert "Rendez-vous pris" in wrapup and "Information donnée" not in wrapup and "les agents de la campagne" in wrapup
    closed = desk.post(f"/api/calls/{call_id}/close", json={"disposition_id": c["refus"]})
    assert closed.json()["state"] == "closed" and closed.json()["disposition"] == "refus"
    panel = desk.get("/desktop/fragment/campaign").text
    assert 'id="dialer-next"' in panel  # ready for the next record
    nxt = desk.post("/dialer/preview/next", json={})
    assert nxt.json()["campaign_contact_id"] == c["contacts"][1]
    skipped = desk.post(f"/dialer/skip/{c['contacts'][1]}", json={})
    assert skipped.json()["campaign_contact_id"] == c["contacts"][2]
    left = desk.post("/dialer/leave", json={})
    assert left.status_code == 200 and 'id="dialer-join"' in desk.get("/desktop/fragment/campaign").text


def test_refusals_are_translated_json_and_plain_forms_come_back_to_the_desktop(app, sqlite_ctx):
    ctx = sqlite_ctx
    boss, alice, c = _setup(ctx)
    make_user(ctx, "david")
    other = _client(app, "david")
    refused = other.post("/dialer/join", json={"campaign_id": c["id"]})
    assert refused.status_code == 403 and "Vous n'êtes pas affecté à la campagne « Offre fibre »" in refused.json()["detail"]
    assert other.post("/dialer/join", json={"campaign_id": ""}).json()["errors"]["campaign_id"] == "Choisissez une campagne."
    assert "Aucune campagne ne vous est affectée" in other.get("/desktop/fragment/campaign").text
    assert other.post("/dialer/preview/next", json={}).status_code == 422
    # without JavaScript: a form post, then the desktop
    browser = TestClient(app)
    token = login(browser, "alice")
    sent = browser.post("/dialer/join", data={"campaign_id": str(c["id"]), "csrf_token": token}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/desktop"
    assert "Vous travaillez la campagne « Offre fibre »" in browser.get("/desktop").text
    assert browser.post("/dialer/leave", data={}, follow_redirects=False).status_code == 403  # no CSRF token


def test_a_blocked_record_shows_each_reason_with_its_rule_and_reference(app, sqlite_ctx):
    ctx = sqlite_ctx
    boss, alice, c = _setup(ctx)
    ctx.clock.set(datetime(2026, 11, 29, 10, 0, tzinfo=timezone.utc))  # a Sunday
    desk = _client(app, "alice")
    desk.post("/dialer/join", json={"campaign_id": c["id"]})
    panel = desk.get("/desktop/fragment/campaign").text
    assert "Règles d'appel : appel bloqué." in panel and "Jours et heures de démarchage" in panel
    assert "D.223-9" in panel and "<code>fr.hours</code>" in panel and "Nouvel essai possible à partir du" in panel
    # the reason as stored with the attempt, its message filled in with the stored parameters
    assert "Démarchage téléphonique interdit à ce moment" in panel and "il est 29/11/2026 11:00" in panel
    assert re.search(r'id="dialer-dial" disabled', panel)
    refused = desk.post(f"/dialer/dial/{c['contacts'][0]}", json={})
    assert refused.status_code == 422 and "bloqué par les règles d'appel" in refused.json()["detail"]


def test_progressive_campaign_panel_says_what_the_dialer_does(app, sqlite_ctx):
    ctx = sqlite_ctx
    boss, alice, c = _setup(ctx, mode="progressive")
    desk = _client(app, "alice")
    desk.post("/dialer/join", json={"campaign_id": c["id"]})
    assert "Passez « Disponible » pour recevoir les appels de la campagne." in desk.get("/desktop/fragment/campaign").text
    agents.set_state(ctx, alice, "available")
    assert "En attente d'un appel de la campagne…" in desk.get("/desktop/fragment/campaign").text
    calls.tick(ctx)
    page = desk.get("/desktop").text
    assert "Numérotation…" in page and 'id="dialer-on-call"' in page


def test_the_dialer_keys_are_preferences_an_agent_may_remap(app, sqlite_ctx):
    ctx = sqlite_ctx
    boss, alice, c = _setup(ctx)
    desk = _client(app, "alice")
    token = desk.headers["X-CSRF-Token"]
    timings = {"csrf_token": token, "ring_timeout_s": "20", "wrap_up_limit_s": "120", "session_timeout_min": "240"}
    form = desk.get("/preferences").text
    assert '<label for="pref-shortcut_dial">Appeler la fiche affichée (campagne en aperçu)</label>' in form
    assert re.search(r'id="pref-shortcut_skip" name="shortcut_skip" maxlength="1" size="2" value="P"', form)
    refused = desk.post("/preferences", data={**timings, "shortcut_skip": "A"})  # "Décrocher" has A
    assert refused.status_code == 422 and "La touche A est déjà utilisée par un autre raccourci." in refused.text
    assert re.search(r'id="pref-shortcut_skip"[^>]*value="P"', desk.get("/preferences").text)  # nothing changed
    assert desk.post("/preferences", data={**timings, "shortcut_dial": "j", "shortcut_skip": "L"}).status_code == 200
    desk.post("/dialer/join", json={"campaign_id": c["id"]})
    agents.set_state(ctx, alice, "available")
    panel = desk.get("/desktop/fragment/campaign").text
    assert re.search(r'id="dialer-dial".*<kbd>J</kbd>', panel) and re.search(r'id="dialer-skip".*<kbd>L</kbd>', panel)
    page = desk.get("/desktop").text.replace("&#34;", '"')
    assert '"dial": "J"' in page and '"skip": "L"' in page  # the keys desktop.js listens to


def test_keys_saved_before_the_dialer_existed_never_fire_two_actions(app, sqlite_ctx):
    ctx = sqlite_ctx
    boss, alice, c = _setup(ctx)
    with ctx.unit() as session:  # saved when "Décrocher" could take D: D is theirs, the dialer's moves
        session.get(User, alice.id).prefs = {"shortcuts": {**{a: k for a, k in DEFAULT_SHORTCUTS.items()
                                                              if a not in ("dial", "skip")}, "answer": "D"}}
    desk = _client(app, "alice")
    page = desk.get("/desktop").text.replace("&#34;", '"')
    assert '"answer": "D"' in page and '"dial": "J"' in page and '"skip": "P"' in page
    assert re.search(r"Appeler la fiche affichée \(campagne en aperçu\)</td><td>.*?<kbd>J</kbd>", page)
