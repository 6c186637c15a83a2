"""Role-play scenarios ("mises en situation") as data: the YAML format and its checks.

A scenario is what a trainer hands a trainee before a practice call: the
company and what the agent knows, the direction of the call, the customer
record the desktop shows, the queue or campaign and its call script, and —
hidden from the trainee — the simulated caller (persona): mood, patience,
style, language, goals, the facts the agent must discover, the objections
and what answers them, what makes the caller agree, hang up or ask for a
supervisor. It names the framework criteria the call is assessed on, a time
target and the ideal outcome (qualification, CRM fields, events).

Trainers write these files, so mistakes are reported like the framework
files' (``domain.frameworks``): all at once, in French, each naming the file,
the line, the element (fact, objection, step…) and the field. Cross-file
references (framework criteria, call scripts, queues, campaigns,
qualifications, products, the shared reply templates) are checked against a
``References`` the service layer reads from ``data/``; without it only the file
itself is checked.

The format is documented with an example in ``data/scenarios/README.md``;
``docs/scenarios.md`` explains how the simulated caller uses it.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import PurePath
from types import MappingProxyType
from typing import Mapping

from .contacts import EDITABLE, PhoneInput, clean_contact
from .errors import N_, ValidationError
from .frameworks import FrameworkError, _Checker as _FrameworkChecker
from .persona_cues import CUE_KINDS, cue_error
from .phones import parse as parse_phone
from .scripts import load_yaml

INBOUND, OUTBOUND = "inbound", "outbound"
DIRECTIONS = {INBOUND: N_("appel entrant"), OUTBOUND: N_("appel sortant")}

#: the moods a persona starts in, with the mood value they start at (−5 furious … +5 delighted)
MOODS = {"friendly": 1.5, "calm": 0.0, "hurried": -0.5, "anxious": -1.0, "annoyed": -2.0, "angry": -3.5}
MOOD_LABELS = {"friendly": N_("aimable"), "calm": N_("calme"), "hurried": N_("pressé"), "anxious": N_("inquiet"),
               "annoyed": N_("agacé"), "angry": N_("en colère")}
STYLES = {"formal": N_("soutenu"), "familiar": N_("familier"), "terse": N_("laconique"), "verbose": N_("bavard")}
#: ``ar``: a caller who prefers Arabic, says so, and speaks French sprinkled with Arabic
LANGUAGES = {"fr": N_("français"), "en": N_("anglais"), "ar": N_("préfère l'arabe")}
#: which shared reply file a language draws on (data/scenarios/replies/<base>.yaml)
REPLY_BASE = {"fr": "fr", "en": "en", "ar": "fr"}
#: what the caller does when their patience runs out
EXHAUSTED = {"hang_up": N_("raccroche"), "supervisor": N_("demande un responsable")}
#: what makes the caller hang up at once (otherwise each is one irritant more)
HANG_UP_ON = ("rudeness", "banned_word", "tutoiement")
#: how a role play ends, from the caller's side
OUTCOMES = {"agreed": N_("accord"), "refused": N_("refus"), "hung_up": N_("a raccroché"),
            "asked_supervisor": N_("a demandé un responsable")}
#: what the desktop records during a call (the evaluator's CALL.json event types)
EVENT_TYPES = ("hold", "resume", "transfer", "hangup", "crm_update", "disposition", "callback", "appointment",
               "survey_answer", "payment_plan", "complaint_forwarded", "sale")
#: how the agent's behaviour moves a caller's mood by default; a persona's ``effects`` may change any
EFFECTS = {
    "greeting": 0.5,            # greeted, named the company and themselves on the first turn
    "no_greeting": -0.5,        # did not
    "empathy": 1.0,             # halved when the caller is not upset; three times at most
    "reformulation": 0.5,       # a faithful reformulation of what was said
    "discovery": 0.3,           # a question that lets the caller say something new
    "objection_answered": 1.0,
    "step_done": 0.3,
    "hold_thanks": 0.3,         # thanked for waiting after a hold
    "irritant": -1.0,           # each irritant (see domain.persona.IRRITANTS)
    "rudeness": -2.0,
}
EFFECT_KEYS = tuple(EFFECTS)
#: things that happen when the call starts: a persona's objection may be raised then
TRIGGERS = ("start", "cue", "fact", "step", "turn")

#: the situations a persona has replies for; every key must end up with templates
#: (the scenario's own, else the shared file of its language, by style)
REPLY_KEYS = {
    "pickup": N_("décroche (appel sortant)"),
    "who": N_("demande qui appelle (présentation absente)"),
    "what_about": N_("demande l'objet de l'appel (appel sortant)"),
    "identity": N_("décline son identité"),
    "identity_again": N_("redonne son identité"),
    "ack": N_("acquiesce"),
    "confirm": N_("confirme une reformulation juste"),
    "understood": N_("dit avoir compris (le conseiller vérifie la compréhension)"),
    "correct": N_("corrige une reformulation fausse"),
    "repeat_fact": N_("répète ce qu'il a déjà dit"),
    "unknown_open": N_("ne sait que répondre à une question ouverte"),
    "unknown_closed": N_("ne sait que répondre à une question fermée"),
    "too_early": N_("refuse une proposition prématurée"),
    "agree": N_("donne son accord"),
    "recap_ok": N_("valide le récapitulatif"),
    "refuse": N_("refuse et prend congé"),
    "goodbye": N_("prend congé"),
    "silence": N_("s'inquiète d'un silence"),
    "hold_unannounced": N_("reproche une attente non annoncée"),
    "hold_long": N_("reproche une attente trop longue"),
    "rude": N_("réagit à un propos désobligeant"),
    "banned": N_("réagit à un mot à bannir"),
    "tutoiement": N_("réagit au tutoiement"),
    "hurry": N_("presse le conseiller"),
    "hang_up": N_("raccroche"),
    "supervisor": N_("demande un responsable"),
    "transfer_cold": N_("réagit à un transfert non annoncé"),
    "step_early": N_("signale une manipulation dans le désordre"),
    "wrong_language": N_("ne comprend pas la langue du conseiller"),
    "calmer": N_("se calme"),
    "tone_low": N_("entame une réponse quand il est mécontent"),
    "tone_high": N_("entame une réponse quand il est content"),
}
#: placeholders a reply or an answer may use, filled when the persona speaks
PLACEHOLDERS = ("agent", "company", "persona", "civility", "first_name", "last_name", "customer_number", "postcode",
                "city", "company_name", "answer", "word")

_CODE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

_KEYS = {
    "scenario": ({"code", "title", "direction", "company", "contact", "persona", "framework", "time_target_s",
                  "ideal_outcome"},
                 {"summary", "brief", "queue", "campaign", "script", "note"}),
    "company": ({"name", "sector"}, {"aliases", "knowledge", "products"}),
    "contact": (set(), set(EDITABLE) | {"phones"}),
    "phone": ({"number"}, {"label"}),
    "persona": ({"name", "age", "mood", "style", "language", "goals", "patience", "facts", "agree_when", "opening"},
                {"mood_value", "objections", "steps", "steps_in_order", "effects", "banned_words", "refuse_after",
                 "replies", "description"}),
    "patience": ({"irritants"}, {"silence_s", "hold_s", "call_s", "on_exhausted", "hang_up_on"}),
    "fact": ({"id", "label", "cues", "answer"},
             {"short", "keywords", "open", "given", "required", "requires", "script_question", "value"}),
    "objection": ({"id", "when", "text", "answers", "satisfied", "unsatisfied"},
                  {"label", "needs", "max_tries", "script_objection"}),
    "when": (set(), set(TRIGGERS) - {"start"}),
    "step": ({"id", "label", "cues", "done"}, {"early", "after"}),
    "agree_when": (set(), {"facts", "objections", "steps", "cues", "min_mood"}),
    "framework": ({"code", "criteria"}, {"related"}),
    "ideal_outcome": ({"outcome"}, {"disposition", "crm", "events", "summary"}),
    "event": ({"type"}, {"detail"}),
    "replies_file": ({"language", "replies"}, {"note"}),
}


# --- the parsed scenario ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Company:
    name: str
    sector: str
    aliases: tuple[str, ...] = ()
    knowledge: tuple[str, ...] = ()
    products: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """What a caller recognises as the company's name when the agent says it."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class ContactRecord:
    """The customer record the desktop loads: cleaned values (``domain.contacts.clean_contact``) and E.164 phones."""

    values: Mapping[str, object]
    phones: tuple[tuple[str, str], ...] = ()

    def get(self, name: str, default=""):
        value = self.values.get(name)
        return default if value in (None, "") else value


