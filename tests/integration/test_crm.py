"""The customer file through its services, on SQLite and PostgreSQL: creating,
editing with optimistic locking, history rows, notes, the screen-pop lookup,
the search box with its cursor pages, and the contact's timeline."""

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, event, func, insert, select, text

from plateau.domain.contacts import PhoneInput
from plateau.domain.errors import ConflictError, NotFoundError, ValidationError
from plateau.services import crm
from plateau.services.users import actor_for
from plateau.store import search as search_index
from plateau.store.models import (Call, Callback, Contact, ContactChange, ContactPhone, Disposition, Queue,
                                  Utterance)
from tests.helpers import make_user


@pytest.fixture
def amina(ctx):
    return actor_for(make_user(ctx, "amina", name="Amina Saïdi"))


@pytest.fixture
def bruno(ctx):
    return actor_for(make_user(ctx, "bruno", name="Bruno Lefort"))


def _karim(ctx, actor, **extra):
    data = {"kind": "person", "civility": "M.", "first_name": "Karim", "last_name": "Benali", "email": "karim@example.fr",
            "postcode": "75011", "city": "Paris", "customer_number": "C000123", **extra}
    return crm.create_contact(ctx, actor, data, [PhoneInput("06 12 34 56 78", "mobile")])


def _count(ctx, model):
    with ctx.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def _changes(ctx, contact_id):
    with ctx.read() as session:
        return session.scalars(select(ContactChange).where(ContactChange.contact_id == contact_id)
                               .order_by(ContactChange.id)).all()


# --- creating ------------------------------------------------------------------------------------


def test_create_writes_the_contact_its_phones_and_a_created_line(ctx, amina):
    contact = _karim(ctx, amina, tags="vip, Énergie verte", consent_call="oui", birth_date="14/02/1980")
    assert contact.id and contact.version == 1 and contact.search_name == "benali karim"
    assert [(p.e164, p.label) for p in contact.phones] == [("+33612345678", "mobile")]
    view = crm.get_contact(ctx, contact.id)
    assert view.formal_name == "Monsieur Karim Benali" and view.tags == ["vip", "Énergie verte"]
    assert view.consent_call is True and view.birth_date == date(1980, 2, 14) and view.email == "karim@example.fr"
    [created] = _changes(ctx, contact.id)
    assert (created.field, created.user_id, created.new_value, created.at) == ("*", amina.id, "Karim Benali", ctx.now())


def test_a_taken_customer_number_is_refused_on_its_field(ctx, amina):
    _karim(ctx, amina)
    with pytest.raises(ValidationError) as info:
        crm.create_contact(ctx, amina, {"last_name": "Autre", "customer_number": "C000123"}, [])
    assert set(info.value.errors) == {"customer_number"}
    assert "C000123" in info.value.errors["customer_number"].render()
    assert _count(ctx, Contact) == 1


@pytest.mark.parametrize("data, phones, bad", [
    ({"last_name": "Durand"}, [PhoneInput("06 12 34")], "phone_0"),
    ({"last_name": "Durand"}, [PhoneInput("06 12 34 56 78"), PhoneInput("abc", "home")], "phone_1"),
    ({"last_name": "Durand", "email": "durand@"}, [], "email"),
    ({"last_name": "Durand", "postcode": "7501"}, [], "postcode"),
    ({"first_name": "Sans nom"}, [], "last_name"),
])
def test_malformed_input_is_refused_with_the_field_named_and_nothing_written(ctx, amina, data, phones, bad):
    with pytest.raises(ValidationError) as info:
        crm.create_contact(ctx, amina, data, phones)
    assert bad in info.value.errors and info.value.errors[bad].render()
    assert _count(ctx, Contact) == _count(ctx, ContactPhone) == _count(ctx, ContactChange) == 0


def test_a_person_links_only_to_an_existing_company(ctx, amina):
    company = crm.create_contact(ctx, amina, {"kind": "company", "company_name": "Énergie Sud SARL"},
                                 [PhoneInput("04 91 00 00 00", "work")])
    person = crm.create_contact(ctx, amina, {"last_name": "Haddad", "company_id": str(company.id)}, [])
    with pytest.raises(ValidationError) as info:
        crm.create_contact(ctx, amina, {"last_name": "Haddad", "company_id": str(person.id)}, [])
    assert "company_id" in info.value.errors
    view = crm.get_contact(ctx, company.id)
    assert [p.id for p in view.people] == [person.id]
    assert crm.get_contact(ctx, person.id).company.name == "Énergie Sud SARL"


