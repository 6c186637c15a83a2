"""Managing outbound campaigns: parameters, target lists, qualifications, agents, lifecycle.

Supervisors, trainers and administrators only (``require_manager``). Every
parameter is checked by ``domain.campaign_settings``; this module adds what
needs the database (a free code, an existing script, known products,
qualifications, agents and teams) and reports every refused field at once,
writing nothing.

Every change is appended to ``campaign_changes`` — one row per changed
field with its old and new values, who and when — whether it comes from the
form, a lifecycle action (field ``status``), the test sample draw
(``test_sample``), the target list (``targets``, ``selection``) or the
assignments (``agents``, ``teams``, ``dispositions``). Values are stored as
language-neutral text (codes, ISO dates, JSON), so the log reads the same in
every language; the pages turn codes into labels.

Two supervisors may edit the same campaign: ``update`` takes the version the
form was built from (optimistic locking, like contacts) and refuses a save
made on an older one, naming who saved last. A finished campaign is
read-only.

The lifecycle is ``domain.campaigns.LIFECYCLE``. Entering a dialing state
(test, launch, resume) needs a script, qualifications, contacts, agents or
teams and a valid presented number: each missing item is reported by name.
"test" draws the sample: ``test_sample_size`` of the pending contacts,
seeded by the campaign and the draw's number, so the same list gives the
same sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterator, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select, update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from ..domain import campaign_settings as rules
from ..domain import phones, queue_hours
from ..domain.campaign_settings import SETTINGS, Selection
from ..domain.campaigns import (CampaignAction, CampaignStatus, ContactState, DIALING_STATUSES,
                                allowed_actions, next_status)
from ..domain.contacts import display_name
from ..domain.errors import N_, ConflictError, DomainError, NotFoundError, PermissionDenied, ValidationError
from ..domain.phone_network import NetworkProfile
from ..store.models import (Campaign, CampaignAssignment, CampaignChange, CampaignContact, CampaignDisposition,
                            CallScript, Contact, ContactChange, ContactPhone, DialAttempt, Disposition, ImportJob,
                            Product, Team, User)
from . import crm
from .contacts_io import import_marker
from .context import FLOOR, Actor, Context, emit

#: the change log's "created" row
CREATED = "*"
#: rows inserted per statement when a selection fills the target list
INSERT_BATCH = 1000
#: contacts read per query when a selection is made of filters only
SCAN_BATCH = 1000
MAX_TARGET_PAGE = 200

#: what each logged field is called on the pages (msgids)
FIELD_LABELS = {
    CREATED: N_("Création de la campagne"), "status": N_("État"), "test_sample": N_("Échantillon d'appels tests"),
    "targets": N_("Contacts dans la liste"), "selection": N_("Sélection de contacts"),
    "agents": N_("Agents affectés"), "teams": N_("Équipes affectées"), "dispositions": N_("Qualifications"),
    "name": N_("Nom"), "code": N_("Code"), "kind": N_("Type de campagne"), "description": N_("Description"),
    "objectives": N_("Objectifs chiffrés"), "qualitative_objectives": N_("Objectifs qualitatifs"),
    "script_id": N_("Script d'appel"), "products": N_("Produits"), "starts_on": N_("Date de début"),
    "ends_on": N_("Date de fin"), "hours": N_("Heures d'appel"), "timezone": N_("Fuseau horaire"),
    "dial_mode": N_("Mode de numérotation"), "max_attempts": N_("Tentatives maximum par contact"),
    "retry_minutes": N_("Délais avant nouvelle tentative"), "presented_number": N_("Numéro présenté"),
    "abandon_cap": N_("Taux d'abandon maximal"), "drop_after_s": N_("Délai de mise en relation (secondes)"),
    "drop_message": N_("Message d'appel abandonné"), "country": N_("Règles d'appel du pays"),
    "sector": N_("Secteur d'activité"), "test_sample_size": N_("Taille de l'échantillon test"),
    "network_seed": N_("Graine du réseau simulé"), "network": N_("Réseau simulé"),
}

_MANAGERS_ONLY = N_("Réservé aux superviseurs, formateurs et administrateurs : les agents ne gèrent pas les campagnes.")
_FINISHED = N_("La campagne est terminée : elle ne peut plus être modifiée.")


def require_manager(actor: Actor) -> None:
    if not actor.is_supervisor:
        raise PermissionDenied(_MANAGERS_ONLY)


# --- views ------------------------------------------------------------------------------------------


@dataclass
class StateCounts:
    """How many contacts of the target list are in each state (every state present, zeros included)."""

    by_state: dict[str, int]
    total: int
    in_test: int

    @classmethod
    def empty(cls) -> "StateCounts":
        return cls({state.value: 0 for state in ContactState}, 0, 0)


@dataclass
class Ref:
    id: int
    name: str
    code: str = ""


@dataclass
class DispositionRef:
    id: int
    code: str
    label: str
    outcome: str | None


@dataclass
class CampaignView:
    """Everything the campaign's page shows, read in one go (detached from the session)."""

    id: int
    status: str
    selection: dict
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str | None
    settings: dict
    script: Ref | None
    products: list[Ref]
    dispositions: list[DispositionRef]
    agents: list[Ref]
    teams: list[Ref]
    counts: StateCounts
    #: lifecycle actions allowed in the current state
    actions: list[CampaignAction]
    #: what is missing before the campaign may dial (test, launch, resume), by field
    missing: dict[str, DomainError]

    def __getattr__(self, name):
        settings = self.__dict__.get("settings") or {}
        if name in settings:
            return settings[name]
        raise AttributeError(name)

    @property
    def finished(self) -> bool:
        return self.status == CampaignStatus.FINISHED