@dataclass(frozen=True)
class Fact:
    """Something the agent must find out: the cues of questions that reveal it and what the caller says.

    ``answer`` is said to an open question, ``short`` to a closed or alternative
    one; ``open`` facts come out on any open question (« que puis-je pour vous ? »);
    ``given`` ones are said in the opening; ``requires`` lists facts to discover first;
    ``keywords`` (default: the cues) are what a faithful reformulation of it repeats."""

    id: str
    label: str
    cues: tuple[str, ...]
    answer: str
    short: str
    open: bool = False
    given: bool = False
    required: bool = True
    requires: tuple[str, ...] = ()
    script_question: str = ""
    value: str = ""
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Trigger:
    """When an objection comes up: at the ``start``, on a ``cue`` kind, after a ``fact`` or ``step``, at a ``turn``."""

    kind: str
    value: str | int = ""


@dataclass(frozen=True)
class Objection:
    id: str
    when: Trigger
    text: tuple[str, ...]
    answers: tuple[str, ...]
    satisfied: tuple[str, ...]
    unsatisfied: tuple[str, ...]
    label: str = ""
    needs: tuple[str, ...] = ()
    max_tries: int = 2
    script_objection: str = ""


@dataclass(frozen=True)
class Step:
    """A manipulation or an argument the agent must give, in order; ``done`` is the caller's reaction."""

    id: str
    label: str
    cues: tuple[str, ...]
    done: tuple[str, ...]
    early: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgreeWhen:
    """All must hold for the caller to agree: facts discovered, objections answered, steps done, cues heard."""

    facts: tuple[str, ...] = ()
    objections: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    cues: tuple[str, ...] = ()
    min_mood: float | None = None


@dataclass(frozen=True)
class Patience:
    irritants: int = 3
    silence_s: float = 15.0
    hold_s: float = 60.0
    call_s: float | None = None
    on_exhausted: str = "hang_up"
    hang_up_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonaSpec:
    name: str
    age: int
    mood: str
    mood_value: float
    style: str
    language: str
    goals: tuple[str, ...]
    patience: Patience
    facts: tuple[Fact, ...]
    agree_when: AgreeWhen
    opening: tuple[str, ...] = ()
    objections: tuple[Objection, ...] = ()
    steps: tuple[Step, ...] = ()
    steps_in_order: bool = True
    effects: Mapping[str, float] = field(default_factory=dict)
    banned_words: tuple[str, ...] = ()
    refuse_after: int = 3
    replies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    description: str = ""

    def fact(self, fact_id: str) -> Fact:
        return next(f for f in self.facts if f.id == fact_id)

    def objection(self, objection_id: str) -> Objection:
        return next(o for o in self.objections if o.id == objection_id)

    @property
    def mood_label(self) -> str:
        return MOOD_LABELS[self.mood]


@dataclass(frozen=True)
class FrameworkRef:
    code: str
    criteria: tuple[str, ...]
    related: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExpectedEvent:
    type: str
    detail: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class IdealOutcome:
    outcome: str
    disposition: str = ""
    crm: tuple[tuple[str, str], ...] = ()
    events: tuple[ExpectedEvent, ...] = ()
    summary: str = ""


