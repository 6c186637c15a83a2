"""CSV import and export of the customer file on real databases, over HTTP and from the CLI."""

from __future__ import annotations

import csv
import io
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from plateau.domain.contacts import PhoneInput, clean_contact
from plateau.domain.csv_import import UnusableFile
from plateau.domain.errors import PermissionDenied
from plateau.services import contacts_io
from plateau.services.context import SYSTEM, Actor
from plateau.store.models import Contact, ContactChange, ContactPhone, ImportJob
from tests.helpers import login, make_user

DATA = Path(__file__).parents[1] / "data" / "csv"
MIXED = (DATA / "mixed.csv").read_bytes()


@pytest.fixture(autouse=True)
def _var_dir(tmp_path, monkeypatch):
    """Uploaded files go to a temporary ``var/imports``, not the working tree's."""
    monkeypatch.setenv("PLATEAU_VAR_DIR", str(tmp_path / "var"))


def _existing_contact(ctx) -> int:
    """Already in the file: phone 06 11 11 11 11 and deja.client@example.fr."""
    with ctx.unit() as session:
        now = ctx.now()
        contact = Contact(kind="person", first_name="Déjà", last_name="Client", search_name="client deja",
                          email="deja.client@example.fr", customer_number="OLD-1", created_at=now, updated_at=now,
                          tags=[])
        session.add(contact)
        session.flush()
        session.add(ContactPhone(contact_id=contact.id, e164="+33611111111", label="mobile"))
        return contact.id


def _count(ctx, model) -> int:
    with ctx.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def _reasons(result) -> dict[int, list[str]]:
    return {r.line: [reason.render() for reason in r.reasons] for r in result.rejections}


def test_a_mixed_file_imports_the_valid_rows_and_reports_every_other_one(ctx):
    existing = _existing_contact(ctx)
    result = contacts_io.import_file(ctx, SYSTEM, "mixed.csv", MIXED)

    assert (result.encoding, result.delimiter, result.total) == ("utf-8", ";", 10)
    assert result.imported == 3 and result.rows_per_second > 0
    reasons = _reasons(result)
    assert sorted(reasons) == [4, 5, 6, 7, 8, 9, 10]
    assert reasons[4] == ["Téléphone : « 12 » n'est pas un numéro valide (FR)."]
    assert reasons[5] == ["Nom : Le nom est obligatoire."]
    assert reasons[6] == ["Doublon de la ligne 2 du fichier (même téléphone +33612345678)."]
    assert reasons[7] == [f"Doublon du contact n° {existing} (même téléphone +33611111111)."]
    assert reasons[8] == [f"Doublon du contact n° {existing} (même e-mail deja.client@example.fr)."]
    assert len(reasons[9]) == 3 and {r.split(" : ")[0] for r in reasons[9]} == {"E-mail", "CP", "Date de naissance"}
    assert reasons[10] == ["Le n° client C-001 est déjà celui de la ligne 2 du fichier."]
    assert [r.values for r in result.rejections if r.line == 4] == [
        ["Dupont", "Marie", "12", "", "marie.dupont@example.fr", "75011", "Paris", "", ""]]

    with ctx.read() as session:
        contacts = {c.last_name: c for c in session.scalars(select(Contact).where(Contact.id != existing))}
        assert set(contacts) == {"Lefèvre", "Benali", "Lenoir"}
        jean = contacts["Lefèvre"]
        assert (jean.first_name, jean.customer_number, jean.birth_date, jean.postcode) == (
            "Jean", "C-001", date(1970, 3, 12), "75011")
        assert jean.search_name == clean_contact({"last_name": "Lefèvre", "first_name": "Jean"}).search_name
        assert contacts["Lenoir"].first_name == "Jean; Pierre"
        phones = session.execute(select(ContactPhone.contact_id, ContactPhone.e164, ContactPhone.label,
                                        ContactPhone.position).order_by(ContactPhone.id)).all()
        assert (jean.id, "+33123456789", "home", 0) in phones  # "Téléphone": a landline by its number and (jean.id, "+33612345678", "mobile", 1) in phones
        assert (contacts["Benali"].id, "+212661234567", "mobile", 0) in phones
        changes = session.execute(select(ContactChange.contact_id, ContactChange.field, ContactChange.new_value)).all()
        job = session.get(ImportJob, result.job_id)
    assert sorted(changes) == sorted((c.id, "*", f"import {result.job_id}") for c in contacts.values())
    assert (job.status, job.total_rows, job.imported_rows, job.rejected_rows) == ("done", 10, 3, 7)
    assert len(job.report["rejections"]) == 7


