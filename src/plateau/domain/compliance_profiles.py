"""Reading a country profile of calling rules from its data (already parsed YAML), with clear errors.

The files are edited by hand (a lawyer, a trainer adapting a course), so
every mistake is reported with the file, the rule (index and id), the field
and what was expected, before the profile is used: a wrong profile must
never let a call through silently. Unknown fields are errors too (a typo in
``contract_exeption`` would otherwise drop an exception).
"""

from __future__ import annotations

import re
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from .compliance import DIALERS, PARTIES, PURPOSES, Profile, Rule
from .compliance_kinds import _REQUIRED, KINDS, ParamError, read_dialers


class ProfileError(ValueError):
    """A profile file is wrong; the message (French) says where and why."""


_PROFILE_FIELDS = {"country", "name", "timezone", "holidays", "statements", "rules"}
_RULE_FIELDS = {"id", "kind", "label", "reference", "message", "enabled", "parties", "purposes", "dialers",
                "contract_exception", "params", "note"}
_RULE_ID = re.compile(r"[a-z]{2}\.[a-z0-9_]{1,60}")
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def parse_profile(raw: object, source: str) -> Profile:
    """The profile described by ``raw`` (a YAML mapping); ProfileError names the first problem."""
    if not isinstance(raw, dict):
        raise ProfileError(f"{source} : le fichier doit décrire un profil (country, name, timezone, rules…)")
    unknown = sorted(set(raw) - _PROFILE_FIELDS)
    if unknown:
        raise ProfileError(f"{source} : champ inconnu « {unknown[0]} » (possibles : {', '.join(sorted(_PROFILE_FIELDS))})")
    country = raw.get("country")
    if not isinstance(country, str) or not re.fullmatch(r"[A-Z]{2}", country):
        raise ProfileError(f"{source} : country : attendu un code pays ISO à deux lettres majuscules (FR, MA, DZ)")
    name = _text(raw.get("name"), f"{source} : name")
    zone = _text(raw.get("timezone"), f"{source} : timezone")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ProfileError(f"{source} : timezone : fuseau horaire inconnu « {zone} » (ex. Europe/Paris)") from None
    holiday_country = raw.get("holidays")
    if holiday_country is not None and holiday_country not in holidays.list_supported_countries():
        raise ProfileError(f"{source} : holidays : pays inconnu du paquet holidays « {holiday_country} »")
    statements = raw.get("statements") or []
    if not isinstance(statements, list) or not all(isinstance(s, str) and s.strip() for s in statements):
        raise ProfileError(f"{source} : statements : attendu une liste de phrases")
    rules_raw = raw.get("rules")
    if not isinstance(rules_raw, list):
        raise ProfileError(f"{source} : rules : attendu une liste de règles (elle peut être vide : rules: [])")
    rules: list[Rule] = []
    for index, item in enumerate(rules_raw):
        rule = _rule(item, f"{source} : rules[{index}]", country)
        if any(r.id == rule.id for r in rules):
            raise ProfileError(f"{source} : rules[{index}] : identifiant « {rule.id} » déjà utilisé plus haut")
        rules.append(rule)
    return Profile(country=country, name=name, timezone=zone, holidays=holiday_country, rules=tuple(rules),
                   statements=tuple(s.strip() for s in statements))


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProfileError(f"{where} : texte obligatoire")
    return value.strip()


def _choices(value: object, allowed: tuple[str, ...], where: str) -> frozenset[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ProfileError(f"{where} : attendu une liste non vide parmi {', '.join(allowed)}")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ProfileError(f"{where} : valeur inconnue « {unknown[0]} » (possibles : {', '.join(allowed)})")
    return frozenset(value)


def _flag(value: object, default: bool, where: str) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ProfileError(f"{where} : attendu true ou false")
    return value


def _rule(item: object, where: str, country: str) -> Rule:
    if not isinstance(item, dict):
        raise ProfileError(f"{where} : attendu une règle (id, kind, label, reference, message…)")
    rule_id = item.get("id")
    if not isinstance(rule_id, str) or not _RULE_ID.fullmatch(rule_id):
        raise ProfileError(f"{where} : id : attendu « pays.nom » en minuscules, ex. {country.lower()}.hours")
    where = f"{where} ({rule_id})"
    if not rule_id.startswith(country.lower() + "."):
        raise ProfileError(f"{where} : id : doit commencer par « {country.lower()}. », le pays du profil")
    unknown = sorted(set(item) - _RULE_FIELDS)
    if unknown:
        raise ProfileError(f"{where} : champ inconnu « {unknown[0]} » (possibles : {', '.join(sorted(_RULE_FIELDS))})")
    kind_name = item.get("kind")
    kind = KINDS.get(kind_name) if isinstance(kind_name, str) else None
    if kind is None:
        raise ProfileError(f"{where} : kind : sorte de règle inconnue « {kind_name} » (possibles : {', '.join(KINDS)})")
    message = _text(item.get("message"), f"{where} : message")
    used = set(_PLACEHOLDER.findall(message))
    extra = sorted(used - kind.placeholders)
    if extra:
        known = ", ".join(f"%({p})s" for p in sorted(kind.placeholders)) or "aucune"
        raise ProfileError(f"{where} : message : variable inconnue « %({extra[0]})s » "
                           f"(possibles pour {kind.name} : {known})")
    try:
        message % {p: "x" for p in kind.placeholders}
    except (ValueError, TypeError, KeyError):
        raise ProfileError(f"{where} : message : « % » mal formé (écrire %% pour un signe pour cent)") from None
    dialers = item.get("dialers")
    try:
        dialers = None if dialers is None else read_dialers(dialers)
    except ParamError as exc:
        raise ProfileError(f"{where} : dialers : {exc}") from None
    return Rule(
        id=rule_id, kind=kind.name,
        label=_text(item.get("label"), f"{where} : label"),
        reference=_text(item.get("reference"), f"{where} : reference"),
        message=message,
        enabled=_flag(item.get("enabled"), True, f"{where} : enabled"),
        parties=_choices(item.get("parties", ["consumer"]), PARTIES, f"{where} : parties"),
        purposes=_choices(item.get("purposes", ["prospecting"]), PURPOSES, f"{where} : purposes"),
        dialers=dialers,
        contract_exception=_flag(item.get("contract_exception"), False, f"{where} : contract_exception"),
        params=_params(kind, item.get("params"), f"{where} : params"),
        note=_note(item.get("note"), f"{where} : note"),
    )


def _note(value: object, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ProfileError(f"{where} : attendu un texte")
    return " ".join(value.split())


def _params(kind, raw: object, where: str):
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ProfileError(f"{where} : attendu des paramètres nom: valeur")
    unknown = sorted(set(raw) - set(kind.params))
    if unknown:
        known = ", ".join(kind.params) or "aucun"
        raise ProfileError(f"{where} : paramètre inconnu « {unknown[0]} » pour {kind.name} (possibles : {known})")
    values = {}
    for name, spec in kind.params.items():
        if name not in raw:
            if spec.default is _REQUIRED:
                raise ProfileError(f"{where} : {name} : paramètre obligatoire pour {kind.name}")
            values[name] = spec.default
            continue
        try:
            values[name] = spec.read(raw[name])
        except ParamError as exc:
            raise ProfileError(f"{where} : {name} : {exc}") from None
    return MappingProxyType(values)


__all__ = ["ProfileError", "parse_profile", "DIALERS"]
