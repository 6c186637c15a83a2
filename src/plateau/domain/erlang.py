"""Erlang C: how many agents a volume of calls needs (staffing, "dimensionnement").

The model: calls arrive at random (Poisson), handling times are exponential
with mean AHT (talk + hold + wrap-up), nobody hangs up while waiting, and a
waiting call goes to the first free agent. With ``A = calls × AHT / interval``
erlangs of traffic and ``N`` agents:

    P(wait) = C(N, A) = [A^N / N! × N / (N − A)] / [Σ_{k<N} A^k / k! + A^N / N! × N / (N − A)]
    service level  SL(t) = 1 − C(N, A) × e^{−(N − A) × t / AHT}
    ASA            = C(N, A) × AHT / (N − A)
    occupancy      = A / N

Below ``N ≤ A`` the queue grows without bound: P(wait) = 1, SL = 0, ASA = ∞.
The sum is computed with the Erlang B recurrence (B₀ = 1, Bₖ = A·Bₖ₋₁ / (k + A·Bₖ₋₁)),
which is exact and never overflows, even for thousands of agents; then
C = N·B / (N − A·(1 − B)).

The search for the fewest agents walks N upwards from the first stable value
(⌊A⌋ + 1) carrying Bₙ along, so each candidate costs one step of the
recurrence instead of a fresh O(N) sum: the whole search is O(N).

``read`` turns what a person typed (CLI options, query parameters, a form)
into a checked ``Request``, with one precise French message per refused field;
each surface names its fields and may show some in other units (per cent,
minutes) through ``Field``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Mapping

from .errors import DomainError, N_, ValidationError

#: an upper bound on the number of agents, far above any real floor
MAX_AGENTS = 100_000
#: the largest load ``read`` accepts: its staffing, even under a tight occupancy cap, stays below MAX_AGENTS
MAX_LOAD = 50_000
#: what-if tables run from the first stable staffing to the required one and this many more…
SPREAD = 5
#: …in at most this many rows (the least useful, most overloaded, rows go first)
MAX_ROWS = 40


def traffic(calls: float, interval_s: float, aht_s: float) -> float:
    """Offered load in erlangs: the average number of agents the calls keep busy."""
    if interval_s <= 0:
        raise ValueError("interval must be positive")
    return calls * aht_s / interval_s


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of an Erlang B system (used to reach C)."""
    b = 1.0
    for k in range(1, agents + 1):
        b = load * b / (k + load * b)
    return b


def _figures(agents: int, load: float, b: float, aht_s: float, target_time_s: float) -> tuple[float, float, float]:
    """P(wait), SL and ASA from the Erlang B value ``b`` of (agents, load): the one place of the formulas."""
    if load <= 0:
        return 0.0, 1.0, 0.0
    if agents <= load:
        return 1.0, 0.0, math.inf
    pw = agents * b / (agents - load * (1 - b))
    sl = max(0.0, 1.0 - pw * math.exp(-(agents - load) * target_time_s / aht_s))
    return pw, sl, pw * aht_s / (agents - load)


def probability_wait(agents: int, load: float) -> float:
    """Erlang C: the probability that a call waits at all."""
    return _figures(agents, load, erlang_b(agents, load), 1.0, 0.0)[0]


def service_level(agents: int, load: float, aht_s: float, target_time_s: float) -> float:
    """Share of calls answered within ``target_time_s``."""
    return _figures(agents, load, erlang_b(agents, load), aht_s, target_time_s)[1]


def asa(agents: int, load: float, aht_s: float) -> float:
    """Average speed of answer, seconds, over all calls (infinite when the floor is overloaded)."""
    return _figures(agents, load, erlang_b(agents, load), aht_s, 0.0)[2]


