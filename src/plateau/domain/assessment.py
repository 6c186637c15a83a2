"""Per-criterion assessment of a call against a competency framework, with evidence.

``assess(call, framework, options)`` is pure and deterministic: for each
criterion of the framework (or of ``options.criteria``) it says ``met``,
``not_met`` or ``not_assessable``, with the evidence (turns quoted exactly,
events, timings) and a one-line French rationale; then the overall result by
the framework's rule.

- A criterion only a person can judge (``assessable: human``: voice, the
  technical interview) is *not assessable*, with the framework's reason.
- A call-assessable criterion is judged by the checks that
  ``data/assessment/mappings.yaml`` lists for it (``domain.assessment_checks``);
  with several, any check not met makes it not met; else a required check
  with nothing to observe in this call makes it not assessable (a check
  written ``(name)`` is optional: a company without a charter does not stop
  the greeting from being judged); else it is met. A
  criterion without checks is *not assessable*: « pas de vérification
  automatique pour ce critère ».
- The score is met / assessed, where *assessed* counts the criteria met or
  not met: not assessable criteria are left out of both, so a call is not
  failed for what it could not show (a person rates those and the review
  recomputes). ``passed`` applies the framework's rule (FILEA: at least
  70 % of the assessed criteria met); a framework without a rule uses the
  settings' ``default_threshold``. Nothing assessed never passes.

The checks not used by the framework's criteria but listed as
``observations`` in the settings (mots à bannir, silences, holds, duration…)
are reported beside the criteria, for the trainer; they never change the
score.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .assessment_call import CallRecord, Targets
from .assessment_checks import CHECKS
from .assessment_results import MET, NOT_ASSESSABLE, NOT_MET, CheckResult, Evidence
from .assessment_view import CallView
from .assessment_settings import AssessmentSettings
from .errors import N_, NotFoundError
from .frameworks import Criterion, Framework

#: bumped when the rules in code change the way results come out (stored with each result)
EVALUATOR_VERSION = "2"

NO_CHECK = N_("Pas de vérification automatique pour ce critère.")
HUMAN_ONLY = N_("À juger par une personne : %(why)s")


@dataclass(frozen=True)
class AssessOptions:
    """How to assess: the settings, and what a scenario adds.

    ``criteria``: only these criterion ids (in the framework's order), e.g. a
    scenario's; ``targets``: time targets overriding the call's own."""

    settings: AssessmentSettings
    criteria: tuple[str, ...] | None = None
    targets: Targets | None = None


@dataclass(frozen=True)
class CriterionResult:
    id: str
    result: str
    evidence: tuple[Evidence, ...] = ()
    message: str = ""
    params: dict = field(default_factory=dict)
    checks: tuple[CheckResult, ...] = ()
    text: str = ""

    def rationale(self, gettext=lambda s: s) -> str:
        text = gettext(self.message)
        try:
            return text % self.params if self.params else text
        except (KeyError, ValueError, TypeError):
            return text

    def as_dict(self, gettext=lambda s: s) -> dict:
        data = {"id": self.id, "result": self.result, "evidence": [e.as_dict() for e in self.evidence],
                "rationale": self.rationale(gettext)}
        if self.checks:
            data["checks"] = [{"check": c.check, "result": c.result} for c in self.checks]
        return data


@dataclass(frozen=True)
class Assessment:
    framework: str
    criteria: tuple[CriterionResult, ...]
    met: int
    assessed: int
    score: float
    passed: bool
    threshold: float
    observations: tuple[CheckResult, ...] = ()
    settings_version: str = ""
    evaluator_version: str = EVALUATOR_VERSION

    def result_of(self, criterion_id: str) -> CriterionResult:
        for item in self.criteria:
            if item.id == criterion_id:
                return item
        raise KeyError(criterion_id)

    @property
    def results(self) -> dict[str, str]:
        return {item.id: item.result for item in self.criteria}

    def as_dict(self, gettext=lambda s: s) -> dict:
        """The JSON ``plateau assess`` prints (``docs/assessment.md``)."""
        return {
            "framework": self.framework,
            "criteria": [item.as_dict(gettext) for item in self.criteria],
            "score": round(self.score, 4),
            "passed": self.passed,
            "met": self.met,
            "assessed": self.assessed,
            "threshold": self.threshold,
            "observations": [{"check": o.check, "result": o.result, "evidence": [e.as_dict() for e in o.evidence],
                              "rationale": o.rationale(gettext)} for o in self.observations],
            "evaluator": {"version": self.evaluator_version, "settings": self.settings_version},
        }


def _combine(criterion: Criterion, results: list[CheckResult], optional: list[bool]) -> CriterionResult:
    """Several checks judge one criterion: any failure fails it; else a required check with nothing
    to observe leaves it not assessable; else it is met (optional checks count when observable)."""
    failed = [r for r in results if r.result == NOT_MET]
    unobserved = [r for r, maybe in zip(results, optional) if r.result == NOT_ASSESSABLE and not maybe]
    passed = [r for r in results if r.result == MET]
    chosen = failed or unobserved or passed or results
    result = chosen[0].result
    evidence: list[Evidence] = []
    for item in chosen + [r for r in results if r not in chosen]:
        for piece in item.evidence:
            if piece not in evidence:
                evidence.append(piece)
    # the rationale is the first deciding check's; with several passing, the first one's
    return CriterionResult(criterion.id, result, tuple(evidence[:10]), chosen[0].message, dict(chosen[0].params),
                           tuple(results), criterion.text)


def assess(call: CallRecord, framework: Framework, options: AssessOptions) -> Assessment:
    """The call against the framework's criteria (see the module's docstring for the rules)."""
    settings = options.settings
    view = CallView(call, settings, options.targets)
    criteria = _chosen(framework, options.criteria)
    ran: dict[str, CheckResult] = {}

    def run(check_id: str) -> CheckResult:
        if check_id not in ran:
            ran[check_id] = CHECKS[check_id].run(view)
        return ran[check_id]

    results: list[CriterionResult] = []
    for criterion in criteria:
        if not criterion.from_call:
            why = (criterion.why or criterion.assessable_label).strip()
            results.append(CriterionResult(criterion.id, NOT_ASSESSABLE, (), HUMAN_ONLY,
                                           {"why": why[:1].lower() + why[1:]}, (), criterion.text))
            continue
        checks = settings.checks_for(framework.code, criterion.id)
        if not checks:
            results.append(CriterionResult(criterion.id, NOT_ASSESSABLE, (), NO_CHECK, {}, (), criterion.text))
            continue
        results.append(_combine(criterion, [run(check_id) for check_id, _ in checks], [opt for _, opt in checks]))
    used = set(ran)
    observations = tuple(run(check_id) for check_id in settings.observations if check_id not in used)
    observations = tuple(o for o in observations if o.result != NOT_ASSESSABLE)
    met = sum(1 for r in results if r.result == MET)
    assessed = sum(1 for r in results if r.result in (MET, NOT_MET))
    threshold = framework.rule.threshold if framework.rule is not None else settings.default_threshold
    passed = (framework.rule.passes(met, assessed) if framework.rule is not None
              else assessed > 0 and met / assessed >= threshold - 1e-12)
    return Assessment(framework=framework.code, criteria=tuple(results), met=met, assessed=assessed,
                      score=met / assessed if assessed else 0.0, passed=passed, threshold=threshold,
                      observations=observations, settings_version=settings.version)


def _chosen(framework: Framework, wanted: tuple[str, ...] | None) -> tuple[Criterion, ...]:
    every = framework.criteria()
    if wanted is None:
        return every
    unknown = [c for c in wanted if not framework.has(c) or c not in {x.id for x in every}]
    if unknown:
        raise NotFoundError(N_("Critère inconnu dans le référentiel « %(code)s » : %(id)s."), "criteria",
                            code=framework.code, id=", ".join(unknown))
    keep = set(wanted)
    return tuple(c for c in every if c.id in keep)


__all__ = ["AssessOptions", "Assessment", "CriterionResult", "EVALUATOR_VERSION", "HUMAN_ONLY", "MET", "NOT_ASSESSABLE",
           "NOT_MET", "NO_CHECK", "assess"]
