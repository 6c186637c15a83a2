"""Voice menus through the services and over HTTP, on real databases: editing with
validation and versions; a caller's paths through a menu to a queue (where an
agent's phone rings), to an information message, a transfer, a fallback; a
silent caller; a caller who hangs up; the callback offered while waiting."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from plateau.domain import ivr as rules
from plateau.domain.errors import ConflictError, IllegalTransition, PermissionDenied, ValidationError
from plateau.services import agents, calls, ivr
from plateau.services.demo_data import DEMO_DIR, load_demo
from plateau.services.users import actor_for
from plateau.store.models import Call, CallEvent, Callback, Event, Queue, Utterance
from tests.helpers import login, make_queue, make_user

MENU = """\
start: accueil
nodes:
  accueil:
    prompt: "Bienvenue. Dépannage : 1 ; facture : 2 ; horaires : 3 ; conseiller à l'étranger : 0."
    options:
      "1": {queue: depannage, message: "Nous vous mettons en relation."}
      "2": {menu: facturation}
      "3": {message: "Du lundi au samedi, de 8 h à 20 h. Au revoir.", then: hangup}
      "0": {transfer: "+212 5 22 00 00 00"}
      "*": {repeat: true}
    timeout: {seconds: 8, then: {repeat: true}}
    fallback: {queue: depannage}
  facturation:
    prompt: "Payer : 1 ; retour : 9."
    options:
      "1": {queue: facturation}
      "9": {back: true}