@dataclass(frozen=True)
class Staffing:
    load_erlangs: float
    agents: int
    probability_wait: float
    service_level: float
    asa_seconds: float
    occupancy: float
    scheduled_agents: int

    @property
    def overloaded(self) -> bool:
        """More traffic than agents: the queue never empties (SL 0, ASA unbounded)."""
        return self.load_erlangs > 0 and self.agents <= self.load_erlangs

    def as_dict(self) -> dict:
        """The figures the CLI prints and the API returns (ASA ``None`` when unbounded: JSON has no ∞)."""
        return {
            "load_erlangs": round(self.load_erlangs, 4),
            "agents": self.agents,
            "probability_wait": round(self.probability_wait, 4),
            "service_level": round(self.service_level, 4),
            "asa_seconds": None if math.isinf(self.asa_seconds) else round(self.asa_seconds, 2),
            "occupancy": round(self.occupancy, 4),
            "scheduled_agents": self.scheduled_agents,
        }


def _staffing(load: float, agents: int, b: float, aht_s: float, target_time_s: float, shrinkage: float) -> Staffing:
    pw, sl, wait = _figures(agents, load, b, aht_s, target_time_s)
    return Staffing(load_erlangs=load, agents=agents, probability_wait=pw, service_level=sl, asa_seconds=wait,
                    occupancy=min(1.0, load / agents) if agents else (1.0 if load > 0 else 0.0),
                    scheduled_agents=scheduled(agents, shrinkage))


def _walk(load: float, start: int) -> Iterator[tuple[int, float]]:
    """(N, Erlang B of N) for N = start, start + 1, … — one recurrence step per value."""
    agents, b = start, erlang_b(start, load)
    while True:
        yield agents, b
        agents += 1
        b = load * b / (agents + load * b)


def first_stable(load: float) -> int:
    """The fewest agents for which the queue does not grow without bound (N > A), at least one."""
    return max(1, math.floor(load) + 1)


def evaluate(calls: float, interval_s: float, aht_s: float, agents: int, target_time_s: float,
             shrinkage: float = 0.0) -> Staffing:
    """The figures for a given number of agents on the phones."""
    load = traffic(calls, interval_s, aht_s)
    return _staffing(load, agents, erlang_b(agents, load), aht_s, target_time_s, shrinkage)


def required(calls: float, interval_s: float, aht_s: float, target_sl: float, target_time_s: float,
             shrinkage: float = 0.0, max_occupancy: float = 1.0) -> Staffing:
    """The fewest agents that reach ``target_sl`` within ``target_time_s`` (and an occupancy cap).

    At least one agent even without traffic: an open queue needs someone to answer.
    """
    if not 0 < target_sl < 1:
        raise ValueError("target service level must be between 0 and 1 (exclusive)")
    if not 0 < max_occupancy <= 1:
        raise ValueError("maximum occupancy must be in (0, 1]")
    scheduled(0, shrinkage)  # refuse a bad shrinkage before searching
    load = traffic(calls, interval_s, aht_s)
    if load >= MAX_AGENTS:
        raise ValueError(f"a load of {load} erlangs needs more than {MAX_AGENTS} agents")
    for agents, b in _walk(load, first_stable(load)):
        if load / agents <= max_occupancy and _figures(agents, load, b, aht_s, target_time_s)[1] >= target_sl:
            return _staffing(load, agents, b, aht_s, target_time_s, shrinkage)
        if agents >= MAX_AGENTS:
            raise ValueError(f"no staffing up to {MAX_AGENTS} agents reaches the target")
    raise AssertionError("unreachable")  # pragma: no cover - _walk never ends


def levels(calls: float, interval_s: float, aht_s: float, target_time_s: float, first: int, last: int,
           shrinkage: float = 0.0) -> list[Staffing]:
    """The figures for every staffing from ``first`` to ``last`` agents (a what-if table), in one pass."""
    load = traffic(calls, interval_s, aht_s)
    rows: list[Staffing] = []
    if last < first:
        return rows
    for agents, b in _walk(load, max(0, first)):
        rows.append(_staffing(load, agents, b, aht_s, target_time_s, shrinkage))
        if agents >= last:
            return rows
    raise AssertionError("unreachable")  # pragma: no cover