@dataclass(frozen=True)
class Scenario:
    code: str
    title: str
    direction: str
    company: Company
    contact: ContactRecord
    persona: PersonaSpec
    framework: FrameworkRef
    time_target_s: int
    ideal: IdealOutcome
    summary: str = ""
    brief: str = ""
    queue: str = ""
    campaign: str = ""
    script: str = ""
    note: str = ""
    file: str = ""

    @property
    def direction_label(self) -> str:
        return DIRECTIONS[self.direction]


# --- references to other files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScriptRef:
    questions: frozenset = frozenset()
    objections: frozenset = frozenset()
    banned_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class References:
    """What the other data files hold, for the cross-file checks (read by ``services.scenarios``).

    ``frameworks``: code → (criteria ids, node ids); ``scripts``: code → ScriptRef;
    ``queues``: code → qualifications offered; ``campaigns``: code → (script code,
    qualifications); ``dispositions``: every qualification code; ``replies``: base
    language → key → style → templates (``data/scenarios/replies/*.yaml``)."""

    frameworks: Mapping[str, tuple[frozenset, frozenset]] = field(default_factory=dict)
    scripts: Mapping[str, ScriptRef] = field(default_factory=dict)
    queues: Mapping[str, frozenset] = field(default_factory=dict)
    campaigns: Mapping[str, tuple[str, frozenset]] = field(default_factory=dict)
    dispositions: frozenset = frozenset()
    products: frozenset = frozenset()
    replies: Mapping[str, Mapping[str, Mapping[str, tuple[str, ...]]]] = field(default_factory=dict)


# --- errors ----------------------------------------------------------------------------------------------


class ScenarioError(FrameworkError):
    """One problem in a scenario file: the file, the line, the element and the field (rendered like a framework's)."""


# --- parsing ----------------------------------------------------------------------------------------------


class _Checker(_FrameworkChecker):
    """The framework checker's typed readers (text, texts, number, mapping), with the scenario's keys and errors."""

    def error(self, message: str, where=None, line=None, at: str | None = None, **params) -> None:
        self.errors.append(ScenarioError(message, where, line, file=self.file, field_name=at, **params))

    def keys(self, data, kind: str, where) -> None:
        required, optional = _KEYS[kind]
        for key in sorted(required - set(data)):
            self.error(N_("clé obligatoire « %(key)s » absente."), where, data.line, key, key=key)
        for key in [k for k in data if k not in required | optional]:
            self.error(N_("clé inconnue « %(key)s » ; clés permises : %(allowed)s."), where,
                       data.line_of(str(key)), str(key), key=str(key), allowed=", ".join(sorted(required | optional)))

    def flag(self, data, key: str, where, default: bool = False) -> bool:
        if key not in data:
            return default
        value = data.get(key)
        if not isinstance(value, bool):
            self.error(N_("« %(key)s » vaut true ou false."), where, data.line_of(key), key, key=key)
            return default
        return value

    def ident(self, data, where) -> str:
        value = data.get("id")
        if value is None:
            return ""
        value = str(value).strip()
        if not _ID.match(value):
            self.error(N_("identifiant « %(id)s » invalide : lettres minuscules sans accent, chiffres, « - » et « _ », "
                          "64 caractères au plus."), where, data.line_of("id"), "id", id=value)
        return value

    def choice(self, data, key: str, where, allowed, required: bool = True) -> str:
        value = self.text(data, key, where, required)
        if value and value not in allowed:
            self.error(N_("« %(key)s » vaut « %(value)s » ; valeurs permises : %(allowed)s."), where, data.line_of(key),
                       key, key=key, value=value, allowed=", ".join(allowed))
            return ""
        return value

    def templates(self, data, key: str, where) -> tuple[str, ...]:
        """A list of replies (a single text is accepted as a list of one), placeholders checked."""
        if key not in data:
            return ()
        if isinstance(data.get(key), str):
            values = (self.text(data, key, where),)
        else:
            values = self.texts(data, key, where)
        for value in values:
            self.placeholders(value, where, data.line_of(key), key)
        return tuple(v for v in values if v)

    def placeholders(self, text: str, where, line, key: str) -> None:
        try:
            names = [name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None]
        except ValueError:
            self.error(N_("accolade non fermée dans « %(key)s » : écrivez par exemple {first_name}."), where, line, key,
                       key=key)
            return
        for name in names:
            if name not in PLACEHOLDERS:
                self.error(N_("« {%(name)s} » inconnu dans « %(key)s » ; repères permis : %(allowed)s."), where, line,
                           key, name=name, key=key, allowed=", ".join("{" + p + "}" for p in PLACEHOLDERS))

    def cues(self, data, key: str, where, required: bool = True) -> tuple[str, ...]:
        if key not in data:
            return ()
        values = self.texts(data, key, where)
        for value in values:
            if cue_error(value):
                self.error(N_("repère « %(cue)s » illisible dans « %(key)s » : des mots (« * » en fin de mot pour "
                              "toute terminaison), « | » entre variantes, « + » entre parties obligatoires."), where,
                           data.line_of(key), key, cue=value, key=key)
        return values

    def ids(self, data, key: str, where, known: dict, what: str, allow_all: bool = False) -> tuple[str, ...]:
        """A list of ids that must be among ``known`` (``all`` for every one when ``allow_all``)."""
        if key not in data:
            return ()
        if allow_all and data.get(key) == "all":
            return tuple(known)
        values = self.texts(data, key, where)
        for value in values:
            if value not in known:
                self.error(N_("« %(key)s » : %(what)s « %(value)s » inconnu(e) ; connus : %(known)s."), where,
                           data.line_of(key), key, key=key, what=what, value=value, known=", ".join(known) or "—")
        return tuple(v for v in values if v in known)


