"""Call scripts ("guides d'entretien"): the YAML format, its validation, branching.

A script is data an administrator edits in the browser, so a mistake must be
reported the way a proof-reader would: every error at once, in French, naming
the line and the place (step, question, branch) — never a stack trace, never
only the first problem. ``parse_script`` turns the YAML text into frozen
dataclasses or raises ``ValidationError`` whose ``errors`` are ``ScriptError``
instances in document order.

The format (documented with a full example in ``docs/scripts.md``)::

    code, name, charter {company, greeting, closing}, banned_words [..],
    steps [{id, title, phase, phrases, guidance, questions, next, branches}],
    objections [{id, objection, answers}]

Branching is evaluated in order: the first branch whose condition holds on
the call's answers wins, else the step's ``next`` (by default the following
step, ``end`` after the last). Every step must be reachable from the first
and able to reach ``end``, so an agent can never be trapped in a loop.
"""

from __future__ import annotations

import re
import string
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import yaml

from .errors import N_, DomainError, ValidationError
from .text import fold

END = "end"

PHASES = ("accueil", "identification", "decouverte", "traitement", "conclusion")
PHASE_LABELS = {
    "accueil": N_("Accueil"),
    "identification": N_("Identification"),
    "decouverte": N_("Découverte"),
    "traitement": N_("Traitement"),
    "conclusion": N_("Conclusion et prise de congé"),
}

QUESTION_TYPES = ("text", "choice", "yes_no", "number", "date")
TYPE_LABELS = {
    "text": N_("texte libre"),
    "choice": N_("choix dans une liste"),
    "yes_no": N_("oui ou non"),
    "number": N_("nombre"),
    "date": N_("date"),
}

#: placeholders a phrase may use, filled when the desktop shows it
PLACEHOLDERS = ("agent", "company", "contact")
#: what ``{contact}`` says while the caller is not identified yet
DEFAULT_CONTACT = N_("Madame, Monsieur")

YES, NO = "oui", "non"
_YES_WORDS = {"oui", "o", "yes", "y", "true", "vrai", "1"}
_NO_WORDS = {"non", "n", "no", "false", "faux", "0"}

MAX_TEXT_ANSWER = 2000
MAX_NAME = 200  # the length of call_scripts.name
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

_KEYS = {
    "script": ({"code", "name", "charter", "steps"}, {"description", "banned_words", "objections"}),
    "charter": ({"company", "greeting", "closing"}, set()),
    "step": ({"id", "title", "phase"}, {"phrases", "guidance", "questions", "next", "branches"}),
    "question": ({"id", "label", "type"}, {"choices", "required"}),
    "branch": ({"when", "goto"}, set()),
    "when": ({"question"}, {"equals", "in"}),
    "objection": ({"id", "objection", "answers"}, set()),
}


# --- the parsed script ------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    id: str
    label: str
    type: str
    choices: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class Branch:
    """``when`` the answer to ``question`` equals one of ``values``, go to ``goto``."""

    question: str
    values: tuple[str, ...]
    goto: str

    def matches(self, answers: dict[str, str]) -> bool:
        value = answers.get(self.question)
        return value not in (None, "") and value in self.values


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    phase: str
    phrases: tuple[str, ...] = ()
    guidance: str = ""
    questions: tuple[Question, ...] = ()
    next: str = END
    branches: tuple[Branch, ...] = ()

    @property
    def phase_label(self) -> str:
        return PHASE_LABELS[self.phase]


@dataclass(frozen=True)
class Objection:
    id: str
    objection: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class Charter:
    company: str
    greeting: str
    closing: str


@dataclass(frozen=True)
class Script:
    code: str
    name: str
    charter: Charter
    steps: tuple[Step, ...]
    description: str = ""
    banned_words: tuple[str, ...] = ()
    objections: tuple[Objection, ...] = ()

    @property
    def first(self) -> str:
        return self.steps[0].id

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise DomainError(N_("Étape inconnue dans ce script : %(step)s."), "step", step=step_id)

    def has_step(self, step_id: str | None) -> bool:
        return any(step.id == step_id for step in self.steps)

    def question(self, question_id: str) -> tuple[Step, Question]:
        for step in self.steps:
            for question in step.questions:
                if question.id == question_id:
                    return step, question
        raise DomainError(N_("Question inconnue dans ce script : %(question)s."), "question_id", question=question_id)

    @property
    def questions(self) -> dict[str, Question]:
        return {q.id: q for step in self.steps for q in step.questions}


