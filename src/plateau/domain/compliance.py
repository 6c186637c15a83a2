"""The calling rules ("règles d'appel"): may this number be dialed now, and if not, why.

CONTRACT (filled in by the compliance work): ``Situation`` describes one dial
as the rules see it; ``evaluate(situation, profile)`` returns a ``Decision``
whose reasons each name their rule and its legal reference. Rules are data
(``data/compliance/<country>.yaml``), grouped in country profiles; the code
here only knows how to apply each kind of rule (``compliance_kinds``) and
how to read a profile (``compliance_profiles``).

Every rule says to whom it applies (consumers or businesses, for which
purposes, which dialing modes) and whether a contract in progress lifts it;
the kind decides, for a situation it applies to, whether it blocks and until
when. ``Decision.retry_at`` is the earliest moment at which *every* blocking
rule lets the call through, found by moving the clock forward rule by rule
(end of a 30-day window may fall on a Sunday: the next legal window then);
it is None as soon as one blocking rule cannot be waited out (opposition, no
consent, banned sector, bad presented number).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import NumberParseException
from phonenumbers import timezone as number_zones

PARTIES = ("consumer", "business")
PURPOSES = ("prospecting", "contract", "debt_collection", "survey")
DIALERS = ("manual", "preview", "progressive", "predictive")


@dataclass(frozen=True)
class Attempt:
    """An earlier call or call attempt to the same person by the company or on its behalf."""

    at: datetime
    outcome: str  # domain.campaigns.Outcome values, or the CLI's "refused", "connected", …
    #: the call was dropped by a predictive dialer (no agent in time)
    dropped: bool = False
    #: what that call was for (``PURPOSES``); None when unknown: then it counts for every rule
    purpose: str | None = None


@dataclass(frozen=True)
class Situation:
    country: str  # ISO 3166 alpha-2 of the called party: picks the profile
    at: datetime  # aware; the rules apply in the called party's local time
    party: str = "consumer"  # consumer | business
    purpose: str = "prospecting"  # prospecting | contract | debt_collection | survey
    sector: str | None = None  # energy_renovation | personal_training_account | …
    existing_contract: bool = False
    opposition_listed: bool = False
    consent: bool | None = None  # None: unknown (no proof recorded)
    #: the consumer expressly agreed to be called outside the legal hours
    hours_agreed: bool = False
    previous_attempts: tuple[Attempt, ...] = ()
    dialer: str = "manual"  # manual | preview | progressive | predictive
    presented_number: str | None = None
    #: IANA zone of the called party when known (from the number); else the profile's
    timezone: str | None = None
    #: an agent is reserved for this call (preview): lifts the 72-hour rule after a drop
    agent_reserved: bool = False


@dataclass(frozen=True)
class Reason:
    rule: str  # stable rule id, e.g. "fr.hours"
    reference: str  # legal reference shown to people, e.g. "Code de la consommation, art. D.223-9"
    message: str  # French, already filled in (the web layer translates known msgids)
    #: the profile's message before filling in, and what fills it: ``reason_text`` translates with them
    msgid: str = ""
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: tuple[Reason, ...] = field(default=())
    #: the earliest time a blocking rule may let the call through (next legal
    #: window, end of the 30-day or 60-day period); None if never by waiting
    retry_at: datetime | None = None

    def to_dict(self) -> dict:
        return {"allowed": self.allowed,
                "reasons": [{"rule": r.rule, "reference": r.reference, "message": r.message} for r in self.reasons]}

    def stored_reasons(self) -> list[dict]:
        """The reasons as a dial attempt keeps them (JSON): ``to_dict()``'s, plus ``msgid`` and ``params``.

        ``to_dict()`` is the command line's fixed output, French text only; a
        stored reason is read back later by people in other languages, so it
        keeps what ``reason_text`` translates it with (params as strings or
        numbers).
        """
        return [{"rule": r.rule, "reference": r.reference, "message": r.message, "msgid": r.msgid,
                 "params": {str(name): _json_value(value) for name, value in r.params}} for r in self.reasons]


def _json_value(value: object) -> str | int | float:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return value
    return str(value)


# --- profiles -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One calling rule of a country profile, as ``data/compliance/<country>.yaml`` describes it."""

    id: str
    kind: str  # a key of ``compliance_kinds.KINDS``
    label: str  # short French title ("Jours et heures de démarchage")
    reference: str  # the legal reference shown with every refusal
    message: str  # French msgid with ``%(name)s`` placeholders filled by the kind
    enabled: bool = True
    #: to whom and for what the rule applies
    parties: frozenset[str] = frozenset({"consumer"})
    purposes: frozenset[str] = frozenset({"prospecting"})
    #: dialing modes it applies to; None: every mode
    dialers: frozenset[str] | None = None
    #: a contract in progress with the called party lifts the rule
    contract_exception: bool = False
    params: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    #: why the rule reads as it does (shown on the compliance page)
    note: str = ""

    def applies_to(self, situation: Situation) -> bool:
        if situation.party not in self.parties or situation.purpose not in self.purposes:
            return False
        if self.dialers is not None and situation.dialer not in self.dialers:
            return False
        return not (self.contract_exception and situation.existing_contract)