@dataclass
class CampaignSummary:
    """One line of the campaigns' table."""

    id: int
    code: str
    name: str
    kind: str
    status: str
    dial_mode: str
    starts_on: date | None
    ends_on: date | None
    counts: StateCounts
    agents: int


@dataclass
class TargetRow:
    """One contact of the target list, as the campaign page shows it."""

    id: int
    contact_id: int
    name: str
    #: the number the dialer calls (the contact's first), national format for the campaign's country
    number: str
    state: str
    in_test: bool
    attempts: int
    next_at: datetime | None
    last_outcome: str | None
    #: when blocked: the calling rules' reasons of the latest refused dial (Decision.stored_reasons(): rule, reference, message, msgid, params)
    reasons: list[dict] = field(default_factory=list)


@dataclass
class TargetPage:
    rows: list[TargetRow]
    next_cursor: str | None


@dataclass
class ChangeView:
    id: int
    at: datetime
    who: str | None
    field: str
    old: str | None
    new: str | None


@dataclass
class SelectionCount:
    """What a selection would add to a target list."""

    #: contacts that would be added (a phone, not in the list yet)
    added: int = 0
    #: matching contacts with no phone number: skipped
    without_phone: int = 0
    #: matching contacts already in the list: ignored
    already: int = 0

    @property
    def matching(self) -> int:
        return self.added + self.without_phone + self.already


@dataclass
class Saved:
    """What a save did: the campaign, and what its selection added to the target list (if any)."""

    campaign: Campaign
    targets: SelectionCount | None = None


@dataclass
class FormChoices:
    """What the campaign form's selects and checkboxes offer."""

    scripts: list[CallScript]
    products: list[Product]
    dispositions: list[Disposition]
    users: list[User]
    teams: list[Team]
    imports: list[ImportJob]


# --- creating and editing -----------------------------------------------------------------------------------


def create(ctx: Context, actor: Actor, data: dict) -> Campaign:
    """A new draft campaign: every setting checked, its links and its first contacts written at once."""
    return save(ctx, actor, None, None, data).campaign


def update(ctx: Context, actor: Actor, campaign_id: int, expected_version: int, data: dict) -> Campaign:
    """Save an edit made on ``expected_version``; keys absent from ``data`` keep their value."""
    return save(ctx, actor, campaign_id, expected_version, data).campaign


def save(ctx: Context, actor: Actor, campaign_id: int | None, expected_version: int | None, data: dict) -> Saved:
    """Create (``campaign_id`` None) or update a campaign; what ``create`` and ``update`` do, with the selection's count.

    ``data`` holds settings (``SETTINGS`` keys, or ``abandon_cap_percent``),
    optionally ``disposition_ids``, ``user_ids``, ``team_ids`` (replacing the
    current lists) and ``add_selection`` (``{"query": …, filter: …}``: contacts
    to add to the target list). Nothing is written when anything is refused,
    nor when nothing changed (the version stays: a double submit is harmless).
    """
    require_manager(actor)
    try:
        with ctx.unit() as session:
            now = ctx.now()
            campaign = None
            errors: dict[str, DomainError] = {}
            if campaign_id is None:
                baseline = None
                values, errors = rules.clean({**rules.DEFAULTS, **_settings_in(data)})
            else:
                campaign = _load(session, campaign_id)
                if campaign.status == CampaignStatus.FINISHED:
                    raise DomainError(_FINISHED, "status")
                if expected_version is not None and campaign.version != expected_version:
                    raise _conflict(ctx, session, campaign_id)
                current = {name: getattr(campaign, name) for name in SETTINGS}
                baseline, _ = rules.clean(current)
                values, errors = rules.clean({**current, **_settings_in(data)})
            _check_references(session, values, campaign_id, errors)
            links = _links_in(session, data, errors)
            selection = None
            if data.get("add_selection"):
                raw = dict(data["add_selection"])
                try:
                    selection = rules.clean_selection(raw.pop("query", ""), raw)
                    _check_import(session, selection, errors)
                except ValidationError as exc:
                    errors.update(exc.errors)
            if errors:
                raise ValidationError(errors)

            with session.no_autoflush:  # one UPDATE of the campaign row: its version moves by one
                return _write(ctx, session, campaign, campaign_id, baseline, values, links, selection, actor, now)
    except StaleDataError:
        # another transaction saved between our read and our write: it has committed now
        with ctx.read() as session:
            raise _conflict(ctx, session, campaign_id) from None


def _write(ctx: Context, session: Session, campaign: Campaign | None, campaign_id: int | None, baseline: dict | None,
           values: dict, links: "_Links", selection: Selection | None, actor: Actor, now: datetime) -> Saved:
    """The checked values, links and selection written; only what changed is logged."""
    if campaign is None:
        campaign = Campaign(**values, status=CampaignStatus.DRAFT.value, selection={}, created_by=actor.id,
                            created_at=now, updated_at=now)
        session.add(campaign)
        _flush(session, values["code"])
        _log(session, campaign.id, CREATED, None, campaign.name, actor, now)
        changed = True
    else:
        changed = False
        for name in SETTINGS:
            old, new = rules.history_text(baseline[name]), rules.history_text(values[name])
            if old != new:
                setattr(campaign, name, values[name])
                _log(session, campaign.id, name, old, new, actor, now)
                changed = True
    if links:
        changed = _write_links(session, campaign, links, actor, now) or changed
    added = None
    if selection is not None:
        added = _add_targets(ctx, session, campaign, selection, actor, now)
        changed = changed or added.added > 0
    if changed and campaign_id is not None:
        campaign.updated_at = now
        flag_modified(campaign, "updated_at")  # the version moves even when only links changed
    _flush(session, values["code"])
    if changed:
        _announce(session, campaign, now)
    return Saved(campaign, added)


