"""Call scripts on real databases and over HTTP: editing with optimistic locking,
permissions, answers saved on the call, the desktop panel and its branching."""

import html
import re

import pytest
from sqlalchemy import func, select

from plateau.domain.errors import ConflictError, DomainError, NotFoundError, PermissionDenied, ValidationError
from plateau.services import scripts
from plateau.services.context import SYSTEM
from plateau.services.users import actor_for
from plateau.store.models import Call, CallScript, Campaign, Contact, Event, Queue, ScriptAnswer
from tests.helpers import login, make_user
from tests.unit.test_scripts_domain import DEMO, GOOD


def setup_floor(ctx, state: str = "connected") -> dict:
    """Users, a queue using the test script, a queue without one, and a call with Karim Benali."""
    admin = actor_for(make_user(ctx, "admin", role="admin"))
    trainer = actor_for(make_user(ctx, "formateur", role="supervisor"))
    alice = actor_for(make_user(ctx, "alice", name="Alice Martin"))
    bruno = actor_for(make_user(ctx, "bruno"))
    row = scripts.import_script(ctx, SYSTEM, GOOD)
    now = ctx.now()
    with ctx.unit() as session:
        queue = Queue(code="facturation", name="Facturation", script_id=row.id)
        bare = Queue(code="sans-script", name="Sans script")
        karim = Contact(kind="person", civility="M.", first_name="Karim", last_name="Benali",
                        search_name="benali karim", created_at=now, updated_at=now, tags=[])
        session.add_all([queue, bare, karim])
        session.flush()
        call = Call(state=state, queue_id=queue.id, caller_number="+33612345678", contact_id=karim.id,
                    agent_id=alice.id, caller_user_id=trainer.id, created_at=now, state_since=now, declined_by=[])
        other = Call(state="connected", queue_id=bare.id, caller_number="+33612345679", agent_id=alice.id,
                     created_at=now, state_since=now, declined_by=[])
        session.add_all([call, other])
    return {"admin": admin, "trainer": trainer, "alice": alice, "bruno": bruno, "script": row.id,
            "queue": queue.id, "call": call.id, "bare_call": other.id}


@pytest.fixture
def floor(ctx):
    return setup_floor(ctx)


def set_state(ctx, call_id: int, state: str) -> None:
    with ctx.unit() as session:
        session.get(Call, call_id).state = state


# --- editing ------------------------------------------------------------------------------------


def test_create_then_update_bumps_the_version_and_a_stale_save_is_a_conflict(ctx, floor):
    created = scripts.save_script(ctx, floor["trainer"], None, GOOD.replace("code: test", "code: autre"), None)
    assert created.version == 1 and created.code == "autre" and created.updated_by == floor["trainer"].id
    renamed = GOOD.replace("code: test", "code: autre").replace("name: Script de test", "name: Renommé")
    updated = scripts.save_script(ctx, floor["admin"], created.id, renamed, expected_version=1)
    assert updated.version == 2 and updated.name == "Renommé"
    with pytest.raises(ConflictError) as caught:
        scripts.save_script(ctx, floor["trainer"], created.id, GOOD.replace("code: test", "code: autre"), 1)
    assert caught.value.params == {"user": "Admin", "version": 2}
    assert "depuis que vous l'avez ouvert" in caught.value.render()
    kept = scripts.get_script(ctx, created.id)
    assert kept.version == 2 and kept.name == "Renommé" and kept.content == renamed


def test_only_supervisors_and_admins_edit_scripts(ctx, floor):
    with pytest.raises(PermissionDenied):
        scripts.save_script(ctx, floor["alice"], None, GOOD.replace("code: test", "code: x"), None)
    with pytest.raises(PermissionDenied):
        scripts.import_script(ctx, floor["alice"], GOOD)
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(CallScript)) == 1


def test_a_bad_script_or_a_taken_code_saves_nothing(ctx, floor):
    with pytest.raises(ValidationError) as caught:
        scripts.save_script(ctx, floor["trainer"], floor["script"], GOOD.replace("phase: traitement", "phase: vente"), 1)
    assert "phase « vente » inconnue" in next(iter(caught.value.errors.values())).render()
    other = scripts.save_script(ctx, floor["trainer"], None, GOOD.replace("code: test", "code: autre"), None)
    with pytest.raises(ValidationError) as caught:
        scripts.save_script(ctx, floor["trainer"], other.id, GOOD, 1)  # "test" belongs to the first script
    assert caught.value.errors["code"].render() == ("Le code « test » est déjà celui du script « Script de test » : "
                                                    "choisissez-en un autre.")
    assert scripts.get_script(ctx, floor["script"]).version == 1
    with pytest.raises(NotFoundError):
        scripts.save_script(ctx, floor["trainer"], 9999, GOOD.replace("code: test", "code: z"), 1)