@dataclass(frozen=True)
class Profile:
    """The calling rules of one country."""

    country: str  # ISO 3166 alpha-2
    name: str  # French name of the country
    timezone: str  # the zone used when the called party's own is unknown
    holidays: str | None  # country code for the ``holidays`` package
    rules: tuple[Rule, ...]
    #: plain statements shown with the profile (e.g. "no hours rule is known")
    statements: tuple[str, ...] = ()

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def with_switches(self, switches: Mapping[str, bool]) -> Profile:
        """The profile with the administrators' switches applied (rule id → enabled)."""
        if not switches:
            return self
        return replace(self, rules=tuple(replace(r, enabled=switches.get(r.id, r.enabled)) for r in self.rules))


# --- evaluation -----------------------------------------------------------------------------

#: at most this many steps when looking for the moment every blocking rule lets the call through
_RETRY_STEPS = 40


def evaluate(situation: Situation, profile: Profile) -> Decision:
    """Allowed or blocked, with one reason per blocking rule (in the profile's order)."""
    from . import compliance_kinds as kinds

    situation = _in_utc(situation)
    blocks = kinds.blocking(situation, profile)
    if not blocks:
        return Decision(True)
    reasons = tuple(block.reason for block in blocks)
    return Decision(False, reasons, _retry_at(situation, profile, blocks))


def _in_utc(situation: Situation) -> Situation:
    """Every moment in UTC: arithmetic on two datetimes of one ZoneInfo is wall-clock time, wrong across DST."""
    moments = [situation.at] + [a.at for a in situation.previous_attempts]
    if any(m.tzinfo is None or m.utcoffset() is None for m in moments):
        raise ValueError("Situation.at and Attempt.at must be timezone-aware")
    return replace(situation, at=situation.at.astimezone(timezone.utc),
                   previous_attempts=tuple(replace(a, at=a.at.astimezone(timezone.utc))
                                           for a in situation.previous_attempts))


def _retry_at(situation: Situation, profile: Profile, blocks) -> datetime | None:
    """Move ``at`` to the latest 'not before' of the blocking rules until none blocks (or one never lifts)."""
    from . import compliance_kinds as kinds

    for _ in range(_RETRY_STEPS):
        if any(block.retry_at is None for block in blocks):
            return None
        at = max(block.retry_at for block in blocks)
        if at <= situation.at:  # a kind that cannot say later than now: waiting does not help
            return None
        situation = replace(situation, at=at)
        blocks = kinds.blocking(situation, profile)
        if not blocks:
            return at.astimezone(timezone.utc)
    return None


def local_zone(situation: Situation, profile: Profile) -> ZoneInfo:
    """The called party's zone: the situation's (from the number) when known, else the profile's."""
    for name in (situation.timezone, profile.timezone):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


#: ``phonenumbers`` answers with a neighbouring zone for some plans (Moroccan
#: mobiles: Atlantic/Canary; Algerian ones: Europe/Paris): the country's own zone instead
_REGION_ZONES = {"MA": "Africa/Casablanca", "DZ": "Africa/Algiers"}
#: regions whose called parties fall under the French profile (overseas departments and communities)
FRENCH_REGIONS = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF"})


def zone_for_number(e164: str | None) -> str | None:
    """The IANA zone of the line, when the numbering plan tells one (overseas departments have their own)."""
    if not e164:
        return None
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)
    if region in _REGION_ZONES:
        return _REGION_ZONES[region]
    zones = [z for z in number_zones.time_zones_for_number(number) if z != "Etc/Unknown"]
    return zones[0] if len(zones) == 1 else None


def profile_country_for_number(e164: str | None) -> str | None:
    """The profile a number's country falls under: FR for metropolitan and overseas France, else its region."""
    if not e164:
        return None
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except NumberParseException:
        return None
    if region in FRENCH_REGIONS:
        return "FR"
    return region


def reason_text(reason: Reason | dict, gettext=lambda s: s) -> str:
    """A reason's message in the reader's language: the msgid translated, then filled in.

    Falls back on the stored French text (a reason read back from an attempt
    row has no msgid, or a catalogue may not know the profile's message).
    """
    if isinstance(reason, dict):
        msgid, params, message = reason.get("msgid", ""), reason.get("params") or {}, reason.get("message", "")
    else:
        msgid, params, message = reason.msgid, dict(reason.params), reason.message
    if not msgid:
        return message
    try:
        return gettext(msgid) % dict(params) if params else gettext(msgid)
    except (KeyError, ValueError, TypeError):
        return message
