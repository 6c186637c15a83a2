"""CSV import and export of the customer file, for the pages and the CLI alike.

An import goes: upload → preview (encoding, delimiter, mapping guessed) →
start with the chosen mapping → every row checked with ``clean_contact`` and
against the file for duplicates → the valid rows written in ONE transaction
→ a report of every rejected row. The progress of the checks is written to
the ``ImportJob`` in short transactions of its own so a page can poll it;
the import transaction is separate and also marks the job done, so a job
says "done" exactly when its contacts are committed.

Writes use SQLAlchemy Core executemany (a few statements per thousand rows)
because an ORM unit of work per contact would be two orders of magnitude
slower on a file of a hundred thousand rows.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterable, Iterator

import phonenumbers
from phonenumbers import PhoneNumberFormat
from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..config import _var_dir
from ..domain import csv_import
from ..domain.csv_import import Existing, Reason, RowVerdict, Table
from ..domain.errors import N_, ConflictError, DomainError, NotFoundError, PermissionDenied
from ..store.bulk import insert_contacts
from ..store.models import Contact, ContactChange, ContactPhone, ImportJob
from .context import Actor, Context

log = logging.getLogger(__name__)

#: values per ``IN (…)`` lookup: well under SQLite's 32 766 bound parameters
LOOKUP_CHUNK = 5000
#: rows per executemany call inside the import transaction (bounds memory, not atomicity)
INSERT_BATCH = 5000
#: rows per unit of checking work (one task of a worker process)
CHUNK_ROWS = 2000
#: files with at least this many rows are checked by one process per core
PARALLEL_FROM = 20_000
#: seconds between two progress writes to the job
PROGRESS_EVERY = 0.5
#: uploaded files not started after this long are deleted
STALE_UPLOAD = timedelta(days=1)

JOB_STATUSES = {"pending": N_("Aperçu, pas encore lancé"), "running": N_("En cours"), "done": N_("Terminé"),
                "failed": N_("Échoué, rien n'a été enregistré")}

#: ``progress(phase, done, total)``, phase "validation" or "import"
Progress = Callable[[str, int, int], None]


def import_marker(job_id: int) -> str:
    """The history value (``ContactChange``, field "*") each contact an import created carries:
    a campaign's target list can be "the contacts of import N"."""
    return f"import {job_id}"

class ImportFailed(DomainError):
    """The import transaction failed and was rolled back: no contact was written."""


def _failed(detail: str) -> ImportFailed:
    return ImportFailed(N_("L'import a échoué, aucun contact n'a été enregistré : %(detail)s."), detail=detail)


@dataclass
class Preview:
    job_id: int
    filename: str
    encoding: str
    delimiter: str
    headers: list[str]
    mapping: list[str]
    head: list[tuple[int, list[str]]]
    row_count: int


@dataclass
class Rejection:
    line: int
    reasons: list[Reason]
    values: list[str]

    def as_json(self) -> dict:
        return {"line": self.line, "reasons": [r.as_json() for r in self.reasons], "values": self.values}

    @classmethod
    def from_json(cls, data: dict) -> "Rejection":
        return cls(data["line"], [Reason.from_json(r) for r in data["reasons"]], list(data.get("values") or []))


@dataclass
class ImportResult:
    job_id: int | None
    filename: str
    encoding: str
    delimiter: str
    headers: list[str]
    total: int
    accepted: int
    imported: int
    rejections: list[Rejection] = field(default_factory=list)
    seconds: float = 0.0
    dry_run: bool = False
    #: seconds per phase: validation, lookup (duplicates in the database), write
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.total / self.seconds if self.seconds > 0 else 0.0


def imports_dir() -> Path:
    """Where uploaded files wait between the preview and the import (``var/imports``)."""
    path = _var_dir() / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _upload_path(job_id: int) -> Path:
    return imports_dir() / f"{job_id}.csv"


def _require(actor: Actor) -> None:
    if not actor.is_supervisor:
        raise PermissionDenied(N_("Réservé aux superviseurs, formateurs et administrateurs."))


# --- upload and preview -------------------------------------------------------------