"""


@pytest.fixture
def floor(ctx):
    """A trainer, two agents, the queues "depannage" (Alice) and "facturation" (Bruno), and the menu."""
    trainer = actor_for(make_user(ctx, "formateur", role="supervisor"))
    alice = actor_for(make_user(ctx, "alice"))
    bruno = actor_for(make_user(ctx, "bruno"))
    depannage, _ = make_queue(ctx, [alice], code="depannage", name="Dépannage", dispositions=(("tech", "Technicien"),))
    facturation, _ = make_queue(ctx, [bruno], code="facturation", name="Facturation", dispositions=(("paid", "Payé"),))
    menu = ivr.save_menu(ctx, trainer, None, ivr.MenuForm("Standard", "01 84 88 00 00", MENU), None)
    return {"trainer": trainer, "alice": alice, "bruno": bruno, "menu": menu.id,
            "depannage": depannage, "facturation": facturation}


def _available(ctx, *actors):
    for actor in actors:
        agents.set_state(ctx, actor, "available")
        ctx.clock.advance(seconds=1)


def _said(ctx, call_id) -> list[str]:
    with ctx.read() as session:
        return [u.text for u in session.scalars(select(Utterance).where(Utterance.call_id == call_id,
                                                                        Utterance.speaker == "system")
                                                .order_by(Utterance.id))]


def _events(ctx, call_id) -> list[tuple[str, dict]]:
    with ctx.read() as session:
        return [(e.action, e.data) for e in session.scalars(select(CallEvent).where(CallEvent.call_id == call_id)
                                                            .order_by(CallEvent.id))]


# --- editing --------------------------------------------------------------------------------------


def test_a_menu_is_created_with_a_code_from_its_name_and_its_number_in_e164(ctx, floor):
    row = ivr.get_menu(ctx, floor["menu"])
    assert (row.code, row.name, row.number, row.version, row.active) == ("standard", "Standard", "+33184880000", 1,
                                                                          True)
    assert row.updated_by == floor["trainer"].id
    other = ivr.save_menu(ctx, floor["trainer"], None, ivr.MenuForm("Standard", "", MENU), None)
    assert other.code == "standard-2" and other.number is None
    assert [s.menu.name for s in ivr.list_menus(ctx)] == ["Standard", "Standard"]


def test_saving_bumps_the_version_and_a_stale_save_is_refused(ctx, floor):
    edited = MENU.replace("Payer : 1", "Régler : 1")
    row = ivr.save_menu(ctx, floor["trainer"], floor["menu"], ivr.MenuForm("Standard", "+33184880000", edited), 1)
    assert (row.version, row.updated_by) == (2, floor["trainer"].id) and "Régler" in row.content
    with pytest.raises(ConflictError) as info:  # a second window, opened at version 1
        ivr.save_menu(ctx, floor["trainer"], floor["menu"], ivr.MenuForm("Standard", "", MENU), 1)
    assert "Formateur" in info.value.render() and "version 2" in info.value.render()
    assert ivr.get_menu(ctx, floor["menu"]).version == 2


def test_every_problem_is_reported_with_its_field_or_line_and_nothing_is_saved(ctx, floor):
    ivr.save_menu(ctx, floor["trainer"], None, ivr.MenuForm("Autre", "04 72 00 00 00", MENU), None)
    broken = MENU.replace("queue: facturation", "queue: compta").replace('"+212 5 22 00 00 00"', '"12"')
    with pytest.raises(ValidationError) as info:
        ivr.save_menu(ctx, floor["trainer"], floor["menu"], ivr.MenuForm("", "04 72 00 00 00", broken), 1)
    errors = info.value.errors
    assert errors["name"].render() == "Donnez un nom au serveur vocal."
    assert errors["number"].render() == "Le numéro 04 72 00 00 00 est déjà celui du serveur vocal « Autre »."
    text_errors = [e for key, e in errors.items() if key not in ("name", "number")]
    assert [(e.line, e.place) for e in text_errors] == [(9, {"node": "accueil", "key": "0"}),
                                                        (16, {"node": "facturation", "key": "1"})]
    assert "file d'attente « compta » inconnue" in text_errors[1].render()
    with pytest.raises(ValidationError) as info:
        ivr.save_menu(ctx, floor["trainer"], floor["menu"], ivr.MenuForm("Standard", "12", MENU), 1)
    assert list(info.value.errors) == ["number"]
    assert ivr.get_menu(ctx, floor["menu"]).version == 1


def test_agents_cannot_edit_menus(ctx, floor):
    with pytest.raises(PermissionDenied):
        ivr.save_menu(ctx, floor["alice"], None, ivr.MenuForm("X", "", MENU), None)


def test_the_demo_menus_load_over_the_demo_queues_and_a_second_load_changes_nothing(ctx, floor):
    entries = ivr.demo_menus(DEMO_DIR, [q.code for q in load_demo().queues.queues])
    assert [e.code for e in entries] == ["standard"]
    with ctx.unit() as session:
        session.add(Queue(code="service-clients", name="Service clients"))
    entry = entries[0]
    # the floor's menu has the same code ("standard"): the import replaces it, once
    first = ivr.import_menu(ctx, floor["trainer"], entry.code, entry.name, entry.number, entry.content)
    again = ivr.import_menu(ctx, floor["trainer"], entry.code, entry.name, entry.number, entry.content)
    assert first.id == again.id == floor["menu"] and again.version == 2
    assert (again.name, again.number) == ("Énergie Horizon — standard", "+33184880000")


# --- a caller in the menu ---------------------------------------------------------------------------


def test_entering_says_the_start_prompt_and_a_key_leads_to_a_queue_where_an_agent_rings(ctx, floor):
    _available(ctx, floor["alice"])
    call = ivr.enter(ctx, floor["trainer"], floor["menu"], "06 12 34 56 78", "FR")
    assert (call.state, call.queue_id, call.ivr_node, call.caller_number) == ("ivr", None, "accueil", "+33612345678")
    assert _said(ctx, call.id) == [rules.parse_menu(MENU).node("accueil").prompt]
    ctx.clock.advance(seconds=6)
    call = ivr.press_key(ctx, floor["trainer"], call.id, "1")
    view = calls.view(ctx, call.id)
    assert (view.call.state, view.call.queue_id) == ("ringing", floor["depannage"])
    assert view.call.agent_id == floor["alice"].id
    assert view.call.ivr_id == floor["menu"] and view.call.ivr_node is None
    assert _said(ctx, call.id)[-1] == "Nous vous mettons en relation."
    assert [a for a, _d in _events(ctx, call.id)] == ["offer", "key", "enqueue", "ring"]
    assert _events(ctx, call.id)[1][1].items() >= {"key": "1", "from": "accueil", "end": "queue"}.items()
    assert view.durations.ivr == 6
    with ctx.read() as session:  # the caller's console hears the prompts; the agent's phone rings
        channels = {(e.channel, e.type) for e in session.scalars(select(Event))}
    assert (f"user:{floor['trainer'].id}", "utterance") in channels
    assert (f"user:{floor['alice'].id}", "call") in channels


def test_a_sub_menu_then_back_then_a_queue_with_no_agent_free(ctx, floor):
    call = ivr.enter(ctx, floor["trainer"], floor["menu"], "06 12 34 56 78")
    ivr.press_key(ctx, floor["trainer"], call.id, "2")
    assert calls.view(ctx, call.id).call.ivr_node == "facturation"
    ivr.press_key(ctx, floor["trainer"], call.id, "9")
    assert calls.view(ctx, call.id).call.ivr_node == "accueil"
    ivr.press_key(ctx, floor["trainer"], call.id, "2")
    call = ivr.press_key(ctx, floor["trainer"], call.id, "1")
    assert (call.state, call.queue_id) == ("offered", floor["facturation"])
    said = _said(ctx, call.id)
    assert said[1] == said[3] == "Payer : 1 ; retour : 9." and said[2].startswith("Bienvenue")
    with ctx.read() as session:  # the waiting caller is told where they stand
        status = session.scalars(select(Event).where(Event.type == "queue_status")).all()
    assert status and status[-1].payload["position"] == 1 and status[-1].channel == f"user:{floor['trainer'].id}"


def test_an_information_message_then_hang_up(ctx, floor):
    call = ivr.enter(ctx, floor["trainer"], floor["menu"], "06 12 34 56 78")
    call = ivr.press_key(ctx, floor["trainer"], call.id, "3")
    assert call.state == "deflected" and call.ended_at is not None
    assert _said(ctx, call.id)[-1] == "Du lundi au samedi, de 8 h à 20 h. Au revoir."
    assert _events(ctx, call.id)[-1] == ("deflect", {"reason": "ivr_message"})
    with pytest.raises(IllegalTransition):
        ivr.press_key(ctx, floor["trainer"], call.id, "1")


def test_a_transfer_to_an_outside_number_ends_the_call(ctx, floor):
    call = ivr.enter(ctx, floor["trainer"], floor["menu"], "06 12 34 56 78")
    call = ivr.press_key(ctx, floor["trainer"], call.id, "0")
    assert call.state == "deflected"
    assert _events(ctx, call.id)[-1] == ("deflect", {"reason": "ivr_transfer", "number": "+212522000000"})
    assert _said(ctx, call.id)[-1] == rules.TRANSFERRING


def test_wrong_keys_then_the_fallback(ctx, floor):
    call = ivr.enter(ctx, floor["trainer"], floor["menu"], "06 12 34 56 78")
    ivr.press_key(ctx, floor["trainer"], call.id, "7")
    ivr.press_key(ctx, floor["trainer"], call.id, "#")
    assert calls.view(ctx, call.id).call.state == "ivr"
    assert _said(ctx, call.id).count(rules.INVALID_KEY) == 2
    call = ivr.press_key(ctx, floor["trainer"], call.id, "8")
    assert (call.state, call.queue_id) == ("offered", floor["depannage"])
    assert [(d["tries"], d["invalid"], d["end"]) for a, d in _events(ctx, call.id) if a == "key"] == [
        (1, True, "prompt"), (2, True, "prompt"), (0, True, "queue")]


def test_without_fallback_three_wrong_keys_end_the_call_politely(ctx, floor):
    call = ivr.enter(ctx, floor["trainer"], floor["menu"], "06 12 34 56 78")
    ivr.press_key(ctx, floor["trainer"], call.id, "2")
    for key in "555":
        call = ivr.press_key(ctx, floor["trainer"], call.id, key)
    assert call.state == "deflected" and _said(ctx, call.id)[-1] == rules.GOODBYE
    assert _events(ctx, call.id)[-1] == ("deflect", {"reason": "ivr_hangup"})


def test_a_silent_caller_hears_the_menu_again_then_the_fallback(ctx, floor):
    call = ivr.enter(ctx, floor["trainer"], floor["menu"], "06 12 34 56 78")
    ctx.clock.advance(seconds=7)
    calls.tick(ctx)
    assert len(_said(ctx, call.id)) == 1  # not yet
    ctx.clock.advance(seconds=1)
    calls.tick(ctx)
    assert len(_said(ctx, call.id)) == 2 and calls.view(ctx, call.id).call.state == "ivr"
    ctx.clock.advance(seconds=4)
    ivr.press_key(ctx, floor["trainer"], call.id, "*")  # a key counts from now: the next silence is 8 s from here
    ctx.clock.advance(seconds=5)
    calls.tick(ctx)
    assert len(_said(ctx, call.id)) == 3
    for _ in range(3):
        ctx.clock.advance(seconds=8)
        calls.tick(ctx)
    view = calls.view(ctx, call.id)
    assert (view.call.state, view.call.queue_id) == ("offered", floor["depannage"])
    assert [a for a, _d in _events(ctx, call.id)].count("ivr_timeout") == 4


def test_the_caller_hanging_up_in_the_menu_abandons_the_call(ctx, floor):
    call = ivr.enter(ctx, floor["trainer"], floor["menu"], "06 12 34 56 78")
    ctx.clock.advance(seconds=3)
    calls.hang_up(ctx, floor["trainer"], call.id)
    view = calls.view(ctx, call.id)
    assert view.call.state == "abandoned" and view.durations.ivr == 3
    assert [a for a, _d in _events(ctx, call.id)] == ["offer", "abandon"]


def test_only_the_caller_presses_keys_and_only_known_keys(ctx, floor):
    call = ivr.enter(ctx, floor["trainer"], floor["menu"], "06 12 34 56 78")
    with pytest.raises(PermissionDenied):
        ivr.press_key(ctx, floor["alice"], call.id, "1")
    with pytest.raises(ValidationError) as info:
        ivr.press_key(ctx, floor["trainer"], call.id, "A")
    assert list(info.value.errors) == ["key"]
    with pytest.raises(PermissionDenied):
        ivr.enter(ctx, floor["alice"], floor["menu"], "06 12 34 56 78")
    with pytest.raises(ValidationError) as info:
        ivr.enter(ctx, floor["trainer"], floor["menu"], "06 12")
    assert list(info.value.errors) == ["number"]


def test_a_menu_edited_during_the_call_keeps_the_caller_where_the_node_still_is(ctx, floor):
    call = ivr.enter(ctx, floor["trainer"], floor["menu"], "06 12 34 56 78")
    ivr.press_key(ctx, floor["trainer"], call.id, "2")
    edited = MENU.replace('"1": {queue: facturation}', '"1": {queue: depannage}')
    ivr.save_menu(ctx, floor["trainer"], floor["menu"], ivr.MenuForm("Standard", "", edited), 1)
    call = ivr.press_key(ctx, floor["trainer"], call.id, "1")
    assert call.queue_id == floor["depannage"]


def test_a_closed_queue_tells_the_caller_and_ends_the_call(ctx, floor):
    with ctx.unit() as session:
        queue = session.get(Queue, floor["depannage"])
        queue.hours = {"sun": [["10:00", "11:00"]]}
        queue.closed_message = "Le service dépannage est fermé."
    call = ivr.enter(ctx, floor["trainer"], floor["menu"], "06 12 34 56 78")
    call = ivr.press_key(ctx, floor["trainer"], call.id, "1")
    assert call.state == "deflected" and _said(ctx, call.id)[-1].startswith("Le service dépannage est fermé.")


def test_a_callback_is_offered_after_the_queues_delay_and_ends_the_call(ctx, floor):
    with ctx.unit() as session:
        session.get(Queue, floor["facturation"]).callback_after_s = 60
    call = ivr.enter(ctx, floor["trainer"], floor["menu"], "06 12 34 56 78")
    ivr.press_key(ctx, floor["trainer"], call.id, "2")
    ivr.press_key(ctx, floor["trainer"], call.id, "1")
    assert ivr.waiting_status(ctx, floor["trainer"], [call.id])[call.id]["callback_available"] is False
    with pytest.raises(IllegalTransition):
        calls.request_callback(ctx, floor["trainer"], call.id)
    ctx.clock.advance(seconds=60)
    calls.tick(ctx)
    with ctx.read() as session:
        offer = session.scalars(select(Event).where(Event.type == "queue_status").order_by(Event.id.desc())).first()
    assert offer.payload["callback_available"] is True and offer.payload["waited_s"] == 60
    assert ivr.waiting_status(ctx, floor["trainer"], [call.id])[call.id]["callback_available"] is True
    callback = calls.request_callback(ctx, floor["trainer"], call.id)
    with ctx.read() as session:
        row = session.get(Callback, callback.id)
        assert (row.source, row.number, row.queue_id) == ("caller", "+33612345678", floor["facturation"])
        assert session.get(Call, call.id).state == "deflected"
    assert ivr.waiting_status(ctx, floor["trainer"], [call.id]) == {}


# --- over HTTP ----------------------------------------------------------------------------------------


def _client(app, username):
    client = TestClient(app)
    token = login(client, username)
    client.headers["X-CSRF-Token"] = token
    return client, token


def _http_floor(ctx):
    """The trainer, Alice in the "depannage" queue (returned with its id), and a "facturation" queue."""
    trainer = make_user(ctx, "formateur", role="supervisor")
    alice = make_user(ctx, "alice")
    queue_id, _ = make_queue(ctx, [alice], code="depannage", name="Dépannage")
    make_queue(ctx, [], code="facturation", name="Facturation", dispositions=(("paid", "Payé"),))
    return actor_for(trainer), alice, queue_id


def test_admin_pages_list_edit_validate_and_save(app, sqlite_ctx):
    _http_floor(sqlite_ctx)
    client, token = _client(app, "formateur")
    assert "Aucun serveur vocal" in client.get("/admin/ivr").text
    new = client.get("/admin/ivr/new")
    assert new.status_code == 200 and 'id="script-content"' in new.text and "Arborescence du menu" in new.text
    # "Valider" with mistakes: every error with its line, linked to the text; nothing saved
    broken = MENU.replace("queue: facturation", "queue: compta")
    page = client.post("/admin/ivr/new", data={"csrf_token": token, "name": "", "number": "12", "content": broken,
                                               "action": "validate", "version": "0"})
    assert page.status_code == 422 and 'data-line="16"' in page.text and "compta" in page.text
    page = client.post("/admin/ivr/new", data={"csrf_token": token, "name": "", "number": "12", "content": MENU,
                                               "action": "save", "version": "0"})
    assert page.status_code == 422 and 'href="#ivr-name"' in page.text and 'href="#ivr-number"' in page.text
    assert 'aria-invalid="true"' in page.text
    saved = client.post("/admin/ivr/new", data={"csrf_token": token, "name": "Standard", "number": "01 84 88 00 00",
                                                "content": MENU, "active": "1", "action": "save", "version": "0"},
                        follow_redirects=False)
    assert saved.status_code == 303
    edit = client.get(saved.headers["location"])
    assert "Serveur vocal enregistré (version 1)" in edit.text
    # the tree: nodes, keys and what they do, as nested lists
    assert 'id="ivr-tree"' in edit.text and "Nœud « facturation »" in edit.text
    assert ("Touche 1 → message « <bdi>Nous vous mettons en relation.</bdi> », puis file d'attente « Dépannage »"
            in edit.text)
    assert "Touche 9 → retour au menu précédent" in edit.text
    assert "Après 3 erreurs → file d'attente « Dépannage »" in edit.text
    listing = client.get("/admin/ivr").text
    assert "Standard" in listing and "01 84 88 00 00" in listing and 'href="/admin/queues"' in listing


def test_agents_get_403_on_the_admin_pages(app, sqlite_ctx):
    _http_floor(sqlite_ctx)
    client, token = _client(app, "alice")
    assert client.get("/admin/ivr").status_code == 403
    assert client.get("/admin/ivr/new").status_code == 403
    assert client.post("/admin/ivr/new", data={"csrf_token": token, "name": "X", "content": MENU,
                                               "action": "save"}).status_code == 403


def test_the_console_dials_a_menu_and_presses_keys(app, sqlite_ctx):
    trainer, alice, queue_id = _http_floor(sqlite_ctx)
    menu = ivr.save_menu(sqlite_ctx, trainer, None, ivr.MenuForm("Standard", "01 84 88 00 00", MENU), None)
    agents.set_state(sqlite_ctx, actor_for(alice), "available")
    console, _token = _client(app, "formateur")
    page = console.get("/console")
    assert 'id="console-ivr"' in page.text and "Standard — 01 84 88 00 00" in page.text
    assert "Appeler le serveur vocal" in page.text
    refused = console.post(f"/api/ivr/{menu.id}/calls", json={"number": "06 12", "region": "FR"})
    assert refused.status_code == 422 and "number" in refused.json()["errors"]
    call = console.post(f"/api/ivr/{menu.id}/calls", json={"number": "06 12 34 56 78", "region": "FR"})
    assert call.status_code == 201 and call.json().items() >= {"state": "ivr", "node": "accueil", "queue": ""}.items()
    call_id = call.json()["id"]
    panel = console.get("/console/calls").text
    assert f'id="console-keypad-{call_id}"' in panel and 'role="group"' in panel and panel.count("data-key=") == 12
    assert "Serveur vocal" in panel and "Bienvenue" in panel  # the prompt, in the transcript
    assert console.post(f"/api/calls/{call_id}/keys", json={"key": "X"}).status_code == 422
    moved = console.post(f"/api/calls/{call_id}/keys", json={"key": "2"}).json()
    assert moved.items() >= {"state": "ivr", "node": "facturation"}.items()
    back = console.post(f"/api/calls/{call_id}/keys", json={"key": "9"}).json()
    assert back["node"] == "accueil"
    out = console.post(f"/api/calls/{call_id}/keys", json={"key": "1"}).json()
    assert out.items() >= {"state": "ringing", "node": None, "queue": "Dépannage"}.items()
    assert "console-keypad" not in console.get(f"/console/calls/{call_id}/status").text
    # the agent's desktop shows what the menu said, set apart
    desk, _ = _client(app, "alice")
    desk.post(f"/api/calls/{call_id}/answer")
    assert "Message du serveur vocal" in desk.get("/desktop").text
    # someone else's call: refused
    assert desk.post(f"/api/calls/{call_id}/keys", json={"key": "1"}).status_code == 403


def test_the_console_shows_the_wait_and_the_callback_button(app, sqlite_ctx):
    _trainer, _alice, queue_id = _http_floor(sqlite_ctx)
    with sqlite_ctx.unit() as session:
        session.get(Queue, queue_id).callback_after_s = 30
    console, _token = _client(app, "formateur")
    call = console.post("/api/calls", json={"queue_id": queue_id, "number": "06 12 34 56 78", "region": "FR"}).json()
    status = console.get(f"/console/calls/{call['id']}/status").text
    assert "Vous êtes n° 1 dans la file « Dépannage »." in status
    assert "aucun conseiller n'est en service" in status and "request-callback" not in status
    assert console.post(f"/api/calls/{call['id']}/request-callback").status_code == 422
    sqlite_ctx.clock.advance(seconds=30)
    calls.tick(sqlite_ctx)
    status = console.get(f"/console/calls/{call['id']}/status").text
    assert "Vous pouvez demander à être rappelé." in status and "Demander à être rappelé" in status
    done = console.post(f"/api/calls/{call['id']}/request-callback")
    assert done.status_code == 200 and done.json()["state"] == "deflected"
    panel = console.get("/console/calls").text
    assert "Terminé sans agent" in panel and f'id="console-say-{call["id"]}"' not in panel
    assert "un conseiller vous rappelle" in panel  # the confirmation, in the transcript


def test_the_cli_checks_a_file_with_or_without_the_database(tmp_path, monkeypatch, sqlite_ctx):
    from plateau.cli import app as cli

    runner = CliRunner()
    demo = DEMO_DIR / "ivr.yaml"
    ok = runner.invoke(cli, ["ivr", "check", str(demo), "--queues", "service-clients,facturation,depannage"])
    assert ok.exit_code == 0 and "menu valide" in ok.output
    bad = tmp_path / "menu.yaml"
    bad.write_text(MENU.replace("queue: facturation", "queue: compta"), encoding="utf-8")
    refused = runner.invoke(cli, ["ivr", "check", str(bad), "--queues", "depannage,facturation"])
    assert refused.exit_code == 1
    assert "Ligne 16 — Nœud « facturation », touche 1 : file d'attente « compta » inconnue" in refused.output
    # against the database's queues
    from plateau.config import get_settings

    make_queue(sqlite_ctx, [], code="depannage", name="Dépannage")
    monkeypatch.setenv("PLATEAU_DATABASE_URL", sqlite_ctx.settings.database_url)
    get_settings.cache_clear()
    try:
        from_db = runner.invoke(cli, ["ivr", "check", str(bad)])
    finally:
        get_settings.cache_clear()
    assert from_db.exit_code == 1 and "files existantes : depannage." in from_db.output
