"""Every scenario, played by its strong agent and its weak one through the simulated caller, then assessed.

The agents are those of ``tests/data/scenarios/<code>.yaml`` (see the README there). Each run is played
with the file's seed (``domain.persona.play``), exported as the desktop exports a practice call — the
caller's ``CALL.json`` with the greeting and closing charters and the « mots à bannir » of the call
script the scenario follows (``services.call_export`` does the same for a stored call) — and assessed
against the scenario's framework, restricted to the scenario's criteria, with the scenario's time target.

- The strong run passes its framework: by the framework's rule (FILEA: 70 % of the assessed
  criteria), else by the settings' ``default_threshold`` (70 %).
- The weak run fails, and every criterion of its ``expected_not_met`` list — what a trainer marks
  not met in that transcript — is not met, with its evidence pointing at the right turns.

« The right turns », for each check that fails such a criterion (``RIGHT_TURNS``), is where a trainer
would put a finger on the fault:

- the opening (``presentation``, ``greeting_charter``: the agent's first ``presentation_agent_turns``
  turns; ``purpose``, ``purpose_consent``, ``identification``: its first ``opening_agent_turns``) and
  the closing (``leave_taking``, ``closing_charter``: its last ``closing_agent_turns``);
- ``banned_words``: exactly the agent's turns that contain one of the call's « mots à bannir »;
- ``empathy``: a caller turn voicing distress, with no empathy quoted in the agent's next two turns;
  ``objection_handling``: a caller objection and the agent's very next turn, quoted as no answer;
  ``elicit_objections``: the caller's reservations;
- questioning (``questionnaire``, ``discovery``, ``open_questions``, ``information_gathering``): the
  agent's questions (turns with « ? ») and the caller's replies to them; nothing only when the agent
  asked no question at all;
- listening (``reformulation``, ``active_listening``): the caller's turns that told something (a real
  answer: ``substantive_answer_words`` words or more, not only questions back) and that the agent went
  on from; nothing only when the caller never told anything;
- ``agreement``, ``recap``: the agent's proposal and the caller's refusal; ``caller_satisfaction``: the
  caller's last turn;
- what is missing has no turn to point at: ``proposal``, ``argumentation``, ``additional_offer``,
  ``satisfaction_question`` quote no turn; the records (``crm_trace``, ``crm_updates``, ``sale``,
  ``payment_arrangement``, ``disposition``) quote no turn, and the call indeed lacks the record;
  ``duration`` is a timing of the whole call beyond the target.

And in every run, every piece of evidence points at what the call holds: a quoted turn is that
turn (speaker, time, words), an event is that event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable

import pytest
import yaml

from plateau.config import DATA_DIR
from plateau.domain.assessment import AssessOptions, Assessment, assess
from plateau.domain.assessment_call import AGENT, CALLER, CallRecord, Targets, Turn, parse_call
from plateau.domain.assessment_checks import CHECKS
from plateau.domain.assessment_results import NOT_MET, CheckResult, Evidence
from plateau.domain.assessment_settings import AssessmentSettings
from plateau.domain.persona import play
from plateau.domain.scenarios import Scenario
from plateau.domain.scripts import Script, parse_script
from plateau.domain.text import fold
from plateau.services import frameworks, scenarios
from plateau.services.assessment_settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
AGENT_FILES = sorted((ROOT / "tests" / "data" / "scenarios").glob("*.yaml"))
CODES = [path.stem for path in AGENT_FILES]


@lru_cache(maxsize=None)
def agents(code: str) -> dict:
    return yaml.safe_load((ROOT / "tests" / "data" / "scenarios" / f"{code}.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def script(code: str) -> Script:
    return parse_script((DATA_DIR / "demo" / "scripts" / f"{code}.yaml").read_text(encoding="utf-8"))


def desktop_call(scenario: Scenario, call: dict) -> dict:
    """The caller's ``CALL.json`` as the desktop exports a practice call: with the charters and the
    « mots à bannir » of the scenario's call script."""
    script_ = script(scenario.script)
    return {**call, "charter": {"company": script_.charter.company, "greeting": script_.charter.greeting,
                                "closing": script_.charter.closing},
            "banned_words": list(script_.banned_words)}


