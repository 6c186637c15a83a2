"""CSV import and export pages: upload → preview and mapping → progress → report.

Thin routes over ``services.contacts_io``. The import itself runs in a
background thread started by the request; the job page polls a status
fragment every second (htmx) and stops when the server answers 286, the
status htmx reads as "stop polling". Supervisors and administrators only.
"""

from __future__ import annotations

import threading
from datetime import datetime

from babel.numbers import format_decimal
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from ..domain import csv_import
from ..domain.csv_import import DELIMITERS, ENCODINGS, TARGETS, UnusableFile
from ..domain.errors import N_, DomainError
from ..services import contacts_io
from ..services.context import Actor, Context
from .deps import get_ctx, page, supervisor_actor, verify_csrf
from .i18n import _, ngettext

router = APIRouter(include_in_schema=False)

#: rejected rows per page of the report
REPORT_PAGE = 200
#: larger uploads are refused before reading them whole
MAX_UPLOAD = 200 * 1024 * 1024
#: a finished status fragment answers with this code: htmx stops polling
STOP_POLLING = 286


def _number(request: Request):
    locale = getattr(getattr(request.state, "user", None), "locale", None) or "fr"
    return lambda value: format_decimal(value, locale=locale)


def _targets() -> list[tuple[str, str]]:
    return [(code, csv_import.target_label(code, _)) for code in TARGETS]