# --- errors -------------------------------------------------------------------------


class ScriptError(DomainError):
    """One problem in a script's text, with where it is (line, step, question…).

    ``where`` is a list of (msgid, params) pieces such as ("étape « %(step)s »",
    {"step": "accueil"}) so that the place is translated like the message.
    """

    def __init__(self, message: str, where: list[tuple[str, dict]] | None = None, line: int | None = None,
                 **params: object):
        super().__init__(message, None, **params)
        self.where = where or []
        self.line = line

    @property
    def place(self) -> dict[str, object]:
        """The step/question/branch ids named by ``where``, for tests and tools."""
        merged: dict[str, object] = {}
        for _msgid, params in self.where:
            merged.update(params)
        return merged

    def render(self, gettext=lambda s: s) -> str:
        params = dict(self.params)
        if "problem" in params:  # a YAML complaint we said in French is a msgid too
            params["problem"] = gettext(str(params["problem"]))
        try:
            text = gettext(self.message) % params if params else gettext(self.message)
        except (KeyError, ValueError, TypeError):
            text = gettext(self.message)
        place = ", ".join(gettext(msgid) % params for msgid, params in self.where)
        if place:
            text = f"{place} : {text}"
        text = text[:1].upper() + text[1:]
        if self.line:
            text = (gettext(N_("Ligne %(line)s")) % {"line": self.line}) + " — " + text
        return text


# --- YAML loading with line numbers ---------------------------------------------------------