def test_rows_checked_in_worker_processes_give_the_same_report(ctx, monkeypatch, caplog):
    _existing_contact(ctx)
    serial = contacts_io.import_file(ctx, SYSTEM, "mixed.csv", MIXED, dry_run=True)
    monkeypatch.setattr(contacts_io, "PARALLEL_FROM", 1)
    monkeypatch.setattr(contacts_io, "CHUNK_ROWS", 3)
    forked = contacts_io.import_file(ctx, SYSTEM, "mixed.csv", MIXED, workers=2)
    assert [(r.line, r.reasons, r.values) for r in forked.rejections] == [
        (r.line, r.reasons, r.values) for r in serial.rejections]
    assert forked.imported == serial.accepted == 3 and _count(ctx, Contact) == 4
    assert not [r for r in caplog.records if "processes failed" in r.getMessage()]  # no fallback to one process


def test_imported_contacts_are_found_by_the_name_search(ctx):
    from plateau.store import search

    contacts_io.import_file(ctx, SYSTEM, "windows1252.csv", (DATA / "windows1252.csv").read_bytes())
    with ctx.read() as session:
        found = search.name_ids(session, search.terms("lefevre hel"))
        assert [session.get(Contact, i).first_name for i in found] == ["Hélène"]


def test_a_windows_1252_file_keeps_its_accents(ctx):
    result = contacts_io.import_file(ctx, SYSTEM, "windows1252.csv", (DATA / "windows1252.csv").read_bytes())
    assert (result.encoding, result.delimiter, result.imported) == ("cp1252", ",", 2)
    with ctx.read() as session:
        assert sorted(session.scalars(select(Contact.city))) == ["Besançon", "Orléans"]


def test_a_dry_run_checks_everything_and_writes_nothing(ctx):
    _existing_contact(ctx)
    result = contacts_io.import_file(ctx, SYSTEM, "mixed.csv", MIXED, dry_run=True)
    assert (result.accepted, result.imported, len(result.rejections), result.job_id) == (3, 0, 7, None)
    assert _count(ctx, Contact) == 1 and _count(ctx, ImportJob) == 0


def test_a_missing_name_column_writes_nothing(ctx):
    with pytest.raises(UnusableFile) as refused:
        contacts_io.import_file(ctx, SYSTEM, "missing_name.csv", (DATA / "missing_name.csv").read_bytes())
    assert "« Nom »" in refused.value.render()
    assert _count(ctx, Contact) == 0 and _count(ctx, ImportJob) == 0


def test_a_wrong_encoding_writes_nothing(ctx):
    with pytest.raises(UnusableFile, match="UTF-16"):
        contacts_io.import_file(ctx, SYSTEM, "utf16.csv", (DATA / "utf16.csv").read_bytes())
    with pytest.raises(UnusableFile):
        contacts_io.open_import(ctx, SYSTEM, "utf16.csv", (DATA / "utf16.csv").read_bytes())
    assert _count(ctx, Contact) == 0 and _count(ctx, ImportJob) == 0


def test_a_failure_inside_the_import_transaction_leaves_no_contact(ctx):
    """Someone creates customer C-001 between the checks and the write: the unique
    constraint fails mid-import and the whole valid set is rolled back."""

    def race(phase, done, total):
        if phase == "import" and done == 0:
            with ctx.unit() as session:
                now = ctx.now()
                session.add(Contact(kind="person", last_name="Rapide", search_name="rapide", customer_number="C-001",
                                    created_at=now, updated_at=now, tags=[]))

    with pytest.raises(contacts_io.ImportFailed) as failed:
        contacts_io.import_file(ctx, SYSTEM, "mixed.csv", MIXED, progress=race)
    assert "aucun contact n'a été enregistré" in failed.value.render()
    with ctx.read() as session:
        assert list(session.scalars(select(Contact.last_name))) == ["Rapide"]
        job = session.scalar(select(ImportJob))
    assert _count(ctx, ContactPhone) == 0 and _count(ctx, ContactChange) == 0
    assert job.status == "failed" and job.imported_rows == 0 and job.report["error"]["message"]