@router.get("/imports")
def imports_home(request: Request, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    return _upload_page(request, ctx, actor)


def _upload_page(request: Request, ctx: Context, actor: Actor, error: DomainError | None = None,
                 encoding: str = "", delimiter: str = "", status_code: int = 200):
    return page(request, "imports/upload.html", status_code=status_code, jobs=contacts_io.recent_jobs(ctx, actor),
                error=error, encoding=encoding, delimiter=delimiter, ENCODINGS=ENCODINGS, DELIMITERS=DELIMITERS,
                JOB_STATUSES=contacts_io.JOB_STATUSES, num=_number(request))


@router.post("/imports", dependencies=[Depends(verify_csrf)])
def imports_upload(request: Request, file: UploadFile | None = File(None), encoding: str = Form(""),
                   delimiter: str = Form(""), actor: Actor = Depends(supervisor_actor),
                   ctx: Context = Depends(get_ctx)):
    """Read the file and show its preview; an unreadable file comes back to the form with why."""
    if file is None or not file.filename:
        error = DomainError(N_("Choisissez un fichier CSV à importer."), "file")
        return _upload_page(request, ctx, actor, error, encoding, delimiter, 422)
    if (file.size or 0) > MAX_UPLOAD:
        error = DomainError(N_("Le fichier dépasse 200 Mo : découpez-le en plusieurs fichiers."), "file")
        return _upload_page(request, ctx, actor, error, encoding, delimiter, 422)
    data = file.file.read()
    try:
        preview = contacts_io.open_import(ctx, actor, file.filename, data, encoding or None, delimiter or None)
    except UnusableFile as exc:
        return _upload_page(request, ctx, actor, exc, encoding, delimiter, 422)
    return _preview_page(request, preview)


def _preview_page(request: Request, preview: contacts_io.Preview, error: DomainError | None = None,
                  status_code: int = 200):
    counts: dict[str, int] = {}
    for target in preview.mapping:
        if target:
            counts[target] = counts.get(target, 0) + 1
    clashing = {i for i, target in enumerate(preview.mapping) if target and counts[target] > 1}
    return page(request, "imports/preview.html", status_code=status_code, p=preview, error=error,
                targets=_targets(), clashing=clashing, ENCODINGS=ENCODINGS, DELIMITERS=DELIMITERS,
                num=_number(request))


@router.get("/imports/{job_id}/preview")
def imports_preview(job_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                    ctx: Context = Depends(get_ctx)):
    job = contacts_io.get_job(ctx, actor, job_id)
    if job.status != "pending":
        return RedirectResponse(f"/imports/{job_id}", status_code=303)
    return _preview_page(request, contacts_io.preview(ctx, actor, job_id))


@router.post("/imports/{job_id}/start", dependencies=[Depends(verify_csrf)])
async def imports_start(job_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                        ctx: Context = Depends(get_ctx)):
    """Start the import with the chosen mapping (``map_0``, ``map_1``… one per column)."""
    form = await request.form()
    job = await run_in_threadpool(contacts_io.get_job, ctx, actor, job_id)
    width = len((job.report or {}).get("headers") or [])
    mapping = [str(form.get(f"map_{index}", "")) for index in range(width)]
    try:
        await run_in_threadpool(contacts_io.start_import, ctx, actor, job_id, mapping)
    except UnusableFile as exc:
        preview = await run_in_threadpool(contacts_io.preview, ctx, actor, job_id, mapping)
        return _preview_page(request, preview, exc, 422)
    threading.Thread(target=contacts_io.run_job, args=(ctx, job_id), name=f"import-{job_id}", daemon=True).start()
    return RedirectResponse(f"/imports/{job_id}", status_code=303)


def _status_context(request: Request, job, page_number: int = 1) -> dict:
    rejections = contacts_io.rejections_of(job) if job.status == "done" else []
    pages = max(1, -(-len(rejections) // REPORT_PAGE))
    page_number = min(max(page_number, 1), pages)
    start = (page_number - 1) * REPORT_PAGE
    num = _number(request)
    announce = ""
    if job.status == "done":
        announce = _("Import terminé : %(imported)s, %(rejected)s.") % {
            "imported": ngettext("%(n)s contact importé", "%(n)s contacts importés", job.imported_rows)
            % {"n": num(job.imported_rows)},
            "rejected": ngettext("%(n)s ligne rejetée", "%(n)s lignes rejetées", job.rejected_rows)
            % {"n": num(job.rejected_rows)}}
    elif job.status == "failed":
        announce = _("Import échoué : aucun contact n'a été enregistré.")
    return {"job": job, "rejections": rejections[start:start + REPORT_PAGE], "first": start + 1,
            "rejected_total": len(rejections), "page_number": page_number, "pages": pages,
            "failure": contacts_io.failure_of(job), "announce": announce, "num": num, "tr": _,
            "JOB_STATUSES": contacts_io.JOB_STATUSES, "running": job.status == "running",
            "percent": int(job.processed_rows * 100 / job.total_rows) if job.total_rows else 100}


@router.get("/imports/{job_id}")
def imports_job(job_id: int, request: Request, page_number: int = 1, actor: Actor = Depends(supervisor_actor),
                ctx: Context = Depends(get_ctx)):
    job = contacts_io.get_job(ctx, actor, job_id)
    return page(request, "imports/job.html", **_status_context(request, job, page_number))


@router.get("/imports/{job_id}/status")
def imports_status(job_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                   ctx: Context = Depends(get_ctx)):
    """The polled fragment; once the job has ended, 286 tells htmx to stop polling."""
    job = contacts_io.get_job(ctx, actor, job_id)
    context = _status_context(request, job)
    return page(request, "imports/_status.html", status_code=200 if context["running"] else STOP_POLLING, **context)


@router.get("/imports/{job_id}/report.csv")
def imports_report(job_id: int, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    text = contacts_io.report_csv(ctx, actor, job_id, _)
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="rapport-import-{job_id}.csv"'})


@router.get("/contacts/export.csv")
def contacts_export(q: str = "", actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    """The contacts a search finds (all of them without ``q``), streamed as CSV."""
    pieces = contacts_io.export_csv(ctx, actor, q)
    first = next(pieces)  # refusals (role) raise here, before the response starts
    stamp = datetime.now().strftime("%Y%m%d-%H%M")

    def body():
        yield first.encode("utf-8")
        for piece in pieces:
            yield piece.encode("utf-8")

    return StreamingResponse(body(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="contacts-{stamp}.csv"'})
