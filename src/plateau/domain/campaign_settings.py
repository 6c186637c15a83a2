"""A campaign's parameters and the checks each one gets, with no database in sight.

``clean`` turns what a supervisor typed (form strings) or what the API sent
(numbers, lists, dicts) into the values the ``campaigns`` table stores, and
reports every refused field at once, each message naming its field and its
rule. The service adds what only the database knows (a free code, an
existing script, known products) and merges both lists, so a form shows
every problem in one round trip and writes nothing.

Also here: the target-list selection (``Selection``: a CRM search plus
filters, checked and matched against a contact), the deterministic draw of
the test sample, and what a campaign needs before it may dial (``not_ready``).
"""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import phones, queue_hours
from .campaigns import DEFAULT_RETRY_MINUTES, CampaignType, DialMode, Outcome
from .contacts import KINDS, STATUSES, TEMPERATURES
from .errors import N_, DomainError, ValidationError
from .phone_network import NetworkProfile
from .text import fold

CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_NAME = 200
MAX_TEXT = 5000
MAX_DROP_MESSAGE = 1000
MIN_ATTEMPTS, MAX_ATTEMPTS = 1, 20
MIN_SAMPLE, MAX_SAMPLE = 1, 100
#: a retry delay beyond 30 days is a typing mistake, not a retry rule
MAX_RETRY_MINUTES = 30 * 24 * 60
#: predictive dialing may abandon at most 3 % of the connected calls (per campaign, per day)
LEGAL_ABANDON_CAP = 0.03
#: a connected call must reach an agent within 2 seconds, or it counts as abandoned
MAX_DROP_AFTER_S = 2.0

#: the calling-rules profiles a campaign can apply, and the zone its daily hours are read in by default
COUNTRIES = {"FR": N_("France"), "MA": N_("Maroc"), "DZ": N_("Algérie")}
DEFAULT_TIMEZONES = {"FR": "Europe/Paris", "MA": "Africa/Casablanca", "DZ": "Africa/Algiers"}

#: the campaign's business sector; the first two are sectors where telephone
#: prospecting of consumers is banned in France (the calling rules block it)
SECTORS = {
    "energy_renovation": N_("Rénovation énergétique (travaux, équipements)"),
    "personal_training_account": N_("Compte personnel de formation (CPF)"),
    "energy_supply": N_("Fourniture d'énergie"),
    "telecom": N_("Télécommunications"),
    "insurance": N_("Assurance"),
    "banking": N_("Banque et crédit"),
    "retail": N_("Commerce et vente à distance"),
    "charity": N_("Associations et dons"),
    "other": N_("Autre"),
}

#: quantitative objectives; ``sales_amount`` is money (euros, decimals allowed), the others are counts
OBJECTIVES = {
    "calls": N_("Appels"), "reached": N_("Contacts joints"), "argued": N_("Contacts argumentés"),
    "appointments": N_("Rendez-vous"), "sales": N_("Ventes"), "sales_amount": N_("Chiffre d'affaires (€)"),
    "surveys": N_("Enquêtes complétées"), "promises": N_("Promesses de paiement"),
}
_OBJECTIVE_ERRORS = {
    "calls": N_("Objectif d'appels : indiquez un nombre entier positif ou nul."),
    "reached": N_("Objectif de contacts joints : indiquez un nombre entier positif ou nul."),
    "argued": N_("Objectif de contacts argumentés : indiquez un nombre entier positif ou nul."),
    "appointments": N_("Objectif de rendez-vous : indiquez un nombre entier positif ou nul."),
    "sales": N_("Objectif de ventes : indiquez un nombre entier positif ou nul."),
    "sales_amount": N_("Objectif de chiffre d'affaires : indiquez un montant positif ou nul."),
    "surveys": N_("Objectif d'enquêtes complétées : indiquez un nombre entier positif ou nul."),
    "promises": N_("Objectif de promesses de paiement : indiquez un nombre entier positif ou nul."),
}

#: the network outcomes whose retry delay a campaign sets
RETRY_OUTCOMES = (Outcome.BUSY, Outcome.NO_ANSWER, Outcome.MACHINE)
_RETRY_ERRORS = {
    Outcome.BUSY: N_("Délai avant de rappeler un numéro occupé : indiquez un nombre de minutes entre 1 et %(max)s."),
    Outcome.NO_ANSWER: N_("Délai avant de rappeler après une absence de réponse : indiquez un nombre de minutes "
                          "entre 1 et %(max)s."),
    Outcome.MACHINE: N_("Délai avant de rappeler après un répondeur : indiquez un nombre de minutes entre 1 et %(max)s."),
}

