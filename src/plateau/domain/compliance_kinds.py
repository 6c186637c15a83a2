"""The kinds of calling rule: what each checks, its parameters, and when it lets a call through again.

A profile (``data/compliance/<country>.yaml``) lists rules; each names one of
these kinds and gives its parameters. A kind's ``check`` is only asked about
a situation its rule applies to (``Rule.applies_to``: party, purpose, dialing
mode, contract exception) and answers None (no objection) or a ``Block``:
the values that fill the rule's message, and the earliest time the rule may
allow the call (None when waiting cannot help).

Days are *calendar days in the called party's own zone*:

- ``frequency``: at most ``max_attempts`` calls or attempts in any period of
  ``days`` consecutive calendar days; the attempts of the last ``days`` days,
  today included, are counted (attempts of 1 March stop counting on 31 March
  with ``days: 30``).
- ``refusal_quiet``: after a refusal during a call, ``days`` full calendar days
  ("jours calendaires révolus à compter du refus"): the day of the refusal does
  not count, so a refusal on 1 October 2026 keeps the line quiet through
  30 November and a call is possible again on 1 December.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from . import queue_hours
from .compliance import DIALERS, Attempt, Profile, Reason, Rule, Situation, local_zone
from .errors import N_, DomainError

DATE_FMT = "%d/%m/%Y"
DATETIME_FMT = "%d/%m/%Y %H:%M"


@dataclass(frozen=True)
class Block:
    reason: Reason
    retry_at: datetime | None


class ParamError(ValueError):
    """A parameter of a rule is wrong; the text (French) says what is expected."""


_REQUIRED = object()


@dataclass(frozen=True)
class Param:
    read: Callable[[object], object]
    default: object = _REQUIRED
    help: str = ""


@dataclass(frozen=True)
class Kind:
    name: str
    #: what the kind checks, in French (the compliance page and ``plateau compliance profiles``)
    description: str
    params: dict[str, Param]
    #: the ``%(name)s`` a rule's message may use
    placeholders: frozenset[str]
    check: Callable[[Rule, Situation, Profile], tuple[dict, datetime | None] | None]


# --- parameter readers (used when a profile is loaded) -----------------------------------


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ParamError("attendu : true ou false")
    return value


def _positive_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParamError("attendu : un nombre entier supérieur ou égal à 1")
    return value


def _date(value: object) -> date:
    if isinstance(value, datetime):
        raise ParamError("attendu : une date AAAA-MM-JJ, sans heure")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ParamError("attendu : une date AAAA-MM-JJ")


def _codes(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ParamError("attendu : une liste non vide de codes")
    return tuple(v.strip() for v in value)


def _dialers(value: object) -> frozenset[str]:
    codes = _codes(value)
    unknown = sorted(set(codes) - set(DIALERS))
    if unknown:
        raise ParamError(f"mode de numérotation inconnu « {unknown[0]} » (possibles : {', '.join(DIALERS)})")
    return frozenset(codes)


_PREFIX = re.compile(r"0\d{3}")


def _prefixes(value: object) -> tuple[str, ...]:
    codes = _codes(value)
    for code in codes:
        if not _PREFIX.fullmatch(code):
            raise ParamError(f"préfixe « {code} » : attendu quatre chiffres commençant par 0 (ex. 0162)")
    return codes


def _region(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{2}", value):
        raise ParamError("attendu : un code pays ISO à deux lettres majuscules (FR)")
    return value


def _windows(value: object) -> dict:
    if not isinstance(value, dict) or not value:
        raise ParamError("attendu : des plages par jour, ex. mon: [[\"10:00\", \"13:00\"], [\"14:00\", \"20:00\"]]")
    try:
        table = queue_hours.validate_hours(value)
    except DomainError as exc:
        params = {k: (queue_hours.DAY_LABELS.get(v, v) if k == "day" else v) for k, v in exc.params.items()}
        raise ParamError(DomainError(exc.message, exc.field, **params).render()) from None
    if not table:
        raise ParamError("aucune plage horaire : la règle bloquerait tous les appels")
    return table


# --- checks --------------------------------------------------------------------------------


def _local(situation: Situation, profile: Profile) -> datetime:
    return situation.at.astimezone(local_zone(situation, profile))


def _midnight(day: date, situation: Situation, profile: Profile) -> datetime:
    return datetime.combine(day, time(0), tzinfo=local_zone(situation, profile))


def _counted(rule: Rule, situation: Situation, attempt: Attempt) -> bool:
    """An earlier attempt counts for a rule when it happened and was made for one of the rule's purposes."""
    return attempt.at <= situation.at and (attempt.purpose is None or attempt.purpose in rule.purposes)