def parse_scenario(text: str, source_name: str = "", refs: References | None = None) -> Scenario:
    """Read and check a scenario file; raise ValidationError listing every problem (ScenarioError each).

    ``source_name`` is the file name the messages quote; when it ends in ``.yaml``
    it must be ``<code>.yaml``. ``refs`` enables the checks against the other
    data files and completes the persona's replies from the shared templates."""
    file = PurePath(source_name).name if source_name else ""
    check = _Checker(file)
    data, load_errors = load_yaml(text)
    for error in load_errors:
        check.error(error.message, None, error.line, error.params.get("key"), **error.params)
    if data is None:
        if not load_errors:
            check.error(N_("le fichier est vide."), None, 1)
        _raise(check.errors)
    root = check.mapping(data, [(N_("le scénario"), {})], 1)
    if root is None:
        _raise(check.errors)
    here: list = []
    check.keys(root, "scenario", here)
    code = check.text(root, "code", here)
    if code and not _CODE.match(code):
        check.error(N_("code « %(code)s » invalide : lettres minuscules sans accent et chiffres, mots séparés par "
                       "« - »."), here, root.line_of("code"), "code", code=code)
    elif code and file.endswith((".yaml", ".yml")) and PurePath(file).stem != code:
        check.error(N_("le fichier d'un scénario se nomme d'après son code : « %(expected)s » attendu."), here,
                    root.line_of("code"), "code", expected=f"{code}.yaml")
    direction = check.choice(root, "direction", here, DIRECTIONS)
    company = _company(check, root, refs)
    queue, campaign, script = _routing(check, root, direction, refs)
    contact = _contact(check, root)
    script_ref = refs.scripts.get(script) if refs is not None and script else None
    persona = _persona(check, root, direction, company, refs, script_ref)
    framework = _framework(check, root, refs)
    time_target = check.number(root, "time_target_s", here, integer=True)
    ideal = _ideal(check, root, direction, queue, campaign, refs)
    scenario = Scenario(code=code, title=check.text(root, "title", here), direction=direction or INBOUND,
                        company=company, contact=contact, persona=persona, framework=framework,
                        time_target_s=int(time_target or 0), ideal=ideal,
                        summary=check.text(root, "summary", here, False), brief=check.text(root, "brief", here, False),
                        queue=queue, campaign=campaign, script=script, note=check.text(root, "note", here, False),
                        file=file)
    if check.errors:
        _raise(check.errors)
    return scenario


def _raise(errors: list[ScenarioError]):
    ordered = sorted(errors, key=lambda e: (e.line is None, e.line or 0))
    raise ValidationError({f"{n:03d}": error for n, error in enumerate(ordered, 1)})


def _section(check: _Checker, root, key: str, where):
    if key not in root:
        return None
    return check.mapping(root.get(key), where, root.line_of(key), key)


def _company(check: _Checker, root, refs: References | None) -> Company:
    where = [(N_("entreprise"), {})]
    data = _section(check, root, "company", where)
    if data is None:
        return Company(name="", sector="")
    check.keys(data, "company", where)
    products = check.texts(data, "products", where)
    if refs is not None:
        for product in products:
            if product not in refs.products:
                check.error(N_("produit « %(value)s » inconnu (data/demo/products.yaml) ; connus : %(known)s."), where,
                            data.line_of("products"), "products", value=product,
                            known=", ".join(sorted(refs.products)) or "—")
    return Company(name=check.text(data, "name", where), sector=check.text(data, "sector", where),
                   aliases=check.texts(data, "aliases", where), knowledge=check.texts(data, "knowledge", where),
                   products=products)


def _routing(check: _Checker, root, direction: str, refs: References | None) -> tuple[str, str, str]:
    """The queue (inbound) or campaign (outbound) and the call script, checked against the demo files."""
    here: list = []
    queue = check.text(root, "queue", here, False)
    campaign = check.text(root, "campaign", here, False)
    script = check.text(root, "script", here, False)
    if direction == INBOUND:
        if not queue and "queue" not in root:
            check.error(N_("un appel entrant arrive par une file : « queue » manque."), here, root.line_of("direction"),
                        "queue")
        if campaign:
            check.error(N_("« campaign » ne vaut que pour un appel sortant."), here, root.line_of("campaign"), "campaign")
    elif direction == OUTBOUND and queue:
        check.error(N_("« queue » ne vaut que pour un appel entrant ; un appel sortant nomme sa « campaign »."), here,
                    root.line_of("queue"), "queue")
    if refs is None:
        return queue, campaign, script or queue
    if queue and queue not in refs.queues:
        check.error(N_("file « %(value)s » inconnue (data/demo/queues.yaml) ; files : %(known)s."), here,
                    root.line_of("queue"), "queue", value=queue, known=", ".join(refs.queues) or "—")
    if campaign and campaign not in refs.campaigns:
        check.error(N_("campagne « %(value)s » inconnue (data/demo/campaigns.yaml) ; campagnes : %(known)s."), here,
                    root.line_of("campaign"), "campaign", value=campaign, known=", ".join(refs.campaigns) or "—")
    if not script:
        script = refs.campaigns[campaign][0] if campaign in refs.campaigns else queue
        if not script and direction == OUTBOUND:
            check.error(N_("un appel sortant sans campagne nomme son script d'appel : « script » manque."), here,
                        root.line_of("direction"), "script")
    if script and script not in refs.scripts:
        check.error(N_("script d'appel « %(value)s » inconnu (data/demo/scripts/) ; scripts : %(known)s."), here,
                    root.line_of("script") if "script" in root else root.line_of("queue"), "script", value=script,
                    known=", ".join(sorted(refs.scripts)) or "—")
    elif script and campaign in refs.campaigns and refs.campaigns[campaign][0] != script:
        check.error(N_("la campagne « %(campaign)s » suit le script « %(expected)s », pas « %(value)s »."), here,
                    root.line_of("script"), "script", campaign=campaign, expected=refs.campaigns[campaign][0],
                    value=script)
    return queue, campaign, script


