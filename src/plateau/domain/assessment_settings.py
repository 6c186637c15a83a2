"""The evaluator's settings as data: cue lists, thresholds, and which checks judge which criterion.

Three YAML files under ``data/assessment/`` (documented in ``docs/assessment.md``):

- ``cues.yaml``: named lists of French expressions (``reformulation``,
  ``objection``, ``goodbye``…) that the checks look for, plus ``stopwords``;
- ``settings.yaml``: the numbers (how many questions make a questionnaire,
  how long a silence may last…), the default « mots à bannir » and the
  threshold used for frameworks that state no certification rule;
- ``mappings.yaml``: per framework, criterion id → the checks that judge it.

``parse_settings`` turns the three texts into a frozen ``AssessmentSettings``
or raises ``ValidationError`` listing every problem with the file, the line
and the key, like the frameworks' and scripts' proof-readers. It needs the
names of the checks and of the cue lists they read (given by
``domain.assessment_checks``), so that a typo in a file is an error, not a
check silently never run. ``mapping_problems`` cross-checks the mappings
against the frameworks themselves (unknown criterion, human criterion).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Mapping

from .assessment_language import CueList, normalise
from .errors import N_, ValidationError
from .frameworks import FrameworkError
from .scripts import load_yaml

CUES_FILE, SETTINGS_FILE, MAPPINGS_FILE = "cues.yaml", "settings.yaml", "mappings.yaml"


class SettingsError(FrameworkError):
    """One problem in an evaluator settings file: the file, the line, the key."""


@dataclass(frozen=True)
class Params:
    """The evaluator's numbers (``settings.yaml``); each is explained there and in the docs."""

    min_caller_turns: int = 4
    opening_agent_turns: int = 3
    presentation_agent_turns: int = 2
    presentation_max_words: int = 25
    presentation_max_fillers: int = 1
    min_discovery_questions: int = 3
    min_answered_questions: int = 3
    few_answered_questions: int = 2
    few_answered_min_words: int = 20
    substantive_answer_words: int = 8
    non_answer_max_words: int = 7
    reformulation_shared_words: int = 2
    treatment_window_agent_turns: int = 3
    reservation_window_agent_turns: int = 2
    treatment_min_words: int = 12
    recap_min_words: int = 8
    closing_agent_turns: int = 2
    short_reply_words: int = 4
    content_word_min_length: int = 4
    stem_length: int = 6
    charter_greeting_share: float = 0.6
    charter_closing_share: float = 0.5
    words_per_second: float = 2.5
    max_silence_s: float = 10.0
    typed_max_silence_s: float = 60.0
    max_hold_s: float = 60.0
    duration_tolerance: float = 0.2
    max_wrap_up_s: float = 120.0


_INT_PARAMS = {name for name, value in Params.__dataclass_fields__.items() if value.type in ("int", int)}


@dataclass(frozen=True)
class AssessmentSettings:
    cues: Mapping[str, CueList]
    stopwords: frozenset[str]
    params: Params
    mappings: Mapping[str, Mapping[str, tuple[str, ...]]]
    default_banned_words: tuple[str, ...] = ()
    default_threshold: float = 0.7
    #: checks reported as observations when the framework does not use them
    observations: tuple[str, ...] = ()
    #: a digest of the three texts: which version of the settings produced a result
    version: str = ""
    _banned: dict = field(default_factory=dict, compare=False, repr=False, hash=False)

    def cue(self, name: str) -> CueList:
        return self.cues[name]

    def checks_for(self, framework_code: str, criterion_id: str) -> tuple[tuple[str, bool], ...]:
        """(check id, optional) pairs judging a criterion; ``(name)`` in the file marks an optional one."""
        return tuple((_bare(name), name.startswith("(")) for name in self.mappings.get(framework_code, {}).get(
            criterion_id, ()))

    def banned(self, words: tuple[str, ...]) -> CueList:
        """The « mots à bannir » of a call as a cue list (built once per list)."""
        found = self._banned.get(words)
        if found is None:
            found = self._banned[words] = CueList.build("banned_words", words)
        return found