def check_hours(rule: Rule, situation: Situation, profile: Profile):
    params = rule.params
    if params["agreement_lifts"] and situation.hours_agreed:
        return None
    local = _local(situation, profile)
    country = profile.holidays if params["holidays"] else None
    if queue_hours.is_open(params["windows"], country, local):
        return None
    following = queue_hours.next_opening(params["windows"], country, local, horizon_days=60)
    return ({"local_time": local.strftime(DATETIME_FMT), "zone": local.tzinfo.key,
             "next": following.strftime(DATETIME_FMT) if following else "—"}, following)


def check_frequency(rule: Rule, situation: Situation, profile: Profile):
    params = rule.params
    limit, days = params["max_attempts"], params["days"]
    zone = local_zone(situation, profile)
    today = situation.at.astimezone(zone).date()
    dates = sorted(d for d in (a.at.astimezone(zone).date() for a in situation.previous_attempts
                               if _counted(rule, situation, a) and a.outcome not in params["not_counted"])
                   if (today - d).days < days)
    if len(dates) < limit:
        return None
    # the call becomes possible once enough of the oldest attempts have left the window
    free_on = dates[len(dates) - limit] + timedelta(days=days)
    return ({"count": str(len(dates)), "max": str(limit), "days": str(days), "until": free_on.strftime(DATE_FMT)},
            _midnight(free_on, situation, profile))


def check_refusal_quiet(rule: Rule, situation: Situation, profile: Profile):
    params = rule.params
    zone = local_zone(situation, profile)
    refusals = [a.at.astimezone(zone).date() for a in situation.previous_attempts
                if _counted(rule, situation, a) and a.outcome in params["outcomes"]]
    if not refusals:
        return None
    refused_on = max(refusals)
    free_on = refused_on + timedelta(days=params["days"] + 1)
    if situation.at.astimezone(zone).date() >= free_on:
        return None
    return ({"refused_on": refused_on.strftime(DATE_FMT), "days": str(params["days"]),
             "until": free_on.strftime(DATE_FMT)}, _midnight(free_on, situation, profile))


def check_consent(rule: Rule, situation: Situation, profile: Profile):
    since = rule.params["since"]
    if since is not None and _local(situation, profile).date() < since:
        return None
    if situation.consent is True:
        return None
    return ({"since": since.strftime(DATE_FMT) if since else "—"}, None)


def check_opposition(rule: Rule, situation: Situation, profile: Profile):
    return ({}, None) if situation.opposition_listed else None


def check_banned_sector(rule: Rule, situation: Situation, profile: Profile):
    if situation.sector and situation.sector in rule.params["sectors"]:
        return ({"sector": situation.sector}, None)
    return None


def _parsed(e164: str | None):
    if not e164:
        return None
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def check_presented_number(rule: Rule, situation: Situation, profile: Profile):
    if _parsed(situation.presented_number) is None:
        return ({"number": situation.presented_number or "—"}, None)
    return None