def _contact(check: _Checker, root) -> ContactRecord:
    """The record to load, checked by the CRM's own rules; phones must already be written in E.164."""
    where = [(N_("fiche contact"), {})]
    data = _section(check, root, "contact", where)
    if data is None:
        return ContactRecord(values=MappingProxyType({}))
    check.keys(data, "contact", where)
    inputs: list[PhoneInput] = []
    raw_phones = data.get("phones") or []
    if "phones" in data and not isinstance(raw_phones, list):
        check.error(N_("« phones » doit être une liste de numéros."), where, data.line_of("phones"), "phones")
        raw_phones = []
    for n, item in enumerate(raw_phones, 1):
        here = where + [(N_("téléphone n° %(pn)s"), {"pn": n})]
        entry = check.mapping(item, here, data.line_of("phones"), "phones")
        if entry is None:
            continue
        check.keys(entry, "phone", here)
        number = check.text(entry, "number", here)
        if number:
            try:
                e164 = parse_phone(number)
            except ValidationError:
                e164 = None
            if e164 != number:
                check.error(N_("« %(value)s » : numéro à écrire au format international E.164 (par exemple "
                               "+33612345678)."), here, entry.line_of("number"), "number", value=number)
                continue
        inputs.append(PhoneInput(number=number, label=check.text(entry, "label", here, False) or "mobile"))
    values = {key: value for key, value in data.items() if key != "phones"}
    for key in ("birth_date",):
        if key in values and values[key] is not None:
            values[key] = str(values[key])
    try:
        cleaned = clean_contact(values, inputs)
    except ValidationError as exc:
        for name, error in exc.errors.items():
            key = "phones" if name.startswith("phone_") else name
            check.error(error.message, where, data.line_of(key), key, **error.params)
        return ContactRecord(values=MappingProxyType({}))
    return ContactRecord(values=MappingProxyType(cleaned.values), phones=tuple(cleaned.phones))


def _persona(check: _Checker, root, direction: str, company: Company, refs: References | None,
             script: ScriptRef | None) -> PersonaSpec:
    where = [(N_("personnage"), {})]
    data = _section(check, root, "persona", where)
    empty = PersonaSpec(name="", age=0, mood="calm", mood_value=0.0, style="formal", language="fr", goals=(),
                        patience=Patience(), facts=(), agree_when=AgreeWhen())
    if data is None:
        return empty
    check.keys(data, "persona", where)
    age = check.number(data, "age", where, integer=True)
    if age is not None and not 12 <= age <= 110:
        check.error(N_("« age » : un âge entre 12 et 110 ans."), where, data.line_of("age"), "age")
    mood = check.choice(data, "mood", where, MOODS)
    mood_value = MOODS.get(mood, 0.0)
    if "mood_value" in data:
        raw = data.get("mood_value")
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not -5 <= raw <= 5:
            check.error(N_("« mood_value » : un nombre de −5 (furieux) à 5 (ravi)."), where, data.line_of("mood_value"),
                        "mood_value")
        else:
            mood_value = float(raw)
    style = check.choice(data, "style", where, STYLES)
    language = check.choice(data, "language", where, LANGUAGES)
    goals = check.texts(data, "goals", where)
    patience = _patience(check, data, where)
    facts = _facts(check, data, script)
    fact_ids = {f.id: f for f in facts}
    steps = _steps(check, data, fact_ids)
    objections = _objections(check, data, fact_ids, {s.id: s for s in steps}, script)
    agree = _agree_when(check, data, fact_ids, {o.id: o for o in objections}, {s.id: s for s in steps})
    opening = check.templates(data, "opening", where)
    effects = _effects(check, data, where)
    refuse_after = check.number(data, "refuse_after", where, integer=True)
    replies = _replies(check, data, language or "fr", style or "formal", refs)
    banned = check.texts(data, "banned_words", where)
    if script is not None:
        banned = tuple(dict.fromkeys(banned + script.banned_words))
    return PersonaSpec(name=check.text(data, "name", where), age=int(age or 0), mood=mood or "calm",
                       mood_value=mood_value, style=style or "formal", language=language or "fr", goals=goals,
                       patience=patience, facts=facts, agree_when=agree, opening=opening, objections=objections,
                       steps=steps, steps_in_order=check.flag(data, "steps_in_order", where, True),
                       effects=MappingProxyType(effects), banned_words=banned,
                       refuse_after=int(refuse_after or 3), replies=MappingProxyType(replies),
                       description=check.text(data, "description", where, False))


def _patience(check: _Checker, data, where_parent) -> Patience:
    where = where_parent + [(N_("patience"), {})]
    raw = _section(check, data, "patience", where)
    if raw is None:
        return Patience()
    check.keys(raw, "patience", where)
    irritants = check.number(raw, "irritants", where, integer=True)
    silence = check.number(raw, "silence_s", where)
    hold = check.number(raw, "hold_s", where)
    call = check.number(raw, "call_s", where)
    on_exhausted = check.choice(raw, "on_exhausted", where, EXHAUSTED, False) or "hang_up"
    hang_up_on = check.texts(raw, "hang_up_on", where)
    for value in hang_up_on:
        if value not in HANG_UP_ON:
            check.error(N_("« hang_up_on » : « %(value)s » inconnu ; valeurs permises : %(allowed)s."), where,
                        raw.line_of("hang_up_on"), "hang_up_on", value=value, allowed=", ".join(HANG_UP_ON))
    return Patience(irritants=int(irritants or 3), silence_s=float(silence or 15), hold_s=float(hold or 60),
                    call_s=float(call) if call else None, on_exhausted=on_exhausted,
                    hang_up_on=tuple(v for v in hang_up_on if v in HANG_UP_ON))


def _list(check: _Checker, data, key: str, where, required: bool = False) -> list:
    if key not in data:
        return []
    raw = data.get(key)
    if not isinstance(raw, list) or (required and not raw):
        check.error(N_("« %(key)s » doit être une liste non vide (lignes commençant par « - »)."), where,
                    data.line_of(key), key, key=key)
        return []
    return raw


