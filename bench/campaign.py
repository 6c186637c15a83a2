"""Outbound campaign dialing (``make bench``, or ``python bench/campaign.py [SEEDS]``).

``plateau simulate-campaign`` for the issue's inputs — 20 agents, 20 000
contacts, 4 hours, seed 1 — in progressive and predictive mode side by side,
the same figures the command prints, with the time each run took. Then the
same day for a few more seeds, to show how far chance alone moves the
figures: the worst abandon rate and the smallest occupancy gain.

Aim (issue 4): predictive stays ≤ 3 % abandoned with clearly higher
occupancy than progressive.
"""

from __future__ import annotations

import sys
import time

from plateau.commands.simulate_campaign import figure_rows, table
from plateau.domain.campaigns import MODE_LABELS, DialMode
from plateau.services.campaign_simulation import simulate_campaign

ISSUE = dict(agents=20, contacts=20_000, hours=4.0)
MODES = ("progressive", "predictive")


def timed_run(mode: str, seed: int):
    started = time.perf_counter()
    run = simulate_campaign(mode=mode, seed=seed, **ISSUE)
    return run, time.perf_counter() - started


def bench_campaign(seeds: int = 5) -> None:
    runs, times = zip(*(timed_run(mode, 1) for mode in MODES))
    rows = figure_rows(list(runs))
    rows.append(("Durée du calcul", [f"{elapsed:.2f} s".replace(".", ",") for elapsed in times]))
    print(f"Campaign dialing: plateau simulate-campaign --agents {ISSUE['agents']} --contacts {ISSUE['contacts']} "
          f"--hours {ISSUE['hours']:g} --seed 1")
    for line in table([MODE_LABELS[DialMode(mode)] for mode in MODES], rows):
        print(f"  {line}")
    progressive, predictive = runs
    gain = predictive.occupancy - progressive.occupancy
    verdict = "ok" if predictive.abandon_rate <= predictive.abandon_cap and gain >= 0.05 else "BELOW AIM"
    print(f"{'predictive vs progressive':34s} abandon {predictive.abandon_rate:.2%} "
          f"(cap {predictive.abandon_cap:.0%}), occupancy +{gain * 100:.1f} points (aim: ≤ cap and clearly higher: {verdict})")
    worst_rate, smallest_gain, spent = 0.0, 1.0, 0.0
    for seed in range(2, seeds + 1):
        (p, tp), (q, tq) = timed_run("progressive", seed), timed_run("predictive", seed)
        worst_rate = max(worst_rate, q.abandon_rate)
        smallest_gain = min(smallest_gain, q.occupancy - p.occupancy)
        spent += tp + tq
    if seeds >= 2:
        verdict = "ok" if worst_rate <= predictive.abandon_cap else "ABOVE CAP"
        print(f"{'same day, seeds 2–' + str(seeds):34s} predictive abandon at worst {worst_rate:.2%} ({verdict}), "
              f"occupancy gain at least +{smallest_gain * 100:.1f} points  ({spent:.1f} s)")


if __name__ == "__main__":
    bench_campaign(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
