"""A described situation (``plateau compliance check SITUATION.json``, the page's test form) → ``Situation``.

The format is the issue's::

    {"country": "FR", "at": "2026-12-24T11:30:00+01:00", "party": "consumer",
     "purpose": "prospecting", "sector": "energy_renovation", "existing_contract": false,
     "opposition_listed": false, "consent": null,
     "previous_attempts": [{"at": "…", "outcome": "no_answer"}],
     "dialer": "manual", "presented_number": "+33…"}

plus optional ``hours_agreed`` (express agreement to other hours),
``agent_reserved``, ``timezone`` (the called party's IANA zone) and
``number`` (the called number: its zone is used, e.g. an overseas
department). ``at`` may carry any offset, but must carry one: the rules
apply in the called party's local time and a time without offset would be
guessed. Every problem is reported, each under its field's name
(``previous_attempts[2].at``); an unknown field is a problem too (a typo
such as ``opposition_list`` must not be silently ignored).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .compliance import DIALERS, PARTIES, PURPOSES, Attempt, Situation, zone_for_number
from .errors import N_, DomainError, ValidationError

FIELDS = ("country", "at", "party", "purpose", "sector", "existing_contract", "opposition_listed", "consent",
          "hours_agreed", "previous_attempts", "dialer", "presented_number", "agent_reserved", "timezone", "number")
ATTEMPT_FIELDS = ("at", "outcome", "dropped", "purpose")

_ERR_UNKNOWN = N_("Champ inconnu (champs possibles : %(fields)s).")
_ERR_REQUIRED = N_("Champ obligatoire.")
_ERR_COUNTRY = N_("Attendu un code pays ISO à deux lettres, par exemple « FR ».")
_ERR_AT = N_("Attendu une date et heure ISO 8601 avec son décalage, par exemple « 2026-12-24T11:30:00+01:00 ».")
_ERR_AT_OFFSET = N_("La date et heure « %(value)s » n'indique pas son décalage horaire (ajoutez par exemple +01:00 ou Z).")
_ERR_CHOICE = N_("Valeur « %(value)s » inconnue (possibles : %(choices)s).")
_ERR_BOOL = N_("Attendu true ou false.")
_ERR_CONSENT = N_("Attendu true, false ou null (inconnu).")
_ERR_TEXT = N_("Attendu un texte.")
_ERR_LIST = N_("Attendu une liste de tentatives [{\"at\": …, \"outcome\": …}].")
_ERR_ATTEMPT = N_("Attendu une tentative {\"at\": …, \"outcome\": …}.")
_ERR_ZONE = N_("Fuseau horaire inconnu « %(value)s » (par exemple Europe/Paris).")
_ERR_OBJECT = N_("Attendu un objet JSON { … } décrivant la situation.")


def read_situation(raw: object) -> Situation:
    """The Situation described by ``raw``, or ValidationError with every problem, per field."""
    if not isinstance(raw, dict):
        raise ValidationError({"situation": DomainError(_ERR_OBJECT, "situation")})
    errors: dict[str, DomainError] = {}

    def fail(name: str, message: str, **params) -> None:
        errors.setdefault(name, DomainError(message, name, **params))

    for name in raw:
        if name not in FIELDS:
            fail(str(name), _ERR_UNKNOWN, fields=", ".join(FIELDS))
    country = raw.get("country")
    if country is None:
        fail("country", _ERR_REQUIRED)
    elif not (isinstance(country, str) and len(country.strip()) == 2 and country.strip().isalpha()):
        fail("country", _ERR_COUNTRY)
    at = _moment(raw.get("at"), "at", fail, required=True)
    party = _choice(raw.get("party", "consumer"), "party", PARTIES, fail)
    purpose = _choice(raw.get("purpose", "prospecting"), "purpose", PURPOSES, fail)
    dialer = _choice(raw.get("dialer", "manual"), "dialer", DIALERS, fail)
    sector = _text(raw.get("sector"), "sector", fail)
    presented = _text(raw.get("presented_number"), "presented_number", fail)
    number = _text(raw.get("number"), "number", fail)
    flags = {name: _flag(raw.get(name, False), name, fail)
             for name in ("existing_contract", "opposition_listed", "hours_agreed", "agent_reserved")}
    consent = raw.get("consent")
    if consent is not None and not isinstance(consent, bool):
        fail("consent", _ERR_CONSENT)
        consent = None
    zone = _text(raw.get("timezone"), "timezone", fail)
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            fail("timezone", _ERR_ZONE, value=zone)
    attempts = _attempts(raw.get("previous_attempts", []), fail)
    if errors:
        raise ValidationError(errors)
    return Situation(
        country=country.strip().upper(), at=at, party=party, purpose=purpose, sector=sector or None,
        existing_contract=flags["existing_contract"], opposition_listed=flags["opposition_listed"], consent=consent,
        hours_agreed=flags["hours_agreed"], previous_attempts=attempts, dialer=dialer,
        presented_number=presented or None, timezone=zone or zone_for_number(number) or None,
        agent_reserved=flags["agent_reserved"])


def _moment(value: object, name: str, fail, required: bool) -> datetime | None:
    if value is None:
        if required:
            fail(name, _ERR_REQUIRED)
        return None
    if not isinstance(value, str):
        fail(name, _ERR_AT)
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        fail(name, _ERR_AT)
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        fail(name, _ERR_AT_OFFSET, value=value)
        return None
    return moment


def _choice(value: object, name: str, choices: tuple[str, ...], fail) -> str:
    if not isinstance(value, str) or value not in choices:
        fail(name, _ERR_CHOICE, value=str(value), choices=", ".join(choices))
        return choices[0]
    return value


def _flag(value: object, name: str, fail) -> bool:
    if not isinstance(value, bool):
        fail(name, _ERR_BOOL)
        return False
    return value


def _text(value: object, name: str, fail) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        fail(name, _ERR_TEXT)
        return None
    return value.strip() or None


def _attempts(value: object, fail) -> tuple[Attempt, ...]:
    if not isinstance(value, list):
        fail("previous_attempts", _ERR_LIST)
        return ()
    attempts = []
    for index, item in enumerate(value):
        where = f"previous_attempts[{index}]"
        if not isinstance(item, dict):
            fail(where, _ERR_ATTEMPT)
            continue
        for name in item:
            if name not in ATTEMPT_FIELDS:
                fail(f"{where}.{name}", _ERR_UNKNOWN, fields=", ".join(ATTEMPT_FIELDS))
        at = _moment(item.get("at"), f"{where}.at", fail, required=True)
        outcome = item.get("outcome")
        if not isinstance(outcome, str) or not outcome.strip():
            fail(f"{where}.outcome", _ERR_REQUIRED if outcome is None else _ERR_TEXT)
        dropped = _flag(item.get("dropped", False), f"{where}.dropped", fail)
        purpose = item.get("purpose")
        if purpose is not None:
            purpose = _choice(purpose, f"{where}.purpose", PURPOSES, fail)
        if at is not None and isinstance(outcome, str) and outcome.strip():
            attempts.append(Attempt(at=at, outcome=outcome.strip(), dropped=dropped, purpose=purpose))
    return tuple(attempts)
