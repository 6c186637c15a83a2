"""Campaign pages over HTTP: the list, the form (created from a CRM selection, refused
input shown next to its fields with nothing written, the count preview with and
without htmx, a stale edit), the campaign's page (lifecycle buttons, what launching
lacks, finishing after a confirmation, the target list and its pages, the change
log), the qualifications, and the agents kept out."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from plateau.domain.contacts import PhoneInput
from plateau.services import campaigns, crm
from plateau.services.users import actor_for
from plateau.store.models import (Campaign, CampaignChange, CampaignContact, CallScript, Contact, ContactPhone,
                                  DialAttempt, Disposition)
from tests.helpers import login, make_user
from tests.integration.test_contacts_web import ids


@pytest.fixture
def boss(sqlite_ctx):
    return actor_for(make_user(sqlite_ctx, "formatrice", role="supervisor", name="Fanny Formatrice"))


@pytest.fixture
def desk(app, boss):
    client = TestClient(app)
    client.headers["X-CSRF-Token"] = login(client, "formatrice")
    return client


@pytest.fixture
def file(sqlite_ctx, boss):
    """Four contacts in Lyon (one without a phone), one in Paris, a script and a qualification."""
    for n, city in enumerate(["Lyon", "Lyon", "Lyon", "Paris"]):
        crm.create_contact(sqlite_ctx, boss, {"first_name": "Test", "last_name": f"Contact{n}", "city": city},
                           [PhoneInput(f"06 12 34 56 7{n}")])
    crm.create_contact(sqlite_ctx, boss, {"last_name": "Sansnumero", "city": "Lyon"}, [])
    with sqlite_ctx.unit() as session:
        script = CallScript(code="prospection", name="Script de prospection", content="steps: []",
                            updated_at=sqlite_ctx.now())
        session.add(script)
        session.flush()
        script_id = script.id
    refused = campaigns.create_disposition(sqlite_ctx, boss, "refus", "Refus", "refused")
    return {"script": script_id, "refused": refused.id}


FORM = {"name": "Relance Lyon", "code": "relance-lyon", "kind": "prospecting", "dial_mode": "progressive",
        "max_attempts": "4", "retry_busy": "15", "retry_no_answer": "120", "retry_answering_machine": "240",
        "presented_number": "01 62 00 00 01", "abandon_cap_percent": "3", "drop_after_s": "2", "country": "FR",
        "test_sample_size": "2", "network_seed": "1", "hours_mon": "10:00-13:00, 14:00-20:00",
        "objective_calls": "100", "selection_city": "lyon", "add_selection": "1"}


def _text(html: str) -> str:
    """What a reader gets: tags dropped, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]*>", " ", html)).split())


def _count(ctx, model) -> int:
    with ctx.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def _create(desk, file, boss, **changes):
    data = {**FORM, "script_id": str(file["script"]), "disposition_ids": [str(file["refused"])],
            "user_ids": [str(boss.id)], **changes}
    return desk.post("/campaigns/new", data=data, follow_redirects=False)


