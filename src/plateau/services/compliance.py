"""The compliance service: every dial asks ``check_dial`` first; profiles, switches, opposition lists, consents.

``check_dial`` turns what the database knows about a number (its contact,
the campaign, earlier attempts, opposition lists, recorded consents, the
administrators' switches) into a ``domain.compliance.Situation`` and lets
the country profile decide. The dialer stores the ``Decision`` on the
``DialAttempt`` row (``allowed``, ``reasons``) and shows the reasons to the
agent and the supervisor.

Profiles are data (``data/compliance/<country>.yaml``), read and checked
once per file version (``load_profile``); an administrator switches a rule
on or off with a reason (``switch_rule``), each switch being a new
``ComplianceSwitch`` row: the latest row per (country, rule) is the rule's
state, all rows together are the audit trail.
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from unidecode import unidecode

from ..config import DATA_DIR
from ..domain import phones
from ..domain.campaigns import PURPOSE, CampaignType
from ..domain.clock import as_utc
from ..domain.compliance import (Attempt, Decision, Profile, Reason, Rule, Situation, evaluate,
                                 profile_country_for_number, zone_for_number)
from ..domain.compliance_input import read_situation
from ..domain.compliance_profiles import ProfileError, parse_profile
from ..domain.contacts import history_text
from ..domain.errors import N_, DomainError, NotFoundError, PermissionDenied, ValidationError
from ..store.models import (Campaign, ComplianceSwitch, Contact, ContactChange, ContactConsent, ContactPhone,
                            DialAttempt, OppositionEntry, OppositionList, User)
from .context import Actor, Context

audit = logging.getLogger("plateau.audit")

PROFILE_DIR = DATA_DIR / "compliance"
#: the profiles offered on the compliance page, in this order (any other file is loaded too)
COUNTRIES = ("FR", "MA", "DZ")
#: earlier attempts older than this never matter to a rule (the longest period is 60 days + 1)
LOOKBACK = timedelta(days=90)
#: the company's own do-not-call list ("liste repoussoir")
OWN_LIST = "own"
OWN_LIST_NAME = N_("Liste repoussoir de l'entreprise")
#: an imported list older than this is flagged on the compliance page
STALE_AFTER = timedelta(days=30)
#: the reason shown when no profile covers the called party's country: the dial is refused (fail closed)
NO_PROFILE_RULE = "profile.missing"


# --- profiles --------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _read_profile(path: str, _mtime_ns: int) -> Profile:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"{path} : fichier introuvable") from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path} : YAML invalide : {exc}") from None
    profile = parse_profile(raw, path)
    expected = Path(path).stem.upper()
    if profile.country != expected:
        raise ProfileError(f"{path} : country : « {profile.country} » ne correspond pas au nom du fichier ({expected})")
    return profile


def load_profile(country: str, directory: Path | None = None) -> Profile:
    """The profile of ``country`` (``data/compliance/<country>.yaml``), checked; ProfileError names the problem.

    Read again only when the file changes, so an edited file is taken into
    account without a restart and an unchanged one costs a ``stat``.
    """
    code = (country or "").strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise ProfileError(f"pays « {country} » : attendu un code ISO à deux lettres (FR, MA, DZ)")
    path = Path(directory or PROFILE_DIR) / f"{code.lower()}.yaml"
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise ProfileError(f"{path} : fichier introuvable : aucun profil de règles d'appel pour {code}") from None
    return _read_profile(str(path), mtime)


def load_profiles(directory: Path | None = None) -> dict[str, Profile]:
    """Every profile of the folder, FR, MA, DZ first; the first wrong file raises ProfileError."""
    folder = Path(directory or PROFILE_DIR)
    codes = sorted(p.stem.upper() for p in folder.glob("*.yaml"))
    ordered = [c for c in COUNTRIES if c in codes] + [c for c in codes if c not in COUNTRIES]
    return {code: load_profile(code, folder) for code in ordered}


def has_profile(country: str | None, directory: Path | None = None) -> bool:
    return bool(country) and (Path(directory or PROFILE_DIR) / f"{country.lower()}.yaml").exists()


def switches(session: Session, country: str) -> dict[str, bool]:
    """The administrators' current choice per rule of a country (latest switch row wins)."""
    rows = session.execute(select(ComplianceSwitch.rule, ComplianceSwitch.enabled)
                           .where(ComplianceSwitch.country == country).order_by(ComplianceSwitch.id))
    return {rule: enabled for rule, enabled in rows}


