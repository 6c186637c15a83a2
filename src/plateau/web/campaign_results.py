"""A campaign's results page, its CSV export, and the report drafted from it ("rendre compte").

``/campaigns/{id}/results`` shows every figure of ``services.campaign_results``
as a table, the main ones also as a bar chart (the KPI pages' SVG macro,
each chart followed by its table). The figures refresh themselves every
5 seconds while "Actualiser automatiquement" is ticked (it is untickable,
WCAG 2.2.2): htmx replaces the figures block, which says when it was last
updated and announces nothing. ``?scope=test`` shows the test calls alone.

The CSV is one long table (section, item, measure, value): every table of
the page, in UTF-8 with a byte-order mark and ``;`` between fields, numbers
with a decimal comma, as the KPI export. The report page puts a French
draft in an editable text area; what is in the area (edited or not) is
downloaded as Markdown or plain text.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace

from babel.numbers import format_decimal, format_percent
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from jinja2 import pass_context

from ..domain.campaigns import DIALING_STATUSES, OUTCOME_LABELS, STATUS_LABELS, TYPE_LABELS
from ..domain.compliance import reason_text
from ..domain.errors import N_, DomainError
from ..services import campaign_results as results_service
from ..services.context import Actor, Context
from . import campaign_work as _work_filters  # noqa: F401  (registers money_cents, in_zone)
from .deps import get_ctx, page, request_locale, supervisor_actor, verify_csrf
from .i18n import gettext as _
from .kpis import chart  # also registers duration_words and kpi_value, used by the templates
from .templating import env

router = APIRouter(include_in_schema=False)

#: seconds between two refreshes of the figures
REFRESH_S = 5
MAX_REPORT = 200_000
REPORT_FORMATS = {"md": ("text/markdown", "md"), "txt": ("text/plain", "txt")}


# --- formatting ------------------------------------------------------------------------------------------


def _locale(context) -> str:
    return (context.get("locale") if context else None) or "fr"


@pass_context
def results_percent(context, value: float | None) -> str:
    return "—" if value is None else format_percent(value, "#,##0.# %", locale=_locale(context))


@pass_context
def results_number(context, value: float | None) -> str:
    return "—" if value is None else format_decimal(value, "#,##0.##", locale=_locale(context))


env.filters.update(results_percent=results_percent, results_number=results_number)


def _translated(rows: list[results_service.Row]) -> list[results_service.Row]:
    return [replace(row, label=_(row.label)) if row.translate else row for row in rows]


def charts(res: results_service.Results) -> dict:
    """Bar charts of the main breakdowns (``web.kpis.chart``); each has its table on the page."""
    result = {"outcomes": chart(_translated(res.by_outcome), "count"),
              "hours": chart(res.by_hour, "attempts"),
              "agents": chart(res.by_agent, "successes"),
              "states": chart(_translated(res.states), "count")}
    for question in res.survey:
        if question.choices:
            result[f"q-{question.id}"] = chart(question.choices, "count")
    return result


def _context(ctx: Context, actor: Actor, campaign_id: int, scope: str | None) -> dict:
    res = results_service.results(ctx, actor, campaign_id, scope or results_service.LIVE)
    return {"res": res, "c": res.campaign, "charts": charts(res), "REFRESH_S": REFRESH_S,
            "live": res.campaign.status in DIALING_STATUSES or res.campaign.status == "paused",
            "OUTCOME_LABELS": OUTCOME_LABELS, "STATUS_LABELS": STATUS_LABELS, "TYPE_LABELS": TYPE_LABELS,
            "GROUP_LABELS": results_service.GROUP_LABELS, "scope_query": "?scope=test" if res.scope == "test" else ""}


@router.get("/campaigns/{campaign_id:int}/results")
def results_page(campaign_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                 ctx: Context = Depends(get_ctx)):
    """The page; ``part=figures`` (the refresh) returns only the figures block."""
    context = _context(ctx, actor, campaign_id, request.query_params.get("scope"))
    if request.query_params.get("part") == "figures":
        return page(request, "campaigns/results_figures.html", **context)
    return page(request, "campaigns/results.html", **context)


# --- CSV ------------------------------------------------------------------------------------------------------


def _n(value: float | None, decimals: int = 0) -> str:
    if value is None:
        return ""
    return (f"{value:.{decimals}f}" if decimals else f"{round(value):d}").replace(".", ",")


def _pct(value: float | None) -> str:
    return "" if value is None else _n(value * 100, 1)


def _money(cents: int) -> str:
    return _n(cents / 100, 2)


def csv_rows(res: results_service.Results) -> list[list[str]]:
    """Every table of the page as (section, item, measure, value) rows; rates in %, amounts in currency units."""
    rows: list[list[str]] = []
    add = lambda section, item, measure, value: rows.append([section, item, measure, value])  # noqa: E731
    summary = _("Synthèse")
    v = res.values
    for measure, value in ((_("Tentatives"), _n(v["attempts"])), (_("Contacts joints"), _n(v["reached"])),
                           (_("Contacts argumentés"), _n(v["argued"])), (_("Succès"), _n(v["successes"])),
                           (_("Taux de joignabilité") + " (%)", _pct(v["reach_rate"])),
                           (_("Taux d'argumentation") + " (%)", _pct(v["argue_rate"])),
                           (_("Taux de succès") + " (%)", _pct(v["success_rate"])),
                           (_("Numérotations bloquées"), _n(res.blocked_dials)),
                           (_("Tentatives en cours"), _n(res.in_progress)),
                           (_("Rendez-vous"), _n(res.appointments)), (_("Ventes"), _n(res.sales)),
                           (_("Montant des ventes (%(currency)s)") % {"currency": res.currency}, _money(res.sales_cents)),
                           (_("Ventes avec vente additionnelle"), _n(res.additional_sales)),
                           (_("Montant des ventes additionnelles (%(currency)s)") % {"currency": res.currency},
                            _money(res.additional_cents)),
                           (_("Promesses de paiement"), _n(res.promises)), (_("Échéanciers"), _n(res.plans)),
                           (_("Montant promis (%(currency)s)") % {"currency": res.currency}, _money(res.promised_cents)),
                           (_("Contacts du fichier"), _n(res.contacts_total)),
                           (_("Contacts restant à appeler"), _n(res.remaining))):
        add(summary, "", measure, value)
    for objective in res.objectives:
        add(_("Objectifs"), _(objective.label), _("Objectif"), _n(objective.target, 2 if objective.key == "sales_amount" else 0))
        add(_("Objectifs"), _(objective.label), _("Réalisé"), _n(objective.achieved, 2 if objective.key == "sales_amount" else 0))
        add(_("Objectifs"), _(objective.label), _("Réalisé") + " (%)", _pct(objective.share))
    for row in res.by_outcome:
        add(_("Issues des tentatives"), _(row.label), _("Nombre"), _n(row.values["count"]))
        add(_("Issues des tentatives"), _(row.label), _("Part des tentatives") + " (%)", _pct(row.values["share"]))
    for row in res.by_qualification:
        add(_("Qualifications"), row.label, _("Nombre"), _n(row.values["count"]))
    for section, breakdown in ((_("Par agent"), res.by_agent), (_("Par heure"), res.by_hour)):
        for row in breakdown:
            for measure, value in ((_("Tentatives"), _n(row.values["attempts"])),
                                   (_("Contacts joints"), _n(row.values["reached"])),
                                   (_("Contacts argumentés"), _n(row.values["argued"])),
                                   (_("Succès"), _n(row.values["successes"])),
                                   (_("Temps de communication (s)"), _n(row.values["talk_s"]))):
                add(section, row.label, measure, value)
    for row in res.states:
        add(_("États des contacts"), _(row.label), _("Nombre"), _n(row.values["count"]))
    for entry in res.blocked_by_rule:
        add(_("Règles d'appel bloquantes"), f"{entry.rule} ({entry.reference})", _("Contacts bloqués"), _n(entry.count))
    for blocked in res.blocked:
        for reason in blocked.reasons or [{}]:
            add(_("Contacts bloqués"), blocked.name, str(reason.get("rule", "")), reason_text(reason, _) if reason else "")
    for question in res.survey:
        section = _("Enquête : %(question)s") % {"question": question.label}
        add(section, "", _("Réponses"), _n(question.answered))
        for row in question.choices:
            add(section, row.label, _("Nombre"), _n(row.values["count"]))
        if question.average is not None:
            add(section, "", _("Moyenne"), _n(question.average, 2))
    if res.dialer is not None:
        d = res.dialer
        for measure, value in ((_("Niveau de numérotation"), _n(d.dial_level, 2) if d.dial_level is not None else ""),
                               (_("Taux d'abandon du jour") + " (%)", _pct(d.abandon_rate)),
                               (_("Taux d'occupation des agents") + " (%)", _pct(d.occupancy))):
            add(_("Numéroteur"), "", measure, value)
    return rows


@router.get("/campaigns/{campaign_id:int}/results.csv")
def results_csv(campaign_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                ctx: Context = Depends(get_ctx)):
    scope = request.query_params.get("scope", results_service.LIVE)
    res = results_service.results(ctx, actor, campaign_id, scope, blocked_limit=None)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_("Section"), _("Élément"), _("Mesure"), _("Valeur")])
    writer.writerows(csv_rows(res))
    name = f"resultats-{_slug(res.campaign.code)}{'-tests' if res.scope == 'test' else ''}.csv"
    return Response(("\ufeff" + out.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text or "campagne").strip("-") or "campagne"


# --- the report ("rendre compte") ------------------------------------------------------------------------------


def draft(request: Request, res: results_service.Results) -> str:
    return results_service.report_text(res, results_service.Wording(_, request_locale(request)))


@router.get("/campaigns/{campaign_id:int}/report")
def report_page(campaign_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                ctx: Context = Depends(get_ctx)):
    context = _context(ctx, actor, campaign_id, request.query_params.get("scope"))
    return page(request, "campaigns/results_report.html", text=draft(request, context["res"]), errors={}, **context)


@router.post("/campaigns/{campaign_id:int}/report/download", dependencies=[Depends(verify_csrf)])
async def report_download(campaign_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                          ctx: Context = Depends(get_ctx)):
    """What the text area holds, as a file (Markdown or plain text)."""
    form = await request.form()
    text = str(form.get("text", "")).replace("\r\n", "\n")
    kind = str(form.get("format", "md"))
    context = _context(ctx, actor, campaign_id, str(form.get("scope", "")))
    errors = {}
    if not text.strip():
        errors["text"] = DomainError(N_("Le compte rendu est vide : rédigez-le ou régénérez le brouillon."), "text")
    elif len(text) > MAX_REPORT:
        errors["text"] = DomainError(N_("Le compte rendu dépasse %(max)s caractères."), "text", max=MAX_REPORT)
    if kind not in REPORT_FORMATS:
        errors["format"] = DomainError(N_("Choisissez le format du fichier : Markdown ou texte."), "format")
    if errors:
        return page(request, "campaigns/results_report.html", status_code=422, text=text, errors=errors, **context)
    media, extension = REPORT_FORMATS[kind]
    name = f"compte-rendu-{_slug(context['c'].code)}.{extension}"
    return Response(text.encode("utf-8"), media_type=f"{media}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})

