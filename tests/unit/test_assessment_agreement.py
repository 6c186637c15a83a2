"""Agreement between the evaluator and a human assessor on the labelled set (``tests/data/assessment``).

Each file is a call transcript written for this purpose, in French, with the
labels a human assessor gave for every FILEA criterion (``labels``; the
reasons for the debatable ones in ``label_notes``). The test prints, for
each criterion judged from the call, how often ``assess()`` agrees with the
labels, names the weakest criteria and the calls where they disagree, and
requires at least 90 % agreement overall. ``docs/assessment.md`` explains
how the set was written and gives the figures.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from plateau.domain.assessment import AssessOptions, assess
from plateau.domain.assessment_call import parse_call
from plateau.services import frameworks
from plateau.services.assessment_settings import load_settings

FILEA = "filea-appels-sortants"
SET_DIR = Path(__file__).resolve().parents[1] / "data" / "assessment"
REQUIRED = 0.90


def _labelled():
    return [(path.stem, parse_call(json.loads(path.read_text(encoding="utf-8"))))
            for path in sorted(SET_DIR.glob("*.json"))]


@pytest.fixture(scope="module")
def labelled():
    return _labelled()


@pytest.fixture(scope="module")
def outcomes(labelled):
    framework, settings = frameworks.get(FILEA), load_settings()
    return {name: assess(call, framework, AssessOptions(settings)) for name, call in labelled}


def test_the_set_is_large_labels_every_criterion_and_covers_both_outcomes(labelled):
    framework = frameworks.get(FILEA)
    ids = [c.id for c in framework.criteria()]
    assert len(labelled) >= 30
    seen: dict[str, Counter] = {criterion: Counter() for criterion in ids}
    for name, call in labelled:
        assert sorted(call.labels) == sorted(ids), name
        for criterion, label in call.labels.items():
            seen[criterion][label] += 1
            if not framework.criterion(criterion).from_call:
                assert label == "not_assessable", (name, criterion)
    for criterion in ids:
        if framework.criterion(criterion).from_call:
            assert seen[criterion]["met"] >= 3 and seen[criterion]["not_met"] >= 3, (criterion, seen[criterion])


def test_evidence_quotes_the_transcript_exactly(labelled, outcomes):
    for name, call in labelled:
        texts = {turn.index: turn.text for turn in call.turns}
        for criterion in outcomes[name].criteria:
            for item in criterion.evidence:
                if item.kind == "turn":
                    assert item.quote in texts[item.turn], (name, criterion.id, item.quote)
                    assert item.t == call.turns[item.turn].t


def test_agreement_with_the_human_labels(labelled, outcomes, capsys):
    framework = frameworks.get(FILEA)
    agree: Counter = Counter()
    total: Counter = Counter()
    misses: dict[str, list[str]] = {}
    for name, call in labelled:
        for result in outcomes[name].criteria:
            if not framework.criterion(result.id).from_call:
                continue
            label = call.labels[result.id]
            total[result.id] += 1
            if result.result == label:
                agree[result.id] += 1
            else:
                misses.setdefault(result.id, []).append(f"{name[:2]} (étiquette {label}, évaluateur {result.result})")
    rows = [(criterion, agree[criterion] / total[criterion], total[criterion]) for criterion in total]
    overall = sum(agree.values()) / sum(total.values())
    weakest = sorted(rows, key=lambda row: (row[1], row[0]))[:3]
    lines = ["", f"Accord évaluateur / étiquettes humaines — {len(labelled)} appels, critères FILEA jugeables "
                 "depuis l'appel", f"{'critère':<28} {'accord':>7} {'n':>4}"]
    lines += [f"{criterion:<28} {share:>6.1%} {n:>4}".replace("%", " %") for criterion, share, n in rows]
    lines.append(f"{'ensemble':<28} {overall:>6.1%} {sum(total.values()):>4}".replace("%", " %"))
    lines.append("Critères les plus faibles : " + " ; ".join(
        f"{criterion.rsplit('/', 1)[1]} ({share * 100:.0f} %{' : ' + ', '.join(misses[criterion]) if criterion in misses else ''})"
        for criterion, share, _n in weakest))
    with capsys.disabled():
        print("\n".join(lines))
    assert overall >= REQUIRED, "\n".join(lines)