@dataclass(frozen=True)
class Run:
    """One agent played and assessed."""

    code: str
    run: str
    call: CallRecord
    assessment: Assessment
    settings: AssessmentSettings
    target_s: int
    expected: tuple[str, ...] = ()

    @property
    def agent_turns(self) -> list[Turn]:
        return [turn for turn in self.call.turns if turn.speaker == AGENT]

    def next_agent_turns(self, index: int, count: int) -> list[Turn]:
        return [turn for turn in self.call.turns[index + 1:] if turn.speaker == AGENT][:count]

    def table(self) -> str:
        """One line per criterion: result (* expected not met), the turns quoted, the rationale."""
        a = self.assessment
        rows = [f"{self.code} — {'fort' if self.run == 'strong' else 'faible'} : {a.met}/{a.assessed} = "
                f"{a.score:.0%} ({'réussi' if a.passed else 'échoué'}, seuil {a.threshold:.0%})"]
        for item in a.criteria:
            turns = ",".join(str(t) for t in sorted({e.turn for e in item.evidence if e.kind == "turn"}))
            mark = "*" if item.id in self.expected else ""
            rows.append(f"  {item.id:<32} {item.result:<14}{mark:<2}{turns:<16} {item.rationale()[:72]}")
        return "\n".join(rows)


@lru_cache(maxsize=None)
def played(code: str, run: str) -> Run:
    data = agents(code)
    scenario = scenarios.load_scenarios()[code]
    transcript = play(scenario, data["seed"], data[run]["lines"], data["agent"])
    call = parse_call(desktop_call(scenario, transcript.as_call()))
    settings = load_settings()
    options = AssessOptions(settings, criteria=tuple(scenario.framework.criteria),
                            targets=Targets(duration_s=scenario.time_target_s))
    assessment = assess(call, frameworks.get(scenario.framework.code), options)
    return Run(code, run, call, assessment, settings, scenario.time_target_s,
               tuple(data[run].get("expected_not_met", ())))


# --- the right turns, per check -------------------------------------------------------------------------------


def _plain(text: str) -> str:
    return " " + " ".join(re.sub(r"[^a-z0-9]+", " ", fold(text)).split()) + " "


def _quoted(result: CheckResult) -> list[Evidence]:
    return [e for e in result.evidence if e.kind == "turn"]


def _within(turns_of: Callable[[Run], list[Turn]], what: str) -> Callable[[Run, CheckResult], list[str]]:
    """At least one turn quoted, and only turns among ``turns_of(run)``: where the fault is."""
    def rule(run: Run, result: CheckResult) -> list[str]:
        allowed = {turn.index for turn in turns_of(run)}
        quoted = _quoted(result)
        return (["aucune réplique citée"] if not quoted else []) + [
            f"réplique {e.turn} citée hors de {what} {sorted(allowed)}" for e in quoted if e.turn not in allowed]
    return rule


def _opening(param: str) -> Callable[[Run], list[Turn]]:
    return lambda run: run.agent_turns[: getattr(run.settings.params, param)]


def _closing(run: Run) -> list[Turn]:
    return run.agent_turns[-run.settings.params.closing_agent_turns:]


def _banned(run: Run, result: CheckResult) -> list[str]:
    words = run.call.banned_words if run.call.banned_words is not None else run.settings.default_banned_words
    with_word = {turn.index for turn in run.agent_turns if any(_plain(w) in _plain(turn.text) for w in words)}
    quoted = {e.turn for e in _quoted(result)}
    return [f"répliques avec un mot à bannir {sorted(with_word)}, citées {sorted(quoted)}"] if (
        not quoted or quoted != with_word) else []


def _distress(run: Run, result: CheckResult) -> list[str]:
    quoted = _quoted(result)
    shown = {e.turn for e in quoted if e.what == "empathy"}
    missed = [e for e in quoted if e.speaker == CALLER and e.what == "distress"
              and not shown & {t.index for t in run.next_agent_turns(e.turn, 2)}]
    return [] if missed else ["aucune réplique de l'appelé en détresse laissée sans empathie n'est citée"]


def _objection(run: Run, result: CheckResult) -> list[str]:
    quoted = _quoted(result)
    unanswered = {e.turn for e in quoted if e.speaker == AGENT and e.what == "no_answer"}
    for e in quoted:
        following = run.next_agent_turns(e.turn, 1)
        if e.speaker == CALLER and e.what == "objection" and following and following[0].index in unanswered:
            return []
    return ["aucune objection citée avec la réplique de l'agent qui la suit"]


def _reservations(run: Run, result: CheckResult) -> list[str]:
    quoted = _quoted(result)
    wrong = [e.turn for e in quoted if e.speaker != CALLER or e.what != "reservation"]
    return ["aucune réserve citée"] if not quoted else [f"répliques {wrong} citées comme réserves"] if wrong else []


def _asks(turn: Turn) -> bool:
    return "?" in turn.text


