"""The Erlang C staffing tool in the browser and as JSON (supervisors, trainers, administrators).

``GET /staffing`` is a plain GET form (no JavaScript, no CSRF: it changes
nothing, and a result is a link one can bookmark or send): the figures with
what each one means, a what-if table over a range of staffing levels and an
SVG chart of the same rows. People type percentages and an interval in
minutes there; ``GET /api/staffing/erlang`` takes the CLI's units (seconds,
fractions) and returns the CLI's JSON. Both read their input through
``domain.erlang.read``: one rule set, field errors keyed by each surface's names.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from babel.numbers import format_decimal
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from ..domain import erlang as model
from ..domain.errors import ValidationError
from ..services.context import Actor
from .deps import page, request_locale, supervisor_actor, verify_csrf

router = APIRouter()
api = APIRouter(prefix="/api/staffing", tags=["staffing"], dependencies=[Depends(verify_csrf)])

NBSP = "\u00a0"

#: the page's fields: percentages, and the interval in minutes as planners count it
PAGE_FIELDS = {
    "calls": model.Field("calls"),
    "interval_s": model.Field("interval_min", num=60, suffix=f"{NBSP}min"),
    "aht_s": model.Field("aht", suffix=f"{NBSP}s"),
    "target_sl": model.Field("target_sl_pct", den=100, suffix=f"{NBSP}%"),
    "target_time_s": model.Field("target_time", suffix=f"{NBSP}s"),
    "agents": model.Field("agents"),
    "shrinkage": model.Field("shrinkage_pct", den=100, suffix=f"{NBSP}%"),
    "max_occupancy": model.Field("max_occupancy_pct", den=100, suffix=f"{NBSP}%"),
}

#: the API's parameters: the CLI's options and units
API_FIELDS = {
    "calls": model.Field("calls"),
    "interval_s": model.Field("interval", suffix=f"{NBSP}s"),
    "aht_s": model.Field("aht", suffix=f"{NBSP}s"),
    "target_sl": model.Field("target_sl"),
    "target_time_s": model.Field("target_time", suffix=f"{NBSP}s"),
    "agents": model.Field("agents"),
    "shrinkage": model.Field("shrinkage"),
    "max_occupancy": model.Field("max_occupancy"),
}

#: the form as first shown: the classic textbook case (100 calls in 30 min, 3 min each, 80 % in 20 s)
DEFAULTS = {"calls": "100", "interval_min": "30", "aht": "180", "target_sl_pct": "80", "target_time": "20",
            "agents": "", "shrinkage_pct": "30", "max_occupancy_pct": ""}


# --- the page ------------------------------------------------------------------------------------


@router.get("/staffing", include_in_schema=False)
def staffing_page(request: Request, actor: Actor = Depends(supervisor_actor)):
    """The form; with a query, the answer (or each refused field with its message, status 422)."""
    query = request.query_params
    if not any(name in query for name in DEFAULTS):
        return _page(request, DEFAULTS)
    form = {name: query.get(name, "").strip() for name in DEFAULTS}
    try:
        asked = model.read(form, PAGE_FIELDS)
    except ValidationError as exc:
        return _page(request, form, errors=exc.errors, status=422)
    return _page(request, form, study=model.study(asked))


def _page(request: Request, form: dict, study: model.Study | None = None, errors=None, status: int = 200):
    numbers = Numbers(request_locale(request))
    return page(request, "staffing/page.html", status_code=status, form=form, errors=errors or {}, study=study,
                chart=Chart.of(study) if study else None, num=numbers.decimal, pct=numbers.percent,
                cli=_cli_line(study.request) if study else "", api_url=_api_url(study.request) if study else "")


@dataclass(frozen=True)
class Numbers:
    """Numbers as the reader's language writes them (1 234,5 in French)."""

    locale: str

    def decimal(self, value: float, digits: int = 1) -> str:
        pattern = "#,##0." + "0" * digits if digits else "#,##0"
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, value: float, digits: int = 1) -> str:
        return f"{self.decimal(value * 100, digits)}{NBSP}%"


def _model_units(request: model.Request) -> dict[str, str]:
    """The question in the CLI's and the API's units, compact (no trailing zeros)."""
    values = {"calls": request.calls, "interval": request.interval_s, "aht": request.aht_s,
              "target_sl": request.target_sl, "target_time": request.target_time_s}
    if request.agents is not None:
        values["agents"] = request.agents
    if request.shrinkage:
        values["shrinkage"] = request.shrinkage
    if request.max_occupancy < 1 and request.agents is None:
        values["max_occupancy"] = request.max_occupancy
    return {key: f"{value:.10g}" for key, value in values.items()}