def open_import(ctx: Context, actor: Actor, filename: str, data: bytes, encoding: str | None = None,
                delimiter: str | None = None) -> Preview:
    """Read an uploaded file, keep it for the import, and guess its mapping.

    A file that cannot be read (encoding, empty, no header) raises
    UnusableFile and nothing is kept.
    """
    _require(actor)
    table = csv_import.read_table(data, encoding or None, delimiter or None)
    mapping = csv_import.auto_map(table.headers)
    count = table.count()
    _remove_stale_uploads(ctx)
    with ctx.unit() as session:
        job = ImportJob(filename=(filename or "import.csv")[:255], status="pending", total_rows=count,
                        report=_settings(table, mapping), created_by=actor.id, created_at=ctx.now())
        session.add(job)
        session.flush()
        # written inside the unit: if the disk refuses it, the job is rolled back too
        _upload_path(job.id).write_bytes(data)
    return Preview(job.id, job.filename, table.encoding, table.delimiter, table.headers, mapping, table.head(), count)


def _settings(table: Table, mapping: list[str]) -> dict:
    return {"encoding": table.encoding, "delimiter": table.delimiter, "headers": table.headers, "mapping": mapping}


def _remove_stale_uploads(ctx: Context) -> None:
    """Files of previews nobody started hold customer data: do not keep them forever."""
    limit = ctx.now() - STALE_UPLOAD
    with ctx.read() as session:
        stale = session.scalars(select(ImportJob.id).where(ImportJob.status == "pending",
                                                           ImportJob.created_at < limit)).all()
    for job_id in stale:
        _upload_path(job_id).unlink(missing_ok=True)


def get_job(ctx: Context, actor: Actor, job_id: int) -> ImportJob:
    _require(actor)
    with ctx.read() as session:
        job = session.get(ImportJob, job_id)
    if job is None:
        raise NotFoundError(N_("Import introuvable."))
    return job


def recent_jobs(ctx: Context, actor: Actor, limit: int = 10) -> list[ImportJob]:
    _require(actor)
    with ctx.read() as session:
        return list(session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)))


def _stored_table(job: ImportJob) -> Table:
    path = _upload_path(job.id)
    if not path.exists():
        raise NotFoundError(N_("Le fichier de cet import n'est plus disponible : déposez-le à nouveau."))
    report = job.report or {}
    return csv_import.read_table(path.read_bytes(), report.get("encoding"), report.get("delimiter"))


def preview(ctx: Context, actor: Actor, job_id: int, mapping: list[str] | None = None) -> Preview:
    """The preview of a pending job again (after a refused mapping, say)."""
    job = get_job(ctx, actor, job_id)
    table = _stored_table(job)
    return Preview(job.id, job.filename, table.encoding, table.delimiter, table.headers,
                   mapping if mapping is not None else list((job.report or {}).get("mapping") or []),
                   table.head(), job.total_rows)


def start_import(ctx: Context, actor: Actor, job_id: int, mapping: list[str]) -> None:
    """Check the mapping and mark the job running; ``run_job`` then does the work.

    The status moves pending → running in one conditional UPDATE, so a double
    submission starts the import once and the second gets a clear refusal.
    """
    job = get_job(ctx, actor, job_id)
    if job.status != "pending":
        raise ConflictError(N_("Cet import a déjà été lancé."))
    table = _stored_table(job)
    csv_import.check_mapping(table.headers, mapping)
    with ctx.unit() as session:
        moved = session.execute(update(ImportJob).where(ImportJob.id == job_id, ImportJob.status == "pending")
                                .values(status="running", report={**_settings(table, mapping)}))
        if moved.rowcount != 1:
            raise ConflictError(N_("Cet import a déjà été lancé."))


def run_job(ctx: Context, job_id: int, progress: Progress | None = None) -> ImportResult | None:
    """Run a started job to the end (the web starts it in a thread); never raises.

    Whatever happens, the job ends "done" or "failed" with its reason, and the
    uploaded file is deleted.
    """
    try:
        with ctx.read() as session:
            job = session.get(ImportJob, job_id)
        if job is None or job.status != "running":
            return None
        table = _stored_table(job)
        return _run(ctx, job.created_by, job.id, job.filename, table, list(job.report["mapping"]), False, progress,
                    job.total_rows)
    except DomainError as exc:
        _fail(ctx, job_id, exc)
    except Exception as exc:  # an unexpected bug: the job must still end, and the log says why
        log.exception("import job %s failed", job_id)
        _fail(ctx, job_id, _failed(str(exc)))
    finally:
        _upload_path(job_id).unlink(missing_ok=True)
    return None


def _fail(ctx: Context, job_id: int, error: DomainError) -> None:
    with ctx.unit() as session:
        job = session.get(ImportJob, job_id)
        if job is not None and job.status != "done":
            job.status = "failed"
            job.finished_at = ctx.now()
            job.report = {**(job.report or {}), "error": {"message": error.message, "params": error.params}}


# --- the CLI's one-shot import --------------------------------------------------------