def effective_profile(session: Session, country: str) -> Profile:
    """The country's profile with the administrators' switches applied."""
    return load_profile(country).with_switches(switches(session, country))


# --- the check before every dial ------------------------------------------------------------


def check_dial(session: Session, *, number: str, contact: Contact | None, campaign: Campaign | None, mode: str,
               now: datetime, agent_reserved: bool = False, presented_number: str | None = None) -> Decision:
    """May ``number`` be dialed now? Allowed, or blocked with each rule's reason and legal reference.

    Call it in the dialer's own transaction, just before dialing, with the
    contact being called (None for a bare number) and the campaign (None for
    a manual call outside campaigns); ``mode`` is manual | preview |
    progressive | predictive; ``agent_reserved`` is true when an agent is
    already waiting on this very call (preview), which lifts the 72-hour
    rule after a dropped call. ``presented_number`` overrides the
    campaign's number shown to the called party (a manual call has no
    campaign to take it from: without it, the call presents no number and
    the French profile refuses it as masked).

    Store the answer on the ``DialAttempt`` row: ``allowed=decision.allowed``,
    ``reasons=decision.stored_reasons()`` (shown with ``reason_text``); only allowed rows count as
    calls or attempts for the next checks. ``decision.retry_at`` says when
    waiting would let the call through (None: never by waiting).

    Nothing is written. A country without a profile file is refused
    (rule ``profile.missing``): calling rules are never silently skipped.
    """
    situation = situation_for_dial(session, number=number, contact=contact, campaign=campaign, mode=mode, now=now,
                                   agent_reserved=agent_reserved, presented_number=presented_number)
    if not has_profile(situation.country):
        return Decision(False, (Reason(NO_PROFILE_RULE, "—", MISSING_PROFILE % {"country": situation.country},
                                       MISSING_PROFILE, (("country", situation.country),)),), None)
    # a wrong profile file raises ProfileError: a bug to fix, never a reason to call or to skip the rules
    return evaluate(situation, effective_profile(session, situation.country))


MISSING_PROFILE = N_("Aucun profil de règles d'appel pour le pays %(country)s : l'appel n'est pas passé.")


def situation_for_dial(session: Session, *, number: str, contact: Contact | None, campaign: Campaign | None,
                       mode: str, now: datetime, agent_reserved: bool = False,
                       presented_number: str | None = None) -> Situation:
    """What the rules see of this dial, from the database (see ``check_dial``)."""
    number = normalise(number)
    return Situation(
        country=_country(number, contact, campaign),
        at=as_utc(now),
        party=_party(contact),
        purpose=_purpose(contact, campaign),
        sector=campaign.sector if campaign is not None else None,
        existing_contract=contact is not None and contact.status == "client",
        opposition_listed=(contact is not None and bool(contact.opposition)) or on_opposition_list(session, number),
        consent=_consent(session, contact, "call", now),
        hours_agreed=_consent(session, contact, "call_hours", now) is True,
        previous_attempts=previous_attempts(session, number, contact, now),
        dialer=mode or "manual",
        presented_number=presented_number if presented_number is not None else (
            campaign.presented_number if campaign is not None else None),
        timezone=zone_for_number(number),
        agent_reserved=agent_reserved,
    )


def normalise(number: str, region: str = "FR") -> str:
    """E.164 when the number reads as one (stored numbers already are), else the text as given."""
    try:
        return phones.parse(number, region)
    except DomainError:
        return (number or "").strip()


def _country(number: str, contact: Contact | None, campaign: Campaign | None) -> str:
    """The campaign's profile; else the number's country, else the contact's, when a profile exists; else FR."""
    if campaign is not None and campaign.country:
        return campaign.country.upper()
    for code in (profile_country_for_number(number), contact.country if contact is not None else None):
        if code and has_profile(code):
            return code.upper()
    return profile_country_for_number(number) or (contact.country if contact is not None else None) or "FR"


def _party(contact: Contact | None) -> str:
    if contact is not None and (contact.kind == "company" or contact.company_id is not None):
        return "business"
    return "consumer"


def _purpose(contact: Contact | None, campaign: Campaign | None) -> str:
    if campaign is not None:
        try:
            return PURPOSE[CampaignType(campaign.kind)]
        except ValueError:
            return "prospecting"  # unknown kind: the strictest reading
    return "contract" if contact is not None and contact.status == "client" else "prospecting"