def test_import_creates_or_updates_by_code_and_is_idempotent(ctx, floor):
    again = scripts.import_script(ctx, SYSTEM, GOOD)
    assert again.id == floor["script"] and again.version == 1
    changed = scripts.import_script(ctx, SYSTEM, GOOD.replace("name: Script de test", "name: Nouveau nom"))
    assert changed.id == floor["script"] and changed.version == 2 and changed.name == "Nouveau nom"
    for path in sorted(DEMO.glob("*.yaml")):
        scripts.import_script(ctx, SYSTEM, path.read_text(encoding="utf-8"))
    summaries = scripts.list_scripts(ctx)
    assert [s.script.code for s in summaries if not s.script.code.startswith("campagne-")] == [
        "depannage", "facturation", "test", "service-clients"]
    used = next(s for s in summaries if s.script.code == "test")
    assert [q.code for q in used.queues] == ["facturation"]


# --- answers -------------------------------------------------------------------------------------


def test_save_answer_upserts_validates_and_tells_the_agent(ctx, floor):
    alice, call = floor["alice"], floor["call"]
    first = scripts.save_answer(ctx, alice, call, "motif", "facture")
    assert (first.value, first.step_id, first.script_version, first.user_id) == ("Facture", "decouverte", 1, alice.id)
    ctx.clock.advance(seconds=5)
    second = scripts.save_answer(ctx, alice, call, "motif", "Déménagement")
    assert second.id == first.id and second.value == "Déménagement"
    with ctx.read() as session:
        rows = session.scalars(select(ScriptAnswer).where(ScriptAnswer.call_id == call)).all()
        events = session.scalars(select(Event).where(Event.type == "script_answer").order_by(Event.id)).all()
    assert [(r.question_id, r.value) for r in rows] == [("motif", "Déménagement")]
    assert [e.channel for e in events] == [f"user:{alice.id}"] * 2
    assert events[-1].payload == {"call_id": call, "question_id": "motif", "value": "Déménagement"}
    # the same change sent twice (double "change" event) saves once
    scripts.save_answer(ctx, alice, call, "motif", "Déménagement")
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.type == "script_answer")) == 2


def test_a_bad_answer_is_refused_with_its_question_and_nothing_changes(ctx, floor):
    alice, call = floor["alice"], floor["call"]
    scripts.save_answer(ctx, alice, call, "montant", "12,50")
    with pytest.raises(ValidationError) as caught:
        scripts.save_answer(ctx, alice, call, "montant", "douze")
    assert caught.value.errors["montant"].render() == "« Montant » : saisissez un nombre (par exemple 12 ou 12,5)."
    with pytest.raises(ValidationError) as caught:
        scripts.save_answer(ctx, alice, call, "inconnue", "x")
    assert "question_id" in caught.value.errors
    assert scripts.script_state(ctx, call).answers == {"montant": "12,5"}


def test_only_the_calls_agent_answers_and_only_during_the_call(ctx, floor):
    with pytest.raises(PermissionDenied):
        scripts.save_answer(ctx, floor["bruno"], floor["call"], "nom", "Benali")
    with pytest.raises(PermissionDenied):
        scripts.save_answer(ctx, floor["trainer"], floor["call"], "nom", "Benali")
    set_state(ctx, floor["call"], "ringing")
    with pytest.raises(DomainError) as caught:
        scripts.save_answer(ctx, floor["alice"], floor["call"], "nom", "Benali")
    assert "pendant l'appel ou le post-appel" in caught.value.render()
    for state in ("on_hold", "wrap_up"):
        set_state(ctx, floor["call"], state)
        assert scripts.save_answer(ctx, floor["alice"], floor["call"], "nom", f"Benali {state}").value.endswith(state)
    with pytest.raises(DomainError, match="n'a pas de script"):
        scripts.save_answer(ctx, floor["alice"], floor["bare_call"], "nom", "Benali")