def import_file(ctx: Context, actor: Actor, filename: str, data: bytes, encoding: str | None = None,
                delimiter: str | None = None, overrides: Iterable[str] = (), dry_run: bool = False,
                progress: Progress | None = None, workers: int = 1) -> ImportResult:
    """Check and import a whole file at once (``plateau contacts import``).

    UnusableFile (encoding, layout, mapping) is raised before anything is
    written; ImportFailed if the import transaction failed (nothing written).
    A dry run checks every row, duplicates included, and writes nothing.
    ``workers`` > 1 checks big files in that many forked processes: only
    from a single-threaded process (the CLI, a bench), never from the server.
    """
    _require(actor)
    table = csv_import.read_table(data, encoding or None, delimiter or None)
    mapping = csv_import.apply_overrides(table.headers, csv_import.auto_map(table.headers), overrides)
    csv_import.check_mapping(table.headers, mapping)
    total = table.count()
    job_id = None
    if not dry_run:
        with ctx.unit() as session:
            job = ImportJob(filename=filename[:255], status="running", total_rows=total,
                            report=_settings(table, mapping), created_by=actor.id, created_at=ctx.now())
            session.add(job)
            session.flush()
            job_id = job.id
    try:
        return _run(ctx, actor.id, job_id, filename, table, mapping, dry_run, progress, total, workers)
    except BaseException as exc:  # the job must not stay "running" (Ctrl-C included)
        if job_id is not None:
            _fail(ctx, job_id, exc if isinstance(exc, DomainError) else _failed(str(exc) or type(exc).__name__))
        raise


# --- the work -------------------------------------------------------------------------