def on_opposition_list(session: Session, number: str) -> bool:
    return session.scalar(select(OppositionEntry.id).where(OppositionEntry.e164 == number).limit(1)) is not None


def _consent(session: Session, contact: Contact | None, kind: str, now: datetime) -> bool | None:
    """The latest recorded consent of that kind: True (valid), False (withdrawn), None (none recorded)."""
    if contact is None or contact.id is None:
        return None
    latest = session.scalars(select(ContactConsent).where(
        ContactConsent.contact_id == contact.id, ContactConsent.kind == kind, ContactConsent.given_at <= now)
        .order_by(ContactConsent.given_at.desc(), ContactConsent.id.desc()).limit(1)).first()
    if latest is None:
        return None
    return latest.withdrawn_at is None or as_utc(latest.withdrawn_at) > as_utc(now)


def previous_attempts(session: Session, number: str, contact: Contact | None, now: datetime) -> tuple[Attempt, ...]:
    """The calls and attempts that went out to this person (or number) in the last 90 days, oldest first.

    Only allowed rows: a dial the rules refused never rang. An attempt still
    in progress (no outcome yet) counts. Each carries its campaign's purpose
    (None for a call outside campaigns: it then counts for every rule).
    """
    target = DialAttempt.number == number
    if contact is not None and contact.id is not None:
        target = or_(DialAttempt.contact_id == contact.id, DialAttempt.contact_id.is_(None) & target)
    rows = session.execute(
        select(DialAttempt.at, DialAttempt.outcome, Campaign.kind)
        .outerjoin(Campaign, Campaign.id == DialAttempt.campaign_id)
        .where(target, DialAttempt.allowed.is_(True), DialAttempt.at >= now - LOOKBACK, DialAttempt.at <= now)
        .order_by(DialAttempt.at, DialAttempt.id))
    attempts = []
    for at, outcome, kind in rows:
        purpose = None
        if kind is not None:
            try:
                purpose = PURPOSE[CampaignType(kind)]
            except ValueError:
                purpose = None
        attempts.append(Attempt(at=as_utc(at), outcome=outcome or "in_progress", dropped=outcome == "dropped",
                                purpose=purpose))
    return tuple(attempts)


# --- the company's own list ("liste repoussoir") ------------------------------------------------


def own_list(session: Session) -> OppositionList:
    """The company's own do-not-call list, created on first use (two creators at once: one wins, both get it)."""
    found = session.scalars(select(OppositionList).where(OppositionList.code == OWN_LIST)).first()
    if found is not None:
        return found
    try:
        with session.begin_nested():
            found = OppositionList(code=OWN_LIST, name=OWN_LIST_NAME, kind="own", country="FR", entries_count=0)
            session.add(found)
    except IntegrityError:
        found = session.scalars(select(OppositionList).where(OppositionList.code == OWN_LIST)).one()
    return found


def add_to_own_list(session: Session, number: str, user_id: int | None, reason: str, now: datetime) -> OppositionEntry:
    """Put ``number`` on the company's own list ("liste repoussoir"), in the caller's transaction.

    For the dialer when a person asks not to be called again (outcome
    ``do_not_call``) and for the compliance page. Adding a number twice is
    harmless (the first entry is kept and returned). Contacts with that
    number get ``opposition`` set, with a history row, so the CRM record and
    the list say the same thing. Raises ValidationError for a number that
    is not a phone number.
    """
    e164 = phones.parse(number, "FR")
    listing = own_list(session)
    entry = session.scalars(select(OppositionEntry).where(OppositionEntry.list_id == listing.id,
                                                          OppositionEntry.e164 == e164)).first()
    if entry is None:
        try:
            with session.begin_nested():
                entry = OppositionEntry(list_id=listing.id, e164=e164, added_at=now, added_by=user_id,
                                        reason=(reason or "").strip()[:200])
                session.add(entry)
        except IntegrityError:  # added meanwhile by someone else: same result
            entry = session.scalars(select(OppositionEntry).where(OppositionEntry.list_id == listing.id,
                                                                  OppositionEntry.e164 == e164)).one()
        listing.entries_count = _count(session, listing.id)
    _sync_opposition(session, e164, True, user_id, now)
    return entry


