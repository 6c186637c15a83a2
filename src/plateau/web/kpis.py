"""The indicators page (/kpis) and its CSV export (/kpis.csv).

A plain GET form (period, queue, team, agent) drives both, so a filtered view
is a link one can bookmark or send. Supervisors see every figure; an agent
sees their own, or their team's collective ones (``services.kpis.allowed_filters``).

The formatting filters defined here (``kpi_value``, ``kpi_gap``) are shared
by the objectives pages, the desktop's "Ma journée" panel and the daily
sheet: values in words and units ("4 min 05 s", "92,5 %", "12 appels"), in
the reader's language.
"""

from __future__ import annotations

import csv
import io
from babel.numbers import format_decimal, format_percent
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from jinja2 import pass_context

from ..domain import kpis as rules
from ..domain.agents import PAUSE_REASONS
from ..domain.errors import N_, ValidationError
from ..services import kpis
from ..services.context import Actor, Context
from .deps import current_actor, get_ctx, page
from .i18n import gettext, ngettext
from .templating import env

router = APIRouter(include_in_schema=False)

PERIOD_LABELS = {"today": N_("Aujourd'hui"), "yesterday": N_("Hier"), "week": N_("Cette semaine"),
                 "month": N_("Ce mois-ci"), "custom": N_("Dates choisies")}
#: the columns of each breakdown table (catalogue codes), before dropping queue-only ones for agent/team scopes
QUEUE_COLUMNS = ["offered", "handled", "abandoned", "short_abandoned", "abandon_rate", "service_level", "asa", "aht"]
PEOPLE_COLUMNS = ["handled", "aht", "transfer_rate", "qualified_rate", "repeat_rate", "occupancy",
                  "calls_per_agent_day", "pause_time"]
HOUR_COLUMNS = ["offered", "handled", "abandoned", "service_level", "asa", "aht"]


# --- formatting (Jinja filters, shared by the objective and "my day" pages) --------------------


def _locale(context) -> str:
    return (context.get("locale") if context else None) or "fr"