def _settings_in(data: dict) -> dict:
    return {key: value for key, value in data.items() if key in SETTINGS or key == "abandon_cap_percent"}


def _check_references(session: Session, values: dict, campaign_id: int | None, errors: dict) -> None:
    """What only the database knows: a free code, an existing script, known products."""
    if "code" not in errors:
        other = session.scalar(select(Campaign.id).where(Campaign.code == values["code"],
                                                         Campaign.id != (campaign_id or 0)).limit(1))
        if other is not None:
            errors["code"] = _code_taken(values["code"])
    if values.get("script_id") is not None and session.get(CallScript, values["script_id"]) is None:
        errors["script_id"] = DomainError(N_("Le script d'appel n° %(id)s n'existe pas."), "script_id",
                                          id=values["script_id"])
    if values.get("products"):
        known = set(session.scalars(select(Product.code).where(Product.code.in_(values["products"]))))
        unknown = [code for code in values["products"] if code not in known]
        if unknown:
            errors["products"] = DomainError(N_("Produit inconnu : « %(code)s »."), "products", code=unknown[0])


def _code_taken(code: str) -> DomainError:
    return DomainError(N_("Le code « %(code)s » est déjà celui d'une autre campagne."), "code", code=code)


def _flush(session: Session, code: str) -> None:
    """Flush; a code taken by a concurrent save becomes a field error."""
    try:
        session.flush()
    except IntegrityError as exc:
        if "code" in str(exc.orig):
            raise ValidationError({"code": _code_taken(code)}) from None
        raise


@dataclass
class _Links:
    dispositions: list[int] | None = None
    users: list[int] | None = None
    teams: list[int] | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.dispositions, self.users, self.teams))


def _ids(raw, name: str, errors: dict, message: str) -> list[int]:
    ids: list[int] = []
    for value in raw or []:
        try:
            number = int(str(value).strip())
        except ValueError:
            errors[name] = DomainError(message, name, id=str(value))
            return []
        if number not in ids:
            ids.append(number)
    return ids


def _links_in(session: Session, data: dict, errors: dict) -> _Links:
    """The qualification list, the agents and the teams ``data`` sets (None: left as they are)."""
    links = _Links()
    checks = (("disposition_ids", Disposition, N_("Qualification inconnue (n° %(id)s).")),
              ("user_ids", User, N_("Agent inconnu ou inactif (n° %(id)s).")),
              ("team_ids", Team, N_("Équipe inconnue (n° %(id)s).")))
    for (name, model, message), attr in zip(checks, ("dispositions", "users", "teams")):
        if name not in data or data[name] is None:
            continue
        ids = _ids(data[name], name, errors, message)
        query = select(model.id).where(model.id.in_(ids))
        if model is User:
            query = query.where(User.active.is_(True))
        found = set(session.scalars(query)) if ids else set()
        missing = [i for i in ids if i not in found]
        if missing:
            errors[name] = DomainError(message, name, id=missing[0])
        setattr(links, attr, ids)
    return links


def _current_links(session: Session, campaign_id: int) -> _Links:
    rows = session.execute(select(CampaignAssignment.user_id, CampaignAssignment.team_id)
                           .where(CampaignAssignment.campaign_id == campaign_id)
                           .order_by(CampaignAssignment.id)).all()
    return _Links(
        dispositions=list(session.scalars(select(CampaignDisposition.disposition_id)
                                          .where(CampaignDisposition.campaign_id == campaign_id)
                                          .order_by(CampaignDisposition.position))),
        users=[u for u, _t in rows if u is not None], teams=[t for _u, t in rows if t is not None])


def _write_links(session: Session, campaign: Campaign, links: _Links, actor: Actor, now: datetime) -> bool:
    """Replace the lists ``links`` sets; one log row per list that changed. True if anything did."""
    current = _current_links(session, campaign.id)
    changed = False
    if links.dispositions is not None and links.dispositions != current.dispositions:
        session.execute(delete(CampaignDisposition).where(CampaignDisposition.campaign_id == campaign.id))
        session.add_all([CampaignDisposition(campaign_id=campaign.id, disposition_id=d, position=i)
                         for i, d in enumerate(links.dispositions)])
        codes = dict(session.execute(select(Disposition.id, Disposition.code)
                                     .where(Disposition.id.in_(links.dispositions + current.dispositions))).all())
        _log(session, campaign.id, "dispositions", _names(current.dispositions, codes),
             _names(links.dispositions, codes), actor, now)
        changed = True
    users = links.users if links.users is not None else current.users
    teams = links.teams if links.teams is not None else current.teams
    if set(users) != set(current.users) or set(teams) != set(current.teams):
        session.execute(delete(CampaignAssignment).where(CampaignAssignment.campaign_id == campaign.id))
        session.add_all([CampaignAssignment(campaign_id=campaign.id, user_id=u) for u in users])
        session.add_all([CampaignAssignment(campaign_id=campaign.id, team_id=t) for t in teams])
        if set(users) != set(current.users):
            names = dict(session.execute(select(User.id, User.username).where(User.id.in_(users + current.users))).all())
            _log(session, campaign.id, "agents", _names(sorted(current.users), names), _names(sorted(users), names),
                 actor, now)
        if set(teams) != set(current.teams):
            codes = dict(session.execute(select(Team.id, Team.code).where(Team.id.in_(teams + current.teams))).all())
            _log(session, campaign.id, "teams", _names(sorted(current.teams), codes), _names(sorted(teams), codes),
                 actor, now)
        changed = True
    return changed


def _names(ids: list[int], names: dict[int, str]) -> str | None:
    return ", ".join(names.get(i, str(i)) for i in ids) or None