def remove_from_own_list(session: Session, number: str, user_id: int | None, now: datetime) -> bool:
    """Take ``number`` off the own list; False when it was not there.

    Contacts with that number lose ``opposition`` unless another of their
    numbers is still on the own list.
    """
    e164 = normalise(number)
    listing = own_list(session)
    removed = session.execute(delete(OppositionEntry).where(OppositionEntry.list_id == listing.id,
                                                            OppositionEntry.e164 == e164)).rowcount
    if not removed:
        return False
    listing.entries_count = _count(session, listing.id)
    _sync_opposition(session, e164, False, user_id, now)
    return True


def _count(session: Session, list_id: int) -> int:
    session.flush()
    return session.scalar(select(func.count()).select_from(OppositionEntry).where(OppositionEntry.list_id == list_id))


def _sync_opposition(session: Session, e164: str, listed: bool, user_id: int | None, now: datetime) -> None:
    contacts = session.scalars(select(Contact).where(
        Contact.id.in_(select(ContactPhone.contact_id).where(ContactPhone.e164 == e164))).order_by(Contact.id)).all()
    own_id = own_list(session).id
    for contact in contacts:
        value = listed
        if not listed:
            numbers = [p.e164 for p in contact.phones]
            value = session.scalar(select(OppositionEntry.id).where(OppositionEntry.list_id == own_id,
                                                                    OppositionEntry.e164.in_(numbers)).limit(1)) is not None
        _set_flag(session, contact, "opposition", value, user_id, now)


def _set_flag(session: Session, contact: Contact, name: str, value: bool, user_id: int | None, now: datetime) -> None:
    """Change a contact's flag with its history row; nothing when it already says so."""
    old = bool(getattr(contact, name))
    if old == value:
        return
    setattr(contact, name, value)
    contact.updated_at = now
    session.add(ContactChange(contact_id=contact.id, field=name, old_value=history_text(name, old),
                              new_value=history_text(name, value), user_id=user_id, at=now))


# --- described situations (the CLI, the page's test form) --------------------------------------

_ERR_NO_PROFILE = N_("Aucun profil de règles d'appel pour « %(value)s » (profils : %(known)s).")


def check_described(raw: object, session: Session | None = None) -> Decision:
    """Evaluate a described situation (``domain.compliance_input`` format) with its country's profile.

    With a session, the administrators' switches apply (the page); without,
    the profile's default states (``plateau compliance check`` needs no database).
    Raises ValidationError naming each wrong field.
    """
    errors: dict[str, DomainError] = {}
    if isinstance(raw, dict) and isinstance(raw.get("country"), str) and raw["country"].strip() \
            and not has_profile(raw["country"].strip().upper()):
        errors["country"] = DomainError(_ERR_NO_PROFILE, "country", value=raw["country"],
                                        known=", ".join(load_profiles()))
    try:
        situation = read_situation(raw)
    except ValidationError as exc:
        raise ValidationError({**errors, **{k: v for k, v in exc.errors.items() if k not in errors}}) from None
    if errors:
        raise ValidationError(errors)
    profile = effective_profile(session, situation.country) if session is not None else load_profile(situation.country)
    return evaluate(situation, profile)


# --- profiles on the page: state and audit trail -----------------------------------------------


@dataclass
class SwitchView:
    row: ComplianceSwitch
    user_name: str


@dataclass
class RuleView:
    rule: Rule
    enabled: bool  # current state
    default: bool  # the profile file's
    trail: list[SwitchView] = field(default_factory=list)  # newest first


@dataclass
class ProfileView:
    profile: Profile
    rules: list[RuleView]
    trail: list[SwitchView]  # every switch of the country, newest first


def profile_view(ctx: Context, country: str) -> ProfileView:
    """A profile's rules with their current state and their switches (the audit trail), newest first."""
    profile = load_profile(country)
    with ctx.read() as session:
        rows = session.execute(select(ComplianceSwitch, User.display_name)
                               .outerjoin(User, User.id == ComplianceSwitch.user_id)
                               .where(ComplianceSwitch.country == profile.country)
                               .order_by(ComplianceSwitch.id.desc())).all()
    trail = [SwitchView(row, name or "") for row, name in rows]
    rules = []
    for rule in profile.rules:
        own = [s for s in trail if s.row.rule == rule.id]
        rules.append(RuleView(rule, own[0].row.enabled if own else rule.enabled, rule.enabled, own))
    return ProfileView(profile, rules, trail)


MAX_REASON = 1000
_ERR_REASON = N_("Indiquez pourquoi la règle est changée : la raison est gardée dans l'historique.")