def scheduled(agents: int, shrinkage: float) -> int:
    """Agents to plan so that ``agents`` are on the phones after shrinkage (breaks, training, absence).

    Rounded up, but a quotient that is whole up to floating-point noise stays whole
    (21 agents at 30 % is 30, not the 31 that ``ceil(21 / 0.7)`` = ``ceil(30.000000000000004)`` gives).
    """
    if not 0 <= shrinkage < 1:
        raise ValueError("shrinkage must be in [0, 1)")
    return math.ceil(agents / (1 - shrinkage) - 1e-9)


# --- reading what people type --------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """A staffing question in model units (seconds, fractions); ``agents`` set: evaluate, else search."""

    calls: float
    interval_s: float
    aht_s: float
    target_sl: float
    target_time_s: float
    agents: int | None = None
    shrinkage: float = 0.0
    max_occupancy: float = 1.0

    def reached_by(self, staffing: Staffing) -> bool:
        """Whether ``staffing`` meets this question's service level and occupancy cap."""
        return staffing.service_level >= self.target_sl and staffing.occupancy <= self.max_occupancy


def answer(request: Request) -> Staffing:
    """The staffing for ``request.agents`` if given, else the fewest agents that reach the targets."""
    if request.agents is not None:
        return evaluate(request.calls, request.interval_s, request.aht_s, request.agents, request.target_time_s,
                        request.shrinkage)
    return required(request.calls, request.interval_s, request.aht_s, request.target_sl, request.target_time_s,
                    request.shrinkage, request.max_occupancy)


@dataclass(frozen=True)
class Study:
    """What the staffing page shows: the answer, the staffing that meets the targets, and a what-if table."""

    request: Request
    staffing: Staffing  # for the agents asked about, or the required staffing when none were given
    needed: Staffing  # the fewest agents that reach the targets
    rows: list[Staffing]  # first stable staffing to needed + SPREAD, stretched to the agents asked about if
    # that keeps it within MAX_ROWS; at most MAX_ROWS, the lowest dropped first

    @property
    def meets_target(self) -> bool:
        return self.request.reached_by(self.staffing)


def study(request: Request) -> Study:
    """The answer to ``request`` with the context a planner needs to judge it."""
    r = request
    needed = required(r.calls, r.interval_s, r.aht_s, r.target_sl, r.target_time_s, r.shrinkage, r.max_occupancy)
    first, last = first_stable(needed.load_erlangs), needed.agents + SPREAD
    if r.agents is not None:
        low, high = min(first, r.agents), max(last, r.agents)
        if high - low < MAX_ROWS:
            first, last = low, high
    first = max(first, last - MAX_ROWS + 1)
    rows = levels(r.calls, r.interval_s, r.aht_s, r.target_time_s, first, last, r.shrinkage)
    return Study(request=r, staffing=answer(r) if r.agents is not None else needed, needed=needed, rows=rows)