def _questions(run: Run, result: CheckResult) -> list[str]:
    quoted = _quoted(result)
    if not quoted:
        asked = [turn.index for turn in run.agent_turns if _asks(turn)]
        return [f"rien n'est cité alors que l'agent pose des questions (répliques {asked})"] if asked else []
    problems = []
    for e in quoted:
        turn = run.call.turns[e.turn]
        before = run.call.turns[e.turn - 1] if e.turn else None
        if turn.speaker == AGENT and not _asks(turn):
            problems.append(f"réplique {e.turn} de l'agent citée sans question")
        if turn.speaker == CALLER and not (before is not None and before.speaker == AGENT and _asks(before)):
            problems.append(f"réplique {e.turn} de l'appelé citée sans question avant elle")
    return problems


def _told(run: Run, turn: Turn) -> bool:
    """A caller's turn that tells something: a real answer, not only questions back."""
    sentences = [s for s in re.split(r"(?<=[.!?…])\s+", turn.text.strip()) if s]
    return (len(_plain(turn.text).split()) >= run.settings.params.substantive_answer_words
            and not all(s.rstrip(" »\"')").endswith("?") for s in sentences))


def _listening(run: Run, result: CheckResult) -> list[str]:
    quoted = _quoted(result)
    told = [turn.index for turn in run.call.turns
            if turn.speaker == CALLER and run.next_agent_turns(turn.index, 1) and _told(run, turn)]
    if not quoted:
        return [f"rien n'est cité alors que l'appelé a expliqué (répliques {told})"] if told else []
    return [f"réplique {e.turn} citée comme non reformulée" for e in quoted
            if e.speaker == CALLER and (e.what != "not_reformulated" or e.turn not in told)]


def _proposal_turns(run: Run, result: CheckResult) -> list[str]:
    return [f"réplique {e.turn} citée" for e in _quoted(result)
            if not ((e.speaker == AGENT and e.what == "proposal" and "propos" in _plain(e.quote or ""))
                    or (e.speaker == CALLER and e.what == "refusal"))]


def _last_caller_turn(run: Run, result: CheckResult) -> list[str]:
    last = [turn.index for turn in run.call.turns if turn.speaker == CALLER][-1:]
    quoted = [e.turn for e in _quoted(result)]
    return [] if quoted == last else [f"citées {quoted}, dernière réplique de l'appelé {last}"]


def _nothing_quoted(run: Run, result: CheckResult) -> list[str]:
    quoted = [e.turn for e in _quoted(result)]
    return [f"ce qui manque ne se cite pas, répliques {quoted} citées"] if quoted else []


def _lacks(*types: str, unless: tuple[str, ...] = ()):
    """A missing record: no turn quoted, and the call indeed holds no event of these types (or, with
    ``unless``, none of those either: a qualification without any record)."""
    def rule(run: Run, result: CheckResult) -> list[str]:
        has = {event.type for event in run.call.events}
        missing = not (has & set(types)) or (bool(unless) and not (has & set(unless)))
        return _nothing_quoted(run, result) + ([] if missing else [f"l'appel contient {sorted(has & set(types))}"])
    return rule


def _too_long(run: Run, result: CheckResult) -> list[str]:
    timings = [e for e in result.evidence if e.kind == "timing" and e.what == "call"]
    if timings and (timings[0].duration_s or 0) > run.target_s:
        return []
    return ["pas de durée d'appel au-delà de la cible"]


RIGHT_TURNS: dict[str, Callable[[Run, CheckResult], list[str]]] = {
    "presentation": _within(_opening("presentation_agent_turns"), "la présentation"),
    "greeting_charter": _within(_opening("presentation_agent_turns"), "l'accueil"),
    "purpose": _within(_opening("opening_agent_turns"), "l'ouverture"),
    "purpose_consent": _within(_opening("opening_agent_turns"), "l'ouverture"),
    "identification": _within(_opening("opening_agent_turns"), "l'ouverture"),
    "leave_taking": _within(_closing, "la conclusion"),
    "closing_charter": _within(_closing, "la conclusion"),
    "banned_words": _banned,
    "empathy": _distress,
    "objection_handling": _objection,
    "elicit_objections": _reservations,
    "questionnaire": _questions,
    "discovery": _questions,
    "open_questions": _questions,
    "information_gathering": _questions,
    "reformulation": _listening,
    "active_listening": _listening,
    "agreement": _proposal_turns,
    "recap": _proposal_turns,
    "caller_satisfaction": _last_caller_turn,
    "proposal": _nothing_quoted,
    "argumentation": _nothing_quoted,
    "additional_offer": _nothing_quoted,
    "satisfaction_question": _nothing_quoted,
    "crm_trace": _lacks("disposition", unless=("crm_update", "note", "script_answer", "survey_answer", "appointment",
                                               "callback", "payment_plan", "sale", "complaint_forwarded")),
    "crm_updates": _lacks("crm_update", "note", "script_answer", "survey_answer"),
    "disposition": _lacks("disposition"),
    "sale": _lacks("sale"),
    "payment_arrangement": _lacks("payment_plan"),
    "duration": _too_long,
}