def switch_rule(ctx: Context, actor: Actor, country: str, rule: str, enabled: bool, reason: str) -> ComplianceSwitch | None:
    """Switch one rule of a profile on or off (administrators only, a reason required).

    Appends a ComplianceSwitch row: the audit trail. Asking for the state the
    rule is already in writes nothing and returns None (a double submit).
    """
    if not actor.is_admin:
        raise PermissionDenied(N_("Réservé aux administrateurs."))
    profile = load_profile(country)
    if profile.rule(rule) is None:
        raise NotFoundError(N_("Règle « %(rule)s » inconnue dans le profil %(country)s."), "rule", rule=rule,
                            country=profile.country)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": DomainError(_ERR_REASON, "reason")})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": DomainError(N_("La raison dépasse %(max)s caractères."), "reason",
                                                     max=MAX_REASON)})
    with ctx.unit() as session:
        current = switches(session, profile.country).get(rule, profile.rule(rule).enabled)
        if current == bool(enabled):
            return None
        row = ComplianceSwitch(country=profile.country, rule=rule, enabled=bool(enabled), reason=reason,
                               user_id=actor.id, at=ctx.now())
        session.add(row)
    audit.info("compliance switch %s %s → %s by %s: %s", profile.country, rule, "on" if enabled else "off",
               actor.id, reason)
    return row


# --- opposition lists ---------------------------------------------------------------------------


def _require_supervisor(actor: Actor) -> None:
    if not actor.is_supervisor:
        raise PermissionDenied(N_("Réservé aux superviseurs, formateurs et administrateurs."))


def own_list_add(ctx: Context, actor: Actor, number: str, reason: str = "") -> OppositionEntry:
    """The page's "add a number to the own list" (supervisors); see ``add_to_own_list``."""
    _require_supervisor(actor)
    try:
        with ctx.unit() as session:
            return add_to_own_list(session, number, actor.id, reason, ctx.now())
    except ValidationError as exc:
        raise ValidationError({"number": DomainError(exc.message, "number", **exc.params)}) from None


