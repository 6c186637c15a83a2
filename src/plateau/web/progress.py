"""The progress page (/progress) and its CSV export (/progress.csv).

A plain GET form (trainee or team, framework, period) drives both, so a view
is a link a trainer can bookmark or send; it works without JavaScript. A
trainee sees their own progress only (``services.progress.allowed_filters``);
asking for someone else's is a 403 page.

The weekly chart is an SVG drawn from ``weekly_chart`` (the geometry is
computed here, the template only places it): one line per competency, one
bar per week whose height is the share of criteria met, the framework's pass
mark as a dashed line. Its text alternative is the table that follows it,
with the same figures.
"""

from __future__ import annotations

import csv
import io
import math

from babel.numbers import format_decimal, format_percent
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from jinja2 import pass_context

from ..domain.errors import N_, ValidationError
from ..services import progress
from ..services.context import Actor, Context
from .deps import current_actor, get_ctx, page
from .i18n import gettext
from .kpis import duration_words  # noqa: F401  (registers the shared ``duration_words`` filter)
from .templating import env, local_time

router = APIRouter(include_in_schema=False)

PERIOD_LABELS = {"4w": N_("Les 4 dernières semaines"), "12w": N_("Les 12 dernières semaines"),
                 "26w": N_("Les 26 dernières semaines"), "custom": N_("Dates choisies")}

#: the chart's geometry (SVG user units)
LABEL_W, WEEK_W, BAR_W, ROW_H, BAR_H, AXIS_H = 190, 40, 24, 44, 34, 22


# --- formatting ------------------------------------------------------------------------------------


def _locale(context) -> str:
    return (context.get("locale") if context else None) or "fr"


def percent(value: float | None, locale: str = "fr") -> str:
    return "—" if value is None else format_percent(value, "#,##0 %", locale=locale)


def hours(value: float | None, locale: str = "fr") -> str:
    return "—" if value is None else gettext("%(hours)s h") % {"hours": format_decimal(value, "#,##0.#",
                                                                                       locale=locale)}


@pass_context
def progress_percent(context, value: float | None) -> str:
    return percent(value, _locale(context))


@pass_context
def progress_hours(context, value: float | None) -> str:
    return hours(value, _locale(context))


env.filters.update(progress_percent=progress_percent, progress_hours=progress_hours)


# --- the page -------------------------------------------------------------------------------------------


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def filters_of(request: Request) -> progress.Filters:
    params = request.query_params
    return progress.Filters(trainee_id=_int(params.get("trainee")), team_id=_int(params.get("team")),
                            framework=params.get("framework", "").strip(),
                            period=params.get("period", progress.DEFAULT_PERIOD), start=params.get("start", ""),
                            end=params.get("end", ""))


def weekly_chart(report: progress.Progress) -> dict:
    """Where each bar goes: one line per competency (then the whole framework), one column per week."""
    weeks = report.weeks
    every = max(1, math.ceil(len(weeks) / 26))  # at most 26 week labels under the axis
    lines = []
    for n, row in enumerate([*report.competencies, report.overall]):
        base = n * ROW_H + ROW_H - 4
        cells = []
        for w, tally in enumerate(row.weeks):
            x = LABEL_W + w * WEEK_W + (WEEK_W - BAR_W) / 2
            share = tally.share
            # a week at 0 % keeps a sliver of bar, so that it is not mistaken for a week without data
            height = None if share is None else max(1.5, share * BAR_H)
            cells.append({"x": x, "cx": x + BAR_W / 2, "y": None if height is None else base - height,
                          "height": height, "share": share, "met": tally.met, "assessed": tally.assessed,
                          "week": weeks[w]})
        title = row.unit.title if row.unit else report.framework.title
        lines.append({"code": row.unit.code if row.unit else gettext("Ensemble"), "title": title,
                      "top": n * ROW_H, "base": base, "cells": cells, "rule_x": LABEL_W - 4,
                      "threshold_y": base - report.threshold * BAR_H if report.threshold else None})
    height = len(lines) * ROW_H + AXIS_H
    return {"lines": lines, "width": LABEL_W + len(weeks) * WEEK_W + 8, "height": height, "axis_y": height - 6,
            "bar_w": BAR_W,
            "ticks": [{"x": LABEL_W + w * WEEK_W + WEEK_W / 2, "week": week}
                      for w, week in enumerate(weeks) if w % every == 0],
            "x_end": LABEL_W + len(weeks) * WEEK_W}


def _context(report: progress.Progress | None) -> dict:
    return {"PERIOD_LABELS": PERIOD_LABELS, "OUTCOME_LABELS": progress.OUTCOME_LABELS,
            "chart": weekly_chart(report) if report else None, "empty_tally": progress.Tally()}