def set_assignments(ctx: Context, actor: Actor, campaign_id: int, user_ids: list[int], team_ids: list[int]) -> None:
    """The agents and teams who work the campaign (replacing the current ones)."""
    _set_links(ctx, actor, campaign_id, {"user_ids": list(user_ids), "team_ids": list(team_ids)})


def set_dispositions(ctx: Context, actor: Actor, campaign_id: int, disposition_ids: list[int]) -> None:
    """The campaign's qualification list, in the order given."""
    _set_links(ctx, actor, campaign_id, {"disposition_ids": list(disposition_ids)})


def _set_links(ctx: Context, actor: Actor, campaign_id: int, data: dict) -> None:
    require_manager(actor)
    with ctx.unit() as session:
        now = ctx.now()
        campaign = _open(session, campaign_id)
        errors: dict[str, DomainError] = {}
        links = _links_in(session, data, errors)
        if errors:
            raise ValidationError(errors)
        if _write_links(session, campaign, links, actor, now):
            _touch(campaign, now)
            _announce(session, campaign, now)


def create_disposition(ctx: Context, actor: Actor, code: str, label: str, outcome: str,
                       requires_callback: bool = False, is_contact: bool = True) -> Disposition:
    """A qualification campaigns can offer, with the campaign outcome it stands for (``AGENT_OUTCOMES``)."""
    require_manager(actor)
    errors: dict[str, DomainError] = {}
    code = (code or "").strip().lower()
    label = (label or "").strip()
    outcome = (outcome or "").strip()
    if not rules.CODE.fullmatch(code):
        errors["code"] = DomainError(N_("Le code de la qualification s'écrit en minuscules sans accent, chiffres, "
                                        "tirets et soulignés (64 caractères au plus)."), "code")
    if not label or len(label) > rules.MAX_NAME:
        errors["label"] = DomainError(N_("Le libellé de la qualification est obligatoire (%(max)s caractères au "
                                         "plus)."), "label", max=rules.MAX_NAME)
    if outcome not in {o.value for o in rules.AGENT_OUTCOMES}:
        errors["outcome"] = DomainError(N_("Choisissez ce que la qualification signifie pour la campagne (joint, "
                                           "argumenté, refus, rappel, rendez-vous, vente, …)."), "outcome")
    with ctx.unit() as session:
        if "code" not in errors and session.scalar(select(Disposition.id).where(Disposition.code == code)):
            errors["code"] = DomainError(N_("Le code « %(code)s » est déjà celui d'une autre qualification."), "code",
                                         code=code)
        if errors:
            raise ValidationError(errors)
        row = Disposition(code=code, label=label, outcome=outcome, requires_callback=bool(requires_callback),
                          is_contact=bool(is_contact))
        session.add(row)
        session.flush()
        return row


def list_dispositions(ctx: Context) -> list[Disposition]:
    with ctx.read() as session:
        return list(session.scalars(select(Disposition).order_by(Disposition.label, Disposition.id)))


# --- lifecycle -----------------------------------------------------------------------------------------------


def act(ctx: Context, actor: Actor, campaign_id: int, action: str) -> Campaign:
    """Move the campaign through its lifecycle: test, launch, pause, resume, finish.

    Entering a dialing state needs everything ``not_ready`` checks (a
    ValidationError lists each missing item); "test" draws a new sample.
    """
    require_manager(actor)
    try:
        action = CampaignAction(action)
    except ValueError:
        raise DomainError(N_("Action inconnue : « %(action)s »."), "action", action=str(action)) from None
    with ctx.unit() as session:
        now = ctx.now()
        campaign = _load(session, campaign_id)
        if campaign.status == CampaignStatus.FINISHED:
            raise DomainError(_FINISHED, "status")
        target = next_status(CampaignStatus(campaign.status), action)
        if target in DIALING_STATUSES:
            missing = rules.not_ready(_readiness(session, campaign))
            if missing:
                raise ValidationError(missing)
        if action is CampaignAction.TEST:
            drawn = _draw_test_sample(session, campaign)
            _log(session, campaign.id, "test_sample", None, str(len(drawn)), actor, now)
        if target != campaign.status:
            _log(session, campaign.id, "status", campaign.status, target.value, actor, now)
            campaign.status = target.value
        _touch(campaign, now)
        emit(session, FLOOR, "campaign_status", {"campaign_id": campaign.id, "status": campaign.status,
                                                 "action": action.value, "at": now.isoformat()}, now)
        return campaign


def _readiness(session: Session, campaign: Campaign) -> rules.Readiness:
    def count(model, column):
        return session.scalar(select(func.count()).select_from(model).where(column == campaign.id)) or 0

    return rules.Readiness(
        has_script=campaign.script_id is not None, dispositions=count(CampaignDisposition, CampaignDisposition.campaign_id),
        contacts=_has_targets(session, campaign.id), assignments=count(CampaignAssignment, CampaignAssignment.campaign_id),
        presented_number=campaign.presented_number, dial_mode=campaign.dial_mode, drop_message=campaign.drop_message)


def _has_targets(session: Session, campaign_id: int) -> int:
    return 1 if session.scalar(select(CampaignContact.id).where(CampaignContact.campaign_id == campaign_id).limit(1)) else 0