def own_list_remove(ctx: Context, actor: Actor, number: str, reason: str) -> bool:
    """Take a number off the own list (administrators, with a reason kept in the audit log)."""
    if not actor.is_admin:
        raise PermissionDenied(N_("Réservé aux administrateurs."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": DomainError(N_("Indiquez pourquoi le numéro est retiré de la liste."), "reason")})
    with ctx.unit() as session:
        removed = remove_from_own_list(session, number, actor.id, ctx.now())
    if not removed:
        raise NotFoundError(N_("Ce numéro n'est pas sur la liste repoussoir."), "number")
    audit.info("own list: %s removed by %s: %s", normalise(number), actor.id, reason)
    return True


@dataclass
class ListView:
    listing: OppositionList
    #: an imported list whose last import is older than 30 days (or that was never imported)
    stale: bool


def opposition_lists(ctx: Context) -> list[ListView]:
    """Every list, the own one first, each with its staleness."""
    now = ctx.now()
    with ctx.read() as session:
        rows = list(session.scalars(select(OppositionList).order_by(OppositionList.kind.desc(), OppositionList.code)))
    return [ListView(row, _stale(row, now)) for row in rows]


def own_entries(ctx: Context, limit: int = 200) -> list[OppositionEntry]:
    """The latest numbers of the own list, newest first."""
    with ctx.read() as session:
        return list(session.scalars(select(OppositionEntry).join(OppositionList)
                                    .where(OppositionList.code == OWN_LIST)
                                    .order_by(OppositionEntry.added_at.desc(), OppositionEntry.id.desc()).limit(limit)))


def _stale(row: OppositionList, now: datetime) -> bool:
    if row.kind != "imported":
        return False
    return row.imported_at is None or now - as_utc(row.imported_at) > STALE_AFTER


def stale_lists(ctx: Context, now: datetime | None = None) -> list[OppositionList]:
    """Imported lists whose last import is older than 30 days: the page warns about each."""
    return [view.listing for view in opposition_lists(ctx) if _stale(view.listing, now or ctx.now())]


#: header names of the column holding the numbers in an imported CSV (folded: lower case, no accents)
NUMBER_HEADERS = ("numero", "number", "telephone", "phone", "tel", "e164", "msisdn", "numero de telephone")
_ERR_OWN_CODE = N_("La liste repoussoir de l'entreprise se tient numéro par numéro : choisissez un autre code.")
_ERR_ENCODING = N_("Le fichier n'est pas en UTF-8 : enregistrez-le en UTF-8 (CSV UTF-8).")
_ERR_COLUMNS = N_("Ligne %(line)s : plusieurs colonnes sans en-tête « numero » ou « telephone » : "
                  "indiquez quelle colonne contient les numéros.")
_ERR_CODE = N_("Le code s'écrit en minuscules sans accent, chiffres, tirets et soulignés (64 caractères au plus).")


@dataclass
class ImportResult:
    listing: OppositionList
    count: int
    duplicates: int


def import_list(ctx: Context, actor: Actor, code: str, name: str, country: str, csv_bytes: bytes) -> ImportResult:
    """Replace an imported opposition list (Bloctel, another country's list…) with a file's numbers.

    The file holds one number per line, or a CSV whose header names the
    number column (numero, telephone, phone, e164…; separators , ; or tab).
    Numbers are read in ``country``'s plan. All or nothing: any bad row and
    nothing changes, every bad row being reported with its line number
    (ValidationError keyed ``line N``). A good file replaces the list's
    numbers and sets ``imported_at``; the own list cannot be replaced.
    """
    _require_supervisor(actor)
    code, name, country = (code or "").strip(), (name or "").strip(), (country or "").strip().upper()
    errors: dict[str, DomainError] = {}
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", code):
        errors["code"] = DomainError(_ERR_CODE, "code")
    elif code == OWN_LIST:
        errors["code"] = DomainError(_ERR_OWN_CODE, "code")
    if not name or len(name) > 200:
        errors["name"] = DomainError(N_("Le nom est obligatoire (%(max)s caractères au plus)."), "name", max=200)
    if not re.fullmatch(r"[A-Z]{2}", country):
        errors["country"] = DomainError(N_("Attendu un code pays ISO à deux lettres, par exemple « FR »."), "country")
    if errors:
        raise ValidationError(errors)
    try:
        text = csv_bytes.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"file": DomainError(_ERR_ENCODING, "file")}) from None
    lines = text.splitlines()
    rows: list[tuple[int, str]] = []
    column = 0
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None:
        dialect = _dialect(lines[first])
        cells = next(csv.reader([lines[first]], dialect))
        folded = [unidecode(c).strip().lower() for c in cells]
        header = next((i for i, c in enumerate(folded) if c in NUMBER_HEADERS), None)
        if header is not None:
            column, start = header, first + 1
        elif len(cells) > 1:
            raise ValidationError({"file": DomainError(_ERR_COLUMNS, "file", line=first + 1)})
        else:
            start = first
        for index in range(start, len(lines)):
            if not lines[index].strip():
                continue
            cells = next(csv.reader([lines[index]], dialect), [])
            rows.append((index + 1, cells[column].strip() if column < len(cells) else ""))
    if not rows:
        raise ValidationError({"file": DomainError(N_("Le fichier ne contient aucun numéro."), "file")})
    numbers: dict[str, int] = {}
    for line, raw in rows:
        try:
            e164 = phones.parse(raw, country)
        except ValidationError:
            errors[f"line {line}"] = (
                DomainError(N_("Ligne %(line)s : numéro manquant."), "file", line=line) if not raw else
                DomainError(N_("Ligne %(line)s : « %(value)s » n'est pas un numéro de téléphone valide (%(country)s)."),
                            "file", line=line, value=raw, country=country))
            continue
        numbers.setdefault(e164, line)
    if errors:
        raise ValidationError(errors)
    with ctx.unit() as session:
        now = ctx.now()
        listing = session.scalars(select(OppositionList).where(OppositionList.code == code)).first()
        if listing is None:
            listing = OppositionList(code=code, name=name, kind="imported", country=country)
            session.add(listing)
            session.flush()
        listing.name, listing.country, listing.imported_at = name, country, now
        session.execute(delete(OppositionEntry).where(OppositionEntry.list_id == listing.id))
        if numbers:
            session.execute(insert(OppositionEntry), [
                {"list_id": listing.id, "e164": e164, "added_at": now, "added_by": actor.id, "reason": ""}
                for e164 in numbers])
        listing.entries_count = len(numbers)
    audit.info("opposition list %s imported by %s: %s numbers", code, actor.id, len(numbers))
    return ImportResult(listing, len(numbers), len(rows) - len(numbers))


