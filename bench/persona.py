"""The simulated caller: how long one reply takes (``Persona.on_agent_turn``), median and p95.

Every scenario of ``data/scenarios`` is played with the strong and the weak
agents of ``tests/data/scenarios`` (their lines only), several rounds with
different seeds; each agent turn is timed on its own, from the agent's text
to the caller's reply (listening rules, facts, objections, mood, the seeded
choice of wording, the log entry). Loading the scenarios is not timed: it
happens once per process. Run alone: ``python bench/persona.py``.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import yaml

from plateau.domain.persona import Persona, actions
from plateau.services.scenarios import load_scenarios

ROOT = Path(__file__).resolve().parents[1]
AGENTS = ROOT / "tests" / "data" / "scenarios"
ROUNDS = 20
TARGET_MS = 5.0


def _lines() -> list[tuple[str, list[str]]]:
    runs = []
    for path in sorted(AGENTS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for run in ("strong", "weak"):
            runs.append((data["scenario"], [a.say for a in actions(data[run]["lines"]) if a.say]))
    return runs


def bench_persona(rounds: int = ROUNDS) -> None:
    scenarios = load_scenarios()
    runs = _lines()
    samples: list[float] = []
    for seed in range(rounds):
        for code, lines in runs:
            state = Persona.start(scenarios[code], seed, "Julie Roche")
            for n, line in enumerate(lines):
                if state.ended:
                    break
                started = time.perf_counter()
                state.on_agent_turn(line, 5.0 * n)
                samples.append((time.perf_counter() - started) * 1000)
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    median = statistics.median(ordered)
    verdict = "ok" if p95 < TARGET_MS else "ABOVE TARGET"
    print(f"{'simulated caller reply':34s} n={len(samples):5d}  median={median:7.3f} ms  p95={p95:7.3f} ms  "
          f"({len(scenarios)} scenarios, strong and weak agents; target p95 < {TARGET_MS:g} ms: {verdict})")


if __name__ == "__main__":
    bench_persona()