def _draw_test_sample(session: Session, campaign: Campaign) -> list[int]:
    """Mark ``test_sample_size`` pending contacts ``in_test``; an earlier sample's uncalled ones go back to the list."""
    session.execute(sql_update(CampaignContact)
                    .where(CampaignContact.campaign_id == campaign.id, CampaignContact.in_test.is_(True),
                           CampaignContact.state == ContactState.PENDING.value, CampaignContact.attempts == 0)
                    .values(in_test=False))
    candidates = list(session.scalars(select(CampaignContact.id)
                                      .where(CampaignContact.campaign_id == campaign.id,
                                             CampaignContact.state == ContactState.PENDING.value)
                                      .order_by(CampaignContact.position, CampaignContact.id)))
    if not candidates:
        raise DomainError(N_("Aucun contact de la liste n'est encore à appeler : ajoutez des contacts avant les "
                             "appels tests."), "targets")
    draws = session.scalar(select(func.count()).select_from(CampaignChange)
                           .where(CampaignChange.campaign_id == campaign.id, CampaignChange.field == "test_sample")) or 0
    chosen = rules.draw_test_sample(candidates, campaign.test_sample_size, sample_seed(campaign.id, draws))
    for start in range(0, len(chosen), INSERT_BATCH):
        session.execute(sql_update(CampaignContact).where(CampaignContact.id.in_(chosen[start:start + INSERT_BATCH]))
                        .values(in_test=True))
    return chosen


def sample_seed(campaign_id: int, draw: int) -> str:
    """The seed of a campaign's ``draw``-th test sample (0 for the first)."""
    return f"campaign:{campaign_id}:test:{draw}"


# --- target list ---------------------------------------------------------------------------------------------


def add_targets_from_selection(ctx: Context, actor: Actor, campaign_id: int, query: str, filters: dict) -> int:
    """Add the contacts a CRM selection finds; returns how many were added.

    Contacts without a phone are skipped, those already in the list ignored
    (``preview_selection`` counts both). The selection is kept on the campaign.
    """
    require_manager(actor)
    selection = rules.clean_selection(query, filters)
    with ctx.unit() as session:
        now = ctx.now()
        campaign = _open(session, campaign_id)
        errors: dict[str, DomainError] = {}
        _check_import(session, selection, errors)
        if errors:
            raise ValidationError(errors)
        result = _add_targets(ctx, session, campaign, selection, actor, now)
        if result.added or campaign.selection != selection.as_dict():
            _touch(campaign, now)
            _announce(session, campaign, now)
        return result.added


def preview_selection(ctx: Context, actor: Actor, query: str, filters: dict,
                      campaign_id: int | None = None) -> SelectionCount:
    """What adding this selection would do, written nowhere (the form's count preview)."""
    require_manager(actor)
    selection = rules.clean_selection(query, filters)
    with ctx.read() as session:
        errors: dict[str, DomainError] = {}
        _check_import(session, selection, errors)
        if errors:
            raise ValidationError(errors)
        already = _listed(session, campaign_id) if campaign_id else set()
        count = SelectionCount()
        for contact_id, has_phone in _selected(ctx, session, selection):
            if not has_phone:
                count.without_phone += 1
            elif contact_id in already:
                count.already += 1
            else:
                count.added += 1
        return count


def _check_import(session: Session, selection: Selection, errors: dict) -> None:
    if selection.import_job is not None:
        job = session.get(ImportJob, selection.import_job)
        if job is None or job.status != "done":
            errors["selection_import_job"] = DomainError(
                N_("L'import CSV n° %(id)s n'existe pas ou n'est pas terminé."), "selection_import_job",
                id=selection.import_job)


def _listed(session: Session, campaign_id: int) -> set[int]:
    return set(session.scalars(select(CampaignContact.contact_id).where(CampaignContact.campaign_id == campaign_id)))


def _selected(ctx: Context, session: Session, selection: Selection) -> Iterator[tuple[int, bool]]:
    """(contact id, has a phone) for every contact the selection finds, by ascending id.

    A text query goes through the CRM search (``crm.iter_search``: names,
    numbers, e-mails, customer numbers); filters alone scan the file by id,
    the exact-match ones in SQL.
    """
    imported = None
    if selection.import_job is not None:
        imported = (select(ContactChange.contact_id)
                    .where(ContactChange.field == CREATED, ContactChange.new_value == import_marker(selection.import_job)))
    if selection.query:
        allowed = set(session.scalars(imported)) if imported is not None else None
        for contact in crm.iter_search(ctx, selection.query):
            if (allowed is None or contact.id in allowed) and selection.matches(contact):
                yield contact.id, bool(contact.phones)
        return
    stmt = select(Contact.id, Contact.status, Contact.kind, Contact.prospect_temperature, Contact.segment,
                  Contact.tags, Contact.city, Contact.postcode)
    for column, value in ((Contact.status, selection.status), (Contact.kind, selection.kind),
                          (Contact.prospect_temperature, selection.prospect_temperature)):
        if value:
            stmt = stmt.where(column == value)
    if imported is not None:
        stmt = stmt.where(Contact.id.in_(imported))
    after = 0
    while True:
        batch = session.execute(stmt.where(Contact.id > after).order_by(Contact.id).limit(SCAN_BATCH)).all()
        if not batch:
            return
        kept = [c for c in batch if selection.matches(c)]
        with_phone = set(session.scalars(select(ContactPhone.contact_id).distinct()
                                         .where(ContactPhone.contact_id.in_([c.id for c in kept])))) if kept else set()
        for contact in kept:
            yield contact.id, contact.id in with_phone
        after = batch[-1].id


def _add_targets(ctx: Context, session: Session, campaign: Campaign, selection: Selection, actor: Actor,
                 now: datetime) -> SelectionCount:
    # one filler of a target list at a time (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers)
    session.execute(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())
    before = _listed(session, campaign.id)
    position = session.scalar(select(func.max(CampaignContact.position))
                              .where(CampaignContact.campaign_id == campaign.id))
    position = -1 if position is None else position
    result = SelectionCount()
    rows: list[dict] = []
    added: set[int] = set()
    for contact_id, has_phone in _selected(ctx, session, selection):
        if not has_phone:
            result.without_phone += 1
        elif contact_id in before or contact_id in added:
            result.already += 1
        else:
            position += 1
            added.add(contact_id)
            rows.append({"campaign_id": campaign.id, "contact_id": contact_id, "state": ContactState.PENDING.value,
                         "in_test": False, "attempts": 0, "position": position, "updated_at": now})
        if len(rows) >= INSERT_BATCH:
            session.execute(insert(CampaignContact), rows)
            rows = []
    if rows:
        session.execute(insert(CampaignContact), rows)
    result.added = len(added)
    stored = selection.as_dict()
    if campaign.selection != stored:
        _log(session, campaign.id, "selection", rules.history_text(campaign.selection), rules.history_text(stored),
             actor, now)
        campaign.selection = stored
    if result.added:
        _log(session, campaign.id, "targets", str(len(before)), str(len(before) + result.added), actor, now)
    return result


