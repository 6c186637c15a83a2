"""Erlang C staffing: our ``required()`` against the ``pyworkforce`` package, on the same grid.

``make bench`` installs the ``bench`` extra (``pyworkforce``) first; without
it this still times ours and says why the comparison is missing. The grid is
what planners feed such a tool: half-hour intervals from a quiet line (10
calls) to a large floor (2 000 calls, up to 667 erlangs), handling times from
2 to 10 minutes, the usual service-level targets, with and without an
occupancy cap, 30 % shrinkage.

Both must agree, case by case, on the agents on the phones, the service
level and the ASA (pyworkforce has no ASA: it is computed from its
probability of waiting with the same formula, P(wait) × AHT / (N − A)); the
bench fails loudly otherwise. The agents to schedule agree too, except where
agents / (1 − shrinkage) is a whole number that floating point nudges above
it (21 / 0.7 = 30.000000000000004): pyworkforce's bare ``ceil`` then plans one
agent more than needed; those cases are counted and printed, and any other
difference fails. Timings are the best of a few rounds over the whole grid.
"""

from __future__ import annotations

import itertools
import math
import time

from plateau.domain import erlang

INTERVAL_S = 1800
CALLS = (10, 25, 50, 100, 200, 360, 500, 1000, 2000)
AHT_S = (120, 180, 240, 300, 420, 600)
TARGETS = ((0.8, 20), (0.9, 15), (0.8, 60), (0.7, 30))  # (service level, within seconds)
MAX_OCCUPANCY = (1.0, 0.85)
SHRINKAGE = 0.3
ROUNDS = 3


def grid() -> list[tuple[float, float, float, float, float]]:
    """(calls, AHT s, target SL, target time s, max occupancy) for every combination."""
    return [(calls, aht, sl, t, occ) for calls, aht, (sl, t), occ in itertools.product(CALLS, AHT_S, TARGETS, MAX_OCCUPANCY)]


def ours(case) -> erlang.Staffing:
    calls, aht, sl, t, occ = case
    return erlang.required(calls, INTERVAL_S, aht, sl, t, SHRINKAGE, occ)


def theirs(case, error_c) -> dict:
    """pyworkforce's answer, in seconds throughout (its units only need to agree with each other)."""
    calls, aht, sl, t, occ = case
    model = error_c(transactions=calls, aht=aht, asa=t, interval=INTERVAL_S, shrinkage=SHRINKAGE)
    return model.required_positions(service_level=sl, max_occupancy=occ)


def best_time(function, cases) -> float:
    """Seconds for the whole grid, best of ``ROUNDS``."""
    best = math.inf
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for case in cases:
            function(case)
        best = min(best, time.perf_counter() - started)
    return best


def compare(cases, error_c) -> int:
    """Assert that both tools staff every case alike (the first disagreement stops the bench);
    returns how many cases pyworkforce schedules one more agent on floating-point noise."""
    noise = 0
    for case in cases:
        mine, other = ours(case), theirs(case, error_c)
        calls, aht = case[0], case[1]
        load = calls * aht / INTERVAL_S
        n = other["raw_positions"]
        their_asa = other["waiting_probability"] * aht / (n - load)
        where = f"calls={calls} aht={aht}s target={case[2]:.0%}/{case[3]}s max occupancy={case[4]:.0%}"
        assert mine.agents == n, f"{where}: agents {mine.agents} (Plateau) ≠ {n} (pyworkforce)"
        whole = math.isclose(n / (1 - SHRINKAGE), round(n / (1 - SHRINKAGE)), rel_tol=1e-12)
        if whole and other["positions"] == mine.scheduled_agents + 1:
            noise += 1
        else:
            assert mine.scheduled_agents == other["positions"], \
                f"{where}: scheduled {mine.scheduled_agents} (Plateau) ≠ {other['positions']} (pyworkforce)"
        assert math.isclose(mine.service_level, other["service_level"], rel_tol=1e-9, abs_tol=1e-12), \
            f"{where}: SL {mine.service_level} (Plateau) ≠ {other['service_level']} (pyworkforce)"
        assert math.isclose(mine.asa_seconds, their_asa, rel_tol=1e-9, abs_tol=1e-9), \
            f"{where}: ASA {mine.asa_seconds} s (Plateau) ≠ {their_asa} s (pyworkforce)"
    return noise


def bench_erlang() -> None:
    cases = grid()
    mine = best_time(ours, cases)
    per_case = mine / len(cases) * 1e6
    print(f"{'Erlang C staffing (Plateau)':34s} cases={len(cases)}  {mine * 1000:8.2f} ms  ({per_case:.1f} µs/case)")
    try:
        from pyworkforce.queuing import ErlangC
    except Exception as exc:  # not installed, or a dependency (ortools, pandas) that fails to import
        print(f"{'Erlang C staffing (pyworkforce)':34s} not run: pyworkforce unavailable ({type(exc).__name__}: {exc}); "
              f"install it with: .venv/bin/pip install -e '.[bench]'")
        return
    noise = compare(cases, ErlangC)
    theirs_s = best_time(lambda case: theirs(case, ErlangC), cases)
    ratio = theirs_s / mine if mine else math.inf
    verdict = "ok" if ratio > 1 else "SLOWER"
    print(f"{'Erlang C staffing (pyworkforce)':34s} cases={len(cases)}  {theirs_s * 1000:8.2f} ms  "
          f"({theirs_s / len(cases) * 1e6:.1f} µs/case)")
    print(f"{'Erlang C: Plateau vs pyworkforce':34s} same agents, SL and ASA in all {len(cases)} cases; "
          f"Plateau {ratio:.1f}× faster (aim: faster than pyworkforce: {verdict})")
    print(f"{'':34s} scheduled agents: same in {len(cases) - noise} cases; in {noise}, agents / (1 − shrinkage) is whole "
          f"and pyworkforce's ceil of the float plans one agent more")


if __name__ == "__main__":
    bench_erlang()