#: the outcomes a campaign qualification ("qualification d'appel") may stand for: what an agent decides
AGENT_OUTCOMES = (Outcome.CONNECTED, Outcome.ARGUED, Outcome.REFUSED, Outcome.CALLBACK, Outcome.APPOINTMENT,
                  Outcome.SALE, Outcome.SURVEY_DONE, Outcome.PROMISE_TO_PAY, Outcome.WRONG_NUMBER,
                  Outcome.DO_NOT_CALL)

#: the stored columns this module cleans, in form order
SETTINGS = ("name", "code", "kind", "description", "objectives", "qualitative_objectives", "script_id", "products",
            "starts_on", "ends_on", "hours", "timezone", "dial_mode", "max_attempts", "retry_minutes",
            "presented_number", "abandon_cap", "drop_after_s", "drop_message", "country", "sector",
            "test_sample_size", "network_seed", "network")

#: a new campaign's values for what the supervisor left out
DEFAULTS: dict[str, Any] = {
    "description": "", "objectives": {}, "qualitative_objectives": "", "script_id": None, "products": [],
    "starts_on": None, "ends_on": None, "hours": {}, "timezone": "", "dial_mode": DialMode.PREVIEW.value,
    "max_attempts": 4, "retry_minutes": {o.value: DEFAULT_RETRY_MINUTES[o] for o in RETRY_OUTCOMES},
    "presented_number": None, "country": "FR", "sector": None, "abandon_cap": LEGAL_ABANDON_CAP,
    "drop_after_s": MAX_DROP_AFTER_S, "drop_message": "", "test_sample_size": 5, "network_seed": 1, "network": {},
}