def test_agents_can_neither_import_nor_export(ctx):
    agent = Actor(id=None, role="agent")
    with pytest.raises(PermissionDenied):
        contacts_io.import_file(ctx, agent, "mixed.csv", MIXED)
    with pytest.raises(PermissionDenied):
        next(contacts_io.export_csv(ctx, agent, ""))


def test_a_started_job_runs_once(ctx):
    preview = contacts_io.open_import(ctx, SYSTEM, "mixed.csv", MIXED)
    assert preview.row_count == 10 and len(preview.head) == 10 and preview.mapping[0] == "last_name"
    contacts_io.start_import(ctx, SYSTEM, preview.job_id, preview.mapping)
    from plateau.domain.errors import ConflictError

    with pytest.raises(ConflictError):
        contacts_io.start_import(ctx, SYSTEM, preview.job_id, preview.mapping)
    result = contacts_io.run_job(ctx, preview.job_id)
    assert result.imported == 5  # no contact in the file yet: lines 7 and 8 are new
    assert not contacts_io._upload_path(preview.job_id).exists()  # customer data does not linger
    assert contacts_io.run_job(ctx, preview.job_id) is None


# --- export ---------------------------------------------------------------------------------


def _seed_for_export(ctx) -> None:
    company = clean_contact({"kind": "company", "company_name": "Énergie Sud SARL", "customer_number": "E-1",
                             "status": "client", "email": "contact@energie-sud.fr", "tags": "pro"},
                            [PhoneInput("04 91 00 00 00", "work")])
    person = clean_contact({"civility": "M.", "first_name": "Karim", "last_name": "Benali", "customer_number": "C-7",
                            "email": "karim@example.ma", "country": "MA", "postcode": "20000", "city": "Casablanca",
                            "birth_date": "1985-06-01", "segment": "Particulier", "prospect_temperature": "hot",
                            "socio_professional_category": "employe", "tags": ["fidèle", "=formule"],
                            "consent_call": True, "opposition": False, "address_line": "12, rue des Roses"},
                           [PhoneInput("06 61 23 45 67", "mobile"), PhoneInput("05 22 00 00 00", "home"),
                            PhoneInput("+33 6 12 34 56 78", "work"), PhoneInput("+213 550 12 34 56", "other")])
    with ctx.unit() as session:
        now = ctx.now()
        ids = {}
        for clean in (company, person):
            values = dict(clean.values)
            if values["kind"] == "person":
                values["company_id"] = ids["E-1"]
            contact = Contact(**values, search_name=clean.search_name, created_at=now, updated_at=now)
            session.add(contact)
            session.flush()
            ids[values["customer_number"]] = contact.id
            for position, (e164, label) in enumerate(clean.phones):
                session.add(ContactPhone(contact_id=contact.id, e164=e164, label=label, position=position))


def _snapshot(ctx) -> list[tuple]:
    """Every contact field a person sees, with the company by customer number and phones in order."""
    with ctx.read() as session:
        numbers = dict(session.execute(select(Contact.id, Contact.customer_number)).all())
        phones: dict[int, list] = {}
        for contact_id, e164, label in session.execute(select(ContactPhone.contact_id, ContactPhone.e164,
                                                              ContactPhone.label).order_by(ContactPhone.position)):
            phones.setdefault(contact_id, []).append((e164, label))
        rows = []
        for c in session.scalars(select(Contact).order_by(Contact.customer_number)):
            rows.append((c.kind, c.civility, c.first_name, c.last_name, c.company_name, c.customer_number,
                         numbers.get(c.company_id), c.status, c.email, c.address_line, c.postcode, c.city, c.country,
                         c.birth_date, c.socio_professional_category, c.segment, c.prospect_temperature,
                         sorted(c.tags), c.consent_call, c.consent_email, c.opposition, c.search_name,
                         phones.get(c.id, [])))
        return rows


