"""``plateau seed``: the demo company, its generated customer file, the command."""

from __future__ import annotations

import json
import shutil

import phonenumbers
import pytest
import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner

from plateau.domain.calls import CallState
from plateau.domain.contacts import PhoneInput, clean_contact
from plateau.services import demo
from plateau.services.demo_data import DEMO_DIR, DemoDataError, load_demo
from plateau.store.models import (Call, CallEvent, Callback, Contact, ContactPhone, Disposition, KnowledgeArticle,
                                  Product, Queue, QueueDisposition, QueueMember, User, Utterance)
from tests.conftest import wipe

SMALL = 300


def _contacts(ctx) -> list[tuple]:
    """Every contact with its phones, without ids or timestamps: what a seed decides."""
    with ctx.read() as session:
        phones: dict[int, list] = {}
        for cid, e164, label in session.execute(select(ContactPhone.contact_id, ContactPhone.e164, ContactPhone.label)
                                                .order_by(ContactPhone.contact_id, ContactPhone.position)):
            phones.setdefault(cid, []).append((e164, label))
        rows = session.scalars(select(Contact).order_by(Contact.id)).all()
        return [(c.kind, c.status, c.customer_number, c.civility, c.first_name, c.last_name, c.company_name, c.email,
                 c.address_line, c.postcode, c.city, c.country, c.birth_date, c.segment, c.prospect_temperature,
                 tuple(c.tags), c.consent_call, c.consent_email, c.opposition, tuple(phones.get(c.id, [])))
                for c in rows]


def test_seed_builds_the_demo_company(ctx):
    report = demo.seed_demo(ctx, contacts=SMALL, seed=42, history_calls=40)
    assert (report.queues, report.contacts, report.calls) == (3, SMALL, 40)
    spec = load_demo()
    with ctx.read() as session:
        users = {u.username: u for u in session.scalars(select(User))}
        assert {name: u.role for name, u in users.items()} == {
            "admin": "admin", "formateur": "supervisor", "stagiaire1": "agent", "stagiaire2": "agent",
            "stagiaire3": "agent"}
        queues = {q.code: q for q in session.scalars(select(Queue))}
        assert set(queues) == {"service-clients", "facturation", "depannage"}
        assert queues["facturation"].name == "Facturation et paiement"
        for queue_spec in spec.queues.queues:
            queue = queues[queue_spec.code]
            assert queue.script_id is not None and queue.script.code
            codes = session.execute(select(Disposition.code).join(QueueDisposition)
                                    .where(QueueDisposition.queue_id == queue.id)
                                    .order_by(QueueDisposition.position)).scalars().all()
            assert codes == queue_spec.dispositions
            members = set(session.scalars(select(QueueMember.user_id).where(QueueMember.queue_id == queue.id)))
            assert members == {users[f"stagiaire{i}"].id for i in (1, 2, 3)}
        callback = session.scalar(select(Disposition).where(Disposition.code == "callback"))
        assert callback.label == "Rappel à programmer" and callback.requires_callback
        assert not session.scalar(select(Disposition).where(Disposition.code == "wrong_number")).is_contact
        assert session.scalar(select(func.count()).select_from(Product)) >= 5
        assert session.scalar(select(func.count()).select_from(KnowledgeArticle)) >= 20
        assert session.scalar(select(func.count()).select_from(Contact)) == SMALL

        karim = session.scalars(select(Contact).join(ContactPhone)
                                .where(ContactPhone.e164 == "+33612345678")).all()
        assert [(k.civility, k.first_name, k.last_name, k.status, k.customer_number) for k in karim] == [
            ("M.", "Karim", "Benali", "client", "EH00000001")]
        # "06 12 34 56 78" read in Morocco or Algeria belongs to nobody: the screen pop is unambiguous
        others = session.scalar(select(func.count()).select_from(ContactPhone).where(
            ContactPhone.e164.in_(spec.reserved_e164), ContactPhone.contact_id != karim[0].id))
        assert others == 0

        for (e164,) in session.execute(select(ContactPhone.e164)):
            number = phonenumbers.parse(e164)
            assert phonenumbers.is_valid_number(number), e164
            assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == e164
        regions = {phonenumbers.region_code_for_number(phonenumbers.parse(e))
                   for e in session.scalars(select(ContactPhone.e164))}
        assert {"FR", "MA", "DZ"} <= regions

        calls = session.scalars(select(Call).order_by(Call.id)).all()
        assert {c.state for c in calls} == {CallState.CLOSED}
        allowed = {(qd.queue_id, qd.disposition_id) for qd in session.scalars(select(QueueDisposition))}
        assert all((c.queue_id, c.disposition_id) in allowed for c in calls)
        assert all(c.created_at <= c.answered_at <= c.ended_at <= c.closed_at <= ctx.now() for c in calls)
        assert all(c.talk_seconds > 0 and c.wrap_up_seconds > 0 for c in calls)
        karim_calls = [c for c in calls if c.contact_id == karim[0].id]
        assert len(karim_calls) == 3
        assert karim[0].created_at < min(c.created_at for c in karim_calls), "a customer before his calls"
        first = calls[0]
        actions = session.scalars(select(CallEvent.action).where(CallEvent.call_id == first.id)
                                  .order_by(CallEvent.at, CallEvent.id)).all()
        assert actions[:3] == ["offer", "ring", "answer"] and actions[-2:] == ["hang_up", "close"]
        assert session.scalar(select(func.count()).select_from(Utterance).where(Utterance.call_id == first.id)) > 0
        open_callbacks = session.scalars(select(Callback).where(Callback.status == "open")).all()
        assert all(cb.due_at > ctx.now() for cb in open_callbacks)


