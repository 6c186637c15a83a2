"""Customer file over HTTP: search page, creation and edit forms (errors linked
to their fields, conflict shown side by side), notes, the desktop panels and
the JSON API — all through the same services as the CLI and the tests above."""

from html import unescape
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from plateau.domain.contacts import PhoneInput
from plateau.services import crm
from plateau.services.users import actor_for
from plateau.store.models import Call, Queue, Utterance
from tests.helpers import login, make_user


class _Ids(HTMLParser):
    """Elements with an id (attributes by id), and every id seen, to check they are unique."""

    def __init__(self, html: str):
        super().__init__()
        self.by_id: dict[str, dict] = {}
        self.seen: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        attributes["tag"] = tag
        if "id" in attributes:
            self.seen.append(attributes["id"])
            self.by_id[attributes["id"]] = attributes


def ids(html: str) -> dict[str, dict]:
    parsed = _Ids(html)
    duplicates = {i for i in parsed.seen if parsed.seen.count(i) > 1}
    assert not duplicates, f"duplicate ids: {duplicates}"
    return parsed.by_id


@pytest.fixture
def amina(sqlite_ctx):
    return actor_for(make_user(sqlite_ctx, "amina", name="Amina Saïdi"))


@pytest.fixture
def desk(app, amina):
    client = TestClient(app)
    client.headers["X-CSRF-Token"] = login(client, "amina")
    return client


def _karim(ctx, actor):
    return crm.create_contact(ctx, actor, {"civility": "M.", "first_name": "Karim", "last_name": "Benali",
                                           "email": "karim@example.fr", "postcode": "75011", "city": "Paris",
                                           "customer_number": "C000123"},
                              [PhoneInput("06 12 34 56 78", "mobile")])


def _form(**overrides) -> dict:
    data = {"kind": "person", "civility": "Mme", "first_name": "Hélène", "last_name": "Lefèvre",
            "status": "prospect", "prospect_temperature": "warm", "country": "FR", "email": "helene@example.fr",
            "postcode": "69003", "city": "Lyon", "phone_0": "06 11 22 33 44", "phone_0_label": "mobile",
            "phone_1": "", "phone_1_label": "home", "phone_2": "", "phone_2_label": "work", "phone_region": "FR",
            "tags": "vip, relance", "consent_call": "1", "embedded": "0"}
    data.update(overrides)
    return data


# --- search ----------------------------------------------------------------------------------------