def parse_settings(settings_text: str, cues_text: str, mappings_text: str, check_ids: set[str] | frozenset[str],
                   cue_names: set[str] | frozenset[str]) -> AssessmentSettings:
    """The three files' texts as settings, or ValidationError with every problem found."""
    errors: list[SettingsError] = []
    settings = _document(settings_text, SETTINGS_FILE, errors)
    cues_doc = _document(cues_text, CUES_FILE, errors)
    mappings_doc = _document(mappings_text, MAPPINGS_FILE, errors)
    params, banned, threshold, observations = _settings(settings, errors, check_ids)
    cues, stopwords = _cues(cues_doc, errors, cue_names)
    mappings = _mappings(mappings_doc, errors, check_ids)
    if errors:
        raise ValidationError({f"{n:03d}": error for n, error in enumerate(errors, 1)})
    digest = hashlib.sha256("\x00".join((settings_text, cues_text, mappings_text)).encode("utf-8")).hexdigest()
    return AssessmentSettings(cues=cues, stopwords=stopwords, params=params, mappings=mappings,
                              default_banned_words=banned, default_threshold=threshold, observations=observations,
                              version=f"sha256:{digest[:16]}")


def _document(text: str, file: str, errors: list[SettingsError]):
    data, problems = load_yaml(text)
    for problem in problems:
        errors.append(SettingsError(problem.message, line=problem.line, file=file, **problem.params))
    if data is not None and not isinstance(data, dict):
        errors.append(SettingsError(N_("le fichier doit être un dictionnaire « clé: valeur »."), file=file, line=1))
        return None
    return data


def _error(errors: list, file: str, data, key: str, message: str, **params) -> None:
    line = data.line_of(key) if hasattr(data, "line_of") else None
    errors.append(SettingsError(message, line=line, file=file, field_name=key, key=key, **params))


def _settings(data, errors, check_ids) -> tuple[Params, tuple[str, ...], float, tuple[str, ...]]:
    defaults = Params()
    if data is None:
        return defaults, (), 0.7, ()
    allowed = {"version", "params", "default_banned_words", "default_threshold", "observations"}
    for key in data:
        if key not in allowed:
            _error(errors, SETTINGS_FILE, data, str(key), N_("clé inconnue « %(key)s » ; clés permises : %(allowed)s."),
                   allowed=", ".join(sorted(allowed)))
    values = {}
    raw = data.get("params") or {}
    if not isinstance(raw, dict):
        _error(errors, SETTINGS_FILE, data, "params", N_("« %(key)s » doit être un dictionnaire « nom: nombre »."))
        raw = {}
    for key, value in raw.items():
        if key not in Params.__dataclass_fields__:
            _error(errors, SETTINGS_FILE, raw, str(key), N_("réglage inconnu « %(key)s » ; réglages permis : %(allowed)s."),
                   allowed=", ".join(Params.__dataclass_fields__))
            continue
        whole = key in _INT_PARAMS
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0 or (
                whole and not float(value).is_integer()):
            message = (N_("« %(key)s » doit être un nombre entier strictement positif.") if whole
                       else N_("« %(key)s » doit être un nombre strictement positif."))
            _error(errors, SETTINGS_FILE, raw, str(key), message)
            continue
        values[key] = int(value) if whole else float(value)
    banned = _texts(data, "default_banned_words", SETTINGS_FILE, errors)
    threshold = data.get("default_threshold", 0.7)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        _error(errors, SETTINGS_FILE, data, "default_threshold",
               N_("« %(key)s » doit être une part entre 0 exclu et 1 inclus (0.7 pour 70 %%)."))
        threshold = 0.7
    observations = _texts(data, "observations", SETTINGS_FILE, errors)
    for name in observations:
        if name not in check_ids:
            _error(errors, SETTINGS_FILE, data, "observations", N_("vérification inconnue « %(name)s » ; "
                                                                   "vérifications : %(known)s."),
                   name=name, known=", ".join(sorted(check_ids)))
    return Params(**{**defaults.__dict__, **values}), banned, float(threshold), observations


def _texts(data, key: str, file: str, errors) -> tuple[str, ...]:
    value = data.get(key) if data is not None else None
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        _error(errors, file, data, key, N_("« %(key)s » doit être une liste de textes non vides."))
        return ()
    return tuple(item.strip() for item in value)