def test_generated_contacts_pass_the_contact_rules(ctx):
    """Each generated row is what the edit form would have stored: same checks, same search key."""
    added = demo.seed_contacts(ctx, 600, seed=3)
    assert added == 600
    with ctx.read() as session:
        phones: dict[int, list] = {}
        for cid, e164, label in session.execute(select(ContactPhone.contact_id, ContactPhone.e164, ContactPhone.label)
                                                .order_by(ContactPhone.contact_id, ContactPhone.position)):
            phones.setdefault(cid, []).append((e164, label))
        contacts = session.scalars(select(Contact)).all()
    for contact in contacts:
        data = {name: getattr(contact, name) for name in ("kind", "civility", "first_name", "last_name", "company_name",
                                                          "customer_number", "status", "email", "address_line",
                                                          "postcode", "city", "country", "birth_date", "segment",
                                                          "socio_professional_category", "prospect_temperature",
                                                          "tags", "consent_call", "consent_email", "opposition",
                                                          "company_id")}
        clean = clean_contact(data, [PhoneInput(n, label) for n, label in phones.get(contact.id, [])])
        assert clean.search_name == contact.search_name
        assert clean.values["email"] == contact.email
        assert [e for e, _ in clean.phones] == [e for e, _ in phones.get(contact.id, [])]
    kinds = {c.kind for c in contacts}
    assert kinds == {"person", "company"}
    assert any(c.company_id for c in contacts), "some persons belong to a company"
    assert any(c.email is None for c in contacts) and any(c.address_line is None for c in contacts)
    assert any(any(ord(ch) > 127 for ch in (c.last_name or "")) for c in contacts), "accented names"
    numbers = [c.customer_number for c in contacts if c.customer_number]
    assert len(numbers) == len(set(numbers)) and all(n.startswith("EH") and len(n) == 10 for n in numbers)
    assert all(c.prospect_temperature for c in contacts if c.status == "prospect")


def test_same_seed_same_contacts(ctx):
    demo.seed_contacts(ctx, 250, seed=7)
    first = _contacts(ctx)
    wipe(ctx.db)
    demo.seed_contacts(ctx, 250, seed=7)
    assert _contacts(ctx) == first
    wipe(ctx.db)
    demo.seed_contacts(ctx, 250, seed=8)
    assert _contacts(ctx) != first


def test_contacts_only_adds_new_people_after_the_existing_ones(ctx):
    demo.seed_contacts(ctx, 200, seed=42)
    demo.seed_contacts(ctx, 200, seed=42, batch=64)
    contacts = _contacts(ctx)
    assert len(contacts) == 400
    assert contacts[:200] != contacts[200:]
    numbers = [c[2] for c in contacts if c[2]]
    assert len(numbers) == len(set(numbers))