def check_automated_number(rule: Rule, situation: Situation, profile: Profile):
    number = _parsed(situation.presented_number)
    region = rule.params["region"]
    if number is not None and phonenumbers.region_code_for_number(number) == region:
        national = re.sub(r"\D", "", phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
        if national.startswith(rule.params["prefixes"]):
            return None
    return ({"number": situation.presented_number or "—", "prefixes": ", ".join(rule.params["prefixes"])}, None)


def check_dropped_quiet(rule: Rule, situation: Situation, profile: Profile):
    if rule.params["agent_reserved_lifts"] and situation.agent_reserved:
        return None
    quiet = timedelta(hours=rule.params["hours"])
    drops = [a.at for a in situation.previous_attempts
             if a.at <= situation.at and (a.dropped or a.outcome == "dropped") and situation.at - a.at < quiet]
    if not drops:
        return None
    free_at = max(drops) + quiet
    until = free_at.astimezone(local_zone(situation, profile)).strftime(DATETIME_FMT)
    return ({"hours": str(rule.params["hours"]), "until": until}, free_at)


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("hours", N_("Jours et heures autorisés, dans le fuseau horaire de la personne appelée ; jours fériés exclus."),
         {"windows": Param(_windows, help="plages par jour de la semaine (mon … sun), heure locale de l'appelé"),
          "holidays": Param(_bool, True, "exclure les jours fériés du pays du profil"),
          "agreement_lifts": Param(_bool, True, "l'accord exprès de la personne pour d'autres horaires lève la règle")},
         frozenset({"local_time", "zone", "next"}), check_hours),
    Kind("frequency", N_("Nombre maximal d'appels ou de tentatives sur une période de jours calendaires."),
         {"max_attempts": Param(_positive_int), "days": Param(_positive_int),
          "not_counted": Param(_codes, ("blocked",), "issues qui ne sont pas des appels (jamais composés)")},
         frozenset({"count", "max", "days", "until"}), check_frequency),
    Kind("refusal_quiet", N_("Aucun appel pendant un nombre de jours calendaires révolus après un refus pendant un appel."),
         {"days": Param(_positive_int), "outcomes": Param(_codes, ("refused",), "issues qui valent refus")},
         frozenset({"refused_on", "days", "until"}), check_refusal_quiet),
    Kind("consent", N_("Consentement préalable prouvé de la personne, à partir d'une date."),
         {"since": Param(lambda v: None if v is None else _date(v), None, "date d'entrée en vigueur (AAAA-MM-JJ)")},
         frozenset({"since"}), check_consent),
    Kind("opposition", N_("Numéro inscrit sur une liste d'opposition ou personne qui s'est opposée."),
         {}, frozenset(), check_opposition),
    Kind("banned_sector", N_("Secteurs où le démarchage téléphonique est interdit."),
         {"sectors": Param(_codes)}, frozenset({"sector"}), check_banned_sector),
    Kind("presented_number", N_("Numéro présenté valide et non masqué."),
         {}, frozenset({"number"}), check_presented_number),
    Kind("automated_number", N_("Numéro présenté parmi les numéros réservés aux systèmes d'appels automatisés."),
         {"prefixes": Param(_prefixes), "region": Param(_region, "FR")},
         frozenset({"number", "prefixes"}), check_automated_number),
    Kind("dropped_quiet", N_("Pas de nouvel appel dans les heures qui suivent un appel abandonné, sauf agent réservé."),
         {"hours": Param(_positive_int), "agent_reserved_lifts": Param(_bool, True)},
         frozenset({"hours", "until"}), check_dropped_quiet),
)}

#: how a rule's ``dialers`` field is read (shared with the profile loader)
read_dialers = _dialers


def blocking(situation: Situation, profile: Profile) -> list[Block]:
    """The enabled rules of the profile that apply to the situation and refuse it."""
    blocks = []
    for rule in profile.rules:
        if not rule.enabled or not rule.applies_to(situation):
            continue
        found = KINDS[rule.kind].check(rule, situation, profile)
        if found is None:
            continue
        values, retry_at = found
        params = tuple(sorted((k, str(v)) for k, v in values.items()))
        message = rule.message % values if values else rule.message
        blocks.append(Block(Reason(rule.id, rule.reference, message, rule.message, params), retry_at))
    return blocks