def _cues(data, errors, cue_names) -> tuple[dict[str, CueList], frozenset[str]]:
    if data is None:
        return {}, frozenset()
    cues: dict[str, CueList] = {}
    for name in data:
        key = str(name)
        if key != "stopwords" and key not in cue_names:
            _error(errors, CUES_FILE, data, key, N_("liste inconnue « %(key)s » : aucune vérification ne la lit "
                                                    "(listes attendues : %(allowed)s)."),
                   allowed=", ".join(sorted(cue_names)))
            continue
        items = _texts(data, key, CUES_FILE, errors)
        if key != "stopwords":
            for item in items:
                if normalise(item.replace("*", "").replace("...", "")).strip() == "":
                    _error(errors, CUES_FILE, data, key, N_("« %(key)s » : l'expression « %(cue)s » ne contient aucun "
                                                            "mot."), cue=item)
            cues[key] = CueList.build(key, items)
    for name in sorted(cue_names - set(cues) - {"stopwords"}):
        if name not in data:
            errors.append(SettingsError(N_("liste « %(key)s » absente : une vérification en a besoin."), file=CUES_FILE,
                                        line=getattr(data, "line", None), field_name=name, key=name))
    stopwords = frozenset(word for item in _texts(data, "stopwords", CUES_FILE, errors)
                          for word in normalise(item).split())
    return cues, stopwords


def _mappings(data, errors, check_ids) -> dict[str, dict[str, tuple[str, ...]]]:
    if data is None:
        return {}
    result: dict[str, dict[str, tuple[str, ...]]] = {}
    for code, criteria in data.items():
        if not isinstance(criteria, dict):
            _error(errors, MAPPINGS_FILE, data, str(code), N_("« %(key)s » doit associer des identifiants de critères "
                                                              "à des listes de vérifications."))
            continue
        table: dict[str, tuple[str, ...]] = {}
        for criterion_id, checks in criteria.items():
            key = str(criterion_id)
            if not key.startswith(f"{code}/"):
                _error(errors, MAPPINGS_FILE, criteria, key, N_("le critère « %(key)s » n'appartient pas au référentiel "
                                                                "« %(code)s »."), code=str(code))
                continue
            if isinstance(checks, str):
                checks = [checks]
            if not isinstance(checks, list) or not checks or not all(isinstance(c, str) for c in checks):
                _error(errors, MAPPINGS_FILE, criteria, key, N_("« %(key)s » : donnez une liste de vérifications, par "
                                                                "exemple [reformulation, (greeting_charter)]."))
                continue
            unknown = [c for c in checks if _bare(c) not in check_ids]
            if unknown:
                _error(errors, MAPPINGS_FILE, criteria, key, N_("« %(key)s » : vérification inconnue %(unknown)s ; "
                                                                "vérifications : %(known)s."),
                       unknown=", ".join(f"« {c} »" for c in unknown), known=", ".join(sorted(check_ids)))
                continue
            table[key] = tuple(checks)
        result[str(code)] = table
    return result


def _bare(name: str) -> str:
    """« (greeting_charter) » (an optional check) → « greeting_charter »."""
    return name.strip().removeprefix("(").removesuffix(")").strip()


def mapping_problems(settings: AssessmentSettings, frameworks: Mapping[str, object]) -> list[SettingsError]:
    """Mappings that name an unknown framework or criterion, or a criterion only a person can judge."""
    problems: list[SettingsError] = []
    for code, table in settings.mappings.items():
        framework = frameworks.get(code)
        if framework is None:
            problems.append(SettingsError(N_("référentiel inconnu « %(key)s »."), file=MAPPINGS_FILE, field_name=code,
                                          key=code))
            continue
        for criterion_id in table:
            if not framework.has(criterion_id):
                problems.append(SettingsError(N_("critère inconnu « %(key)s »."), file=MAPPINGS_FILE,
                                              field_name=criterion_id, key=criterion_id))
                continue
            criterion = framework.criterion(criterion_id)
            if not criterion.from_call:
                problems.append(SettingsError(N_("le critère « %(key)s » se juge par une personne : il ne peut pas "
                                                 "avoir de vérification automatique."), file=MAPPINGS_FILE,
                                              field_name=criterion_id, key=criterion_id))
    return problems


__all__ = ["AssessmentSettings", "CUES_FILE", "MAPPINGS_FILE", "Params", "SETTINGS_FILE", "SettingsError",
           "mapping_problems", "parse_settings"]