def _dialect(sample: str):
    delimiter = max((";", ",", "\t"), key=sample.count) if any(d in sample for d in ";,\t") else ","

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter
    return Dialect


# --- consents, with their proof and withdrawal --------------------------------------------------

CONSENT_KINDS = {"call": N_("Consentement au démarchage téléphonique"),
                 "call_hours": N_("Accord pour être appelé en dehors des heures légales")}
CONSENT_METHODS = {"web_form": N_("Formulaire en ligne"), "paper": N_("Document papier signé"),
                   "call_recording": N_("Enregistrement d'appel"), "email": N_("Courriel"), "other": N_("Autre")}
MAX_CONSENT_TEXT = 5000


@dataclass
class ConsentView:
    consent: ContactConsent
    recorded_by_name: str

    @property
    def active(self) -> bool:
        return self.consent.withdrawn_at is None


def consents_of(ctx: Context, contact_id: int) -> list[ConsentView]:
    """A contact's consents, newest first, each with who recorded it."""
    with ctx.read() as session:
        if session.get(Contact, contact_id) is None:
            raise NotFoundError(N_("Contact introuvable."))
        rows = session.execute(select(ContactConsent, User.display_name)
                               .outerjoin(User, User.id == ContactConsent.recorded_by)
                               .where(ContactConsent.contact_id == contact_id)
                               .order_by(ContactConsent.given_at.desc(), ContactConsent.id.desc())).all()
    return [ConsentView(row, name or "") for row, name in rows]


def record_consent(ctx: Context, actor: Actor, contact_id: int, kind: str, given_at: datetime | str, method: str,
                   text: str, source: str = "") -> ContactConsent:
    """Record a consent with its proof: when (``given_at``), how (``method``), the words agreed to, where the proof is.

    ``given_at`` may be a datetime (aware) or the page's "AAAA-MM-JJTHH:MM"
    in the site's time zone; it cannot be in the future. Contact.consent_call
    follows the latest "call" consent.
    """
    errors: dict[str, DomainError] = {}
    if kind not in CONSENT_KINDS:
        errors["kind"] = DomainError(N_("Type de consentement inconnu."), "kind")
    if method not in CONSENT_METHODS:
        errors["method"] = DomainError(N_("Indiquez comment le consentement a été recueilli."), "method")
    text = (text or "").strip()
    if not text:
        errors["text"] = DomainError(N_("Recopiez le texte exact auquel la personne a consenti : c'est la preuve."), "text")
    elif len(text) > MAX_CONSENT_TEXT:
        errors["text"] = DomainError(N_("Le texte dépasse %(max)s caractères."), "text", max=MAX_CONSENT_TEXT)
    source = (source or "").strip()
    if len(source) > 200:
        errors["source"] = DomainError(N_("%(max)s caractères au plus."), "source", max=200)
    now = ctx.now()
    moment = _given_at(given_at, ctx, errors)
    if moment is not None and moment > now:
        errors["given_at"] = DomainError(N_("La date du consentement ne peut pas être dans le futur."), "given_at")
    if errors:
        raise ValidationError(errors)
    with ctx.unit() as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            raise NotFoundError(N_("Contact introuvable."))
        row = ContactConsent(contact_id=contact_id, kind=kind, given_at=moment, method=method, text=text,
                             source=source, recorded_by=actor.id, recorded_at=now)
        session.add(row)
        session.flush()
        _sync_consent(session, contact, actor.id, now)
        return row


def withdraw_consent(ctx: Context, actor: Actor, consent_id: int, how: str) -> ContactConsent:
    """Record that a person withdrew a consent, and how (by phone, by e-mail…). Withdrawing twice is harmless."""
    how = (how or "").strip()
    if not how:
        raise ValidationError({"how": DomainError(N_("Indiquez comment la personne a retiré son consentement."), "how")})
    if len(how) > 200:
        raise ValidationError({"how": DomainError(N_("%(max)s caractères au plus."), "how", max=200)})
    with ctx.unit() as session:
        row = session.get(ContactConsent, consent_id)
        if row is None:
            raise NotFoundError(N_("Consentement introuvable."))
        if row.withdrawn_at is not None:
            return row
        now = ctx.now()
        row.withdrawn_at, row.withdrawn_how = now, how
        session.flush()
        _sync_consent(session, session.get(Contact, row.contact_id), actor.id, now)
        return row