def remove_target(ctx: Context, actor: Actor, campaign_id: int, contact_id: int) -> None:
    """Take a contact out of the target list, if it was never dialed (a dialed one stays for the history)."""
    require_manager(actor)
    with ctx.unit() as session:
        now = ctx.now()
        campaign = _open(session, campaign_id)
        row = session.scalar(select(CampaignContact).where(CampaignContact.campaign_id == campaign_id,
                                                           CampaignContact.contact_id == contact_id))
        if row is None:
            raise NotFoundError(N_("Ce contact n'est pas dans la liste de la campagne."))
        if row.state == ContactState.IN_PROGRESS or row.locked_by is not None:
            raise DomainError(N_("Ce contact est en cours d'appel : retirez-le une fois l'appel terminé."), "targets")
        dialed = row.attempts > 0 or session.scalar(select(DialAttempt.id)
                                                     .where(DialAttempt.campaign_contact_id == row.id).limit(1))
        if dialed:
            raise DomainError(N_("Ce contact a déjà été appelé pour la campagne : il reste dans la liste pour "
                                 "l'historique. S'il ne veut plus être appelé, inscrivez-le sur la liste "
                                 "d'opposition."), "targets")
        count = session.scalar(select(func.count()).select_from(CampaignContact)
                               .where(CampaignContact.campaign_id == campaign_id)) or 0
        session.delete(row)
        _log(session, campaign_id, "targets", str(count), str(count - 1), actor, now)
        _touch(campaign, now)
        _announce(session, campaign, now)


def state_counts(ctx: Context, campaign_id: int) -> StateCounts:
    with ctx.read() as session:
        return _counts(session, [campaign_id]).get(campaign_id, StateCounts.empty())


def _counts(session: Session, campaign_ids: list[int]) -> dict[int, StateCounts]:
    result: dict[int, StateCounts] = {}
    if not campaign_ids:
        return result
    for campaign_id, state, in_test, number in session.execute(
            select(CampaignContact.campaign_id, CampaignContact.state, CampaignContact.in_test, func.count())
            .where(CampaignContact.campaign_id.in_(campaign_ids))
            .group_by(CampaignContact.campaign_id, CampaignContact.state, CampaignContact.in_test)):
        counts = result.setdefault(campaign_id, StateCounts.empty())
        counts.by_state[state] = counts.by_state.get(state, 0) + number
        counts.total += number
        if in_test:
            counts.in_test += number
    return result


def target_page(ctx: Context, campaign_id: int, state: str | None = None, after: str | None = None,
                limit: int = 50) -> TargetPage:
    """One page of the target list, in list order, optionally in one state; pages follow a cursor, never an offset."""
    limit = max(1, min(int(limit), MAX_TARGET_PAGE))
    if state and state not in {s.value for s in ContactState}:
        raise ValidationError({"state": DomainError(N_("État de contact inconnu : « %(value)s »."), "state",
                                                    value=state)})
    after_id = _cursor(after)
    with ctx.read() as session:
        campaign = _load(session, campaign_id)
        stmt = (select(CampaignContact, Contact).join(Contact, Contact.id == CampaignContact.contact_id)
                .where(CampaignContact.campaign_id == campaign_id, CampaignContact.id > after_id)
                .order_by(CampaignContact.id).limit(limit + 1))
        if state:
            stmt = stmt.where(CampaignContact.state == state)
        found = session.execute(stmt).all()
        page = found[:limit]
        contact_ids = [contact.id for _row, contact in page]
        numbers: dict[int, str] = {}
        for contact_id, e164 in session.execute(select(ContactPhone.contact_id, ContactPhone.e164)
                                                .where(ContactPhone.contact_id.in_(contact_ids))
                                                .order_by(ContactPhone.contact_id, ContactPhone.position,
                                                          ContactPhone.id)):
            numbers.setdefault(contact_id, e164)
        reasons = _blocked_reasons(session, [row.id for row, _c in page if row.state == ContactState.BLOCKED])
        rows = [TargetRow(id=row.id, contact_id=contact.id, name=display_name(contact),
                          number=phones.display(numbers[contact.id], campaign.country) if contact.id in numbers else "",
                          state=row.state, in_test=bool(row.in_test), attempts=row.attempts, next_at=row.next_at,
                          last_outcome=row.last_outcome, reasons=reasons.get(row.id, []))
                for row, contact in page]
    return TargetPage(rows, str(page[-1][0].id) if len(found) > limit else None)


def _blocked_reasons(session: Session, target_ids: list[int]) -> dict[int, list[dict]]:
    """The reasons of each blocked contact's latest refused dial."""
    reasons: dict[int, list[dict]] = {}
    if not target_ids:
        return reasons
    for target_id, rows in session.execute(select(DialAttempt.campaign_contact_id, DialAttempt.reasons)
                                           .where(DialAttempt.campaign_contact_id.in_(target_ids),
                                                  DialAttempt.allowed.is_(False))
                                           .order_by(DialAttempt.id.desc())):
        reasons.setdefault(target_id, list(rows or []))
    return reasons