def test_answers_keep_the_script_version_they_were_given_under(ctx, floor):
    alice, call = floor["alice"], floor["call"]
    scripts.save_answer(ctx, alice, call, "nom", "Benali")
    scripts.save_script(ctx, floor["trainer"], floor["script"], GOOD.replace("label: Nom\n", "label: Nom du client\n"), 1)
    scripts.save_answer(ctx, alice, call, "motif", "Facture")
    with ctx.read() as session:
        versions = dict(session.execute(select(ScriptAnswer.question_id, ScriptAnswer.script_version)).all())
    assert versions == {"nom": 1, "motif": 2}
    history = scripts.answers_of(ctx, call)
    assert [(a.label, a.step_title, a.shown) for a in history] == [("Nom du client", "Identification", "Benali"),
                                                                    ("Motif", "Découverte", "Facture")]


# --- the script's state on a call -------------------------------------------------------------------


def test_script_state_follows_the_answers(ctx, floor):
    alice, call = floor["alice"], floor["call"]
    state = scripts.script_state(ctx, call, actor=alice)
    assert state.current.id == "identification" and state.next == "decouverte"
    assert state.agent_name == "Alice Martin" and state.contact_name == "Monsieur Karim Benali"
    assert state.fill("Bonjour {contact}, {agent}, {company}") == "Bonjour Monsieur Karim Benali, Alice Martin, Énergie Horizon"
    scripts.save_answer(ctx, alice, call, "nom", "Benali")
    scripts.save_answer(ctx, alice, call, "motif", "Facture")
    state = scripts.script_state(ctx, call)
    assert state.path == ["accueil", "identification", "decouverte", "facture", "conclusion"]
    assert state.current.id == "conclusion" and state.next == "end"
    assert {"accueil", "identification", "decouverte"} <= state.done
    # a requested step is shown, with where its branches lead
    state = scripts.script_state(ctx, call, step_id="decouverte")
    assert state.current.id == "decouverte" and state.next == "facture" and state.position == 3
    # "Étape suivante" from a step: the branch target
    assert scripts.script_state(ctx, call, after="decouverte").current.id == "facture"
    assert scripts.script_state(ctx, call, step_id="nulle-part").current.id == "conclusion"


def test_script_state_permissions_and_a_queue_without_script(ctx, floor):
    with pytest.raises(PermissionDenied):
        scripts.script_state(ctx, floor["call"], actor=floor["bruno"])
    assert scripts.script_state(ctx, floor["call"], actor=floor["trainer"]).script is not None
    bare = scripts.script_state(ctx, floor["bare_call"], actor=floor["alice"])
    assert bare.row is None and bare.script is None and bare.current is None
    with pytest.raises(NotFoundError):
        scripts.script_state(ctx, 9999)


def test_a_stored_script_that_no_longer_parses_is_reported_not_shown(ctx, floor):
    with ctx.unit() as session:
        session.get(CallScript, floor["script"]).content = "code: test\nsteps: [\n"  # edited outside the editor
    state = scripts.script_state(ctx, floor["call"], actor=floor["alice"])
    assert state.invalid and state.script is None and state.current is None


# --- over HTTP: the editor ----------------------------------------------------------------------------


def _form(page_html: str) -> dict:
    version = re.search(r'name="version" value="(\d+)"', page_html).group(1)
    return {"version": version}


def test_the_editor_lists_errors_and_saves_a_good_script(client, sqlite_ctx):
    floor = setup_floor(sqlite_ctx)
    token = login(client, "formateur")
    listing = client.get("/scripts")
    assert listing.status_code == 200 and "<caption>Scripts d'appel (1)</caption>" in listing.text
    assert '<th scope="row"><a href="/scripts/%d">Script de test</a></th>' % floor["script"] in listing.text
    new = client.get("/scripts/new")
    assert 'id="script-content"' in new.text and 'spellcheck="false"' in new.text
    assert '<label for="script-content">' in new.text

    bad = GOOD.replace("code: test", "code: nouveau").replace("phase: traitement", "phase: vente", 1)
    bad = bad.replace("goto: facture", "goto: factures")
    checked = client.post("/scripts/new", data={"content": bad, "version": "0", "action": "validate",
                                                "csrf_token": token})
    assert checked.status_code == 422
    assert 'role="alert" id="script-errors"' in checked.text
    assert "2 erreurs : le script n'est pas enregistré." in checked.text
    errors = re.findall(r'<li data-line="(\d+)">([^<]*)</li>', html.unescape(checked.text))
    assert errors == [("38", "Ligne 38 — Étape « decouverte », branchement n° 1 : « goto » mène à l'étape « factures » "
                             "qui n'existe pas (ou écrivez « end »)."),
                      ("44", "Ligne 44 — Étape « facture » : phase « vente » inconnue ; phases permises : accueil, "
                             "identification, decouverte, traitement, conclusion.")]
    assert 'aria-invalid="true"' in checked.text
    assert client.post("/scripts/new", data={"content": bad, "version": "0", "action": "save",
                                             "csrf_token": token}).status_code == 422
    assert len(scripts.list_scripts(sqlite_ctx)) == 1  # nothing saved

    good = GOOD.replace("code: test", "code: nouveau")
    ok = client.post("/scripts/new", data={"content": good, "version": "0", "action": "validate", "csrf_token": token})
    assert ok.status_code == 200 and 'id="script-valid"' in ok.text
    assert len(scripts.list_scripts(sqlite_ctx)) == 1  # "Valider" does not save
    saved = client.post("/scripts/new", data={"content": good, "version": "0", "action": "save", "csrf_token": token},
                        follow_redirects=False)
    assert saved.status_code == 303
    page = client.get(saved.headers["location"])
    assert 'id="script-saved"' in page.text and "Script enregistré (version 1)." in page.text
    assert "si « Motif » = « Facture » → étape « Traitement facture »" in page.text
    assert "si « Motif » = « Déménagement » → étape « Déménagement »" in page.text
    assert "sinon → étape « Conclusion »" in page.text
    assert "Aucune file n'utilise ce script pour l'instant." in html.unescape(page.text)
    used = client.get(f"/scripts/{floor['script']}")
    assert '<ul id="script-queues"><li>Facturation (<code>facturation</code>)</li></ul>' in used.text