def test_export_then_import_into_an_empty_file_gives_the_same_contacts(ctx):
    _seed_for_export(ctx)
    before = _snapshot(ctx)
    text = "".join(contacts_io.export_csv(ctx, SYSTEM, ""))
    assert text.startswith("\ufeffN° client;Type;Civilité;Prénom;Nom;")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    header, karim = rows[0], next(r for r in rows if "Benali" in r)
    assert karim[header.index("Téléphone 1")] == "+212661234567"
    assert karim[header.index("Téléphone 1 (format national)")] == "06 61 23 45 67"
    assert karim[header.index("Téléphone 3 (format national)")] == "06 12 34 56 78"
    assert karim[header.index("Autres téléphones")] == "+213550123456"
    assert karim[header.index("Étiquettes")] == "'=formule, fidèle"

    from tests.conftest import wipe

    wipe(ctx.db)
    result = contacts_io.import_file(ctx, SYSTEM, "export.csv", text.encode("utf-8"))
    assert result.rejections == [] and result.imported == 2
    assert _snapshot(ctx) == before


def test_export_of_a_search_keeps_only_what_it_finds(ctx):
    _seed_for_export(ctx)
    text = "".join(contacts_io.export_csv(ctx, SYSTEM, "benali"))
    assert text.count("\r\n") == 2 and "Benali" in text and "Énergie Sud SARL" not in text


# --- the pages ------------------------------------------------------------------------------