def _evidence_problems(run: Run) -> list[str]:
    """Evidence that does not point at what the call holds."""
    problems = []
    for item in run.assessment.criteria:
        for e in item.evidence:
            if e.kind == "turn":
                turn = run.call.turns[e.turn]
                if turn.speaker != e.speaker or abs(turn.t - e.t) > 0.05 or (e.quote or "") not in turn.text:
                    problems.append(f"{item.id} : réplique {e.turn} mal citée ({e.quote!r})")
            elif e.kind == "event":
                if run.call.events[e.event].type != e.type:
                    problems.append(f"{item.id} : événement {e.event} n'est pas « {e.type} »")
    return problems


# --- the tests -------------------------------------------------------------------------------------------------


def test_every_scenario_has_its_agents_and_each_check_it_uses_a_rule_for_the_right_turns():
    assert set(CODES) == set(scenarios.load_scenarios())
    settings = load_settings()
    for code in CODES:
        scenario = scenarios.load_scenarios()[code]
        for criterion in scenario.framework.criteria:
            for check, _optional in settings.checks_for(scenario.framework.code, criterion):
                assert check in CHECKS and check in RIGHT_TURNS, (code, criterion, check)


@pytest.mark.parametrize("code", CODES)
def test_the_strong_agent_passes_its_framework(code):
    run = played(code, "strong")
    print("\n" + run.table())
    framework = frameworks.get(scenarios.load_scenarios()[code].framework.code)
    expected_threshold = framework.rule.threshold if framework.rule is not None else run.settings.default_threshold
    assert run.assessment.threshold == expected_threshold
    assert run.assessment.passed, run.table()
    assert not _evidence_problems(run)


@pytest.mark.parametrize("code", CODES)
def test_the_weak_agent_fails_on_the_expected_criteria_with_evidence_at_the_right_turns(code):
    run = played(code, "weak")
    print("\n" + run.table())
    assert run.expected, "the weak agent's file lists the criteria a trainer marks not met (expected_not_met)"
    assert set(run.expected) <= set(scenarios.load_scenarios()[code].framework.criteria)
    assert not run.assessment.passed
    assert not _evidence_problems(run)
    for criterion in run.expected:
        result = run.assessment.result_of(criterion)
        assert result.result == NOT_MET, f"{criterion} : {result.result} — {result.rationale()}"
        failing = [check for check in result.checks if check.result == NOT_MET]
        assert failing
        for check in failing:
            problems = RIGHT_TURNS[check.check](run, check)
            assert not problems, f"{criterion} ({check.check}) : {problems} — {check.rationale()}"


def test_the_rules_refuse_evidence_at_the_wrong_turns():
    """The rules bite: the weak complaint call's evidence moved elsewhere, or dropped, is refused."""
    run = played("reclamation-facture-colere", "weak")

    def check(criterion: str, name: str) -> CheckResult:
        return next(c for c in run.assessment.result_of(criterion).checks if c.check == name)

    def moved(result: CheckResult, turn: int) -> CheckResult:
        return replace(result, evidence=tuple(replace(e, turn=turn) if e.kind == "turn" else e
                                              for e in result.evidence))

    banned, presentation = check("mc-acvd/C1.4/1", "banned_words"), check("mc-acvd/C1.1/1", "presentation")
    empathy, restated = check("mc-acvd/C1.4/2", "empathy"), check("mc-acvd/C1.2/3", "reformulation")
    assert not any(RIGHT_TURNS[c.check](run, c) for c in (banned, presentation, empathy, restated))
    last_agent_turn = run.agent_turns[-1].index
    assert [e.turn for e in _quoted(banned)] == [last_agent_turn]  # « Pas de problème, on va regarder. »
    assert RIGHT_TURNS["banned_words"](run, moved(banned, run.agent_turns[1].index))
    assert RIGHT_TURNS["presentation"](run, moved(presentation, last_agent_turn))
    assert RIGHT_TURNS["empathy"](run, replace(empathy, evidence=()))
    assert RIGHT_TURNS["reformulation"](run, replace(restated, evidence=()))