# --- editing ---------------------------------------------------------------------------------------


def test_update_writes_only_changed_fields_one_history_row_each(ctx, amina, bruno):
    contact = _karim(ctx, amina)
    ctx.clock.advance(seconds=60)
    view = crm.get_contact(ctx, contact.id)
    data = {**view.values(), "email": "k.benali@example.fr", "prospect_temperature": "chaud", "city": "Paris"}
    phones = [PhoneInput("+33 6 12 34 56 78", "mobile"), PhoneInput("01 44 55 66 77", "home")]
    updated = crm.update_contact(ctx, bruno, contact.id, 1, data, phones)
    assert updated.version == 2 and updated.email == "k.benali@example.fr" and updated.prospect_temperature == "hot"
    rows = [(c.field, c.old_value, c.new_value, c.user_id) for c in _changes(ctx, contact.id)[1:]]
    assert rows == [("email", "karim@example.fr", "k.benali@example.fr", bruno.id),
                    ("prospect_temperature", None, "hot", bruno.id),
                    ("phones", "+33612345678 mobile", "+33612345678 mobile; +33144556677 home", bruno.id)]
    # the same phones in another order, the same values: nothing written, version kept
    again = crm.update_contact(ctx, bruno, contact.id, 2, crm.get_contact(ctx, contact.id).values(),
                               [PhoneInput("01 44 55 66 77", "home"), PhoneInput("0612345678", "mobile")])
    assert again.version == 2 and len(_changes(ctx, contact.id)) == 4


def test_a_phone_only_change_bumps_the_version(ctx, amina):
    contact = _karim(ctx, amina)
    view = crm.get_contact(ctx, contact.id)
    updated = crm.update_contact(ctx, amina, contact.id, 1, view.values(), [PhoneInput("06 12 34 56 78", "work")])
    assert updated.version == 2
    assert [(p.e164, p.label) for p in crm.get_contact(ctx, contact.id).phones] == [("+33612345678", "work")]


def test_renaming_keeps_the_search_name_and_index_in_step(ctx, amina):
    contact = _karim(ctx, amina)
    data = {**crm.get_contact(ctx, contact.id).values(), "last_name": "Lefèvre"}
    crm.update_contact(ctx, amina, contact.id, 1, data, [PhoneInput("06 12 34 56 78")])
    assert [c.id for c in crm.search(ctx, "lefevre karim").items] == [contact.id]
    assert crm.search(ctx, "benali").items == []


def test_an_edit_on_a_stale_version_is_refused_and_nothing_is_overwritten(ctx, amina, bruno):
    contact = _karim(ctx, amina)
    stale = crm.get_contact(ctx, contact.id)
    ctx.clock.advance(minutes=3)
    crm.update_contact(ctx, bruno, contact.id, 1, {**stale.values(), "city": "Lyon", "postcode": "69001"},
                       stale.phone_inputs())
    with pytest.raises(ConflictError) as info:
        crm.update_contact(ctx, amina, contact.id, 1, {**stale.values(), "email": "autre@example.fr"},
                           stale.phone_inputs())
    message = info.value.render()
    assert "Bruno Lefort" in message and "23/11/2026" in message and "10:03" in message  # Paris time
    assert "rien n'a été enregistré" in message
    current = crm.get_contact(ctx, contact.id)
    assert (current.city, current.email, current.version) == ("Lyon", "karim@example.fr", 2)


