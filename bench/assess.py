"""Assessing a 10-minute call: the evaluator's time for one call (``domain.assessment.assess``).

The call is built from the labelled transcripts (``tests/data/assessment``):
their turns end to end until about 150 turns, re-timed over 10 minutes,
with their events (holds, CRM updates, actions, qualification). It is
assessed against FILEA and against the MC ACVD framework (the one with the
most checks), from the parsed call to the result, with the text caches
emptied before each run so that no run profits from the previous one.
Printed: the median and p95 over the runs (aim: median < 50 ms).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from plateau.domain.assessment import AssessOptions, assess
from plateau.domain.assessment_call import CallRecord, parse_call
from plateau.domain.assessment_language import normalise
from plateau.domain.text import fold
from plateau.services import frameworks
from plateau.services.assessment_settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "tests" / "data" / "assessment"
TURNS, SECONDS, RUNS = 150, 600.0, 40


def ten_minute_call(turns: int = TURNS, seconds: float = SECONDS) -> CallRecord:
    """About ``turns`` turns over ``seconds``, from the labelled calls put end to end."""
    pieces, events, offset = [], [], 0.0
    for path in sorted(LABELLED.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if len(pieces) >= turns:
            break
        last = data["turns"][-1]["t"] + 5
        pieces += [{**turn, "t": turn["t"] + offset} for turn in data["turns"]]
        events += [{**event, "t": event["t"] + offset} for event in data["events"]
                   if event["type"] not in ("hangup", "disposition")]
        offset += last
    pieces = pieces[:turns]
    scale = seconds / (pieces[-1]["t"] or 1)
    for turn in pieces:
        turn["t"] = round(turn["t"] * scale, 1)
    events = [{**event, "t": round(min(event["t"] * scale, seconds), 1)} for event in events]
    events += [{"t": seconds + 2, "type": "hangup", "by": "agent"}, {"t": seconds + 30, "type": "disposition",
                                                                     "code": "rdv-pris"}]
    return parse_call({"direction": "outbound", "company": {"name": "Énergie Horizon"},
                       "agent": {"name": "Julie Moreau"}, "scenario": "bench", "turns": pieces,
                       "events": sorted(events, key=lambda e: e["t"]), "targets": {"duration_s": seconds}})


def _timed(call: CallRecord, framework, options: AssessOptions, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        normalise.cache_clear()
        fold.cache_clear()
        started = time.perf_counter()
        assess(call, framework, options)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def bench_assess(runs: int = RUNS) -> None:
    call = ten_minute_call()
    options = AssessOptions(load_settings())
    for code in ("filea-appels-sortants", "mc-acvd"):
        framework = frameworks.get(code)
        assess(call, framework, options)  # warm: imports, compiled expressions
        samples = sorted(_timed(call, framework, options, runs))
        median = statistics.median(samples)
        p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
        verdict = "ok" if median < 50 else "ABOVE TARGET"
        print(f"{'assess a 10-minute call (' + code.split('-')[0] + ')':34s} turns={len(call.turns)}  "
              f"criteria={len(framework.criteria())}  p50={median:7.2f} ms  p95={p95:7.2f} ms  "
              f"(target p50 < 50 ms: {verdict})")


if __name__ == "__main__":
    bench_assess()