def test_pages_need_a_login(client):
    response = client.get("/contacts", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert client.get("/api/contacts").status_code == 401


def test_search_page_finds_and_pages_with_a_cursor(desk, sqlite_ctx, amina):
    karim = _karim(sqlite_ctx, amina)
    page = desk.get("/contacts")
    found = ids(page.text)
    assert found["contact-search-q"]["tag"] == "input" and 'for="contact-search-q"' in unescape(page.text)
    assert found["contact-search-status"]["role"] == "status" and found["contact-new"]["href"] == "/contacts/new"
    page = desk.get("/contacts", params={"q": "BENALI karim"})
    assert "1 contact trouvé" in page.text and "<caption>" in page.text
    assert f'<a href="/contacts/{karim.id}"><bdi>Karim Benali</bdi></a>' in unescape(page.text)
    assert 'dir="ltr" class="phone">06 12 34 56 78' in unescape(page.text)
    for i in range(30):
        crm.create_contact(sqlite_ctx, amina, {"first_name": f"Nadia{i}", "last_name": "Benali"}, [])
    first = desk.get("/contacts", params={"q": "benali"})
    assert "25 contacts trouvés" in first.text
    next_link = ids(first.text)["contact-next-page"]["href"]
    second = desk.get(next_link)
    assert "6 contacts trouvés" in second.text and "contact-next-page" not in second.text
    assert "contact-first-page" in second.text
    tampered = desk.get("/contacts", params={"q": "benali", "after": "abc"})
    assert tampered.status_code == 200 and "25 contacts trouvés" in tampered.text
    nothing = desk.get("/contacts", params={"q": "dupont"})
    assert "Aucun contact trouvé." in nothing.text


def test_htmx_search_returns_the_results_and_updates_the_live_region(desk, sqlite_ctx, amina):
    _karim(sqlite_ctx, amina)
    fragment = desk.get("/contacts", params={"q": "0612345678"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "contact-results-table" in fragment.text
    status = ids(fragment.text)["contact-search-status"]
    assert status["hx-swap-oob"] == "innerHTML" and "1 contact trouvé" in fragment.text


# --- creating --------------------------------------------------------------------------------------


def test_new_form_prefills_the_caller_number_in_national_format(desk):
    page = desk.get("/contacts/new", params={"phone": "+33612345678"})
    found = ids(page.text)
    assert found["contact-phone-0"]["value"] == "06 12 34 56 78" and found["contact-phone-0"]["type"] == "tel"
    assert found["contact-phone-0-label"]["tag"] == "select" and found["contact-save"]["type"] == "submit"
    assert found["contact-birth_date"]["type"] == "date"
    for field in ("kind", "civility", "first_name", "last_name", "company_name", "company_id", "customer_number",
                  "status", "prospect_temperature", "segment", "socio_professional_category", "email", "address_line",
                  "postcode", "city", "country", "tags", "consent_call", "consent_email", "opposition"):
        assert f"contact-{field}" in found and f'for="contact-{field}"' in unescape(page.text), field


def test_create_refused_lists_errors_linked_to_fields_and_keeps_values(desk, sqlite_ctx):
    response = desk.post("/contacts", data=_form(email="helene@", phone_0="06 11", postcode="690"))
    assert response.status_code == 422
    found = ids(response.text)
    summary = found["contact-error-summary"]
    assert summary["role"] == "alert"
    for field, control in (("email", "contact-email"), ("phone-0", "contact-phone-0"), ("postcode", "contact-postcode")):
        assert f'href="#{control}"' in unescape(response.text)
        assert found[control]["aria-invalid"] == "true"
        assert f"contact-{field}-error" in found[control]["aria-describedby"]
        assert f"contact-{field}-error" in found
    assert found["contact-last_name"]["value"] == "Lefèvre" and found["contact-phone-0"]["value"] == "06 11"
    assert "« helene@ » n'est pas une adresse e-mail valide." in unescape(response.text)
    assert crm.search(sqlite_ctx, "").items == []


def test_create_then_the_contact_page_shows_card_forms_and_history(desk, sqlite_ctx):
    response = desk.post("/contacts", data=_form(), follow_redirects=False)
    assert response.status_code == 303
    page = desk.get(response.headers["location"])
    found = ids(page.text)
    assert found["contact-title"]["tag"] == "h1" and "Madame Hélène Lefèvre" in page.text
    assert "Fiche créée." in page.text
    assert found["contact-phone-0"]["value"] == "06 11 22 33 44" and found["contact-phone-0-label"]["tag"] == "select"
    assert found["contact-save"]["type"] == "submit" and found["contact-note-body"]["tag"] == "textarea"
    assert "Fiche créée par Amina Saïdi" in unescape(page.text) and '<time datetime="2026-11-23T09:00:00+00:00">' in unescape(page.text)
    assert page.text.index('id="contact-edit-title"') < page.text.index('id="contact-history-title"')


def test_creating_from_the_desktop_returns_the_panel_for_the_call(desk, sqlite_ctx, amina):
    with sqlite_ctx.unit() as session:
        queue = Queue(code="sc", name="Service clients")
        session.add(queue)
        session.flush()
        call = Call(direction="inbound", state="connected", queue_id=queue.id, caller_number="+33611223344",
                    agent_id=amina.id, created_at=sqlite_ctx.now(), state_since=sqlite_ctx.now())
        session.add(call)
        session.flush()
        call_id = call.id
    panel = desk.get("/contacts/create-panel", params={"phone": "+33611223344", "call_id": call_id})
    found = ids(panel.text)
    assert found["contact-title"]["tag"] == "h2" and found["contact-create-form"]["hx-target"] == "#contact-panel"
    assert found["contact-phone-0"]["value"] == "06 11 22 33 44"
    assert f'name="call_id" value="{call_id}"' in unescape(panel.text)
    response = desk.post("/contacts", data=_form(embedded="1", call_id=str(call_id), phone_0_stored="+33611223344"),
                         headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Fiche créée et associée à l'appel." in unescape(response.text)
    assert ids(response.text)["contact-title"]["tag"] == "h2"
    with sqlite_ctx.read() as session:
        assert session.get(Call, call_id).contact_id is not None


# --- editing ----------------------------------------------------------------------------------------


def test_edit_saves_and_without_js_redirects(desk, sqlite_ctx, amina):
    karim = _karim(sqlite_ctx, amina)
    page = desk.get(f"/contacts/{karim.id}")
    found = ids(page.text)
    assert found["contact-phone-0"]["value"] == "06 12 34 56 78"
    assert 'name="phone_0_stored" value="+33612345678"' in unescape(page.text) and 'name="version" value="1"' in unescape(page.text)
    form = _form(civility="M.", first_name="Karim", last_name="Benali", email="k.benali@example.fr",
                 postcode="75011", city="Paris", customer_number="C000123", phone_0="06 12 34 56 78",
                 phone_0_stored="+33612345678", version="1", tags="", consent_call="")
    response = desk.post(f"/contacts/{karim.id}/edit", data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/contacts/{karim.id}?saved=1"
    view = crm.get_contact(sqlite_ctx, karim.id)
    assert view.email == "k.benali@example.fr" and view.version == 2 and view.first_name == "Karim"
    shown = desk.get(response.headers["location"]).text
    assert "Fiche enregistrée." in shown and "E-mail — avant : karim@example.fr ; après : k.benali@example.fr" in shown


def test_edit_with_htmx_swaps_its_region_and_refreshes_the_others_out_of_band(desk, sqlite_ctx, amina):
    karim = _karim(sqlite_ctx, amina)
    form = _form(civility="M.", first_name="Karim", last_name="Benali", email="karim@example.fr", postcode="75011",
                 city="Marseille", customer_number="C000123", phone_0="06 12 34 56 78", version="1",
                 embedded="1", call_id="")
    response = desk.post(f"/contacts/{karim.id}/edit", data=form, headers={"HX-Request": "true"})
    assert response.status_code == 200
    found = ids(response.text)
    assert found["contact-summary"]["hx-swap-oob"] == "true" and found["contact-history"]["hx-swap-oob"] == "true"
    assert 'data-announce="Fiche enregistrée."' in unescape(response.text) and found["contact-save"]
    assert 'name="version" value="2"' in unescape(response.text) and found["contact-title"]["tag"] == "h2"
    bad = desk.post(f"/contacts/{karim.id}/edit", data={**form, "version": "2", "phone_0": "06 12"},
                    headers={"HX-Request": "true"})
    assert bad.status_code == 422 and ids(bad.text)["contact-phone-0"]["aria-invalid"] == "true"


def test_a_stale_edit_gets_409_with_both_versions_and_nothing_overwritten(desk, sqlite_ctx, amina):
    karim = _karim(sqlite_ctx, amina)
    bruno = actor_for(make_user(sqlite_ctx, "bruno", name="Bruno Lefort"))
    view = crm.get_contact(sqlite_ctx, karim.id)
    sqlite_ctx.clock.advance(minutes=5)
    crm.update_contact(sqlite_ctx, bruno, karim.id, 1, {**view.values(), "city": "Lyon", "postcode": "69001"},
                       view.phone_inputs())
    form = _form(civility="M.", first_name="Karim", last_name="Benali", email="karim@example.fr", postcode="75011",
                 city="Nice", customer_number="C000123", phone_0="06 12 34 56 78", version="1")
    response = desk.post(f"/contacts/{karim.id}/edit", data=form)
    assert response.status_code == 409
    text = unescape(response.text)
    assert "modifiée par Bruno Lefort le 23/11/2026 à 10:05" in text and "rien n'a été enregistré" in text
    found = ids(text)
    assert found["contact-conflict-table"]["tag"] == "table"
    assert "<th scope=\"row\">Ville</th><td>Lyon</td><td>Nice</td>" in text
    assert found["contact-city"]["value"] == "Nice"  # the user's input is kept…
    assert 'name="version" value="2"' in text  # …and saving again, knowingly, replaces version 2
    assert crm.get_contact(sqlite_ctx, karim.id).city == "Lyon"


# --- notes, panels ------------------------------------------------------------------------------------


def test_notes_are_refused_empty_and_added_with_htmx(desk, sqlite_ctx, amina):
    karim = _karim(sqlite_ctx, amina)
    empty = desk.post(f"/contacts/{karim.id}/notes", data={"body": "  ", "embedded": "0"})
    assert empty.status_code == 422
    found = ids(empty.text)
    assert found["contact-note-body"]["aria-describedby"] == "contact-note-body-error"
    assert "La note est vide" in empty.text
    added = desk.post(f"/contacts/{karim.id}/notes", data={"body": "Rappeler après 18 h", "embedded": "1"},
                      headers={"HX-Request": "true"})
    assert added.status_code == 200 and 'data-announce="Note ajoutée."' in unescape(added.text)
    assert "Rappeler après 18 h" in added.text and ids(added.text)["contact-history"]["hx-swap-oob"] == "true"
    assert "contact-edit-form" not in added.text  # the edit form, maybe half-typed, is left alone


def test_desktop_panel_links_edits_to_the_call_and_shows_the_transcript(desk, sqlite_ctx, amina):
    karim = _karim(sqlite_ctx, amina)
    with sqlite_ctx.unit() as session:
        queue = Queue(code="sc", name="Service clients")
        session.add(queue)
        session.flush()
        call = Call(direction="inbound", state="connected", queue_id=queue.id, caller_number="+33612345678",
                    contact_id=karim.id, agent_id=amina.id, created_at=sqlite_ctx.now(), state_since=sqlite_ctx.now(),
                    talk_seconds=65)
        session.add(call)
        session.flush()
        session.add(Utterance(call_id=call.id, speaker="caller", text="Bonjour, c'est pour ma facture.",
                              at=sqlite_ctx.now()))
        call_id = call.id
    panel = desk.get(f"/contacts/{karim.id}/panel", params={"call_id": call_id})
    found = ids(panel.text)
    assert found["contact-title"]["tag"] == "h2" and "Monsieur Karim Benali" in panel.text
    assert found["contact-edit-title"]["tag"] == "h3" and found["contact-history-title"]["tag"] == "h3"
    assert panel.text.count(f'name="call_id" value="{call_id}"') == 2  # edit and note forms
    assert found["contact-edit-form"]["hx-target"] == "#contact-edit"
    assert '<span class="speaker">Client :</span>' in unescape(panel.text) and "Bonjour, c'est pour ma facture." in unescape(panel.text)
    assert "<h4>Appel entrant — Service clients" in panel.text


def test_choice_panel_offers_one_button_per_contact(desk, sqlite_ctx, amina):
    karim = _karim(sqlite_ctx, amina)
    sara = crm.create_contact(sqlite_ctx, amina, {"first_name": "Sara", "last_name": "Benali"},
                              [PhoneInput("06 12 34 56 78", "home")])
    panel = desk.get("/contacts/choice-panel", params={"phone": "+33612345678", "call_id": 7})
    found = ids(panel.text)
    assert found["contact-title"]["tag"] == "h2"
    assert "Ouvrir la fiche de Karim Benali" in panel.text and "Ouvrir la fiche de Sara Benali" in panel.text
    assert found[f"contact-choose-{karim.id}"]["type"] == "submit" and f"contact-choose-{sara.id}" in found
    assert 'action="/calls/7/contact"' in unescape(panel.text) and 'data-api="/api/calls/7/contact"' in unescape(panel.text)
    assert found["contact-create-instead"]["hx-get"] == "/contacts/create-panel?phone=%2B33612345678&call_id=7"
    searched = desk.get("/contacts/choice-panel", params={"q": "sara", "call_id": 7})
    assert "Ouvrir la fiche de Sara Benali" in searched.text and "Karim" not in searched.text


def test_posts_need_the_csrf_token(app, amina, sqlite_ctx):
    client = TestClient(app)
    login(client, "amina")
    assert client.post("/contacts", data=_form()).status_code == 403
    assert crm.search(sqlite_ctx, "").items == []


# --- JSON API -------------------------------------------------------------------------------------------


def test_api_create_read_patch_history_and_notes(desk, sqlite_ctx):
    created = desk.post("/api/contacts", json={"first_name": "Karim", "last_name": "Benali", "civility": "M.",
                                               "phones": [{"number": "06 12 34 56 78"}], "tags": ["vip"],
                                               "consent_call": True})
    assert created.status_code == 201
    body = created.json()
    assert body["formal_name"] == "Monsieur Karim Benali" and body["version"] == 1
    assert body["phones"] == [{"e164": "+33612345678", "label": "mobile", "display": "06 12 34 56 78"}]
    contact_id = body["id"]
    sqlite_ctx.clock.advance(minutes=1)
    refused = desk.post("/api/contacts", json={"first_name": "Sans nom", "email": "x@", "phones": [{"number": "12"}]})
    assert refused.status_code == 422
    assert set(refused.json()["errors"]) == {"last_name", "email", "phone_0"} and refused.json()["detail"]
    patched = desk.patch(f"/api/contacts/{contact_id}", json={"version": 1, "city": "Lyon"})
    assert patched.status_code == 200
    assert (patched.json()["city"], patched.json()["version"], patched.json()["tags"]) == ("Lyon", 2, ["vip"])
    assert patched.json()["phones"][0]["e164"] == "+33612345678"  # not sent, so kept
    stale = desk.patch(f"/api/contacts/{contact_id}", json={"version": 1, "city": "Nice"})
    assert stale.status_code == 409 and "rien n'a été enregistré" in stale.json()["detail"]
    assert desk.get(f"/api/contacts/{contact_id}").json()["city"] == "Lyon"
    sqlite_ctx.clock.advance(minutes=1)
    note = desk.post(f"/api/contacts/{contact_id}/notes", json={"body": "Client fidèle"})
    assert note.status_code == 201 and note.json()["body"] == "Client fidèle"
    assert desk.post(f"/api/contacts/{contact_id}/notes", json={"body": ""}).status_code == 422
    history = desk.get(f"/api/contacts/{contact_id}/history").json()
    assert [item["kind"] for item in history] == ["note", "change", "change"]
    assert history[1]["changes"] == [{"field": "city", "label": "Ville", "old": None, "new": "Lyon"}]
    found = desk.get("/api/contacts", params={"q": "karim benali"}).json()
    assert [item["id"] for item in found["items"]] == [contact_id] and found["next_cursor"] is None
    assert desk.get("/api/contacts/999").status_code == 404


def test_api_search_pages_and_openapi_documents_the_models(desk, sqlite_ctx, amina):
    for i in range(5):
        crm.create_contact(sqlite_ctx, amina, {"first_name": f"Ali{i}", "last_name": "Haddad"}, [])
    first = desk.get("/api/contacts", params={"q": "haddad", "limit": 3}).json()
    second = desk.get("/api/contacts", params={"q": "haddad", "limit": 3, "after": first["next_cursor"]}).json()
    assert len(first["items"]) == 3 and len(second["items"]) == 2 and second["next_cursor"] is None
    schema = desk.get("/openapi.json").json()
    assert {"/api/contacts", "/api/contacts/{contact_id}", "/api/contacts/{contact_id}/history",
            "/api/contacts/{contact_id}/notes"} <= set(schema["paths"])
    assert "/contacts" not in schema["paths"] and "/contacts/{contact_id}/edit" not in schema["paths"]
    assert {"ContactOut", "ContactPatch", "SearchOut", "HistoryItemOut"} <= set(schema["components"]["schemas"])


def test_moving_a_contact_abroad_keeps_its_shown_numbers(desk, sqlite_ctx, amina):
    """Numbers come back as shown ("06 12 34 56 78"); when the country changes they keep
    the number they stood for, while a number typed anew reads in the new country."""
    karim = _karim(sqlite_ctx, amina)
    form = _form(civility="M.", first_name="Karim", last_name="Benali", email="karim@example.fr", country="MA",
                 postcode="20250", city="Casablanca", customer_number="C000123", version="1", phone_region="FR",
                 phone_0="06 12 34 56 78", phone_0_stored="+33612345678", phone_1="06 61 23 45 67",
                 phone_1_label="home")
    assert desk.post(f"/contacts/{karim.id}/edit", data=form, follow_redirects=False).status_code == 303
    view = crm.get_contact(sqlite_ctx, karim.id)
    assert [(p.e164, p.label) for p in view.phones] == [("+33612345678", "mobile"), ("+212661234567", "home")]
    shown = ids(desk.get(f"/contacts/{karim.id}").text)
    assert shown["contact-phone-0"]["value"] == "+33 6 12 34 56 78"  # foreign now: international format
    assert shown["contact-phone-1"]["value"] == "06 61 23 45 67"  # the record's country: national format


def test_export_link_only_for_supervisors(client, sqlite_ctx):
    from tests.helpers import login, make_user

    make_user(sqlite_ctx, "amina")
    make_user(sqlite_ctx, "nadia", role="supervisor")
    login(client, "amina")
    assert 'id="contact-export"' not in client.get("/contacts?q=benali").text
    login(client, "nadia")
    page = client.get("/contacts?q=benali").text
    assert 'href="/contacts/export.csv?q=benali"' in page