def test_concurrent_edits_of_the_same_version_let_one_through(ctx, amina, bruno):
    """Both read version 1; on PostgreSQL both reach the UPDATE (the barrier holds them at
    flush) and the loser's stale UPDATE becomes the same conflict; SQLite serialises writers."""
    contact = _karim(ctx, amina)
    view = crm.get_contact(ctx, contact.id)
    barrier = threading.Barrier(2, timeout=3)
    waited = threading.local()

    def hold_at_flush(session, _flush_context, _instances):
        if not getattr(waited, "done", False) and any(isinstance(o, Contact) for o in session.dirty):
            waited.done = True
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass  # SQLite: the other writer waits for our lock, not at the barrier

    outcome: dict[str, object] = {}

    def edit(actor, city):
        try:
            outcome[city] = crm.update_contact(ctx, actor, contact.id, 1, {**view.values(), "city": city},
                                               view.phone_inputs())
        except Exception as exc:  # noqa: BLE001 — collected for the assertions
            outcome[city] = exc

    event.listen(ctx.db.sessions, "before_flush", hold_at_flush)
    try:
        threads = [threading.Thread(target=edit, args=(amina, "Lyon")),
                   threading.Thread(target=edit, args=(bruno, "Marseille"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        event.remove(ctx.db.sessions, "before_flush", hold_at_flush)
    winners = [city for city, result in outcome.items() if isinstance(result, Contact)]
    losers = [result for result in outcome.values() if isinstance(result, ConflictError)]
    assert len(winners) == 1 and len(losers) == 1, outcome
    current = crm.get_contact(ctx, contact.id)
    assert current.city == winners[0] and current.version == 2
    assert [c.new_value for c in _changes(ctx, contact.id) if c.field == "city"] == [winners[0]]


def test_invalid_edit_writes_nothing(ctx, amina):
    contact = _karim(ctx, amina)
    view = crm.get_contact(ctx, contact.id)
    with pytest.raises(ValidationError) as info:
        crm.update_contact(ctx, amina, contact.id, 1, {**view.values(), "email": "pas-un-email", "city": "Lyon"},
                           [PhoneInput("06 12")])
    assert set(info.value.errors) == {"email", "phone_0"}
    current = crm.get_contact(ctx, contact.id)
    assert (current.city, current.version, len(_changes(ctx, contact.id))) == ("Paris", 1, 1)


def test_notes_are_refused_empty_and_kept_with_their_author(ctx, amina):
    contact = _karim(ctx, amina)
    with pytest.raises(ValidationError) as info:
        crm.add_note(ctx, amina, contact.id, "   ")
    assert "body" in info.value.errors and "vide" in info.value.errors["body"].render()
    note = crm.add_note(ctx, amina, contact.id, "  Souhaite être rappelé le matin.  ")
    assert note.body == "Souhaite être rappelé le matin." and note.author_id == amina.id
    with pytest.raises(NotFoundError):
        crm.add_note(ctx, amina, 9999, "Perdu")


# --- finding -----------------------------------------------------------------------------------------


def test_lookup_by_phone_finds_zero_one_or_several(ctx, amina):
    assert crm.lookup_by_phone(ctx, "+33612345678") == []
    karim = _karim(ctx, amina)
    assert [c.id for c in crm.lookup_by_phone(ctx, "+33612345678")] == [karim.id]
    sara = crm.create_contact(ctx, amina, {"first_name": "Sara", "last_name": "Benali"},
                              [PhoneInput("+33 6 12 34 56 78", "home")])
    found = crm.lookup_by_phone(ctx, "+33612345678")
    assert [c.id for c in found] == [karim.id, sara.id] and found[1].phones[0].label == "home"


def _people(ctx, amina):
    made = {}
    for first, last, phone, email, number in [
        ("Karim", "Benali", "06 12 34 56 78", "karim.benali@example.fr", "C000123"),
        ("Hélène", "Lefèvre", "+212 6 61 23 45 67", "helene@example.fr", None),
        ("Chloé", "Lefebvre-Martin", None, None, "C000200"),
        ("Yasmine", "Haddad", "0550 12 34 56", None, None),
    ]:
        phones = [PhoneInput(phone)] if phone else []
        country = {"+212": "MA", "0550": "DZ"}.get((phone or "")[:4], "FR")
        made[first] = crm.create_contact(ctx, amina, {"first_name": first, "last_name": last, "email": email,
                                                      "customer_number": number, "country": country}, phones).id
    return made


@pytest.mark.parametrize("query, expected", [
    ("lefevre", ["Hélène"]),
    ("LEFÈVRE", ["Hélène"]),
    ("benali karim", ["Karim"]),
    ("karim benali", ["Karim"]),
    ("kar ben", ["Karim"]),
    ("lef", ["Hélène", "Chloé"]),
    ("martin", ["Chloé"]),
    ("helene lefevre", ["Hélène"]),
    ("06 12 34 56 78", ["Karim"]),
    ("+33 6 12 34 56 78", ["Karim"]),
    ("0033612345678", ["Karim"]),
    ("0612345678", ["Karim"]),
    ("+212661234567", ["Hélène"]),
    ("0550123456", ["Yasmine"]),
    ("Karim.Benali@example.fr", ["Karim"]),
    ("c000200", ["Chloé"]),
    ("C000123", ["Karim"]),
    ("dupont", []),
    ("07 00 00 00 00", []),
])
def test_one_search_box_for_names_phones_emails_and_customer_numbers(ctx, amina, query, expected):
    made = _people(ctx, amina)
    page = crm.search(ctx, query)
    assert [item.id for item in page.items] == [made[name] for name in expected]
    assert page.next_cursor is None


def test_search_summaries_carry_what_the_result_table_shows(ctx, amina):
    made = _people(ctx, amina)
    [item] = crm.search(ctx, "karim").items
    assert (item.id, item.name, item.customer_number, item.phones, item.email) == (
        made["Karim"], "Karim Benali", "C000123", ["+33612345678"], "karim.benali@example.fr")


def test_keyset_pages_return_every_match_exactly_once(ctx, amina):
    now = ctx.now()
    with ctx.unit() as session:  # bulk rows as the import and the seed write them: Core, search_name set
        session.execute(insert(Contact), [
            {"kind": "person", "first_name": f"Prénom{i}", "last_name": "Martin", "search_name": f"martin prenom{i}",
             "tags": [], "created_at": now, "updated_at": now, "version": 1} for i in range(53)])
        session.execute(insert(Contact), [{"kind": "person", "last_name": "Autre", "search_name": "autre",
                                           "tags": [], "created_at": now, "updated_at": now, "version": 1}])
    seen, after, pages = [], None, 0
    while True:
        page = crm.search(ctx, "martin", after=after, limit=10)
        seen += [item.id for item in page.items]
        pages += 1
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert len(seen) == len(set(seen)) == 53 and pages == 6 and seen == sorted(seen)
    assert [c.id for c in crm.iter_search(ctx, "martin", batch=7)] == seen
    assert len(list(crm.iter_search(ctx, ""))) == 54
    with pytest.raises(ValidationError):
        crm.search(ctx, "martin", after="pas-un-curseur")


def test_the_search_index_follows_every_write_path(ctx, amina):
    """Core inserts (import, seed), ORM renames and deletes: the index follows by itself,
    and a transaction already finds the rows it has just written."""
    now = ctx.now()
    with ctx.unit() as session:
        session.execute(insert(Contact), [
            {"kind": "person", "first_name": "Zoé", "last_name": f"Zerbib{i}", "search_name": f"zerbib{i} zoe",
             "tags": [], "created_at": now, "updated_at": now, "version": 1} for i in range(3)])
        assert len(search_index.name_ids(session, ["zoe", "zerb"], 0, 10)) == 3
    ids = [item.id for item in crm.search(ctx, "zoé zerbib").items]
    assert len(ids) == 3
    data = {**crm.get_contact(ctx, ids[0]).values(), "last_name": "Amrani"}
    crm.update_contact(ctx, amina, ids[0], 1, data, [])
    with ctx.unit() as session:
        session.execute(delete(Contact).where(Contact.id == ids[1]))
    assert [item.id for item in crm.search(ctx, "zoe").items] == [ids[0], ids[2]]
    assert [item.id for item in crm.search(ctx, "amrani zoe").items] == [ids[0]]
    assert crm.search(ctx, "zerbib0").items == []
    if ctx.db.is_sqlite:
        with ctx.unit() as session:
            assert session.scalar(text("SELECT count(*) FROM contacts_fts_pending")) == 0
            session.execute(text("INSERT INTO contacts_fts(contacts_fts) VALUES ('integrity-check')"))


# --- the story of a contact ----------------------------------------------------------------------------


def test_timeline_merges_calls_notes_changes_and_callbacks_newest_first(ctx, amina, bruno):
    contact = _karim(ctx, amina)
    start = ctx.now()
    with ctx.unit() as session:
        queue = Queue(code="service-clients", name="Service clients")
        info = Disposition(code="info", label="Information donnée")
        session.add_all([queue, info])
        session.flush()
        call = Call(direction="inbound", media="text", state="closed", queue_id=queue.id,
                    caller_number="+33612345678", contact_id=contact.id, agent_id=amina.id,
                    created_at=start + timedelta(minutes=1), state_since=start, ring_seconds=4, talk_seconds=95,
                    hold_seconds=10, wrap_up_seconds=30, disposition_id=info.id, transfer_note="Client pressé")
        session.add(call)
        session.flush()
        session.add_all([
            Utterance(call_id=call.id, speaker="caller", text="Bonjour, ma facture…", at=start + timedelta(minutes=2)),
            Utterance(call_id=call.id, speaker="agent", user_id=amina.id, text="Je regarde.",
                      at=start + timedelta(minutes=2, seconds=5)),
        ])
        call_id, queue_id = call.id, queue.id
    ctx.clock.advance(minutes=3)
    view = crm.get_contact(ctx, contact.id)
    crm.update_contact(ctx, amina, contact.id, 1, {**view.values(), "city": "Lyon", "postcode": "69003"},
                       view.phone_inputs(), call_id=call_id)
    ctx.clock.advance(minutes=1)
    crm.add_note(ctx, amina, contact.id, "Facture expliquée.", call_id=call_id)
    ctx.clock.advance(minutes=1)
    with ctx.unit() as session:
        session.add(Callback(contact_id=contact.id, call_id=call_id, due_at=ctx.now() + timedelta(days=1),
                             queue_id=queue_id, status="open", note="Rappeler demain", created_by=amina.id,
                             created_at=ctx.now()))
    items = crm.timeline(ctx, contact.id)
    assert [i.kind for i in items] == ["callback", "note", "change", "call", "change"]
    callback, note, change, call_item, created = items
    assert (callback.queue, callback.who, callback.status) == ("Service clients", "Amina Saïdi", "open")
    assert (note.body, note.who, note.call_id) == ("Facture expliquée.", "Amina Saïdi", call_id)
    assert change.call_id == call_id and change.who == "Amina Saïdi"
    assert [(c.field, c.old, c.new) for c in change.changes] == [("postcode", "75011", "69003"),
                                                                  ("city", "Paris", "Lyon")]
    assert (call_item.queue, call_item.who, call_item.disposition, call_item.talk_seconds) == (
        "Service clients", "Amina Saïdi", "Information donnée", 95)
    assert [(line.speaker, line.text) for line in call_item.transcript] == [
        ("caller", "Bonjour, ma facture…"), ("agent", "Je regarde.")]
    assert call_item.transfer_note == "Client pressé"
    assert created.created and created.who == "Amina Saïdi"
    assert [cb.queue for cb in crm.get_contact(ctx, contact.id).callbacks] == ["Service clients"]
    assert len(crm.timeline(ctx, contact.id, limit=2)) == 2


def test_creating_from_a_call_attaches_the_call(ctx, amina):
    with ctx.unit() as session:
        queue = Queue(code="service-clients", name="Service clients")
        session.add(queue)
        session.flush()
        call = Call(direction="inbound", state="connected", queue_id=queue.id, caller_number="+33699887766",
                    agent_id=amina.id, created_at=ctx.now(), state_since=ctx.now())
        session.add(call)
        session.flush()
        call_id = call.id
    contact = crm.create_contact(ctx, amina, {"last_name": "Nouveau"}, [PhoneInput("+33699887766")], call_id=call_id)
    with ctx.read() as session:
        assert session.get(Call, call_id).contact_id == contact.id
    assert _changes(ctx, contact.id)[0].call_id == call_id
    with pytest.raises(NotFoundError):
        crm.create_contact(ctx, amina, {"last_name": "Perdu"}, [], call_id=424242)
    assert _count(ctx, Contact) == 1