class _Tracker:
    """Reports validation progress to the caller and, now and then, to the job row."""

    def __init__(self, ctx: Context, job_id: int | None, total: int, callback: Progress | None):
        self.ctx, self.job_id, self.total, self.callback = ctx, job_id, total, callback
        self.last = time.monotonic()

    def step(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY:
            self.last = now
            self.write(done)

    def write(self, done: int) -> None:
        if self.callback:
            self.callback("validation", done, self.total)
        if self.job_id is not None:
            with self.ctx.unit() as session:
                session.execute(update(ImportJob).where(ImportJob.id == self.job_id)
                                .values(processed_rows=done, total_rows=max(self.total, done)))


def _run(ctx: Context, actor_id: int | None, job_id: int | None, filename: str, table: Table, mapping: list[str],
         dry_run: bool, progress: Progress | None, total: int, workers: int = 1) -> ImportResult:
    started = time.perf_counter()
    reader = csv_import.RowReader(table.headers, mapping)
    tracker = _Tracker(ctx, job_id, total, progress)
    verdicts = _validate(reader, table, tracker, total, workers)
    tracker.write(len(verdicts))
    validated = time.perf_counter()
    existing = _existing(ctx, *csv_import.lookup_keys(verdicts))
    csv_import.find_duplicates(verdicts, existing)
    accepted = [v for v in verdicts if v.ok]
    rejected = [v for v in verdicts if not v.ok]
    del verdicts
    _restore_cells(table, rejected)
    rejections = [Rejection(v.line, v.reasons, v.cells) for v in rejected]
    result = ImportResult(job_id, filename, table.encoding, table.delimiter, table.headers,
                          total=len(accepted) + len(rejected), accepted=len(accepted),
                          imported=0 if dry_run else len(accepted), rejections=rejections, dry_run=dry_run)
    checked = time.perf_counter()
    result.phases = {"validation": validated - started, "lookup": checked - validated}
    if progress and not dry_run:
        progress("import", 0, len(accepted))
    if not dry_run:
        try:
            _write(ctx, actor_id, job_id, accepted, existing, result, started)
        except SQLAlchemyError as exc:
            raise _failed(str(getattr(exc, "orig", None) or exc).splitlines()[0]) from exc
    result.seconds = time.perf_counter() - started
    result.phases["write"] = time.perf_counter() - checked
    if progress and not dry_run:
        progress("import", len(accepted), len(accepted))
    return result


def _check_rows(reader: csv_import.RowReader, rows: list[tuple[int, list[str]]]) -> list[RowVerdict]:
    """Verdicts for a run of rows; the cells of good rows are dropped (found again if a duplicate turns up)."""
    verdicts = []
    for line, cells in rows:
        verdict = reader.read(line, cells)
        if verdict.ok:
            verdict.cells = None
        verdicts.append(verdict)
    return verdicts


def cpu_count() -> int:
    """The cores this process may use (a container's share, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _validate(reader: csv_import.RowReader, table: Table, tracker: _Tracker, total: int,
              workers: int) -> list[RowVerdict]:
    """Every row through ``clean_contact``, in file order.

    That check (phone numbering plans, e-mail syntax) is most of an import's
    time and rows do not depend on one another, so with ``workers`` > 1 a big
    file is checked by that many forked processes. Where processes cannot be
    started, the rows are checked here, one after the other.
    """
    if workers > 1 and total >= PARALLEL_FROM and "fork" in multiprocessing.get_all_start_methods():
        try:
            return _validate_in_processes(reader, table, tracker, workers)
        except (OSError, BrokenProcessPool) as exc:
            log.warning("checking the rows in %s processes failed (%s): checking them in this one", workers, exc)
    verdicts: list[RowVerdict] = []
    for chunk in _row_chunks(table.rows()):
        verdicts += _check_rows(reader, chunk)
        tracker.step(len(verdicts))
    return verdicts


def _row_chunks(rows: Iterator[tuple[int, list[str]]], size: int = CHUNK_ROWS) -> Iterator[list]:
    chunk: list = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _validate_in_processes(reader: csv_import.RowReader, table: Table, tracker: _Tracker,
                           workers: int) -> list[RowVerdict]:
    # fork, not spawn: a spawned worker re-runs the caller's main script (a
    # bench without a __main__ guard would run again in every worker). Forking
    # is safe from a single-threaded process such as the CLI; the web server,
    # which has threads, calls this with workers=1. The workers only compute
    # and end with os._exit, so the parent's database connections are untouched.
    context = multiprocessing.get_context("fork")
    verdicts: list[RowVerdict] = []
    in_flight: deque = deque()
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        for chunk in _row_chunks(table.rows()):
            in_flight.append(pool.submit(_check_rows, reader, chunk))
            if len(in_flight) >= 2 * workers:  # bounded: a huge file is not queued whole
                verdicts += in_flight.popleft().result()
                tracker.step(len(verdicts))
        while in_flight:
            verdicts += in_flight.popleft().result()
            tracker.step(len(verdicts))
    return verdicts


def _restore_cells(table: Table, rejected: list[RowVerdict]) -> None:
    """Read the raw values of rows that turned out to be duplicates back from the file."""
    missing = {v.line: v for v in rejected if v.cells is None}
    if not missing:
        return
    for line, cells in table.rows():
        verdict = missing.pop(line, None)
        if verdict is not None:
            verdict.cells = cells
            if not missing:
                break


def _chunks(values: Iterable, size: int = LOOKUP_CHUNK) -> Iterator[list]:
    values = sorted(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _existing(ctx: Context, phones: set[str], emails: set[str], numbers: set[str]) -> Existing:
    """The contacts already using the file's phones, e-mails and customer numbers, in a few batched queries."""
    found = Existing()
    # No ORDER BY in these queries: with one, SQLite prefers walking the whole
    # table in id order to probing the e-mail index (0.3 s instead of 7 ms per
    # chunk on 1 000 000 contacts); the oldest contact is kept with min() instead.
    with ctx.read() as session:
        for chunk in _chunks(phones):
            for contact_id, e164 in session.execute(select(ContactPhone.contact_id, ContactPhone.e164)
                                                    .where(ContactPhone.e164.in_(chunk))):
                found.phones[e164] = min(contact_id, found.phones.get(e164, contact_id))
        for chunk in _chunks(emails):
            for contact_id, email in session.execute(select(Contact.id, Contact.email).where(Contact.email.in_(chunk))):
                found.emails[email] = min(contact_id, found.emails.get(email, contact_id))
        for chunk in _chunks(numbers):
            for contact_id, number, kind in session.execute(select(Contact.id, Contact.customer_number, Contact.kind)
                                                            .where(Contact.customer_number.in_(chunk))):
                found.numbers[number] = (contact_id, kind)
    return found


def _write(ctx: Context, actor_id: int | None, job_id: int, accepted: list[RowVerdict], existing: Existing,
           result: ImportResult, started: float) -> None:
    """The valid rows, their phones and their history in one transaction, with the job's final state."""
    phones, changes = ContactPhone.__table__, ContactChange.__table__
    now = ctx.now()
    marker = import_marker(job_id)
    # companies first, so that persons of the same file can point at them
    companies = [v for v in accepted if v.clean.values["kind"] == "company"]
    others = [v for v in accepted if v.clean.values["kind"] != "company"]
    company_ids = {number: cid for number, (cid, _kind) in existing.numbers.items()}
    with ctx.unit() as session:
        conn = session.connection()
        for group in (companies, others):
            for start in range(0, len(group), INSERT_BATCH):
                batch = group[start:start + INSERT_BATCH]
                rows = []
                for verdict in batch:
                    clean = verdict.clean
                    row = dict(clean.values)
                    row.update(search_name=clean.search_name, created_at=now, updated_at=now, version=1,
                               qualification=None)
                    if verdict.company_ref:
                        row["company_id"] = company_ids[verdict.company_ref]
                    rows.append(row)
                ids = insert_contacts(conn, rows)
                phone_rows = [{"contact_id": cid, "e164": e164, "label": label, "position": position}
                              for cid, verdict in zip(ids, batch)
                              for position, (e164, label) in enumerate(verdict.clean.phones)]
                if phone_rows:
                    conn.execute(insert(phones), phone_rows)
                conn.execute(insert(changes), [{"contact_id": cid, "field": "*", "old_value": None, "new_value": marker,
                                                "user_id": actor_id, "call_id": None, "at": now} for cid in ids])
                for cid, verdict in zip(ids, batch):
                    number = verdict.clean.values["customer_number"]
                    if number and verdict.clean.values["kind"] == "company":
                        company_ids[number] = cid
        result.seconds = time.perf_counter() - started
        job = session.get(ImportJob, job_id)
        job.status = "done"
        job.processed_rows = job.total_rows = result.total
        job.imported_rows = result.imported
        job.rejected_rows = len(result.rejections)
        job.finished_at = ctx.now()
        job.report = {**(job.report or {}), "rejections": [r.as_json() for r in result.rejections],
                      "seconds": round(result.seconds, 3), "rows_per_second": round(result.rows_per_second)}


# --- reports and export ---------------------------------------------------------------


def rejections_of(job: ImportJob) -> list[Rejection]:
    return [Rejection.from_json(item) for item in (job.report or {}).get("rejections", [])]


def failure_of(job: ImportJob) -> DomainError | None:
    error = (job.report or {}).get("error")
    return DomainError(error["message"], None, **(error.get("params") or {})) if error else None


def report_csv(ctx: Context, actor: Actor, job_id: int, gettext=lambda s: s) -> str:
    """The rejected rows as CSV (UTF-8 with BOM, ``;``): line, reasons, then the row as it was."""
    job = get_job(ctx, actor, job_id)
    headers = list((job.report or {}).get("headers") or [])
    rows = [[gettext("Ligne"), gettext("Motifs du rejet"), *headers]]
    for rejection in rejections_of(job):
        rows.append([str(rejection.line), " ; ".join(r.render(gettext) for r in rejection.reasons),
                     *[csv_import.safe_cell(value) for value in rejection.values]])
    return "\ufeff" + csv_import.to_csv(rows)


def _national(e164: str) -> str:
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def export_csv(ctx: Context, actor: Actor, query: str = "", chunk: int = 500,
               counted: Callable[[int], None] | None = None) -> Iterator[str]:
    """The contacts a search finds, as CSV text pieces (BOM and header first).

    UTF-8 with BOM and ``;`` so that a French spreadsheet opens it as is;
    the header is in French and reads back through the import unchanged.
    """
    from . import crm

    _require(actor)
    yield "\ufeff" + csv_import.to_csv([csv_import.export_headers()])
    batch: list = []
    for contact in crm.iter_search(ctx, query):
        batch.append(contact)
        if len(batch) >= chunk:
            yield _export_chunk(ctx, batch)
            if counted:
                counted(len(batch))
            batch = []
    if batch:
        yield _export_chunk(ctx, batch)
        if counted:
            counted(len(batch))


def _export_chunk(ctx: Context, contacts: list) -> str:
    ids = [c.id for c in contacts]
    company_ids = {c.company_id for c in contacts if c.company_id}
    numbers_by_contact: dict[int, list[tuple[str, str, str]]] = {cid: [] for cid in ids}
    with ctx.read() as session:
        for contact_id, e164, label in session.execute(
                select(ContactPhone.contact_id, ContactPhone.e164, ContactPhone.label)
                .where(ContactPhone.contact_id.in_(ids)).order_by(ContactPhone.contact_id, ContactPhone.position,
                                                                  ContactPhone.id)):
            numbers_by_contact[contact_id].append((e164, _national(e164), label))
        company_numbers = dict(session.execute(select(Contact.id, Contact.customer_number)
                                               .where(Contact.id.in_(company_ids))).all()) if company_ids else {}
    return csv_import.to_csv(csv_import.export_row(c, numbers_by_contact[c.id], company_numbers.get(c.company_id))
                             for c in contacts)