def _entries(check: _Checker, data, key: str, kind: str, label: str, ref_label: str, required: bool = False):
    """(entry, id, where) for each mapping of a list of identified elements; duplicates reported."""
    seen: dict[str, int] = {}
    for n, item in enumerate(_list(check, data, key, [(N_("personnage"), {})], required), 1):
        first = [(N_("personnage"), {}), (label, {"n": n})]
        entry = check.mapping(item, first, data.line_of(key), key)
        if entry is None:
            continue
        element_id = check.ident(entry, first)
        where = [(N_("personnage"), {}), (ref_label, {"id": element_id})] if element_id else first
        check.keys(entry, kind, where)
        if element_id in seen:
            check.error(N_("identifiant « %(id)s » en double (déjà utilisé ligne %(other)s)."), where,
                        entry.line_of("id"), "id", id=element_id, other=seen[element_id])
            continue
        if element_id:
            seen[element_id] = entry.line_of("id")
        yield entry, element_id, where


def _facts(check: _Checker, data, script: ScriptRef | None) -> tuple[Fact, ...]:
    facts: list[Fact] = []
    pending_requires: list[tuple[Fact, object, list]] = []
    for entry, fact_id, where in _entries(check, data, "facts", "fact", N_("fait n° %(n)s"), N_("fait « %(id)s »"),
                                          required=True):
        answer = check.text(entry, "answer", where)
        check.placeholders(answer, where, entry.line_of("answer"), "answer")
        short = check.text(entry, "short", where, False)
        check.placeholders(short, where, entry.line_of("short"), "short")
        cues = check.cues(entry, "cues", where)
        question = check.text(entry, "script_question", where, False)
        if question and script is not None and question not in script.questions:
            check.error(N_("« script_question » : la question « %(value)s » n'existe pas dans le script d'appel."), where,
                        entry.line_of("script_question"), "script_question", value=question)
        fact = Fact(id=fact_id, label=check.text(entry, "label", where), cues=cues, answer=answer,
                    short=short or answer, open=check.flag(entry, "open", where), given=check.flag(entry, "given", where),
                    required=check.flag(entry, "required", where, True), requires=check.texts(entry, "requires", where),
                    script_question=question, value=check.text(entry, "value", where, False),
                    keywords=check.cues(entry, "keywords", where) or cues)
        facts.append(fact)
        pending_requires.append((fact, entry, where))
    known = {f.id for f in facts}
    for fact, entry, where in pending_requires:
        for other in fact.requires:
            if other not in known or other == fact.id:
                check.error(N_("« requires » : le fait « %(value)s » n'existe pas (ou c'est celui-ci)."), where,
                            entry.line_of("requires"), "requires", value=other)
    return tuple(facts)


def _trigger(check: _Checker, entry, where, facts: dict, steps: dict) -> Trigger:
    raw = entry.get("when")
    line = entry.line_of("when")
    if raw == "start":
        return Trigger("start")
    if isinstance(raw, dict):
        check.keys(raw, "when", where)
        if len(raw) != 1:
            check.error(N_("« when » : une seule condition (start, cue, fact, step ou turn)."), where, line, "when")
            return Trigger("start")
        kind = next(iter(raw))
        value = raw[kind]
        if kind == "turn":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                check.error(N_("« when » / turn : un numéro de tour d'agent à partir de 1."), where, line, "when")
                return Trigger("start")
            return Trigger("turn", value)
        value = str(value)
        known = {"cue": CUE_KINDS, "fact": facts, "step": steps}.get(kind, ())
        if value not in known:
            check.error(N_("« when » / %(kind)s : « %(value)s » inconnu ; connus : %(known)s."), where, line, "when",
                        kind=kind, value=value, known=", ".join(known) or "—")
        return Trigger(kind, value)
    if "when" in entry:
        check.error(N_("« when » : « start » ou une condition {cue: …}, {fact: …}, {step: …}, {turn: …}."), where, line,
                    "when")
    return Trigger("start")


def _objections(check: _Checker, data, facts: dict, steps: dict, script: ScriptRef | None) -> tuple[Objection, ...]:
    result = []
    for entry, objection_id, where in _entries(check, data, "objections", "objection", N_("objection n° %(n)s"),
                                               N_("objection « %(id)s »")):
        needs = check.texts(entry, "needs", where)
        for kind in needs:
            if kind not in CUE_KINDS:
                check.error(N_("« needs » : « %(value)s » n'est pas un repère connu ; repères : %(known)s."), where,
                            entry.line_of("needs"), "needs", value=kind, known=", ".join(CUE_KINDS))
        max_tries = check.number(entry, "max_tries", where, integer=True)
        script_objection = check.text(entry, "script_objection", where, False)
        if script_objection and script is not None and script_objection not in script.objections:
            check.error(N_("« script_objection » : l'objection « %(value)s » n'existe pas dans le script d'appel."),
                        where, entry.line_of("script_objection"), "script_objection", value=script_objection)
        result.append(Objection(id=objection_id, when=_trigger(check, entry, where, facts, steps),
                                text=check.templates(entry, "text", where), answers=check.cues(entry, "answers", where),
                                satisfied=check.templates(entry, "satisfied", where),
                                unsatisfied=check.templates(entry, "unsatisfied", where),
                                label=check.text(entry, "label", where, False),
                                needs=tuple(k for k in needs if k in CUE_KINDS), max_tries=int(max_tries or 2),
                                script_objection=script_objection))
    return tuple(result)