def _cli_line(request: model.Request) -> str:
    return "plateau erlang " + " ".join(f"--{key.replace('_', '-')} {value}"
                                        for key, value in _model_units(request).items())


def _api_url(request: model.Request) -> str:
    return "/api/staffing/erlang?" + urlencode(_model_units(request))


@dataclass(frozen=True)
class Point:
    agents: int
    x: float
    y: float
    service_level: float
    needed: bool
    asked: bool


@dataclass(frozen=True)
class Chart:
    """Service level against agents, drawn from the table's own rows (same data, same order).

    Coordinates are in the SVG's viewBox; the template only draws them.
    """

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    points: list[Point]
    x_ticks: list[tuple[float, int]]
    y_ticks: list[tuple[float, int]]
    target_y: float
    target: float

    WIDTH = 640
    HEIGHT = 320
    MARGIN = (56, 24, 20, 52)  # left, right, top, bottom

    @classmethod
    def of(cls, study: model.Study) -> "Chart":
        left, right, top, bottom = cls.MARGIN
        plot_w, plot_h = cls.WIDTH - left - right, cls.HEIGHT - top - bottom
        rows = study.rows
        first, last = rows[0].agents, rows[-1].agents
        span = max(1, last - first)

        def x_of(agents: int) -> float:
            return round(left + (agents - first) * plot_w / span, 1)

        def y_of(level: float) -> float:
            return round(top + (1 - level) * plot_h, 1)

        asked = study.request.agents
        points = [Point(row.agents, x_of(row.agents), y_of(row.service_level), row.service_level,
                        row.agents == study.needed.agents, row.agents == asked) for row in rows]
        step = max(1, -(-(last - first) // 10))  # at most about ten labels on the agents axis
        x_ticks = [(x_of(n), n) for n in range(first, last + 1) if (n - first) % step == 0]
        y_ticks = [(y_of(p / 100), p) for p in (0, 25, 50, 75, 100)]
        return cls(width=cls.WIDTH, height=cls.HEIGHT, left=left, right=cls.WIDTH - right, top=top,
                   bottom=cls.HEIGHT - bottom, points=points, x_ticks=x_ticks, y_ticks=y_ticks,
                   target_y=y_of(study.request.target_sl), target=study.request.target_sl)

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.points)


# --- JSON API ------------------------------------------------------------------------------------


class ErlangOut(BaseModel):
    load_erlangs: float = Field(description="offered load A = calls × AHT ÷ interval")
    agents: int = Field(description="agents on the phones: the fewest that reach the targets, or those given")
    probability_wait: float = Field(description="share of calls that wait at all (Erlang C)")
    service_level: float = Field(description="share of calls answered within target_time")
    asa_seconds: float | None = Field(description="average speed of answer; null when agents ≤ load (unbounded)")
    occupancy: float = Field(description="share of agents' time on calls: load ÷ agents, at most 1")
    scheduled_agents: int = Field(description="agents to schedule so that `agents` remain after shrinkage")


@api.get("/erlang", response_model=ErlangOut)
def erlang_api(
    calls: str | None = Query(None, description="calls in the interval"),
    interval: str | None = Query(None, description="interval length, seconds (1800 = 30 min)"),
    aht: str | None = Query(None, description="average handling time, seconds (talk + hold + wrap-up)"),
    target_sl: str | None = Query(None, description="target service level, a fraction in (0, 1): 0.8"),
    target_time: str | None = Query(None, description="the service level's answer time, seconds"),
    agents: str | None = Query(None, description="evaluate this many agents instead of searching"),
    shrinkage: str | None = Query(None, description="share of scheduled time off the phones, in [0, 1); 0 if absent"),
    max_occupancy: str | None = Query(None, description="occupancy cap for the search, in (0, 1]; 1 if absent"),
    actor: Actor = Depends(supervisor_actor),
):
    """Erlang C staffing, as ``plateau erlang`` prints it; 422 with one message per refused parameter."""
    typed = {"calls": calls, "interval": interval, "aht": aht, "target_sl": target_sl, "target_time": target_time,
             "agents": agents, "shrinkage": shrinkage, "max_occupancy": max_occupancy}
    return model.answer(model.read(typed, API_FIELDS)).as_dict()


router.include_router(api)