class _Map(dict):
    """A mapping that remembers the line it started on (1-based)."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        """The line a key is written on (the mapping's first line if absent)."""
        return self.key_lines.get(key, self.line)


class _Loader(yaml.SafeLoader):
    """Safe YAML (no object construction) that keeps lines and reports duplicate keys."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []


def _construct_map(loader: _Loader, node: yaml.MappingNode):
    data = _Map()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    for key_node, _value in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            if key_node.value in data.key_lines:
                loader.duplicates.append((key_node.value, key_node.start_mark.line + 1))
            else:
                data.key_lines[key_node.value] = key_node.start_mark.line + 1
    data.update(loader.construct_mapping(node))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)

#: PyYAML's most frequent complaints, said in French; others are shown as they are
_YAML_PROBLEMS = [
    ("could not find expected ':'", N_("« : » attendu après une clé (guillemets ou indentation à vérifier)")),
    ("mapping values are not allowed here", N_("« : » inattendu : mettez le texte entre guillemets s'il contient « : »")),
    ("found character '\\t' that cannot start any token", N_("tabulation interdite : indentez avec des espaces")),
    ("found a tab character", N_("tabulation interdite : indentez avec des espaces")),
    ("expected <block end>", N_("indentation incohérente")),
    ("did not find expected key", N_("indentation incohérente ou clé attendue")),
    ("did not find expected '-' indicator", N_("élément de liste attendu (« - ») : indentation à vérifier")),
    ("found unexpected end of stream", N_("fin du texte inattendue (guillemet non fermé ?)")),
    ("found undefined alias", N_("alias YAML inconnu")),
    ("expected the node content", N_("valeur attendue (crochet, accolade ou guillemet non fermé ?)")),
    ("expected ',' or ']'", N_("« , » ou « ] » attendu : crochet non fermé ?")),
    ("expected ',' or '}'", N_("« , » ou « } » attendu : accolade non fermée ?")),
    ("found unknown escape character", N_("caractère d'échappement inconnu après « \\ » entre guillemets doubles")),
    ("found unhashable key", N_("clé invalide")),
    ("could not determine a constructor", N_("étiquette YAML non permise : un script ne contient que du texte, "
                                             "des listes et des clés")),
    ("expected a single document", N_("un seul document attendu : retirez le second « --- »")),
]


def _yaml_error(exc: yaml.YAMLError) -> ScriptError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None) or ""
    said = next((french for english, french in _YAML_PROBLEMS
                 if problem.startswith(english) or context.startswith(english)), None)
    params = {"problem": said or problem}
    if mark is None:
        return ScriptError(N_("Erreur de syntaxe YAML : %(problem)s."), **params)
    return ScriptError(N_("Erreur de syntaxe YAML à la colonne %(column)s : %(problem)s."), line=mark.line + 1,
                       column=mark.column + 1, **params)


def load_yaml(text: str):
    """The YAML document as plain data (mappings are ``_Map``), or a ScriptError list."""
    loader = _Loader(text or "")
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        return None, [_yaml_error(exc)]
    finally:
        loader.dispose()
    errors = [ScriptError(N_("la clé « %(key)s » est écrite deux fois ; la seconde effacerait la première."),
                          line=line, key=key) for key, line in loader.duplicates]
    return data, errors


# --- parsing and validation -------------------------------------------------------------------------


class _Checker:
    """Walks the loaded YAML, building the Script and collecting every error."""

    def __init__(self):
        self.errors: list[ScriptError] = []
        #: a step id or a next/goto target is wrong: the graph checks would only
        #: repeat that error in other words, so they wait until it is fixed
        self.graph_broken = False
        #: where phrases are written, for the banned-words check
        self.lines: dict[tuple[str, str], int] = {}

    def error(self, message: str, where=None, line=None, **params) -> None:
        self.errors.append(ScriptError(message, where, line, **params))

    # small typed readers: each reports and returns a safe default
    def keys(self, data: _Map, kind: str, where) -> None:
        required, optional = _KEYS[kind]
        for key in sorted(required - set(data)):
            self.error(N_("clé obligatoire « %(key)s » absente."), where, data.line, key=key)
        for key in [k for k in data if k not in required | optional]:
            allowed = ", ".join(sorted(required | optional))
            self.error(N_("clé inconnue « %(key)s » ; clés permises : %(allowed)s."), where, data.line_of(str(key)),
                       key=str(key), allowed=allowed)

    def text(self, data: _Map, key: str, where, required: bool = True) -> str:
        if key not in data:
            return ""  # a missing required key is reported by ``keys``
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, (str, int, float, type(None))):
            self.error(N_("« %(key)s » doit être un texte."), where, data.line_of(key), key=key)
            return ""
        value = "" if value is None else str(value).strip()
        if not value and required:
            self.error(N_("« %(key)s » ne doit pas être vide."), where, data.line_of(key), key=key)
        return value

    def texts(self, data: _Map, key: str, where, non_empty: bool = False) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            if non_empty and key in data:
                self.error(N_("« %(key)s » doit contenir au moins un élément."), where, data.line_of(key), key=key)
            return ()
        if not isinstance(value, list):
            self.error(N_("« %(key)s » doit être une liste (lignes commençant par « - »)."), where, data.line_of(key), key=key)
            return ()
        if non_empty and not value:
            self.error(N_("« %(key)s » doit contenir au moins un élément."), where, data.line_of(key), key=key)
        result = []
        for n, item in enumerate(value, 1):
            if isinstance(item, bool) or not isinstance(item, (str, int, float)) or not str(item).strip():
                self.error(N_("l'élément n° %(n)s de « %(key)s » doit être un texte non vide."), where, data.line_of(key),
                           n=n, key=key)
                continue
            result.append(str(item).strip())
        return tuple(result)

    def mapping(self, value, where, line) -> _Map | None:
        if not isinstance(value, dict):
            self.error(N_("un ensemble de clés « clé: valeur » est attendu ici."), where, line)
            return None
        return value

    def ident(self, data: _Map, where) -> str:
        value = data.get("id")
        if value is None:
            return ""
        value = str(value).strip()
        if not _ID.match(value):
            self.error(N_("identifiant « %(id)s » invalide : lettres minuscules sans accent, chiffres, « - » et « _ », "
                          "64 caractères au plus."), where, data.line_of("id"), id=value)
        return value

    def placeholders(self, text: str, where, line, key: str) -> None:
        try:
            fields = [f for _lit, f, _spec, _conv in string.Formatter().parse(text) if f is not None]
        except ValueError:
            self.error(N_("accolade non fermée dans « %(key)s » : écrivez {agent}, {company} ou {contact}."),
                       where, line, key=key)
            return
        for name in fields:
            if name not in PLACEHOLDERS:
                self.error(N_("variable inconnue « {%(name)s} » dans « %(key)s » ; variables permises : "
                              "{agent}, {company}, {contact}."), where, line, name=name, key=key)


def _step_where(step_id: str, n: int) -> tuple[str, dict]:
    return (N_("étape « %(step)s »"), {"step": step_id}) if step_id else (N_("étape n° %(n)s"), {"n": n})


def parse_script(yaml_text: str) -> Script:
    """Read and check a script; raise ValidationError listing every problem found."""
    data, load_errors = load_yaml(yaml_text)
    check = _Checker()
    check.errors.extend(load_errors)
    if data is None:
        if not load_errors:
            check.error(N_("le script est vide."))
        _raise(check.errors)
    root = check.mapping(data, [(N_("le script"), {})], 1)
    if root is None:
        _raise(check.errors)

    here: list = []
    check.keys(root, "script", here)
    code = check.text(root, "code", here)
    if code and not _ID.match(code):
        check.error(N_("code « %(code)s » invalide : lettres minuscules sans accent, chiffres, « - » et « _ »."),
                    here, root.line_of("code"), code=code)
    name = check.text(root, "name", here)
    if len(name) > MAX_NAME:
        check.error(N_("« name » : %(max)s caractères au plus."), here, root.line_of("name"), max=MAX_NAME)
    description = check.text(root, "description", here, required=False)
    charter = _charter(check, root)
    banned = check.texts(root, "banned_words", here)
    steps = _steps(check, root)
    objections = _objections(check, root)
    _check_banned(check, root, banned, charter, steps, objections)
    if check.errors:
        _raise(check.errors)
    return Script(code=code, name=name, description=description, charter=charter, banned_words=banned,
                  steps=steps, objections=objections)


def _check_banned(check: _Checker, root: _Map, banned: tuple[str, ...], charter: Charter, steps: tuple[Step, ...],
                  objections: tuple[Objection, ...]) -> None:
    """What the script tells agents to say must not contain its own banned words."""
    if not banned:
        return
    probe = Script(code="", name="", charter=charter, steps=(), banned_words=banned)
    said: list[tuple[list, int | None, str]] = []
    charter_map = root.get("charter") if isinstance(root.get("charter"), dict) else None
    for key in ("greeting", "closing"):
        said.append(([(N_("charte"), {})], charter_map.line_of(key) if charter_map else None, getattr(charter, key)))
    for step in steps:
        for phrase in step.phrases:
            said.append(([_step_where(step.id, 0)], check.lines.get(("step", step.id)), phrase))
    for objection in objections:
        for answer in objection.answers:
            said.append(([(N_("objection « %(objection)s »"), {"objection": objection.id})],
                         check.lines.get(("objection", objection.id)), answer))
    for where, line, text in said:
        for word in banned_in(probe, text):
            check.error(N_("la phrase « %(phrase)s » contient le mot à bannir « %(word)s »."), where, line,
                        phrase=text, word=word)


def _raise(errors: list[ScriptError]):
    """All the errors, in the order of the text (an author fixes them top to bottom)."""
    ordered = sorted(errors, key=lambda e: (e.line is None, e.line or 0))
    raise ValidationError({f"{n:03d}": error for n, error in enumerate(ordered, 1)})


def _charter(check: _Checker, root: _Map) -> Charter:
    where = [(N_("charte"), {})]
    data = check.mapping(root.get("charter"), where, root.line_of("charter")) if "charter" in root else None
    if data is None:
        return Charter("", "", "")
    check.keys(data, "charter", where)
    company = check.text(data, "company", where)
    greeting = check.text(data, "greeting", where)
    closing = check.text(data, "closing", where)
    for key, value in (("greeting", greeting), ("closing", closing)):
        check.placeholders(value, where, data.line_of(key), key)
    return Charter(company, greeting, closing)


def _steps(check: _Checker, root: _Map) -> tuple[Step, ...]:
    raw = root.get("steps")
    if "steps" not in root:
        return ()
    if not isinstance(raw, list) or not raw:
        check.error(N_("« steps » doit être une liste d'au moins une étape."), [], root.line_of("steps"))
        return ()
    parsed: list[tuple[_Map, dict]] = []
    step_ids: dict[str, int] = {}
    question_ids: dict[str, str] = {}
    questions: dict[str, Question] = {}
    for n, item in enumerate(raw, 1):
        data = check.mapping(item, [(N_("étape n° %(n)s"), {"n": n})], root.line_of("steps"))
        if data is None:
            continue
        step_id = check.ident(data, [_step_where("", n)])
        where = [_step_where(step_id, n)]
        check.keys(data, "step", where)
        if not _ID.match(step_id):
            check.graph_broken = True
        if step_id == END:
            check.graph_broken = True
            check.error(N_("« end » est réservé pour dire « fin du script » : choisissez un autre identifiant."),
                        where, data.line_of("id"))
        elif step_id in step_ids:
            check.graph_broken = True
            check.error(N_("identifiant d'étape « %(id)s » en double (déjà utilisé par l'étape n° %(other)s)."),
                        [(N_("étape n° %(n)s"), {"n": n})], data.line_of("id"), id=step_id,
                        other=step_ids[step_id])
        elif step_id:
            step_ids[step_id] = n
        title = check.text(data, "title", where)
        phase = check.text(data, "phase", where)
        if phase and phase not in PHASES:
            check.error(N_("phase « %(phase)s » inconnue ; phases permises : %(phases)s."), where, data.line_of("phase"),
                        phase=phase, phases=", ".join(PHASES))
        phrases = check.texts(data, "phrases", where)
        check.lines[("step", step_id)] = data.line_of("phrases")
        for phrase in phrases:
            check.placeholders(phrase, where, data.line_of("phrases"), "phrases")
        guidance = check.text(data, "guidance", where, required=False)
        step_questions = _questions(check, data, step_id, where, question_ids, questions)
        parsed.append((data, {"id": step_id, "title": title, "phase": phase if phase in PHASES else PHASES[0],
                              "phrases": phrases, "guidance": guidance, "questions": step_questions, "n": n}))

    steps: list[Step] = []
    for index, (data, fields) in enumerate(parsed):
        where = [_step_where(fields["id"], fields["n"])]
        default_next = parsed[index + 1][1]["id"] if index + 1 < len(parsed) else END
        next_id = default_next
        if "next" in data:
            next_id = check.text(data, "next", where)
            if next_id and next_id != END and next_id not in step_ids:
                check.graph_broken = True
                check.error(N_("« next » mène à l'étape « %(goto)s » qui n'existe pas (ou écrivez « end »)."),
                            where, data.line_of("next"), goto=next_id)
        branches = _branches(check, data, where, step_ids, questions)
        steps.append(Step(id=fields["id"], title=fields["title"], phase=fields["phase"], phrases=fields["phrases"],
                          guidance=fields["guidance"], questions=fields["questions"], next=next_id or default_next,
                          branches=branches))
    if steps and not check.graph_broken and len(steps) == len(raw):
        _check_graph(check, steps, {fields["id"]: data.line for data, fields in parsed})
    return tuple(steps)


def _questions(check: _Checker, step: _Map, step_id: str, step_where, seen: dict[str, str],
               questions: dict[str, Question]) -> tuple[Question, ...]:
    raw = step.get("questions")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        check.error(N_("« questions » doit être une liste."), step_where, step.line_of("questions"))
        return ()
    result = []
    for n, item in enumerate(raw, 1):
        data = check.mapping(item, step_where + [(N_("question n° %(qn)s"), {"qn": n})], step.line_of("questions"))
        if data is None:
            continue
        qid = check.ident(data, step_where + [(N_("question n° %(qn)s"), {"qn": n})])
        where = step_where + ([(N_("question « %(question)s »"), {"question": qid})] if qid
                              else [(N_("question n° %(qn)s"), {"qn": n})])
        check.keys(data, "question", where)
        if qid in seen:
            check.error(N_("identifiant de question en double (déjà utilisé à l'étape « %(other)s ») : les réponses "
                           "sont enregistrées par question, chaque identifiant doit être unique dans le script."),
                        where, data.line_of("id"), other=seen[qid])
        elif qid:
            seen[qid] = step_id
        label = check.text(data, "label", where)
        qtype = check.text(data, "type", where)
        if qtype and qtype not in QUESTION_TYPES:
            check.error(N_("type de question « %(type)s » inconnu ; types permis : %(types)s."), where, data.line_of("type"),
                        type=qtype, types=", ".join(QUESTION_TYPES))
        choices: tuple[str, ...] = ()
        if qtype == "choice":
            if "choices" not in data:
                check.error(N_("une question de type « choice » doit avoir une liste « choices »."), where, data.line)
            else:
                choices = check.texts(data, "choices", where)
                if len(choices) < 2 and isinstance(data.get("choices"), list):
                    check.error(N_("« choices » doit proposer au moins deux choix."), where, data.line_of("choices"))
                doubles = sorted({c for c in choices if choices.count(c) > 1})
                if doubles:
                    check.error(N_("choix en double : %(choices)s."), where, data.line_of("choices"), choices=", ".join(doubles))
        elif "choices" in data and qtype in QUESTION_TYPES:
            check.error(N_("« choices » ne sert qu'aux questions de type « choice » (ici « %(type)s »)."), where,
                        data.line_of("choices"), type=qtype)
        required = data.get("required", False)
        if not isinstance(required, bool):
            check.error(N_("« required » doit valoir true ou false."), where, data.line_of("required"))
            required = False
        question = Question(id=qid, label=label, type=qtype if qtype in QUESTION_TYPES else "text",
                            choices=choices, required=required)
        if qid and qid not in questions:
            questions[qid] = question
        result.append(question)
    return tuple(result)


def _branches(check: _Checker, step: _Map, step_where, step_ids: dict[str, int],
              questions: dict[str, Question]) -> tuple[Branch, ...]:
    raw = step.get("branches")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        check.error(N_("« branches » doit être une liste."), step_where, step.line_of("branches"))
        return ()
    result = []
    for n, item in enumerate(raw, 1):
        where = step_where + [(N_("branchement n° %(bn)s"), {"bn": n})]
        data = check.mapping(item, where, step.line_of("branches"))
        if data is None:
            continue
        check.keys(data, "branch", where)
        goto = check.text(data, "goto", where)
        if goto and goto != END and goto not in step_ids:
            check.graph_broken = True
            check.error(N_("« goto » mène à l'étape « %(goto)s » qui n'existe pas (ou écrivez « end »)."), where,
                        data.line_of("goto"), goto=goto)
        when = check.mapping(data.get("when"), where, data.line_of("when")) if "when" in data else None
        broken = Branch(question="", values=(), goto=goto)  # matches nothing; keeps the graph whole
        if when is None:
            if goto:
                result.append(broken)
            continue
        check.keys(when, "when", where)
        qid = check.text(when, "question", where)
        has_equals, has_in = "equals" in when, "in" in when
        if has_equals == has_in:
            check.error(N_("la condition doit avoir soit « equals » (une valeur), soit « in » (une liste de valeurs)."),
                        where, when.line)
            result.append(broken)
            continue
        if has_in:
            raw_values = when.get("in")
            if not isinstance(raw_values, list) or not raw_values:
                check.error(N_("« in » doit être une liste d'au moins une valeur."), where, when.line_of("in"))
                result.append(broken)
                continue
        else:
            raw_values = [when.get("equals")]
        question = questions.get(qid)
        if qid and question is None:
            check.error(N_("la condition porte sur la question « %(question_ref)s » qui n'existe pas dans le script."),
                        where, when.line_of("question"), question_ref=qid)
        if question is None or question.type == "choice" and not question.choices:
            result.append(broken)  # nothing more to check until the question itself is right
            continue
        values = []
        for raw_value in raw_values:
            try:
                values.append(_branch_value(question, raw_value))
            except DomainError:
                if question.type == "choice":
                    check.error(N_("la valeur « %(value)s » n'est pas un des choix de la question « %(question_ref)s » "
                                   "(%(choices)s)."), where, when.line_of("equals" if "equals" in when else "in"), value=_shown(raw_value),
                                question_ref=question.id, choices=", ".join(question.choices))
                else:
                    check.error(N_("la valeur « %(value)s » ne convient pas à la question « %(question_ref)s » "
                                   "(%(type)s)."), where, when.line_of("equals" if "equals" in when else "in"), value=_shown(raw_value),
                                question_ref=question.id, type=TYPE_LABELS[question.type])
        if goto:
            # a branch with a wrong value still counts as a way forward, so that
            # the reachability checks do not repeat the same mistake
            result.append(Branch(question=question.id, values=tuple(values), goto=goto))
    return tuple(result)


def _shown(value) -> str:
    if value is True:
        return YES
    if value is False:
        return NO
    return "" if value is None else str(value)


def _branch_value(question: Question, raw) -> str:
    """A branch value in the same canonical form as a saved answer (YAML ``yes`` → "oui")."""
    if raw is None or isinstance(raw, (list, dict)):
        raise DomainError(N_("Valeur manquante."))
    value = validate_answer(Question(question.id, question.label, question.type, question.choices, True),
                            _shown(raw))
    if question.type == "choice" and value != str(raw).strip():
        # a branch must name the choice exactly as written, so that reading the
        # script says the same thing as running it
        raise DomainError(N_("Valeur hors des choix."))
    return value


def _check_graph(check: _Checker, steps: list[Step], lines: dict[str, int]) -> None:
    """Every step reachable from the first one, and every step able to reach the end."""
    ids = {step.id for step in steps} | {END}
    edges = {step.id: {step.next, *(b.goto for b in step.branches)} & ids for step in steps}
    reached = {steps[0].id}
    todo = deque([steps[0].id])
    while todo:
        for target in edges[todo.popleft()]:
            if target != END and target not in reached:
                reached.add(target)
                todo.append(target)
    for step in steps:
        if step.id not in reached:
            check.error(N_("cette étape n'est jamais atteinte depuis la première étape « %(first)s » (aucun « next » "
                           "ni « goto » n'y mène)."), [_step_where(step.id, 0)], lines.get(step.id), first=steps[0].id)
    reverse: dict[str, set[str]] = {}
    for source, targets in edges.items():
        for target in targets:
            reverse.setdefault(target, set()).add(source)
    ending = set()
    todo = deque([END])
    while todo:
        for source in reverse.get(todo.popleft(), ()):
            if source not in ending:
                ending.add(source)
                todo.append(source)
    for step in steps:
        if step.id in reached and step.id not in ending:
            check.error(N_("depuis cette étape, on tourne en rond sans jamais arriver à « end » : ajoutez un « next » "
                           "ou un « goto » qui mène à la fin."), [_step_where(step.id, 0)], lines.get(step.id))


def _objections(check: _Checker, root: _Map) -> tuple[Objection, ...]:
    raw = root.get("objections")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        check.error(N_("« objections » doit être une liste."), [], root.line_of("objections"))
        return ()
    result, seen = [], set()
    for n, item in enumerate(raw, 1):
        first_where = [(N_("objection n° %(on)s"), {"on": n})]
        data = check.mapping(item, first_where, root.line_of("objections"))
        if data is None:
            continue
        oid = check.ident(data, first_where)
        where = [(N_("objection « %(objection)s »"), {"objection": oid})] if oid else first_where
        check.keys(data, "objection", where)
        if oid in seen:
            check.error(N_("identifiant d'objection en double."), where, data.line_of("id"))
        seen.add(oid)
        text = check.text(data, "objection", where)
        answers = check.texts(data, "answers", where, non_empty=True)
        check.lines[("objection", oid)] = data.line_of("answers")
        result.append(Objection(id=oid, objection=text, answers=answers))
    return tuple(result)


# --- answers ------------------------------------------------------------------------------


def validate_answer(question: Question, raw) -> str:
    """The answer as stored on the call (canonical text), or a French refusal.

    choice → one of the choices (accents and case forgiven, stored as written
    in the script); yes_no → "oui" / "non"; number → "12" or "12,5"; date →
    "AAAA-MM-JJ" (typed "23/11/2026" or picked in a date field). An empty
    answer is refused for a required question and kept empty otherwise.
    """
    value = "" if raw is None else str(raw).strip()
    params = {"label": question.label}
    if not value:
        if question.required:
            raise DomainError(N_("« %(label)s » : une réponse est obligatoire."), question.id, **params)
        return ""
    if question.type == "choice":
        wanted = fold(value)
        for choice in question.choices:
            if fold(choice) == wanted:
                return choice
        raise DomainError(N_("« %(label)s » : choisissez une des réponses proposées (%(choices)s)."), question.id,
                          choices=", ".join(question.choices), **params)
    if question.type == "yes_no":
        word = fold(value)
        if word in _YES_WORDS:
            return YES
        if word in _NO_WORDS:
            return NO
        raise DomainError(N_("« %(label)s » : répondez par oui ou par non."), question.id, **params)
    if question.type == "number":
        return _number(value, question, params)
    if question.type == "date":
        return _date(value, question, params)
    if len(value) > MAX_TEXT_ANSWER:
        raise DomainError(N_("« %(label)s » : %(max)s caractères au plus."), question.id, max=MAX_TEXT_ANSWER, **params)
    return value


def _number(value: str, question: Question, params: dict) -> str:
    compact = re.sub(r"[\s\u00a0\u202f]", "", value).replace(",", ".")
    try:
        number = Decimal(compact)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not re.fullmatch(r"[-+]?\d+(\.\d+)?", compact):
        raise DomainError(N_("« %(label)s » : saisissez un nombre (par exemple 12 ou 12,5)."), question.id, **params)
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", "+0"):
        text = "0"
    return text.lstrip("+").replace(".", ",")


def _date(value: str, question: Question, params: dict) -> str:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    raise DomainError(N_("« %(label)s » : saisissez une date au format JJ/MM/AAAA."), question.id, **params)


def show_answer(question: Question, value: str) -> str:
    """An answer as a person reads it (dates as JJ/MM/AAAA)."""
    if question.type == "date" and value:
        try:
            return date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return value
    return value


def is_answered(answers: dict[str, str], question_id: str) -> bool:
    return answers.get(question_id) not in (None, "")


def missing_required(step: Step, answers: dict[str, str]) -> list[Question]:
    return [q for q in step.questions if q.required and not is_answered(answers, q.id)]


# --- branching ---------------------------------------------------------------------------


def next_step(script: Script, step_id: str, answers: dict[str, str]) -> str:
    """Where the script goes after ``step_id``: the first matching branch, else ``next``."""
    step = script.step(step_id)
    for branch in step.branches:
        if branch.matches(answers):
            return branch.goto
    return step.next


def path(script: Script, answers: dict[str, str]) -> list[str]:
    """The steps the call goes through with these answers, from the first to the end.

    A loop that the answers make (a step sending back to an earlier one) is
    cut where it would repeat a step.
    """
    result: list[str] = []
    current = script.first
    while current != END and current not in result:
        result.append(current)
        current = next_step(script, current, answers)
    return result


def current_step(script: Script, answers: dict[str, str]) -> str:
    """The first step along the path still waiting for a required answer, else the last one."""
    steps = path(script, answers)
    for step_id in steps:
        if missing_required(script.step(step_id), answers):
            return step_id
    return steps[-1]


def done_steps(script: Script, answers: dict[str, str]) -> set[str]:
    """Steps to mark "fait": those the path has gone past, and those whose questions are answered."""
    steps = path(script, answers)
    passed = set(steps[:steps.index(current_step(script, answers))])
    answered = {step.id for step in script.steps
                if step.questions and not missing_required(step, answers)
                and any(is_answered(answers, q.id) for q in step.questions)}
    return passed | answered


# --- display helpers ------------------------------------------------------------------------


class _Fill(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def fill(text: str, agent: str = "", company: str = "", contact: str = "") -> str:
    """A phrase with its placeholders filled; an unknown one is left as written."""
    try:
        return text.format_map(_Fill(agent=agent, company=company, contact=contact))
    except (ValueError, IndexError):
        return text


def banned_in(script: Script, text: str) -> list[str]:
    """The banned words ("mots à bannir") found in a text, accents and case forgiven."""
    folded = f" {fold(text)} "
    return [word for word in script.banned_words if f" {fold(word)} " in folded]