def _steps(check: _Checker, data, facts: dict) -> tuple[Step, ...]:
    result = []
    for entry, step_id, where in _entries(check, data, "steps", "step", N_("étape n° %(n)s"), N_("étape « %(id)s »")):
        after = check.texts(entry, "after", where)
        for fact in after:
            if fact not in facts:
                check.error(N_("« after » : le fait « %(value)s » n'existe pas."), where, entry.line_of("after"), "after",
                            value=fact)
        result.append(Step(id=step_id, label=check.text(entry, "label", where), cues=check.cues(entry, "cues", where),
                           done=check.templates(entry, "done", where), early=check.templates(entry, "early", where),
                           after=after))
    return tuple(result)


def _agree_when(check: _Checker, data, facts: dict, objections: dict, steps: dict) -> AgreeWhen:
    where = [(N_("personnage"), {}), (N_("conditions d'accord"), {})]
    raw = _section(check, data, "agree_when", where)
    if raw is None:
        return AgreeWhen()
    check.keys(raw, "agree_when", where)
    required_facts = {f: fact for f, fact in facts.items() if fact.required}
    cues = check.texts(raw, "cues", where)
    for kind in cues:
        if kind not in CUE_KINDS:
            check.error(N_("« cues » : « %(value)s » n'est pas un repère connu ; repères : %(known)s."), where,
                        raw.line_of("cues"), "cues", value=kind, known=", ".join(CUE_KINDS))
    min_mood = raw.get("min_mood")
    if "min_mood" in raw and (isinstance(min_mood, bool) or not isinstance(min_mood, (int, float))
                              or not -5 <= min_mood <= 5):
        check.error(N_("« min_mood » : un nombre de −5 à 5."), where, raw.line_of("min_mood"), "min_mood")
        min_mood = None
    if not any(key in raw for key in ("facts", "objections", "steps", "cues")):
        check.error(N_("au moins une condition (facts, objections, steps ou cues) : sinon le personnage accepte "
                       "tout de suite."), where, raw.line, "agree_when")
    return AgreeWhen(facts=check.ids(raw, "facts", where, required_facts if raw.get("facts") == "all" else facts,
                                     N_("fait"), allow_all=True),
                     objections=check.ids(raw, "objections", where, objections, N_("objection"), allow_all=True),
                     steps=check.ids(raw, "steps", where, steps, N_("étape"), allow_all=True),
                     cues=tuple(k for k in cues if k in CUE_KINDS),
                     min_mood=float(min_mood) if isinstance(min_mood, (int, float)) else None)


def _effects(check: _Checker, data, where_parent) -> dict[str, float]:
    where = where_parent + [(N_("effets sur l'humeur"), {})]
    raw = _section(check, data, "effects", where)
    if raw is None:
        return {}
    result = {}
    for key, value in raw.items():
        if key not in EFFECT_KEYS:
            check.error(N_("effet « %(value)s » inconnu ; effets permis : %(allowed)s."), where, raw.line_of(str(key)),
                        "effects", value=str(key), allowed=", ".join(EFFECT_KEYS))
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not -5 <= value <= 5:
            check.error(N_("effet « %(value)s » : un nombre de −5 à 5."), where, raw.line_of(str(key)), "effects",
                        value=str(key))
        else:
            result[str(key)] = float(value)
    return result


def _reply_lists(check: _Checker, raw, where, styles: bool) -> dict[str, dict[str, tuple[str, ...]]]:
    """key → style → templates; a plain list stands for every style (``default``)."""
    result: dict[str, dict[str, tuple[str, ...]]] = {}
    for key, value in raw.items():
        key = str(key)
        here = where + [(N_("réponses « %(reply)s »"), {"reply": key})]
        if key not in REPLY_KEYS:
            check.error(N_("situation « %(value)s » inconnue ; situations : %(allowed)s."), where, raw.line_of(key),
                        key, value=key, allowed=", ".join(REPLY_KEYS))
            continue
        if isinstance(value, dict) and styles:
            by_style = {}
            for style in value:
                if style != "default" and style not in STYLES:
                    check.error(N_("style « %(value)s » inconnu ; styles : default, %(allowed)s."), here,
                                value.line_of(str(style)), key, value=str(style), allowed=", ".join(STYLES))
                    continue
                by_style[str(style)] = check.templates(value, str(style), here)
            result[key] = by_style
        else:
            result[key] = {"default": check.templates(raw, key, here)}
    return result


def _replies(check: _Checker, data, language: str, style: str, refs: References | None) -> dict[str, tuple[str, ...]]:
    """The persona's replies: its own, else the shared file of its language for its style, else ``default``."""
    where = [(N_("personnage"), {})]
    raw = _section(check, data, "replies", where)
    own = _reply_lists(check, raw, where, styles=True) if raw is not None else {}
    shared = refs.replies.get(REPLY_BASE.get(language, "fr"), {}) if refs is not None else {}
    resolved: dict[str, tuple[str, ...]] = {}
    for key in REPLY_KEYS:
        for source in (own.get(key), shared.get(key)):
            if source:
                templates = source.get(style) or source.get("default") or ()
                if templates:
                    resolved[key] = templates
                    break
    if refs is not None:
        missing = [key for key in REPLY_KEYS if key not in resolved]
        if missing:
            check.error(N_("aucune réponse pour : %(keys)s (ni dans le scénario ni dans "
                           "data/scenarios/replies/%(base)s.yaml)."), where, data.line_of("replies"), "replies",
                        keys=", ".join(missing), base=REPLY_BASE.get(language, "fr"))
    return resolved