@dataclass(frozen=True)
class Rule:
    """What a ``Request`` attribute accepts, in model units; ``low``/``high`` exclusive when ``*_open``."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    integer: bool = False
    required: bool = True
    default: float | None = None  # what a blank optional field means


RULES: dict[str, Rule] = {
    "calls": Rule(low=0),
    "interval_s": Rule(low=0, low_open=True),
    "aht_s": Rule(low=0, low_open=True),
    "target_sl": Rule(low=0, high=1, low_open=True, high_open=True),
    "target_time_s": Rule(low=0),
    "agents": Rule(low=1, high=MAX_AGENTS, integer=True, required=False),  # blank: search for the fewest
    "shrinkage": Rule(low=0, high=1, high_open=True, required=False, default=0.0),
    "max_occupancy": Rule(low=0, high=1, low_open=True, required=False, default=1.0),
}


@dataclass(frozen=True)
class Field:
    """How one surface shows a ``Request`` attribute: its name there, and its unit.

    A typed value ``v`` means ``v × num / den`` in model units: per cent is
    ``den=100`` (80 → 0.8), minutes are ``num=60`` (30 → 1800 s); bounds in
    messages are shown in the surface's unit, followed by ``suffix``.
    """

    name: str
    num: float = 1
    den: float = 1
    suffix: str = ""


def read(raw: Mapping[str, object], fields: Mapping[str, Field]) -> Request:
    """A checked ``Request`` from typed values (``fields`` maps each attribute to its surface field).

    Accepts French decimals ("0,8", "1 800"); a blank optional field takes its
    default. Raises ``ValidationError`` keyed by the surface's field names, one
    message per refused field, so the caller can show each next to its control.
    """
    values: dict[str, float | int | None] = {}
    errors: dict[str, DomainError] = {}
    for attr, rule in RULES.items():
        field = fields[attr]
        text = _text(raw.get(field.name))
        if not text:
            if rule.required:
                errors[field.name] = DomainError(N_("Champ obligatoire."), field.name)
            else:
                values[attr] = rule.default
            continue
        try:
            typed = _number(text)
        except ValueError:
            errors[field.name] = DomainError(N_("« %(value)s » n'est pas un nombre."), field.name, value=text)
            continue
        if rule.integer and typed != int(typed):
            errors[field.name] = DomainError(N_("Nombre entier attendu (reçu « %(value)s »)."), field.name, value=text)
            continue
        value = typed * field.num / field.den
        problem = _out_of_bounds(value, rule)
        if problem:
            shown = {k: _shown(v * field.den / field.num) + field.suffix for k, v in (("low", rule.low), ("high", rule.high))
                     if v is not None}
            errors[field.name] = DomainError(problem, field.name, value=text, **shown)
            continue
        values[attr] = int(value) if rule.integer else value
    if not errors:
        load = traffic(values["calls"], values["interval_s"], values["aht_s"])
        if load >= MAX_LOAD:
            name = fields["calls"].name
            errors[name] = DomainError(
                N_("La charge de %(load)s erlangs dépasse ce que l'outil sait dimensionner (moins de %(max)s)."),
                name, load=_shown(round(load, 1)), max=_shown(MAX_LOAD))
        elif load / values["max_occupancy"] >= MAX_LOAD:
            name = fields["max_occupancy"].name
            errors[name] = DomainError(
                N_("Avec ce plafond d'occupation, il faudrait plus de %(max)s agents : relevez-le."),
                name, max=_shown(MAX_LOAD))
    if errors:
        raise ValidationError(errors)
    return Request(**values)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _number(text: str) -> float:
    """A finite number, French style accepted: decimal comma, spaces (also narrow no-break) between thousands."""
    cleaned = text.replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace(",", ".")
    value = float(cleaned)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _out_of_bounds(value: float, rule: Rule) -> str | None:
    """The message id for a value outside the rule's bounds, or None."""
    below = rule.low is not None and (value <= rule.low if rule.low_open else value < rule.low)
    above = rule.high is not None and (value >= rule.high if rule.high_open else value > rule.high)
    if not (below or above):
        return None
    if rule.high is None:
        if rule.low_open:
            return N_("Doit être strictement supérieur à %(low)s (reçu « %(value)s »).")
        return N_("Doit être supérieur ou égal à %(low)s (reçu « %(value)s »).")
    if rule.low_open and rule.high_open:
        return N_("Doit être strictement compris entre %(low)s et %(high)s (reçu « %(value)s »).")
    if rule.high_open:
        return N_("Doit être compris entre %(low)s inclus et %(high)s exclu (reçu « %(value)s »).")
    if rule.low_open:
        return N_("Doit être compris entre %(low)s exclu et %(high)s inclus (reçu « %(value)s »).")
    return N_("Doit être compris entre %(low)s et %(high)s (reçu « %(value)s »).")


def _shown(value: float) -> str:
    """A bound as people write it: 0, 1, 100, 0,5 (no trailing zeros)."""
    return f"{value:.10g}".replace(".", ",")