def _given_at(value: datetime | str, ctx: Context, errors: dict) -> datetime | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            errors["given_at"] = DomainError(N_("Indiquez la date et l'heure du consentement."), "given_at")
            return None
        return as_utc(value)
    try:
        moment = datetime.fromisoformat((value or "").strip())
    except ValueError:
        errors["given_at"] = DomainError(N_("Indiquez la date et l'heure du consentement."), "given_at")
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(ctx.settings.timezone))
    return as_utc(moment)


def _sync_consent(session: Session, contact: Contact, user_id: int | None, now: datetime) -> None:
    """Contact.consent_call says whether a valid "call" consent is on record, as the rules read it."""
    _set_flag(session, contact, "consent_call", _consent(session, contact, "call", now) is True, user_id, now)


# --- the page's "tester une situation" form ------------------------------------------------------

#: the test form's fields, as typed (strings; checkboxes "1" when ticked)
TEST_FIELDS = ("country", "date", "time", "number", "party", "purpose", "sector", "existing_contract",
               "opposition_listed", "consent", "hours_agreed", "dialer", "presented_number", "agent_reserved",
               "attempts")
_ERR_DATE = N_("Indiquez la date de l'appel (AAAA-MM-JJ).")
_ERR_TIME = N_("Indiquez l'heure de l'appel (HH:MM).")
_ERR_ATTEMPT_LINE = N_("Ligne %(line)s : écrivez « AAAA-MM-JJ HH:MM issue », par exemple « 2026-12-01 10:30 no_answer ».")


def situation_from_form(form: dict) -> dict:
    """The test form (date and time in the called party's local time) → the described-situation format.

    The zone is the called number's when one is given (an overseas number
    has its own), else the profile's. Earlier attempts are typed one per
    line: ``AAAA-MM-JJ HH:MM issue`` in the same local time.
    """

    def text(name: str) -> str:
        return str(form.get(name) or "").strip()

    errors: dict[str, DomainError] = {}
    country = text("country").upper() or "FR"
    region = country if country.isalpha() and len(country) == 2 else "FR"
    number = normalise(text("number"), region) if text("number") else None
    presented = normalise(text("presented_number"), region) if text("presented_number") else None
    zone_name = zone_for_number(number) if number else None
    if not zone_name and has_profile(country):
        zone_name = load_profile(country).timezone
    zone = ZoneInfo(zone_name or "UTC")

    def moment(day: str, clock: str) -> str | None:
        try:
            local = datetime.fromisoformat(f"{day}T{clock}")
        except ValueError:
            return None
        return local.replace(tzinfo=zone).isoformat()

    try:
        datetime.strptime(text("date"), "%Y-%m-%d")
    except ValueError:
        errors["date"] = DomainError(_ERR_DATE, "date")
    try:
        datetime.strptime(text("time"), "%H:%M")
    except ValueError:
        errors["time"] = DomainError(_ERR_TIME, "time")
    attempts = []
    for index, line in enumerate(text("attempts").splitlines(), start=1):
        bits = line.split()
        if not bits:
            continue
        at = moment(bits[0], bits[1]) if len(bits) == 3 else None
        if at is None:
            errors.setdefault("attempts", DomainError(_ERR_ATTEMPT_LINE, "attempts", line=index))
            continue
        attempts.append({"at": at, "outcome": bits[2]})
    if errors:
        raise ValidationError(errors)
    consent = {"yes": True, "no": False}.get(text("consent"))
    return {"country": country, "at": moment(text("date"), text("time")), "party": text("party") or "consumer",
            "purpose": text("purpose") or "prospecting", "sector": text("sector") or None,
            "existing_contract": text("existing_contract") == "1", "opposition_listed": text("opposition_listed") == "1",
            "consent": consent, "hours_agreed": text("hours_agreed") == "1", "previous_attempts": attempts,
            "dialer": text("dialer") or "manual", "presented_number": presented,
            "agent_reserved": text("agent_reserved") == "1", "timezone": zone.key}


def check_form(ctx: Context, form: dict) -> Decision:
    """The page's test: the same evaluation as before a dial, with the administrators' switches applied."""
    raw = situation_from_form(form)
    with ctx.read() as session:
        try:
            return check_described(raw, session)
        except ValidationError as exc:
            renamed = {("date" if k == "at" else "attempts" if k.startswith("previous_attempts") else k): v
                       for k, v in exc.errors.items()}
            raise ValidationError(renamed) from None
