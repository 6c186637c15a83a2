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
which is exact and never overflows, even for thousands of agents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: an upper bound on the search, far above any real floor
MAX_AGENTS = 100_000


def traffic(calls: float, interval_s: float, aht_s: float) -> float:
    """Offered load in erlangs."""
    if interval_s <= 0:
        raise ValueError("interval must be positive")
    return calls * aht_s / interval_s


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of an Erlang B system (used to reach C)."""
    b = 1.0
    for k in range(1, agents + 1):
        b = load * b / (k + load * b)
    return b


def probability_wait(agents: int, load: float) -> float:
    """Erlang C: the probability that a call waits at all."""
    if load <= 0:
        return 0.0
    if agents <= load:
        return 1.0
    b = erlang_b(agents, load)
    return agents * b / (agents - load * (1 - b))


def service_level(agents: int, load: float, aht_s: float, target_time_s: float) -> float:
    """Share of calls answered within ``target_time_s``."""
    if load <= 0:
        return 1.0
    if agents <= load:
        return 0.0
    pw = probability_wait(agents, load)
    return max(0.0, 1.0 - pw * math.exp(-(agents - load) * target_time_s / aht_s))


def asa(agents: int, load: float, aht_s: float) -> float:
    """Average speed of answer, seconds (infinite when the floor is overloaded)."""
    if load <= 0:
        return 0.0
    if agents <= load:
        return math.inf
    return probability_wait(agents, load) * aht_s / (agents - load)


@dataclass(frozen=True)
class Staffing:
    load_erlangs: float
    agents: int
    probability_wait: float
    service_level: float
    asa_seconds: float
    occupancy: float
    scheduled_agents: int

    def as_dict(self) -> dict:
        return {
            "load_erlangs": round(self.load_erlangs, 4),
            "agents": self.agents,
            "probability_wait": round(self.probability_wait, 4),
            "service_level": round(self.service_level, 4),
            "asa_seconds": None if math.isinf(self.asa_seconds) else round(self.asa_seconds, 2),
            "occupancy": round(self.occupancy, 4),
            "scheduled_agents": self.scheduled_agents,
        }


def evaluate(calls: float, interval_s: float, aht_s: float, agents: int, target_time_s: float,
             shrinkage: float = 0.0) -> Staffing:
    """The figures for a given number of agents on the phones."""
    load = traffic(calls, interval_s, aht_s)
    return Staffing(
        load_erlangs=load,
        agents=agents,
        probability_wait=probability_wait(agents, load),
        service_level=service_level(agents, load, aht_s, target_time_s),
        asa_seconds=asa(agents, load, aht_s),
        occupancy=min(1.0, load / agents) if agents else 1.0,
        scheduled_agents=scheduled(agents, shrinkage),
    )


def required(calls: float, interval_s: float, aht_s: float, target_sl: float, target_time_s: float,
             shrinkage: float = 0.0, max_occupancy: float = 1.0) -> Staffing:
    """The fewest agents that reach ``target_sl`` within ``target_time_s`` (and an occupancy cap)."""
    if not 0 < target_sl < 1:
        raise ValueError("target service level must be between 0 and 1 (exclusive)")
    load = traffic(calls, interval_s, aht_s)
    agents = max(1, math.floor(load) + 1)
    while agents < MAX_AGENTS:
        if service_level(agents, load, aht_s, target_time_s) >= target_sl and load / agents <= max_occupancy:
            break
        agents += 1
    return evaluate(calls, interval_s, aht_s, agents, target_time_s, shrinkage)


def scheduled(agents: int, shrinkage: float) -> int:
    """Agents to plan so that ``agents`` are on the phones after shrinkage (breaks, training, absence)."""
    if not 0 <= shrinkage < 1:
        raise ValueError("shrinkage must be in [0, 1)")
    return math.ceil(agents / (1 - shrinkage) - 1e-9)