def parse_replies(text: str, source_name: str = "") -> dict[str, dict[str, tuple[str, ...]]]:
    """A shared reply file (``data/scenarios/replies/<language>.yaml``): situation → style → templates.

    Every situation of ``REPLY_KEYS`` must have at least ``default`` templates."""
    file = PurePath(source_name).name if source_name else ""
    check = _Checker(file)
    data, load_errors = load_yaml(text)
    for error in load_errors:
        check.error(error.message, None, error.line, error.params.get("key"), **error.params)
    if data is None:
        if not load_errors:
            check.error(N_("le fichier est vide."), None, 1)
        _raise(check.errors)
    where = [(N_("réponses partagées"), {})]
    root = check.mapping(data, where, 1)
    if root is None:
        _raise(check.errors)
    check.keys(root, "replies_file", where)
    language = check.choice(root, "language", where, LANGUAGES)
    if language and file.endswith(".yaml") and PurePath(file).stem != language:
        check.error(N_("le fichier des réponses se nomme d'après sa langue : « %(expected)s » attendu."), where,
                    root.line_of("language"), "language", expected=f"{language}.yaml")
    raw = _section(check, root, "replies", where)
    result = _reply_lists(check, raw, where, styles=True) if raw is not None else {}
    for key in REPLY_KEYS:
        if key not in result or not result[key].get("default"):
            check.error(N_("la situation « %(value)s » doit avoir des réponses « default »."), where,
                        root.line_of("replies"), "replies", value=key)
    if check.errors:
        _raise(check.errors)
    return result


def _framework(check: _Checker, root, refs: References | None) -> FrameworkRef:
    where = [(N_("référentiel évalué"), {})]
    data = _section(check, root, "framework", where)
    if data is None:
        return FrameworkRef(code="", criteria=())
    check.keys(data, "framework", where)
    code = check.text(data, "code", where)
    criteria = check.texts(data, "criteria", where)
    related = check.texts(data, "related", where)
    if len(set(criteria)) != len(criteria):
        check.error(N_("« criteria » cite deux fois le même critère."), where, data.line_of("criteria"), "criteria")
    if refs is not None and code:
        if code not in refs.frameworks:
            check.error(N_("référentiel « %(value)s » inconnu (data/frameworks/) ; référentiels : %(known)s."), where,
                        data.line_of("code"), "code", value=code, known=", ".join(sorted(refs.frameworks)) or "—")
        else:
            known_criteria, known_nodes = refs.frameworks[code]
            for criterion in criteria:
                if criterion not in known_criteria:
                    check.error(N_("« criteria » : « %(value)s » n'est pas un critère du référentiel « %(code)s »."),
                                where, data.line_of("criteria"), "criteria", value=criterion, code=code)
            for node in related:
                if node not in known_nodes and node not in known_criteria:
                    check.error(N_("« related » : « %(value)s » n'est pas un élément du référentiel « %(code)s »."),
                                where, data.line_of("related"), "related", value=node, code=code)
    return FrameworkRef(code=code, criteria=criteria, related=related)


def _ideal(check: _Checker, root, direction: str, queue: str, campaign: str, refs: References | None) -> IdealOutcome:
    where = [(N_("résultat attendu"), {})]
    data = _section(check, root, "ideal_outcome", where)
    if data is None:
        return IdealOutcome(outcome="agreed")
    check.keys(data, "ideal_outcome", where)
    outcome = check.choice(data, "outcome", where, OUTCOMES)
    disposition = check.text(data, "disposition", where, False)
    if disposition and refs is not None:
        if direction == INBOUND and queue in refs.queues:
            allowed, whose = refs.queues[queue], queue
        elif direction == OUTBOUND and campaign in refs.campaigns:
            allowed, whose = refs.campaigns[campaign][1], campaign
        else:
            allowed, whose = refs.dispositions, ""
        if disposition not in allowed:
            check.error(N_("qualification « %(value)s » absente de la liste de « %(whose)s » ; qualifications : "
                           "%(known)s."), where, data.line_of("disposition"), "disposition", value=disposition,
                        whose=whose or "data/demo", known=", ".join(sorted(allowed)) or "—")
    crm: list[tuple[str, str]] = []
    if "crm" in data:
        raw = check.mapping(data.get("crm"), where, data.line_of("crm"), "crm")
        for key, value in (raw or {}).items():
            if key not in EDITABLE and key not in ("phones", "qualification", "note"):
                check.error(N_("« crm » : champ « %(value)s » inconnu de la fiche contact ; champs : %(known)s."), where,
                            raw.line_of(str(key)), "crm", value=str(key),
                            known=", ".join((*EDITABLE, "phones", "qualification", "note")))
                continue
            crm.append((str(key), "" if value is None else str(value)))
    events = []
    for n, item in enumerate(_list(check, data, "events", where), 1):
        here = where + [(N_("événement n° %(en)s"), {"en": n})]
        entry = {"type": item} if isinstance(item, str) else check.mapping(item, here, data.line_of("events"), "events")
        if entry is None:
            continue
        if not isinstance(item, str):
            check.keys(entry, "event", here)
        kind = str(entry.get("type") or "")
        if kind not in EVENT_TYPES:
            check.error(N_("type d'événement « %(value)s » inconnu ; types : %(known)s."), here, data.line_of("events"),
                        "events", value=kind, known=", ".join(EVENT_TYPES))
            continue
        detail = entry.get("detail") or {}
        if not isinstance(detail, dict):
            check.error(N_("« detail » : des clés « clé: valeur »."), here, data.line_of("events"), "events")
            detail = {}
        events.append(ExpectedEvent(type=kind, detail=MappingProxyType({str(k): v for k, v in detail.items()})))
    return IdealOutcome(outcome=outcome or "agreed", disposition=disposition, crm=tuple(crm), events=tuple(events),
                        summary=check.text(data, "summary", where, False))


__all__ = [
    "AgreeWhen", "Company", "ContactRecord", "DIRECTIONS", "EFFECTS", "EFFECT_KEYS", "EVENT_TYPES", "EXHAUSTED", "ExpectedEvent",
    "Fact", "FrameworkRef", "HANG_UP_ON", "INBOUND", "IdealOutcome", "LANGUAGES", "MOODS", "MOOD_LABELS", "OUTBOUND",
    "OUTCOMES", "Objection", "PLACEHOLDERS", "Patience", "PersonaSpec", "REPLY_BASE", "REPLY_KEYS", "References",
    "STYLES", "Scenario", "ScenarioError", "ScriptRef", "Step", "Trigger", "parse_replies", "parse_scenario",
]