def _wait_for_job(client, job_id: int, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/imports/{job_id}/status")
        if response.status_code == 286:
            return response
        assert response.status_code == 200
        assert 'id="import-progress-bar"' in response.text
        time.sleep(0.1)
    raise AssertionError("the import did not finish")


def test_upload_preview_start_and_report_as_a_supervisor(client, sqlite_ctx):
    make_user(sqlite_ctx, "formateur", role="supervisor")
    existing = _existing_contact(sqlite_ctx)
    token = login(client, "formateur")

    form = client.get("/imports")
    assert form.status_code == 200 and '<label for="import-file">' in form.text

    preview = client.post("/imports", data={"csrf_token": token, "encoding": "", "delimiter": ""},
                          files={"file": ("mixed.csv", MIXED, "text/csv")})
    assert preview.status_code == 200, preview.text
    assert "UTF-8" in preview.text and "point-virgule" in preview.text and "<caption>" in preview.text
    assert '<label for="map-0">' in preview.text and '<option value="last_name" selected>' in preview.text
    assert preview.text.count('<tr><th scope="row">') == 10
    with sqlite_ctx.read() as session:
        job_id = session.scalar(select(ImportJob.id))

    mapping = {f"map_{i}": target for i, target in enumerate(
        ["last_name", "first_name", "phone_1", "phone_2", "email", "postcode", "city", "customer_number",
         "birth_date"])}
    started = client.post(f"/imports/{job_id}/start", data={"csrf_token": token, **mapping}, follow_redirects=False)
    assert started.status_code == 303 and started.headers["location"] == f"/imports/{job_id}"
    assert client.post(f"/imports/{job_id}/start", data={"csrf_token": token, **mapping}).status_code == 409

    done = _wait_for_job(client, job_id)
    assert 'data-announce="Import terminé : 3 contacts importés, 7 lignes rejetées."' in done.text
    report = client.get(f"/imports/{job_id}")
    assert report.status_code == 200 and "hx-trigger" not in report.text
    assert "Lignes rejetées 1 à 7 sur 7" in report.text
    assert f"Doublon du contact n° {existing} (même téléphone +33611111111)." in report.text
    assert "« 12 » n&#39;est pas un numéro valide (FR)." in report.text

    download = client.get(f"/imports/{job_id}/report.csv")
    assert download.headers["content-type"].startswith("text/csv")
    lines = download.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Ligne;Motifs du rejet;Nom;Prénom;Téléphone")
    assert lines[1].startswith("4;Téléphone : « 12 » n'est pas un numéro valide (FR).;Dupont;Marie;12;")
    assert len(lines) == 8


def test_a_running_job_page_polls_every_second(client, sqlite_ctx):
    make_user(sqlite_ctx, "formateur", role="supervisor")
    token = login(client, "formateur")
    client.post("/imports", data={"csrf_token": token}, files={"file": ("mixed.csv", MIXED, "text/csv")})
    with sqlite_ctx.read() as session:
        job_id = session.scalar(select(ImportJob.id))
    contacts_io.start_import(sqlite_ctx, SYSTEM, job_id, contacts_io.preview(sqlite_ctx, SYSTEM, job_id).mapping)
    page = client.get(f"/imports/{job_id}")  # running, the thread was not started
    assert 'hx-trigger="every 1s"' in page.text and "<progress" in page.text
    assert "lignes vérifiées sur" in page.text


def test_a_mapping_without_name_is_refused_on_the_preview(client, sqlite_ctx):
    make_user(sqlite_ctx, "formateur", role="supervisor")
    token = login(client, "formateur")
    client.post("/imports", data={"csrf_token": token}, files={"file": ("mixed.csv", MIXED, "text/csv")})
    with sqlite_ctx.read() as session:
        job_id = session.scalar(select(ImportJob.id))
    refused = client.post(f"/imports/{job_id}/start", data={"csrf_token": token, "map_0": "", "map_1": "first_name"})
    assert refused.status_code == 422
    assert 'role="alert" id="mapping-error"' in refused.text and "« Nom »" in refused.text
    assert _count(sqlite_ctx, Contact) == 0
    with sqlite_ctx.read() as session:
        assert session.get(ImportJob, job_id).status == "pending"


def test_an_unreadable_upload_comes_back_to_the_form(client, sqlite_ctx):
    make_user(sqlite_ctx, "formateur", role="supervisor")
    token = login(client, "formateur")
    refused = client.post("/imports", data={"csrf_token": token},
                          files={"file": ("utf16.csv", (DATA / "utf16.csv").read_bytes(), "text/csv")})
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in refused.text and "UTF-16" in refused.text
    assert _count(sqlite_ctx, ImportJob) == 0


def test_agents_get_403_on_import_and_export_pages(client, sqlite_ctx):
    make_user(sqlite_ctx, "amina")
    token = login(client, "amina")
    assert client.get("/imports").status_code == 403
    assert client.post("/imports", data={"csrf_token": token},
                       files={"file": ("mixed.csv", MIXED, "text/csv")}).status_code == 403
    assert client.get("/contacts/export.csv").status_code == 403
    assert _count(sqlite_ctx, ImportJob) == 0


def test_the_export_route_streams_a_search(client, sqlite_ctx):
    make_user(sqlite_ctx, "formateur", role="supervisor")
    login(client, "formateur")
    _seed_for_export(sqlite_ctx)
    response = client.get("/contacts/export.csv", params={"q": "benali"})
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffN° client;") and "Benali" in text


# --- the command line -------------------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    """A migrated SQLite file the CLI reaches through PLATEAU_DATABASE_URL."""
    from plateau.config import get_settings
    from plateau.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("PLATEAU_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _cli(*args):
    from typer.testing import CliRunner

    from plateau.cli import app

    return CliRunner().invoke(app, ["contacts", *args])


def test_cli_import_prints_the_summary_and_every_rejected_row(cli_db):
    result = _cli("import", str(DATA / "mixed.csv"))
    assert result.exit_code == 0, result.output
    assert "Contacts importés : 5" in result.output and "Lignes rejetées : 5" in result.output
    assert "lignes/s" in result.output
    assert "Ligne 4 : Téléphone : « 12 » n'est pas un numéro valide (FR)." in result.output
    assert "Ligne 5 : Nom : Le nom est obligatoire." in result.output
    again = _cli("import", str(DATA / "mixed.csv"), "--dry-run")
    assert again.exit_code == 0 and "Ligne 2 : Doublon du contact n° 1 (même téléphone +33123456789)." in again.output


def test_cli_refuses_an_unusable_file_with_exit_code_2(cli_db):
    for name in ("utf16.csv", "missing_name.csv"):
        result = _cli("import", str(DATA / name))
        assert result.exit_code == 2, result.output
        assert "rien n'a été importé" in result.output
    from plateau.store.db import Database

    db = Database(cli_db)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 0
    db.dispose()


def test_cli_mapping_override_and_forced_encoding(cli_db):
    result = _cli("import", str(DATA / "missing_name.csv"), "--map", "Prénom=last_name", "--encoding", "utf-8",
                  "--delimiter", ";")
    assert result.exit_code == 0, result.output
    assert "Contacts importés : 1" in result.output


def test_cli_export_writes_csv_to_stdout_or_a_file(cli_db, tmp_path):
    assert _cli("import", str(DATA / "windows1252.csv")).exit_code == 0
    result = _cli("export", "--query", "lefevre")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("\ufeffN° client;") and "Hélène" in result.stdout and "Besançon" not in result.stdout
    target = tmp_path / "out.csv"
    assert _cli("export", "--output", str(target)).exit_code == 0
    assert target.read_bytes().startswith(b"\xef\xbb\xbf") and "Besançon" in target.read_text("utf-8-sig")