def test_the_editor_reports_a_concurrent_save_and_keeps_the_text(client, sqlite_ctx):
    floor = setup_floor(sqlite_ctx)
    token = login(client, "formateur")
    url = f"/scripts/{floor['script']}"
    version = _form(client.get(url).text)["version"]
    scripts.save_script(sqlite_ctx, floor["admin"], floor["script"], GOOD.replace("Script de test", "Par l'admin"), 1)
    mine = GOOD.replace("Script de test", "Par le formateur")
    response = client.post(url, data={"content": mine, "version": version, "action": "save", "csrf_token": token})
    assert response.status_code == 409
    assert 'id="script-conflict"' in response.text and "Ce script a été enregistré par Admin (version 2)" in response.text
    assert "Par le formateur" in response.text  # the text typed is not lost
    assert scripts.get_script(sqlite_ctx, floor["script"]).name == "Par l'admin"
    # saving again, knowingly, after reading the message replaces the version it now shows
    assert _form(response.text)["version"] == "2"
    again = client.post(url, data={"content": mine, "version": "2", "action": "save", "csrf_token": token},
                        follow_redirects=False)
    assert again.status_code == 303 and scripts.get_script(sqlite_ctx, floor["script"]).version == 3


def test_agents_cannot_open_the_editor(client, sqlite_ctx):
    floor = setup_floor(sqlite_ctx)
    token = login(client, "alice")
    assert client.get("/scripts").status_code == 403
    assert client.get(f"/scripts/{floor['script']}").status_code == 403
    assert client.post(f"/scripts/{floor['script']}", data={"content": GOOD, "version": "1", "action": "save",
                                                            "csrf_token": token}).status_code == 403


# --- over HTTP: the desktop panel -----------------------------------------------------------------------