def duration_words(seconds: float) -> str:
    """45 s, 4 min 05 s, 1 h 02 min: durations said the way a screen reader reads them well."""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return gettext("%(hours)s h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    if minutes:
        return gettext("%(minutes)s min %(seconds)02d s") % {"minutes": minutes, "seconds": secs}
    return gettext("%(seconds)s s") % {"seconds": secs}


def format_value(code: str, value: float | None, locale: str = "fr", words: bool = False) -> str:
    """An indicator's value in its unit; ``words`` adds the unit to counts ("12 appels")."""
    if value is None:
        return "—"
    unit = rules.KPIS[code].unit if code in rules.KPIS else "count"
    if unit == "ratio":
        return format_percent(value, "#,##0.# %", locale=locale)
    if unit == "seconds":
        return duration_words(value)
    if unit == "per_day":
        number = format_decimal(round(value, 1), "#,##0.#", locale=locale)
        return gettext("%(number)s appels par jour") % {"number": number} if words else number
    number = format_decimal(value, "#,##0.#", locale=locale)
    return ngettext("%(number)s appel", "%(number)s appels", int(round(value))) % {"number": number} if words else number


def format_gap(code: str, gap: float | None, locale: str = "fr") -> str:
    """The distance to a target: rates in percentage points, durations in words, counts in calls."""
    if gap is None:
        return "—"
    if code in rules.KPIS and rules.KPIS[code].unit == "ratio":
        points = format_decimal(round(gap * 100, 1), "#,##0.#", locale=locale)
        return ngettext("%(number)s point", "%(number)s points", max(1, int(round(gap * 100)))) % {"number": points}
    return format_value(code, gap, locale, words=True)


@pass_context
def kpi_value(context, value: float | None, code: str, words: bool = False) -> str:
    return format_value(code, value, _locale(context), words)


@pass_context
def kpi_gap(context, assessment: rules.Assessment) -> str:
    """The assessment in words: "Il manque encore 12 appels pour atteindre l'objectif."."""
    message, params = assessment.message()
    locale = _locale(context)
    return gettext(message) % {"gap": format_gap(assessment.kpi, params["gap"], locale),
                               "value": format_value(assessment.kpi, params["value"], locale, True),
                               "target": format_value(assessment.kpi, params["target"], locale, True)}


@pass_context
def kpi_target(context, objective) -> str:
    """ "au plus 4 min 00 s", "au moins 90,0 %"."""
    value = format_value(objective.kpi, objective.target, _locale(context), words=True)
    return (gettext("au plus %(target)s") if objective.comparator == "<=" else gettext("au moins %(target)s")) \
        % {"target": value}


env.filters.update(kpi_value=kpi_value, kpi_gap=kpi_gap, kpi_target=kpi_target, duration_words=duration_words)
env.globals.update(KPIS=rules.KPIS, KPI_STATUS_LABELS=rules.STATUS_LABELS)


# --- the page -------------------------------------------------------------------------------------


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def filters_of(request: Request) -> kpis.Filters:
    params = request.query_params
    return kpis.Filters(period=params.get("period", "today"), start=params.get("start", ""),
                        end=params.get("end", ""), queue_id=_int(params.get("queue")),
                        team_id=_int(params.get("team")), agent_id=_int(params.get("agent")))


def _columns(report: kpis.Report, codes: list[str]) -> list[str]:
    return [code for code in codes if report.applicable(code)]


def chart(rows: list[kpis.Row], code: str) -> dict:
    """Bars for an SVG chart: label, value, length as a share of the largest (0–1)."""
    values = [(row.label, row.values.get(code) or 0) for row in rows]
    top = max((value for _, value in values), default=0) or 1
    return {"code": code, "bars": [{"label": label, "value": value, "share": value / top} for label, value in values]}


@router.get("/kpis")
def kpis_page(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    filters = filters_of(request)
    try:
        report = kpis.report(ctx, actor, filters)
    except ValidationError as exc:
        return page(request, "kpis/index.html", status_code=422, report=None, filters=filters, errors=exc.errors,
                    PERIOD_LABELS=PERIOD_LABELS, choices=kpis.choices(ctx, actor), query="")
    return page(request, "kpis/index.html", report=report, filters=report.filters, errors={},
                PERIOD_LABELS=PERIOD_LABELS, choices=report.choices, query=request.url.query,
                queue_columns=_columns(report, QUEUE_COLUMNS), people_columns=PEOPLE_COLUMNS,
                hour_columns=_columns(report, HOUR_COLUMNS), PAUSE_REASONS=PAUSE_REASONS,
                hour_chart=chart(report.by_hour, "offered" if report.applicable("offered") else "handled"),
                agent_chart=chart(report.by_agent, "handled"))


@router.get("/kpis.csv")
def kpis_csv(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    """One table: the whole selection, then each queue, team, agent and hour.

    UTF-8 with a byte-order mark, ``;`` between fields and a decimal comma,
    which is what a French spreadsheet opens without an import dialog. Rates
    are percentages, durations seconds."""
    report = kpis.report(ctx, actor, filters_of(request))
    codes = [code for code in rules.KPI_ORDER if report.applicable(code)]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([gettext("Vue"), gettext("Nom")] + [_csv_header(code) for code in codes])
    total_label = report.scope_label or gettext("Ensemble du plateau")
    writer.writerow([gettext("Ensemble"), total_label] + [_csv_number(code, report.values.get(code)) for code in codes])
    for kind, rows, people in ((gettext("File"), report.by_queue, False), (gettext("Équipe"), report.by_team, True),
                               (gettext("Agent"), report.by_agent, True), (gettext("Heure"), report.by_hour, False)):
        for row in rows:
            label = row.label or (gettext("Sans file (serveur vocal)") if kind == gettext("File") else "")
            # an agent's or a team's row counts their own legs: queue-side columns stay empty
            writer.writerow([kind, label] + ["" if people and rules.KPIS[code].queue_only
                                             else _csv_number(code, row.values.get(code)) for code in codes])
    name = f"indicateurs-{report.period.first.isoformat()}-{report.period.last.isoformat()}.csv"
    return Response(("\ufeff" + out.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _csv_header(code: str) -> str:
    unit = rules.KPIS[code].unit
    suffix = {"ratio": " (%)", "seconds": " (s)"}.get(unit, "")
    return gettext(rules.KPIS[code].label) + suffix


def _csv_number(code: str, value: float | None) -> str:
    if value is None:
        return ""
    unit = rules.KPIS[code].unit
    if unit == "ratio":
        value = value * 100
    text = f"{value:.1f}" if unit in ("ratio", "per_day") else f"{round(value):d}"
    return text.replace(".", ",")