def test_file_has_duplicates_like_a_real_one(sqlite_ctx):
    demo.seed_contacts(sqlite_ctx, 3000, seed=42)
    with sqlite_ctx.read() as session:
        shared = session.execute(select(ContactPhone.e164).group_by(ContactPhone.e164)
                                 .having(func.count(func.distinct(ContactPhone.contact_id)) > 1)).all()
        twins = session.execute(select(Contact.first_name, Contact.last_name, Contact.birth_date)
                                .where(Contact.kind == "person", Contact.birth_date.is_not(None))
                                .group_by(Contact.first_name, Contact.last_name, Contact.birth_date)
                                .having(func.count() > 1)).all()
    # about 1 % same person twice and 1 % sharing a household number
    assert 15 <= len(shared) <= 150
    assert len(twins) >= 5


def test_seed_refuses_without_call_scripts_and_writes_nothing(sqlite_ctx, tmp_path):
    for path in DEMO_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    with pytest.raises(DemoDataError, match=r"scripts/service-clients\.yaml"):
        demo.seed_demo(sqlite_ctx, contacts=10, data=load_demo(tmp_path))
    assert demo.user_count(sqlite_ctx) == 0


def test_seed_refuses_a_database_that_has_users(sqlite_ctx):
    from tests.helpers import make_user

    make_user(sqlite_ctx, "amina")
    with pytest.raises(demo.SeedRefused):
        demo.seed_demo(sqlite_ctx, contacts=10)


@pytest.mark.parametrize("file, change, message", [
    ("queues.yaml", lambda d: d["queues"][0]["dispositions"].append("teleportation"),
     r"queues\.yaml.*teleportation"),
    ("knowledge.yaml", lambda d: d["articles"].append(dict(d["articles"][0])), r"knowledge\.yaml.*en double"),
    ("places.yaml", lambda d: d["countries"]["MA"]["cities"][0].update(postcode="2025"),
     r"places\.yaml.*2025"),
    ("company.yaml", lambda d: d["featured_contacts"][0]["phones"][0].update(number="06 12"),
     r"company\.yaml.*featured_contacts\.0"),
    ("contacts.yaml", lambda d: d["countries"]["FR"].update(share=0.5), r"contacts\.yaml.*somme"),
])
def test_demo_files_are_checked_with_precise_messages(tmp_path, file, change, message):
    for path in DEMO_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    data = yaml.safe_load((tmp_path / file).read_text(encoding="utf-8"))
    change(data)
    (tmp_path / file).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DemoDataError, match=message):
        load_demo(tmp_path)


@pytest.fixture
def cli_database(tmp_path, monkeypatch):
    """A migrated SQLite file that the CLI reaches through PLATEAU_DATABASE_URL."""
    from plateau.config import get_settings
    from plateau.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("PLATEAU_DATABASE_URL", url)
    monkeypatch.setenv("PLATEAU_SECRET_KEY", "test-secret")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _count(url: str, model) -> int:
    from plateau.store.db import Database

    db = Database(url)
    try:
        with db.read() as session:
            return session.scalar(select(func.count()).select_from(model))
    finally:
        db.dispose()


def test_seed_command_then_if_empty_is_a_no_op(cli_database):
    from plateau.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["seed", "--contacts", "300", "--history", "20"])
    assert result.exit_code == 0, result.output
    assert "admin-plateau" in result.output and "stagiaire1" in result.output
    counts = (_count(cli_database, User), _count(cli_database, Contact), _count(cli_database, Call))
    assert counts == (5, 300, 20)

    again = runner.invoke(app, ["seed", "--if-empty"])
    assert again.exit_code == 0
    assert "rien à faire" in again.output
    assert (_count(cli_database, User), _count(cli_database, Contact), _count(cli_database, Call)) == counts

    refused = runner.invoke(app, ["seed", "--contacts", "10"])
    assert refused.exit_code == 1
    assert _count(cli_database, User) == 5

    more = runner.invoke(app, ["seed", "--contacts-only", "--contacts", "120"])
    assert more.exit_code == 0, more.output
    assert _count(cli_database, Contact) == 420


def test_tags_are_json_lists(sqlite_ctx):
    demo.seed_contacts(sqlite_ctx, 50, seed=1)
    with sqlite_ctx.db.engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT tags FROM contacts").scalars().all()
    assert all(isinstance(json.loads(value), list) for value in raw)