# --- small parsers: each returns the value, or records an error and returns None ------------------------


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value) -> float | None:
    """A number typed the French way ("2,5", "3 %") or given as one; None when unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
        text = text.rstrip("%").replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            return None
    return number if math.isfinite(number) else None


def _integer(value) -> int | None:
    number = _number(value)
    if number is None or number != int(number):
        return None
    return int(number)


def _text(value, limit: int) -> str | None:
    """Trimmed text, or None when longer than ``limit``."""
    text = "" if value is None else str(value).strip()
    return text if len(text) <= limit else None


def _date(name: str, value, message: str, errors: dict) -> date | None:
    if isinstance(value, date):
        return value
    if _blank(value):
        return None
    text = str(value).strip()
    for pattern, order in ((r"(\d{4})-(\d{2})-(\d{2})", (0, 1, 2)), (r"(\d{2})/(\d{2})/(\d{4})", (2, 1, 0))):
        match = re.fullmatch(pattern, text)
        if match:
            parts = [int(p) for p in match.groups()]
            try:
                return date(parts[order[0]], parts[order[1]], parts[order[2]])
            except ValueError:
                break
    errors[name] = DomainError(message, name, value=text)
    return None


# --- the settings ------------------------------------------------------------------------------------------


def clean(data: dict) -> tuple[dict, dict[str, DomainError]]:
    """Every setting of ``data`` checked: (stored values, errors by field).

    ``data`` holds every key of ``SETTINGS`` (merge ``DEFAULTS`` or the stored
    values first); the abandon cap may come as ``abandon_cap_percent`` (the
    form's "3") instead of ``abandon_cap`` (0.03). Hours come per weekday as
    stored (``[["09:00", "12:30"]]``) or as typed ("09:00-12:30, 14:00-19:00");
    their errors are keyed ``hours_<day>``, objectives' ``objective_<key>``,
    retry delays' ``retry_<outcome>``, the network's ``network_<key>`` or
    ``network``.
    """
    errors: dict[str, DomainError] = {}
    v: dict[str, Any] = {}

    v["name"] = _text(data.get("name"), MAX_NAME) or ""
    if not v["name"]:
        errors["name"] = DomainError(N_("Le nom de la campagne est obligatoire (%(max)s caractères au plus)."), "name",
                                     max=MAX_NAME)
    v["code"] = str(data.get("code") or "").strip().lower()
    if not CODE.fullmatch(v["code"]):
        errors["code"] = DomainError(N_("Le code de la campagne s'écrit en minuscules sans accent, chiffres, tirets et "
                                        "soulignés, 64 caractères au plus (par exemple relance-2026)."), "code")
    v["kind"] = str(data.get("kind") or "").strip()
    if v["kind"] not in {t.value for t in CampaignType}:
        errors["kind"] = DomainError(N_("Choisissez le type de campagne (prospection, prise de rendez-vous, vente, "
                                        "fidélisation, réactivation, enquête, recouvrement, relance ou qualification "
                                        "de fichier)."), "kind")
    for name, message in (("description", N_("La description fait au plus %(max)s caractères.")),
                          ("qualitative_objectives", N_("Les objectifs qualitatifs font au plus %(max)s caractères."))):
        v[name] = _text(data.get(name), MAX_TEXT)
        if v[name] is None:
            errors[name] = DomainError(message, name, max=MAX_TEXT)
            v[name] = ""

    v["objectives"] = _objectives(data.get("objectives"), errors)
    v["script_id"] = None
    if not _blank(data.get("script_id")):
        v["script_id"] = _integer(data.get("script_id"))
        if v["script_id"] is None:
            errors["script_id"] = DomainError(N_("Choisissez le script d'appel dans la liste."), "script_id")
    products = data.get("products") or []
    if isinstance(products, str):
        products = re.split(r"[,;\s]+", products)
    v["products"] = list(dict.fromkeys(str(p).strip() for p in products if str(p).strip()))

    v["starts_on"] = _date("starts_on", data.get("starts_on"),
                           N_("Date de début : « %(value)s » n'est pas une date (JJ/MM/AAAA)."), errors)
    v["ends_on"] = _date("ends_on", data.get("ends_on"),
                         N_("Date de fin : « %(value)s » n'est pas une date (JJ/MM/AAAA)."), errors)
    if v["starts_on"] and v["ends_on"] and v["ends_on"] < v["starts_on"]:
        errors["ends_on"] = DomainError(N_("La date de fin (%(end)s) est avant la date de début (%(start)s)."),
                                        "ends_on", end=v["ends_on"].strftime("%d/%m/%Y"),
                                        start=v["starts_on"].strftime("%d/%m/%Y"))
    v["hours"] = _hours(data.get("hours"), errors)

    v["country"] = str(data.get("country") or "").strip().upper()
    if v["country"] not in COUNTRIES:
        errors["country"] = DomainError(N_("Les règles d'appel sont celles de la France (FR), du Maroc (MA) ou de "
                                           "l'Algérie (DZ) : « %(value)s » n'en fait pas partie."), "country",
                                        value=v["country"])
    v["timezone"] = str(data.get("timezone") or "").strip() or DEFAULT_TIMEZONES.get(v["country"], "Europe/Paris")
    try:
        ZoneInfo(v["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = DomainError(N_("Fuseau horaire inconnu : « %(value)s » (par exemple Europe/Paris)."),
                                         "timezone", value=v["timezone"])
    sector = str(data.get("sector") or "").strip()
    v["sector"] = sector or None
    if sector and sector not in SECTORS:
        errors["sector"] = DomainError(N_("Secteur d'activité inconnu : « %(value)s »."), "sector", value=sector)

    v["dial_mode"] = str(data.get("dial_mode") or "").strip()
    if v["dial_mode"] not in {m.value for m in DialMode}:
        errors["dial_mode"] = DomainError(N_("Choisissez le mode de numérotation : aperçu, progressif ou prédictif."),
                                          "dial_mode")
    v["max_attempts"] = _integer(data.get("max_attempts"))
    if v["max_attempts"] is None or not MIN_ATTEMPTS <= v["max_attempts"] <= MAX_ATTEMPTS:
        errors["max_attempts"] = DomainError(N_("Le nombre maximal de tentatives par contact va de %(min)s à %(max)s."),
                                             "max_attempts", min=MIN_ATTEMPTS, max=MAX_ATTEMPTS)
    v["retry_minutes"] = _retries(data.get("retry_minutes"), errors)
    v["presented_number"] = _presented(data.get("presented_number"),
                                     v["country"] if v["country"] in COUNTRIES else "FR", errors)

    if "abandon_cap_percent" in data:
        percent = _number(data.get("abandon_cap_percent"))
        cap = None if percent is None else percent / 100
    else:
        cap = _number(data.get("abandon_cap"))
    v["abandon_cap"] = cap
    if cap is None or not 0 < cap <= LEGAL_ABANDON_CAP + 1e-12:
        errors["abandon_cap"] = DomainError(
            N_("Le taux d'abandon maximal doit être supérieur à 0 et au plus de %(cap)s %% des appels décrochés "
               "par jour : c'est le plafond légal."), "abandon_cap", cap=f"{LEGAL_ABANDON_CAP * 100:g}")
    else:
        v["abandon_cap"] = round(cap, 6)
    v["drop_after_s"] = _number(data.get("drop_after_s"))
    if v["drop_after_s"] is None or not 0 < v["drop_after_s"] <= MAX_DROP_AFTER_S:
        errors["drop_after_s"] = DomainError(
            N_("Délai de mise en relation : un appel décroché doit être passé à un agent en %(max)s secondes au plus "
               "(indiquez un nombre supérieur à 0)."), "drop_after_s", max=f"{MAX_DROP_AFTER_S:g}")
    v["drop_message"] = _text(data.get("drop_message"), MAX_DROP_MESSAGE)
    if v["drop_message"] is None:
        errors["drop_message"] = DomainError(N_("Le message d'appel abandonné fait au plus %(max)s caractères."),
                                             "drop_message", max=MAX_DROP_MESSAGE)
        v["drop_message"] = ""

    v["test_sample_size"] = _integer(data.get("test_sample_size"))
    if v["test_sample_size"] is None or not MIN_SAMPLE <= v["test_sample_size"] <= MAX_SAMPLE:
        errors["test_sample_size"] = DomainError(N_("L'échantillon des appels tests compte de %(min)s à %(max)s "
                                                    "contacts."), "test_sample_size", min=MIN_SAMPLE, max=MAX_SAMPLE)
    v["network_seed"] = _integer(data.get("network_seed"))
    if v["network_seed"] is None or v["network_seed"] < 0:
        errors["network_seed"] = DomainError(N_("La graine du réseau simulé est un nombre entier positif ou nul."),
                                             "network_seed")
    v["network"] = _network(data.get("network"), errors)
    return v, errors


def _objectives(raw, errors: dict) -> dict:
    result: dict[str, float | int] = {}
    if raw in (None, ""):
        return result
    if not isinstance(raw, dict):
        errors["objectives"] = DomainError(N_("Les objectifs chiffrés sont illisibles."), "objectives")
        return result
    for key, value in raw.items():
        if key not in OBJECTIVES:
            errors["objectives"] = DomainError(N_("Objectif inconnu : « %(key)s »."), "objectives", key=key)
            continue
        if _blank(value):
            continue
        name = f"objective_{key}"
        number = _number(value) if key == "sales_amount" else _integer(value)
        if number is None or number < 0:
            errors[name] = DomainError(_OBJECTIVE_ERRORS[key], name)
            continue
        result[key] = int(number) if number == int(number) else round(number, 2)
    return result


def _hours(raw, errors: dict) -> dict:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        errors["hours"] = DomainError(N_("Les horaires d'appel sont illisibles."), "hours")
        return {}
    table: dict[str, list[list[str]]] = {}
    for day, spans in raw.items():
        if day not in queue_hours.DAYS:
            errors["hours"] = DomainError(N_("Jour inconnu « %(day)s » (mon, tue, wed, thu, fri, sat, sun)."), "hours",
                                          day=day)
            continue
        name, label = f"hours_{day}", queue_hours.DAY_LABELS[day]
        try:
            if isinstance(spans, str):
                spans = queue_hours.parse_ranges(label, spans)
            table.update(queue_hours.validate_hours({day: spans}))
        except DomainError as exc:
            errors[name] = DomainError(exc.message, name, **{**exc.params, "day": label})
    return {day: table[day] for day in queue_hours.DAYS if day in table}


def _retries(raw, errors: dict) -> dict:
    given = raw if isinstance(raw, dict) else {}
    result = {}
    for outcome in RETRY_OUTCOMES:
        value = given.get(outcome.value)
        if _blank(value):
            value = DEFAULT_RETRY_MINUTES[outcome]
        minutes = _integer(value)
        name = f"retry_{outcome.value}"
        if minutes is None or not 1 <= minutes <= MAX_RETRY_MINUTES:
            errors[name] = DomainError(_RETRY_ERRORS[outcome], name, max=MAX_RETRY_MINUTES)
            continue
        result[outcome.value] = minutes
    unknown = [key for key in given if key not in {o.value for o in RETRY_OUTCOMES}]
    if unknown:
        errors["retry_minutes"] = DomainError(N_("Délai de rappel pour un résultat inconnu : « %(key)s »."),
                                              "retry_minutes", key=unknown[0])
    return result


def _presented(raw, region: str, errors: dict) -> str | None:
    """The number shown to the called party, E.164; empty means not set yet (required to dial)."""
    if _blank(raw):
        return None
    try:
        return phones.parse(str(raw), region)
    except ValidationError:
        errors["presented_number"] = DomainError(
            N_("Numéro présenté : « %(value)s » n'est pas un numéro de téléphone valide (%(region)s)."),
            "presented_number", value=str(raw).strip(), region=region)
        return None


NETWORK_FIELDS = tuple(f.name for f in fields(NetworkProfile))


def _network(raw, errors: dict) -> dict:
    if raw in (None, ""):
        raw = {}
    if not isinstance(raw, dict):
        errors["network"] = DomainError(N_("Les paramètres du réseau simulé sont illisibles."), "network")
        return NetworkProfile().to_dict()
    values: dict[str, float] = {}
    for key, value in raw.items():
        if key not in NETWORK_FIELDS:
            continue  # NetworkProfile.from_dict names it below
        if _blank(value):
            continue
        number = _number(value)
        if number is None:
            errors[f"network_{key}"] = DomainError(N_("Réseau simulé : « %(value)s » n'est pas un nombre."),
                                                   f"network_{key}", value=str(value))
            continue
        values[key] = number
    unknown = {key: raw[key] for key in raw if key not in NETWORK_FIELDS}
    try:
        return NetworkProfile.from_dict({**values, **unknown}).to_dict()
    except DomainError as exc:
        errors["network"] = DomainError(exc.message, "network", **exc.params)
        return NetworkProfile().to_dict()


def history_text(value) -> str | None:
    """A value as the change log keeps it: language-neutral text (codes, ISO dates, JSON)."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return str(value)


# --- what dialing needs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Readiness:
    """What a campaign has, as far as dialing is concerned."""

    has_script: bool
    dispositions: int
    contacts: int
    assignments: int
    presented_number: str | None
    dial_mode: str
    drop_message: str = ""


def not_ready(facts: Readiness) -> dict[str, DomainError]:
    """Each missing item, named, by field: empty when the campaign may dial (test or launch)."""
    missing: dict[str, DomainError] = {}
    if not facts.has_script:
        missing["script_id"] = DomainError(N_("Il manque le script d'appel."), "script_id")
    if facts.dispositions < 1:
        missing["disposition_ids"] = DomainError(N_("Il manque la liste des qualifications (au moins une)."),
                                                 "disposition_ids")
    if facts.contacts < 1:
        missing["targets"] = DomainError(N_("La liste de contacts est vide : ajoutez au moins un contact."), "targets")
    if facts.assignments < 1:
        missing["assignments"] = DomainError(N_("Aucun agent ni aucune équipe n'est affecté à la campagne."),
                                             "assignments")
    if not facts.presented_number or not _valid_e164(facts.presented_number):
        missing["presented_number"] = DomainError(
            N_("Il manque un numéro présenté valide : un appel ne part jamais en numéro masqué."), "presented_number")
    if facts.dial_mode == DialMode.PREDICTIVE and not (facts.drop_message or "").strip():
        missing["drop_message"] = DomainError(
            N_("Le mode prédictif exige le message d'appel abandonné (qui appelle, un numéro pour rappeler)."),
            "drop_message")
    return missing


def _valid_e164(number: str) -> bool:
    try:
        return phones.parse(number) == number
    except ValidationError:
        return False


# --- the test sample -----------------------------------------------------------------------------------------


def draw_test_sample(candidates: Sequence[int], size: int, seed: str) -> list[int]:
    """``size`` of ``candidates`` (target-list order), the same for the same seed: a reproducible draw.

    Drawn at random rather than the first ones so the sample is not just the
    oldest records of the file; returned in list order.
    """
    if size >= len(candidates):
        return list(candidates)
    chosen = set(random.Random(seed).sample(range(len(candidates)), size))
    return [c for i, c in enumerate(candidates) if i in chosen]



# --- the target-list selection ----------------------------------------------------------------------------------

#: filters a selection may use, as the form names them
SELECTION_FILTERS = ("status", "kind", "segment", "tag", "prospect_temperature", "city", "postcode", "import_job")


@dataclass(frozen=True)
class Selection:
    """Who a campaign calls: a CRM search (``query``) and/or filters on the record.

    ``city`` and ``postcode`` are prefixes ("Lyon" finds "Lyon 3e", "69" the
    Rhône); ``segment``, ``tag`` and ``city`` ignore accents and case;
    ``import_job`` keeps the contacts a CSV import created.
    """

    query: str = ""
    status: str | None = None
    kind: str | None = None
    segment: str | None = None
    tag: str | None = None
    prospect_temperature: str | None = None
    city: str | None = None
    postcode: str | None = None
    import_job: int | None = None

    @property
    def empty(self) -> bool:
        return not self.query and all(getattr(self, name) in (None, "") for name in SELECTION_FILTERS)

    def as_dict(self) -> dict:
        """What ``campaign.selection`` stores: the criteria set, nothing else."""
        values = {"query": self.query, **{name: getattr(self, name) for name in SELECTION_FILTERS}}
        return {key: value for key, value in values.items() if value not in (None, "")}

    def matches(self, contact) -> bool:
        """The record-level filters (not the search, not the import): ``contact`` has the CRM fields."""
        if self.status and contact.status != self.status:
            return False
        if self.kind and contact.kind != self.kind:
            return False
        if self.prospect_temperature and contact.prospect_temperature != self.prospect_temperature:
            return False
        if self.segment and fold(contact.segment) != fold(self.segment):
            return False
        if self.tag and fold(self.tag) not in {fold(t) for t in (contact.tags or [])}:
            return False
        if self.city and not fold(contact.city).startswith(fold(self.city)):
            return False
        if self.postcode and not (contact.postcode or "").replace(" ", "").upper().startswith(self.postcode):
            return False
        return True


def clean_selection(query: str | None, filters: dict | None) -> Selection:
    """The selection checked: errors keyed ``selection_<filter>``; an empty selection is refused."""
    errors: dict[str, DomainError] = {}
    filters = dict(filters or {})
    values: dict[str, Any] = {"query": (query or "").strip()[:200]}
    for key in filters:
        if key not in SELECTION_FILTERS:
            errors["selection"] = DomainError(N_("Critère de sélection inconnu : « %(key)s »."), "selection", key=key)
    for key, choices, message in (
            ("status", STATUSES, N_("Statut : choisissez client ou prospect.")),
            ("kind", KINDS, N_("Type de fiche : choisissez personne ou entreprise.")),
            ("prospect_temperature", TEMPERATURES, N_("Température : choisissez froid, tiède ou chaud."))):
        value = str(filters.get(key) or "").strip()
        if value and value not in choices:
            errors[f"selection_{key}"] = DomainError(message, f"selection_{key}")
        values[key] = value or None
    for key, limit in (("segment", 64), ("tag", 40), ("city", 100)):
        value = str(filters.get(key) or "").strip()
        if len(value) > limit:
            errors[f"selection_{key}"] = DomainError(N_("Ce critère fait au plus %(max)s caractères."),
                                                     f"selection_{key}", max=limit)
        values[key] = value or None
    postcode = str(filters.get("postcode") or "").replace(" ", "").upper()
    if postcode and not re.fullmatch(r"[0-9A-Z-]{1,16}", postcode):
        errors["selection_postcode"] = DomainError(
            N_("Code postal : indiquez le début du code, en chiffres (par exemple 69 ou 750)."), "selection_postcode")
    values["postcode"] = postcode or None
    job = filters.get("import_job")
    values["import_job"] = None
    if not _blank(job):
        values["import_job"] = _integer(job)
        if values["import_job"] is None:
            errors["selection_import_job"] = DomainError(N_("Choisissez l'import CSV dans la liste."),
                                                         "selection_import_job")
    selection = Selection(**values)
    if not errors and selection.empty:
        errors["selection_query"] = DomainError(
            N_("Indiquez au moins un critère de sélection : une recherche, un statut, une étiquette, une ville, un "
               "import…"), "selection_query")
    if errors:
        raise ValidationError(errors)
    return selection