def _cursor(after: str | None) -> int:
    if after in (None, ""):
        return 0
    if not str(after).isdigit():
        raise ValidationError({"after": DomainError(N_("Curseur de page invalide : revenez à la première page."),
                                                    "after")})
    return int(after)


# --- reading ----------------------------------------------------------------------------------------------------


def list_campaigns(ctx: Context, actor: Actor) -> list[CampaignSummary]:
    """Every campaign, the ones in progress first, with their target list's counts."""
    require_manager(actor)
    order = {CampaignStatus.RUNNING: 0, CampaignStatus.TEST: 1, CampaignStatus.PAUSED: 2, CampaignStatus.DRAFT: 3,
             CampaignStatus.FINISHED: 4}
    with ctx.read() as session:
        campaigns = list(session.scalars(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())))
        counts = _counts(session, [c.id for c in campaigns])
        agents = dict(session.execute(select(CampaignAssignment.campaign_id, func.count())
                                      .group_by(CampaignAssignment.campaign_id)).all())
        rows = [CampaignSummary(c.id, c.code, c.name, c.kind, c.status, c.dial_mode, c.starts_on, c.ends_on,
                                counts.get(c.id, StateCounts.empty()), agents.get(c.id, 0)) for c in campaigns]
    return sorted(rows, key=lambda r: order.get(r.status, 5))


def get(ctx: Context, campaign_id: int) -> CampaignView:
    with ctx.read() as session:
        campaign = _load(session, campaign_id)
        links = _current_links(session, campaign_id)
        script = session.get(CallScript, campaign.script_id) if campaign.script_id else None
        products = {p.code: p for p in session.scalars(select(Product).where(Product.code.in_(campaign.products or [])))}
        dispositions = {d.id: d for d in session.scalars(select(Disposition)
                                                          .where(Disposition.id.in_(links.dispositions)))}
        users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(links.users)))}
        teams = {t.id: t for t in session.scalars(select(Team).where(Team.id.in_(links.teams)))}
        creator = session.get(User, campaign.created_by) if campaign.created_by else None
        status = CampaignStatus(campaign.status)
        missing = rules.not_ready(_readiness(session, campaign)) if status != CampaignStatus.FINISHED else {}
        return CampaignView(
            id=campaign.id, status=campaign.status, selection=dict(campaign.selection or {}), version=campaign.version,
            created_at=campaign.created_at, updated_at=campaign.updated_at,
            created_by=creator.display_name if creator else None,
            settings={name: getattr(campaign, name) for name in SETTINGS},
            script=Ref(script.id, script.name, script.code) if script else None,
            products=[Ref(products[c].id, products[c].name, c) if c in products else Ref(0, c, c)
                      for c in campaign.products or []],
            dispositions=[DispositionRef(d.id, d.code, d.label, d.outcome)
                          for d in (dispositions.get(i) for i in links.dispositions) if d is not None],
            agents=sorted((Ref(u.id, u.display_name, u.username) for u in users.values()), key=lambda r: r.name),
            teams=sorted((Ref(t.id, t.name, t.code) for t in teams.values()), key=lambda r: r.name),
            counts=_counts(session, [campaign_id]).get(campaign_id, StateCounts.empty()),
            actions=allowed_actions(status), missing=missing)


def changes(ctx: Context, campaign_id: int, limit: int = 500) -> list[ChangeView]:
    """The change log, newest first."""
    with ctx.read() as session:
        _load(session, campaign_id)
        rows = session.execute(select(CampaignChange, User.display_name)
                               .outerjoin(User, User.id == CampaignChange.user_id)
                               .where(CampaignChange.campaign_id == campaign_id)
                               .order_by(CampaignChange.id.desc()).limit(limit)).all()
        return [ChangeView(c.id, c.at, who, c.field, c.old_value, c.new_value) for c, who in rows]


# --- the form ------------------------------------------------------------------------------------------------------


def form_choices(ctx: Context, actor: Actor) -> FormChoices:
    require_manager(actor)
    with ctx.read() as session:
        return FormChoices(
            scripts=list(session.scalars(select(CallScript).order_by(CallScript.name))),
            products=list(session.scalars(select(Product).order_by(Product.name))),
            dispositions=list(session.scalars(select(Disposition).order_by(Disposition.label, Disposition.id))),
            users=list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.display_name))),
            teams=list(session.scalars(select(Team).order_by(Team.name))),
            imports=list(session.scalars(select(ImportJob).where(ImportJob.status == "done")
                                         .order_by(ImportJob.id.desc()).limit(50))),
        )


def _text(value) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def form_values(view: CampaignView | None) -> dict:
    """The form's fields as strings (lists for checkboxes), from a stored campaign or a new one's defaults."""
    settings = dict(rules.DEFAULTS) if view is None else dict(view.settings)
    network = NetworkProfile.from_dict(settings.get("network") or {}).to_dict()
    values: dict = {name: _text(settings.get(name)) for name in SETTINGS
                    if name not in ("objectives", "products", "hours", "retry_minutes", "network", "abandon_cap")}
    values["timezone"] = settings.get("timezone") or rules.DEFAULT_TIMEZONES.get(settings.get("country") or "FR", "")
    values["starts_on"] = settings["starts_on"].isoformat() if settings.get("starts_on") else ""
    values["ends_on"] = settings["ends_on"].isoformat() if settings.get("ends_on") else ""
    values["abandon_cap_percent"] = _text(round((settings.get("abandon_cap") or 0) * 100, 4))
    values["presented_number"] = (phones.display(settings["presented_number"], settings.get("country") or "FR")
                                  if settings.get("presented_number") else "")
    for key in rules.OBJECTIVES:
        values[f"objective_{key}"] = _text((settings.get("objectives") or {}).get(key))
    for outcome in rules.RETRY_OUTCOMES:
        values[f"retry_{outcome.value}"] = _text((settings.get("retry_minutes") or {}).get(outcome.value))
    for day in queue_hours.DAYS:
        values[f"hours_{day}"] = queue_hours.format_ranges((settings.get("hours") or {}).get(day, []))
    for key, number in network.items():
        values[f"network_{key}"] = _text(number)
    values["products"] = list(settings.get("products") or [])
    values["disposition_ids"] = [str(d.id) for d in view.dispositions] if view else []
    values["user_ids"] = [str(r.id) for r in view.agents] if view else []
    values["team_ids"] = [str(r.id) for r in view.teams] if view else []
    selection = view.selection if view else {}
    values["selection_query"] = str(selection.get("query", ""))
    for key in rules.SELECTION_FILTERS:
        values[f"selection_{key}"] = _text(selection.get(key))
    values["add_selection"] = view is None
    return values