def test_the_panel_shows_the_current_step_saves_answers_and_follows_branches(client, sqlite_ctx):
    floor = setup_floor(sqlite_ctx)
    token = login(client, "alice")
    call = floor["call"]
    panel = client.get(f"/desktop/script/{call}")
    assert panel.status_code == 200
    text = panel.text
    assert text.startswith('<h2 id="script-title">') and "<html" not in text
    assert "Étape 2 sur 6 : Identification" in text
    assert re.search(r'aria-current="step">Identification<strong> — en cours</strong>', text)
    assert "Accueil — fait" in text
    assert '<label for="script-q-nom">Nom (obligatoire)</label>' in text
    assert 'id="script-q-titulaire"' in text and '<legend>Titulaire ?</legend>' in text
    assert 'id="script-step-title" tabindex="-1">' in text  # no autofocus on a refresh
    assert '<h3 id="script-objections-title">Objections</h3>' in text
    assert '<summary>C&#39;est trop cher</summary>' in text

    saved = client.post(f"/desktop/script/{call}/answer", data={"question_id": "nom", "answer-nom": "Benali"},
                        headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert saved.status_code == 200
    assert saved.text.strip().startswith('<span class="saved">Enregistré</span>')
    assert 'id="script-steps" class="script-steps" hx-swap-oob="true"' in saved.text
    assert 'id="script-next-box" class="inline-controls" hx-swap-oob="true"' in saved.text
    refused = client.post(f"/desktop/script/{call}/answer", data={"question_id": "motif", "answer-motif": "Panne"},
                          headers={"X-CSRF-Token": token})
    assert refused.status_code == 422
    assert ("Non enregistré : « Motif » : choisissez une des réponses proposées (Facture, Déménagement, Autre)."
            in html.unescape(refused.text))
    client.post(f"/desktop/script/{call}/answer", data={"question_id": "motif", "answer-motif": "Facture"},
                headers={"X-CSRF-Token": token})

    step = client.get(f"/desktop/script/{call}?step=decouverte&focus=1").text
    assert "Étape 3 sur 6 : Découverte" in step and 'tabindex="-1" autofocus>' in step
    assert '<option value="Facture" selected>Facture</option>' in step
    assert "Ensuite : Traitement facture" in step
    follow = re.search(r'id="script-next" hx-get="([^"]+)"', step).group(1).replace("&amp;", "&")
    assert follow == f"/desktop/script/{call}?after=decouverte&focus=1"
    nxt = client.get(follow).text
    assert "Étape 4 sur 6 : Traitement facture" in nxt and "autofocus" in nxt


def test_the_panel_fills_the_greeting_and_says_when_there_is_no_script(client, sqlite_ctx):
    floor = setup_floor(sqlite_ctx)
    login(client, "alice")
    accueil = client.get(f"/desktop/script/{floor['call']}?step=accueil").text
    assert "« Énergie Horizon, Alice Martin à votre écoute, bonjour ! »" in accueil
    assert "Bonjour Monsieur Karim Benali, je suis Alice Martin." in accueil
    bare = client.get(f"/desktop/script/{floor['bare_call']}").text
    assert bare.startswith('<h2 id="script-title">')
    assert "Pas de script d'appel pour « Sans script » : menez l'entretien sans guide." in html.unescape(bare)


def test_only_the_calls_agent_or_a_supervisor_reads_the_panel(client, sqlite_ctx):
    floor = setup_floor(sqlite_ctx)
    token = login(client, "bruno")
    assert client.get(f"/desktop/script/{floor['call']}").status_code == 403
    assert client.post(f"/desktop/script/{floor['call']}/answer", data={"question_id": "nom", "answer-nom": "X"},
                       headers={"X-CSRF-Token": token}).status_code == 403
    client.post("/logout", data={"csrf_token": token})
    login(client, "formateur")
    seen = client.get(f"/desktop/script/{floor['call']}").text
    assert "Étape 2 sur 6" in seen and 'id="script-form"' not in seen  # read-only for the supervisor


def test_the_json_api_reads_the_state_and_saves_answers(client, sqlite_ctx):
    floor = setup_floor(sqlite_ctx)
    token = login(client, "alice")
    url = f"/api/calls/{floor['call']}/script"
    saved = client.post(url + "/answers", json={"question_id": "titulaire", "value": "Non"},
                        headers={"X-CSRF-Token": token})
    assert saved.status_code == 200 and saved.json()["value"] == "non"
    bad = client.post(url + "/answers", json={"question_id": "titulaire", "value": "bof"}, headers={"X-CSRF-Token": token})
    assert bad.status_code == 422 and bad.json()["errors"]["titulaire"] == "« Titulaire ? » : répondez par oui ou par non."
    state = client.get(url).json()
    assert state["current_step"] == "identification" and state["answers"] == {"titulaire": "non"}
    assert state["path"] == ["accueil", "identification", "conclusion"]
    assert "/api/calls/{call_id}/script/answers" in client.get("/openapi.json").json()["paths"]


def test_an_outbound_call_follows_its_campaign_script_not_a_queue(ctx, floor):
    """A campaign call has no queue: the desktop shows and fills the campaign's script (survey answers)."""
    now = ctx.now()
    with ctx.unit() as session:
        campaign = Campaign(code="enquete", name="Enquête hiver", kind="survey", script_id=floor["script"],
                            created_at=now, updated_at=now)
        session.add(campaign)
        session.flush()
        call = Call(state="connected", direction="outbound", campaign_id=campaign.id, caller_number="+33612345670",
                    agent_id=floor["alice"].id, created_at=now, state_since=now, declined_by=[])
        session.add(call)
    state = scripts.script_state(ctx, call.id, actor=floor["alice"])
    assert state.source == "Enquête hiver" and state.script is not None
    answer = scripts.save_answer(ctx, floor["alice"], call.id, "motif", "facture")
    assert answer.value == "Facture" and answer.script_id == floor["script"]