@router.get("/progress")
def progress_page(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    filters = progress.allowed_filters(actor, filters_of(request))  # a trainee asking for another: 403
    choices = progress.choices(ctx, actor)
    if filters.trainee_id is None and filters.team_id is None:  # a trainer who has not chosen yet
        return page(request, "progress/index.html", report=None, filters=filters, errors={}, choices=choices,
                    query="", **_context(None))
    try:
        report = progress.report(ctx, actor, filters)
    except ValidationError as exc:
        return page(request, "progress/index.html", status_code=422, report=None, filters=filters,
                    errors=exc.errors, choices=choices, query="", **_context(None))
    return page(request, "progress/index.html", report=report, filters=report.filters, errors={}, choices=choices,
                query=request.url.query, **_context(report))


@router.get("/progress.csv")
def progress_csv(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    """The page's tables, one block after the other, each with its title line and its header.

    Like the KPI export: UTF-8 with a byte-order mark, ``;`` between fields,
    decimal comma; shares are percentages, durations seconds, dates ISO."""
    report = progress.report(ctx, actor, filters_of(request))
    rows = csv_rows(report)
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    name = (f"progression-{report.scope}-{report.framework.code}-{report.period.first.isoformat()}-"
            f"{report.period.last.isoformat()}.csv")
    return Response(("\ufeff" + out.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def csv_rows(report: progress.Progress) -> list[list[str]]:
    """The export as rows of cells (blocks separated by an empty row)."""
    scope = gettext("Stagiaire") if report.scope == "trainee" else gettext("Équipe")
    rows: list[list[str]] = [[gettext("Progression"), scope, report.subject, report.framework.code,
                              report.period.first.isoformat(), report.period.last.isoformat()], []]
    rows += [[gettext("Compétences semaine par semaine")],
             [gettext("Élément"), gettext("Intitulé"), gettext("Semaine du"), gettext("Critères acquis"),
              gettext("Critères évalués"), gettext("Part acquise") + " (%)", gettext("Appels")]]
    for row in [*report.competencies, report.overall]:
        element = row.unit.id if row.unit else report.framework.code
        title = row.unit.title if row.unit else gettext("Ensemble du référentiel")
        for week, tally in zip(report.weeks, row.weeks):
            rows.append([element, title, week.isoformat(), str(tally.met), str(tally.assessed),
                         _csv_share(tally.share), str(tally.calls)])
        rows.append([element, title, gettext("Période"), str(row.total.met), str(row.total.assessed),
                     _csv_share(row.total.share), str(row.total.calls)])
    rows += [[], [gettext("Mises en situation par scénario")],
             [gettext("Scénario"), gettext("Titre"), gettext("Référentiel"), gettext("Tentatives"),
              gettext("Dernière tentative"), gettext("Dernière issue"), gettext("Meilleur score") + " (%)",
              gettext("En attente d'auto-évaluation")]]
    for s in report.scenarios:
        outcome = gettext(s.outcome_label) if s.outcome_translatable else s.outcome_label
        rows.append([s.code, s.title, s.framework, str(s.attempts), local_time(s.last_at, "%Y-%m-%d %H:%M"),
                     outcome, _csv_share(s.best), str(s.waiting)])
    rows += [[], [gettext("Temps d'entraînement par compétence ou module")],
             [gettext("Élément"), gettext("Intitulé"), gettext("Temps d'entraînement (s)"),
              gettext("Mises en situation"), gettext("Heures prévues")]]
    for m in report.modules:
        planned = m.unit.planned_hours
        rows.append([m.unit.id, m.unit.title, str(round(m.seconds)), str(m.attempts),
                     "" if planned is None else _csv_number(planned)])
    rows.append([report.framework.code, gettext("Ensemble (chaque mise en situation une fois)"),
                 str(round(report.practice_seconds)), str(report.practice_attempts), ""])
    if report.scope == "team":
        rows += [[], [gettext("Par stagiaire")],
                 [gettext("Stagiaire"), gettext("Appels évalués"), gettext("Critères acquis"),
                  gettext("Critères évalués"), gettext("Part acquise") + " (%)", gettext("Mises en situation"),
                  gettext("Temps d'entraînement (s)")]
                 + [f"{unit.code} (%)" for unit in (row.unit for row in report.competencies)]]
        for t in report.trainees:
            rows.append([t.name, str(t.total.calls), str(t.total.met), str(t.total.assessed),
                         _csv_share(t.total.share), str(t.attempts), str(round(t.practice_seconds))]
                        + [_csv_share(t.units[row.unit.id].share) if row.unit.id in t.units else ""
                           for row in report.competencies])
    return rows


def _csv_number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")


def _csv_share(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.1f}".replace(".", ",")