def data_from_form(form: Mapping) -> dict:
    """The ``save`` data of a posted form (``form_values`` names); nothing parsed here, ``save`` checks it all."""
    def text(name: str) -> str:
        return str(form.get(name) or "")

    def many(name: str) -> list[str]:
        value = form.get(name) or []
        return [str(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if str(v).strip()]

    data: dict = {name: text(name) for name in SETTINGS
                  if name not in ("objectives", "products", "hours", "retry_minutes", "network", "abandon_cap")}
    data["abandon_cap_percent"] = text("abandon_cap_percent")
    data["objectives"] = {key: text(f"objective_{key}") for key in rules.OBJECTIVES}
    data["retry_minutes"] = {o.value: text(f"retry_{o.value}") for o in rules.RETRY_OUTCOMES}
    data["hours"] = {day: text(f"hours_{day}") for day in queue_hours.DAYS}
    data["network"] = {key: text(f"network_{key}") for key in rules.NETWORK_FIELDS}
    data["products"] = many("products")
    data["disposition_ids"] = many("disposition_ids")
    data["user_ids"] = many("user_ids")
    data["team_ids"] = many("team_ids")
    if form.get("add_selection"):
        data["add_selection"] = {"query": text("selection_query"),
                                 **{key: text(f"selection_{key}") for key in rules.SELECTION_FILTERS}}
    return data


def selection_from_form(form: Mapping) -> tuple[str, dict]:
    """(query, filters) of the form's selection fields, for ``preview_selection``."""
    return (str(form.get("selection_query") or ""),
            {key: str(form.get(f"selection_{key}") or "") for key in rules.SELECTION_FILTERS})


# --- helpers ---------------------------------------------------------------------------------------------------


def _load(session: Session, campaign_id: int | None) -> Campaign:
    campaign = session.get(Campaign, campaign_id) if campaign_id is not None else None
    if campaign is None:
        raise NotFoundError(N_("Campagne introuvable (n° %(id)s)."), id=campaign_id)
    return campaign


def _open(session: Session, campaign_id: int) -> Campaign:
    """The campaign, refused when finished (read-only)."""
    campaign = _load(session, campaign_id)
    if campaign.status == CampaignStatus.FINISHED:
        raise DomainError(_FINISHED, "status")
    return campaign


def _touch(campaign: Campaign, now: datetime) -> None:
    campaign.updated_at = now
    flag_modified(campaign, "updated_at")


def _log(session: Session, campaign_id: int, name: str, old: str | None, new: str | None, actor: Actor,
         now: datetime) -> None:
    session.add(CampaignChange(campaign_id=campaign_id, field=name, old_value=old, new_value=new, user_id=actor.id,
                               at=now))


def _announce(session: Session, campaign: Campaign, now: datetime) -> None:
    """Open pages (the dialer, the results) learn that the campaign's settings changed."""
    emit(session, FLOOR, "campaign_settings", {"campaign_id": campaign.id, "at": now.isoformat()}, now)


def _conflict(ctx: Context, session: Session, campaign_id: int | None) -> ConflictError:
    """Name who saved the campaign last, and when, from its change log."""
    row = session.execute(select(CampaignChange.at, User.display_name)
                          .outerjoin(User, User.id == CampaignChange.user_id)
                          .where(CampaignChange.campaign_id == campaign_id)
                          .order_by(CampaignChange.id.desc()).limit(1)).first()
    if row is None:
        campaign = session.get(Campaign, campaign_id)
        at, who = (campaign.updated_at if campaign else ctx.now()), None
    else:
        at, who = row
    local = at.astimezone(ZoneInfo(ctx.settings.timezone))
    when = {"date": local.strftime("%d/%m/%Y"), "time": local.strftime("%H:%M")}
    if who:
        return ConflictError(
            N_("Cette campagne a été modifiée par %(who)s le %(date)s à %(time)s pendant que vous la modifiiez : rien "
               "n'a été enregistré. Vérifiez la version actuelle, puis enregistrez à nouveau si besoin."),
            "version", who=who, **when)
    return ConflictError(
        N_("Cette campagne a été modifiée par un autre utilisateur le %(date)s à %(time)s pendant que vous la "
           "modifiiez : rien n'a été enregistré. Vérifiez la version actuelle, puis enregistrez à nouveau si besoin."),
        "version", **when)


__all__ = ["CampaignView", "CampaignSummary", "ChangeView", "FormChoices", "Saved", "SelectionCount", "StateCounts",
           "TargetPage", "TargetRow", "act", "add_targets_from_selection", "changes", "create", "create_disposition",
           "data_from_form", "form_choices", "form_values", "get", "list_campaigns", "list_dispositions",
           "preview_selection", "remove_target", "require_manager", "sample_seed", "save", "selection_from_form",
           "set_assignments", "set_dispositions", "state_counts", "target_page", "update"]