def test_agents_are_kept_out(app, sqlite_ctx):
    make_user(sqlite_ctx, "ana", name="Ana Martin")
    client = TestClient(app)
    token = login(client, "ana")
    for path in ("/campaigns", "/campaigns/new", "/campaigns/qualifications", "/campaigns/1"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "les agents ne gèrent pas les campagnes" in unescape(response.text)
    response = client.post("/campaigns/new", data={**FORM, "csrf_token": token})
    assert response.status_code == 403 and _count(sqlite_ctx, Campaign) == 0


def test_the_form_is_one_accessible_form_with_fieldsets(desk, file):
    page = desk.get("/campaigns/new")
    assert page.status_code == 200
    found = ids(page.text)  # also: no duplicate id
    for legend in ("Identité et type", "Objectifs", "Script, qualifications et produits", "Liste de contacts",
                   "Calendrier et heures d'appel", "Numérotation", "Règles d'appel", "Appels tests",
                   "Réseau téléphonique simulé", "Agents et équipes", "Qualifications proposées aux agents"):
        assert f"<legend>{legend}</legend>" in unescape(page.text), legend
    for field in ("c-name", "c-code", "c-kind", "c-objective_calls", "c-script_id", "c-selection_query",
                  "c-selection_status", "c-starts_on", "c-hours_mon", "c-dial_mode", "c-retry_busy",
                  "c-presented_number", "c-abandon_cap", "c-drop_after_s", "c-drop_message", "c-country", "c-sector",
                  "c-test_sample_size", "c-network_answered", "c-network_seed"):
        assert field in found, field
        assert f'<label for="{field}"' in page.text, f"{field} has no label"
    assert found["selection-count"]["role"] == "status"
    assert found["selection-preview"]["hx-get"] == "/campaigns/selection-count"
    assert found["c-abandon_cap"]["value"] == "3" and found["c-max_attempts"]["value"] == "4"
    assert "checked" in found["c-add_selection"], "a new campaign adds its selection"


def test_a_supervisor_creates_a_campaign_from_a_crm_selection(desk, sqlite_ctx, file, boss):
    response = _create(desk, file, boss)
    assert response.status_code == 303
    campaign_id = int(response.headers["location"].split("/")[2].split("?")[0])
    assert response.headers["location"] == f"/campaigns/{campaign_id}?done=created&added=3&without_phone=1&already=0"
    page = desk.get(response.headers["location"])
    text = _text(page.text)
    assert "Campagne créée. 3 contacts ajoutés à la liste. 1 sans numéro de téléphone, ignoré." in text
    assert "État : Brouillon" in text
    view = campaigns.get(sqlite_ctx, campaign_id)
    assert (view.presented_number, view.hours, view.objectives) == ("+33162000001", {"mon": [["10:00", "13:00"],
                                                                                              ["14:00", "20:00"]]},
                                                                    {"calls": 100})
    assert view.counts.total == 3 and view.missing == {}
    found = ids(page.text)
    assert {"campaign-action-test", "campaign-action-launch"} <= set(found)
    assert "campaign-action-pause" not in found
    assert found["campaign-results"]["href"] == f"/campaigns/{campaign_id}/results"
    assert "Création de la campagne" in text and "Contacts dans la liste 0 3" in text
    listing = _text(desk.get("/campaigns").text)
    assert "Relance Lyon" in listing and "Brouillon" in listing and "Progressif" in listing


def test_bad_input_comes_back_with_messages_next_to_fields_and_writes_nothing(desk, sqlite_ctx, file, boss):
    response = _create(desk, file, boss, name="", max_attempts="50", abandon_cap_percent="4", hours_tue="20:00-10:00",
                       presented_number="12", retry_busy="0", selection_status="vip")
    assert response.status_code == 422
    found = ids(response.text)
    text = _text(response.text)
    assert "La campagne n'a pas été enregistrée : 7 points à corriger." in text
    for field, message in [
            ("max_attempts", "Le nombre maximal de tentatives par contact va de 1 à 20."),
            ("abandon_cap", "Le taux d'abandon maximal doit être supérieur à 0 et au plus de 3 % des appels décrochés "
                            "par jour : c'est le plafond légal."),
            ("hours_tue", "Mardi : la plage 20:00-10:00 finit avant de commencer."),
            ("presented_number", "Numéro présenté : « 12 » n'est pas un numéro de téléphone valide (FR)."),
            ("retry_busy", "Délai avant de rappeler un numéro occupé : indiquez un nombre de minutes entre 1 et 43200."),
            ("selection_status", "Statut : choisissez client ou prospect."),
            ("name", "Le nom de la campagne est obligatoire (200 caractères au plus).")]:
        control = found[f"c-{field}"]
        assert f"c-{field}-error" in control["aria-describedby"].split(), field
        assert control["aria-invalid"] == "true"
        assert _text(response.text.split(f'id="c-{field}-error">')[1].split("</p>")[0]) == message
        assert f'href="#c-{field}"' in response.text, "the summary links to the field"
    assert found["c-max_attempts"]["value"] == "50", "values kept as typed"
    assert found["c-code"]["value"] == "relance-lyon"
    assert _count(sqlite_ctx, Campaign) == 0 and _count(sqlite_ctx, CampaignChange) == 0
    assert _count(sqlite_ctx, CampaignContact) == 0


def test_the_count_preview_with_htmx_and_without(desk, sqlite_ctx, file, boss):
    fragment = desk.get("/campaigns/selection-count", params={"selection_city": "lyon"},
                        headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert _text(fragment.text) == ("4 contacts correspondent à la sélection. 3 seront ajoutés à la liste ; 1 sans "
                                    "numéro de téléphone, ignoré.")
    refused = desk.get("/campaigns/selection-count", params={"selection_query": ""})
    assert "Indiquez au moins un critère de sélection" in _text(refused.text)
    # without JavaScript the button posts the form back: counted, kept, nothing saved
    page = _create(desk, file, boss, preview="1")
    assert page.status_code == 200
    assert "4 contacts correspondent à la sélection." in _text(page.text)
    assert ids(page.text)["c-name"]["value"] == "Relance Lyon"
    assert _count(sqlite_ctx, Campaign) == 0


def test_editing_logs_each_change_and_a_stale_form_is_refused(desk, sqlite_ctx, file, boss):
    campaign_id = int(_create(desk, file, boss).headers["location"].split("/")[2].split("?")[0])
    form = desk.get(f"/campaigns/{campaign_id}/edit")
    found = ids(form.text)
    version = re.search(r'name="version" value="(\d+)"', form.text).group(1)
    assert found["c-presented_number"]["value"] == "01 62 00 00 01", "shown in national format"
    assert "checked" not in found["c-add_selection"], "an edit does not add its selection again unless asked"
    data = {**FORM, "add_selection": "", "version": version, "script_id": str(file["script"]),
            "disposition_ids": [str(file["refused"])], "user_ids": [str(boss.id)], "max_attempts": "6"}
    saved = desk.post(f"/campaigns/{campaign_id}/edit", data=data, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"/campaigns/{campaign_id}?done=saved"
    page = _text(desk.get(saved.headers["location"]).text)
    assert "Campagne enregistrée." in page and "Tentatives maximum par contact 4 6" in page
    # the same form again, built on the old version: refused, nothing overwritten
    stale = desk.post(f"/campaigns/{campaign_id}/edit", data={**data, "max_attempts": "9"}, follow_redirects=False)
    assert stale.status_code == 409
    assert "Cette campagne a été modifiée par Fanny Formatrice" in _text(stale.text)
    assert ids(stale.text)["c-max_attempts"]["value"] == "9"
    assert campaigns.get(sqlite_ctx, campaign_id).max_attempts == 6


def test_the_lifecycle_from_the_campaign_page(desk, sqlite_ctx, file, boss):
    bare = desk.post("/campaigns/new", data={**FORM, "code": "vide", "add_selection": "", "presented_number": ""},
                     follow_redirects=False)
    bare_id = int(bare.headers["location"].split("/")[2].split("?")[0])
    refused = desk.post(f"/campaigns/{bare_id}/actions/launch")
    assert refused.status_code == 422
    text = _text(refused.text)
    for item in ("Il manque le script d'appel.", "Il manque la liste des qualifications (au moins une).",
                 "La liste de contacts est vide : ajoutez au moins un contact.",
                 "Aucun agent ni aucune équipe n'est affecté à la campagne.",
                 "Il manque un numéro présenté valide : un appel ne part jamais en numéro masqué."):
        assert item in text, item
    assert campaigns.get(sqlite_ctx, bare_id).status == "draft"

    campaign_id = int(_create(desk, file, boss).headers["location"].split("/")[2].split("?")[0])
    for action, status in (("test", "test"), ("launch", "running"), ("pause", "paused"), ("resume", "running")):
        response = desk.post(f"/campaigns/{campaign_id}/actions/{action}", follow_redirects=False)
        assert response.status_code == 303, action
        assert campaigns.get(sqlite_ctx, campaign_id).status == status
    assert campaigns.state_counts(sqlite_ctx, campaign_id).in_test == 2
    wrong = desk.post(f"/campaigns/{campaign_id}/actions/launch")
    assert wrong.status_code == 409
    assert "Cette étape n'est pas possible dans l'état actuel de la campagne." in _text(wrong.text)
    # finishing asks first
    confirm = desk.post(f"/campaigns/{campaign_id}/actions/finish")
    assert confirm.status_code == 200 and "Terminer la campagne « Relance Lyon » ?" in _text(confirm.text)
    assert campaigns.get(sqlite_ctx, campaign_id).status == "running"
    done = desk.post(f"/campaigns/{campaign_id}/actions/finish", data={"confirm": "1"}, follow_redirects=False)
    assert done.status_code == 303
    page = desk.get(done.headers["location"])
    assert "Campagne terminée." in _text(page.text) and "campaign-edit" not in ids(page.text)
    log = _text(page.text.split('id="campaign-log"')[1])
    assert "État En cours Terminée" in log and "Échantillon d'appels tests — 2" in log
    assert desk.get(f"/campaigns/{campaign_id}/edit").status_code == 422


def test_the_target_list_filters_pages_and_removes(desk, sqlite_ctx, file, boss):
    campaign_id = int(_create(desk, file, boss).headers["location"].split("/")[2].split("?")[0])
    rows = campaigns.target_page(sqlite_ctx, campaign_id).rows
    with sqlite_ctx.unit() as session:
        blocked = session.get(CampaignContact, rows[2].id)
        blocked.state = "blocked"
        session.add(DialAttempt(campaign_id=campaign_id, campaign_contact_id=blocked.id, contact_id=blocked.contact_id,
                                number="+33612345672", at=sqlite_ctx.now(), mode="progressive", allowed=False,
                                reasons=[{"rule": "fr.hours", "reference": "Code de la consommation, art. D.223-9",
                                          "message": "Appel hors des heures permises (100 % des cas)."}]))
    page = desk.get(f"/campaigns/{campaign_id}", params={"state": "blocked"})
    table = _text(page.text.split('id="targets-table"')[1].split("</table>")[0])
    assert "Test Contact2" in table and "Test Contact0" not in table
    assert ("Appel hors des heures permises (100 % des cas). (Code de la consommation, art. D.223-9)" in table), \
        "a blocked contact shows its reason and the rule's reference"
    pending = desk.get(f"/campaigns/{campaign_id}", params={"state": "pending"})
    assert "Test Contact0" in _text(pending.text.split('id="targets-table"')[1].split("</table>")[0])
    removed = desk.post(f"/campaigns/{campaign_id}/targets/{rows[0].contact_id}/remove", follow_redirects=False)
    assert removed.status_code == 303
    assert campaigns.state_counts(sqlite_ctx, campaign_id).total == 2
    stale = desk.get(f"/campaigns/{campaign_id}", params={"after": "not-a-cursor"})
    assert stale.status_code == 200, "a bad cursor falls back to the first page"


def test_the_target_list_pages_follow_a_cursor(desk, sqlite_ctx, file, boss):
    now = sqlite_ctx.now()
    with sqlite_ctx.unit() as session:  # 60 more people in Grenoble, written at once
        people = [Contact(last_name=f"Grenoble{n:02d}", search_name=f"grenoble{n:02d}", city="Grenoble",
                          created_at=now, updated_at=now, phones=[ContactPhone(e164=f"+336123400{n:02d}")])
                  for n in range(60)]
        session.add_all(people)
    campaign_id = int(_create(desk, file, boss, selection_city="grenoble").headers["location"]
                      .split("/")[2].split("?")[0])
    first = desk.get(f"/campaigns/{campaign_id}")
    names = _text(first.text.split('id="targets-table"')[1].split("</table>")[0])
    assert "Grenoble00" in names and "Grenoble49" in names and "Grenoble50" not in names
    following = ids(first.text)["targets-next"]["href"]
    second = desk.get(unescape(following))
    names = _text(second.text.split('id="targets-table"')[1].split("</table>")[0])
    assert "Grenoble50" in names and "Grenoble59" in names and "Grenoble49" not in names
    assert "targets-next" not in ids(second.text)


def test_qualifications_are_created_with_their_outcome(desk, sqlite_ctx, file):
    page = desk.get("/campaigns/qualifications")
    assert "Refus" in _text(page.text)
    refused = desk.post("/campaigns/qualifications", data={"code": "Rdv pris", "label": "", "outcome": "busy"})
    assert refused.status_code == 422
    found = ids(refused.text)
    assert found["d-outcome"]["aria-invalid"] == "true" and found["d-label"]["aria-invalid"] == "true"
    created = desk.post("/campaigns/qualifications", data={"code": "rdv", "label": "Rendez-vous pris",
                                                           "outcome": "appointment", "is_contact": "1"},
                        follow_redirects=False)
    assert created.status_code == 303
    with sqlite_ctx.read() as session:
        row = session.scalar(select(Disposition).where(Disposition.code == "rdv"))
    assert (row.outcome, row.is_contact, row.requires_callback) == ("appointment", True, False)
