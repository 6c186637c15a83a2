"""The demo company's reference data: read ``data/demo/*.yaml`` and check it.

The files are meant to be edited by hand (a trainer adapts the company to a
course), so every mistake is reported with the file, the place in it and the
rule broken, before anything is written to the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from ..config import DATA_DIR
from ..domain import phones
from ..domain.campaigns import CampaignStatus, CampaignType, DialMode, Outcome
from ..domain.contacts import CleanContact, PhoneInput, clean_contact
from ..domain.errors import DomainError
from ..domain.errors import ValidationError as DomainValidationError

DEMO_DIR = DATA_DIR / "demo"
#: libyaml's safe loader when PyYAML has it: ten times faster on these files, same result
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Share = Annotated[float, Field(ge=0, le=1)]


class DemoDataError(Exception):
    """A demo file is missing or wrong; the message says where and why."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- company.yaml -----------------------------------------------------------------


class CompanySpec(_Model):
    name: Text
    legal_name: Text
    description: Text
    customer_number_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,4}$")]
    customer_number_digits: Annotated[int, Field(ge=4, le=12)]


Level = Annotated[int, Field(ge=1, le=5)]


class UserSpec(_Model):
    username: Annotated[str, StringConstraints(pattern=r"^[a-z0-9._-]+$")]
    password: Annotated[str, StringConstraints(min_length=8)]
    display_name: Text
    role: Literal["agent", "supervisor", "admin"]
    #: a code of ``teams``
    team: Code | None = None
    #: skill code (queues.yaml ``skills``) → level 1–5
    skills: dict[Code, Level] = {}


class TeamSpec(_Model):
    code: Code
    name: Text


class PhoneSpec(_Model):
    number: Text
    label: Literal["mobile", "home", "work", "other"] = "mobile"


class FeaturedContact(_Model):
    """A hand-written contact; its fields go through ``clean_contact`` like a form's."""

    model_config = ConfigDict(extra="allow", frozen=True)
    phones: list[PhoneSpec] = []

    def cleaned(self) -> CleanContact:
        data = {k: v for k, v in (self.model_extra or {}).items()}
        return clean_contact(data, [PhoneInput(p.number, p.label) for p in self.phones])


class CompanyFile(_Model):
    company: CompanySpec
    teams: list[TeamSpec] = []
    users: list[UserSpec]
    featured_contacts: list[FeaturedContact] = []
    reserved_numbers: list[Text] = []

    @model_validator(mode="after")
    def _checks(self):
        names = [u.username for u in self.users]
        _unique(names, "users", "username")
        _unique([t.code for t in self.teams], "teams", "code")
        teams = {t.code for t in self.teams}
        for index, user in enumerate(self.users):
            if user.team is not None and user.team not in teams:
                raise ValueError(f"users.{index} ({user.username}) : équipe inconnue « {user.team} » (absente de teams)")
        for role in ("admin", "supervisor", "agent"):
            if role not in {u.role for u in self.users}:
                raise ValueError(f"users: il faut au moins un utilisateur de rôle « {role} »")
        return self


# --- queues.yaml -------------------------------------------------------------------


class DispositionSpec(_Model):
    code: Code
    label: Text
    requires_callback: bool = False
    is_contact: bool = True


Delay = Annotated[int, Field(gt=0, le=86_400)]


class SkillSpec(_Model):
    code: Code
    label: Text
    kind: Literal["language", "product", "activity"] = "activity"


class QueueSpec(_Model):
    code: Code
    name: Text
    description: str = ""
    ring_timeout_s: Annotated[int, Field(ge=5, le=300)] = 20
    dispositions: Annotated[list[Code], Field(min_length=1)]
    # routing rules (services.floor_admin checks the same things in the queue form)
    priority: Annotated[int, Field(ge=0, le=100)] = 0
    strategy: Literal["longest_idle", "most_skilled", "round_robin"] = "longest_idle"
    #: skill code → minimum level
    skills: dict[Code, Level] = {}
    hours: dict[str, list[tuple[str, str]]] = {}
    holiday_country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    closed_message: str = ""
    overflow_after_s: Delay | None = None
    overflow_queue: Code | None = None
    overflow_team: Code | None = None
    max_wait_s: Delay | None = None
    callback_after_s: Delay | None = None
    sl_threshold_s: Delay = 20
    sl_target: Annotated[float, Field(gt=0, le=1)] = 0.8

    @model_validator(mode="after")
    def _routing(self):
        from .floor_admin import delay_problems, holiday_country_known

        problem = _hours_problem(self.hours)
        if problem:
            raise ValueError(problem)
        if self.holiday_country and not holiday_country_known(self.holiday_country):
            raise ValueError(f"holiday_country : pays inconnu du paquet holidays « {self.holiday_country} »")
        if self.overflow_queue and self.overflow_team:
            raise ValueError("overflow_queue et overflow_team : l'un ou l'autre, pas les deux")
        if (self.overflow_queue or self.overflow_team) and self.overflow_after_s is None:
            raise ValueError("overflow_after_s : obligatoire avec overflow_queue ou overflow_team")
        if self.overflow_after_s is not None and not (self.overflow_queue or self.overflow_team):
            raise ValueError("overflow_after_s : indiquez overflow_queue ou overflow_team")
        if self.overflow_queue == self.code:
            raise ValueError("overflow_queue : une file ne peut pas déborder vers elle-même")
        for name, error in delay_problems(self.callback_after_s, self.overflow_after_s, self.max_wait_s).items():
            raise ValueError(f"{name} : {_render(error)}")
        return self


class QueuesFile(_Model):
    dispositions: list[DispositionSpec]
    skills: list[SkillSpec] = []
    queues: Annotated[list[QueueSpec], Field(min_length=1)]

    @model_validator(mode="after")
    def _checks(self):
        _unique([d.code for d in self.dispositions], "dispositions", "code")
        _unique([s.code for s in self.skills], "skills", "code")
        _unique([q.code for q in self.queues], "queues", "code")
        known = {d.code for d in self.dispositions}
        skills = {s.code for s in self.skills}
        codes = {q.code for q in self.queues}
        for index, queue in enumerate(self.queues):
            _unique(queue.dispositions, f"queues.{index}.dispositions", "code")
            for code in queue.dispositions:
                if code not in known:
                    raise ValueError(f"queues.{index} ({queue.code}) : qualification inconnue « {code} » "
                                     f"(absente de la liste dispositions)")
            for code in queue.skills:
                if code not in skills:
                    raise ValueError(f"queues.{index} ({queue.code}) : compétence inconnue « {code} » "
                                     f"(absente de la liste skills)")
            if queue.overflow_queue and queue.overflow_queue not in codes:
                raise ValueError(f"queues.{index} ({queue.code}) : file de débordement inconnue « {queue.overflow_queue} »")
        return self


# --- products.yaml, knowledge.yaml -------------------------------------------------


class ProductSpec(_Model):
    code: Code
    name: Text
    category: Text
    price_label: Text
    summary: Text
    sheet: Text


class ProductsFile(_Model):
    products: list[ProductSpec]

    @model_validator(mode="after")
    def _checks(self):
        _unique([p.code for p in self.products], "products", "code")
        return self


class ArticleSpec(_Model):
    slug: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=120)]
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    category: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    body: Text


class KnowledgeFile(_Model):
    articles: list[ArticleSpec]

    @model_validator(mode="after")
    def _checks(self):
        _unique([a.slug for a in self.articles], "articles", "slug")
        return self


# --- names.yaml, places.yaml, contacts.yaml ----------------------------------------


class GenderedNames(_Model):
    male: Annotated[list[Text], Field(min_length=1)]
    female: Annotated[list[Text], Field(min_length=1)]


class NamesFile(_Model):
    maghrebi_first_names: GenderedNames
    maghrebi_last_names: Annotated[list[Text], Field(min_length=1)]
    company_activities: Annotated[list[Text], Field(min_length=1)]
    company_legal_forms: dict[Literal["FR", "MA", "DZ"], Annotated[list[Text], Field(min_length=1)]]


class CitySpec(_Model):
    name: Text
    postcode: Text
    weight: Annotated[int, Field(ge=1)] = 1
    #: how local landlines begin, national format without the trunk 0
    area: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,3}$")] | None = None


class CountryPlaces(_Model):
    cities: Annotated[list[CitySpec], Field(min_length=1)]
    #: street names; France's come from Faker when absent
    streets: list[Text] = []


class PlacesFile(_Model):
    countries: dict[Literal["FR", "MA", "DZ"], CountryPlaces]

    @model_validator(mode="after")
    def _checks(self):
        from ..domain.contacts import POSTCODES

        for country, places in self.countries.items():
            for city in places.cities:
                if not re.fullmatch(POSTCODES[country], city.postcode):
                    raise ValueError(f"countries.{country} : code postal « {city.postcode} » de {city.name} "
                                     f"invalide pour ce pays")
                if city.area and not _area_is_valid(country, city.area):
                    raise ValueError(f"countries.{country} : indicatif « {city.area} » de {city.name} : "
                                     f"aucun numéro fixe valide ne commence ainsi")
            if country != "FR" and not places.streets:
                raise ValueError(f"countries.{country} : la liste streets est obligatoire hors de France")
        return self


class CountryShape(_Model):
    share: Share
    maghrebi_names: Share


class MissingShares(_Model):
    email: Share
    address: Share
    phone: Share
    birth_date: Share
    civility: Share
    socio_professional_category: Share


class ContactsShape(_Model):
    countries: dict[Literal["FR", "MA", "DZ"], CountryShape]
    foreign_mobile_in_france: Share
    companies: Share
    employees: Share
    clients: Share
    duplicate_person: Share
    shared_phone: Share
    opposition: Share
    consent_call: Share
    consent_email: Share
    missing: MissingShares
    second_phone: Share
    landline_first: Share
    email_domains: Annotated[list[Text], Field(min_length=1)]
    segments: dict[Text, Share]
    company_segments: dict[Text, Share]
    temperatures: dict[Literal["cold", "warm", "hot"], Share]
    tags: dict[Text, Share]

    @model_validator(mode="after")
    def _checks(self):
        total = sum(c.share for c in self.countries.values())
        if abs(total - 1) > 1e-6:
            raise ValueError(f"countries : la somme des parts doit faire 1 (elle fait {total:g})")
        for name in ("segments", "company_segments", "temperatures"):
            if not getattr(self, name) or sum(getattr(self, name).values()) <= 0:
                raise ValueError(f"{name} : au moins une valeur de part non nulle")
        return self


# --- history.yaml --------------------------------------------------------------------


class HistoryCall(_Model):
    queue: Code
    disposition: Code
    lines: Annotated[list[tuple[Literal["agent", "caller"], Text]], Field(min_length=1)]
    note: str = ""
    change: Literal["address_line", "email"] | None = None
    callback: bool = False


class HistoryFile(_Model):
    calls: Annotated[list[HistoryCall], Field(min_length=1)]


# --- campaigns.yaml ------------------------------------------------------------------

#: what a campaign of this kind is for: its qualification list must offer it
KIND_OUTCOME = {CampaignType.SURVEY: Outcome.SURVEY_DONE, CampaignType.APPOINTMENT: Outcome.APPOINTMENT,
                CampaignType.SALE: Outcome.SALE, CampaignType.DEBT_COLLECTION: Outcome.PROMISE_TO_PAY}
#: objectives that count contacts: a list of N contacts cannot reach more than N
CONTACT_OBJECTIVES = ("reached", "argued", "appointments", "sales", "surveys", "promises")
#: calling rules that refuse a whole campaign, whoever it calls (rule kind → the campaign's field at fault)
CAMPAIGN_RULE_KINDS = {"presented_number": "presented_number", "automated_number": "presented_number",
                       "banned_sector": "sector"}

Hours = dict[str, list[tuple[str, str]]]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Count = Annotated[int, Field(ge=0, le=100_000)]


def _hours_problem(hours: Hours) -> str | None:
    from ..domain.queue_hours import validate_hours

    try:
        validate_hours({day: [list(span) for span in spans] for day, spans in hours.items()})
    except DomainError as exc:
        return f"hours : {_render(exc)}"
    return None


class CampaignDispositionSpec(DispositionSpec):
    """A qualification of outbound calls: ``outcome`` is what it means for the campaign."""

    outcome: str

    @model_validator(mode="after")
    def _outcome(self):
        from ..domain.campaign_settings import AGENT_OUTCOMES

        allowed = [o.value for o in AGENT_OUTCOMES]
        if self.outcome not in allowed:
            raise ValueError(f"outcome : « {self.outcome} » inconnu ; permis : {', '.join(allowed)}")
        if self.outcome == Outcome.CALLBACK and not self.requires_callback:
            raise ValueError("requires_callback : doit valoir true avec outcome « callback »")
        if self.is_contact != (self.outcome != Outcome.WRONG_NUMBER):
            raise ValueError("is_contact : false avec outcome « wrong_number » (personne n'a été joint), "
                             "true avec les autres")
        return self


class AdvisorSpec(_Model):
    """Someone appointments are booked with, and their weekly calendar."""

    name: Name
    #: optional: a login of company.yaml when the advisor also uses Plateau
    username: str | None = None
    location: Annotated[str, StringConstraints(max_length=200)] = ""
    slot_minutes: Annotated[int, Field(ge=5, le=240)] = 30
    timezone: str = "Europe/Paris"
    hours: Hours

    @model_validator(mode="after")
    def _checks(self):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if not self.hours:
            raise ValueError("hours : au moins une plage horaire (sinon aucun rendez-vous possible)")
        problem = _hours_problem(self.hours)
        if problem:
            raise ValueError(problem)
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone : fuseau horaire inconnu « {self.timezone} » "
                             f"(exemple : Europe/Paris)") from None
        return self


class TargetSpec(_Model):
    """Which generated contacts make the target list (see the comment of campaigns.yaml)."""

    kind: Literal["person", "company"]
    status: Literal["client", "prospect"] | None = None
    size: Annotated[int, Field(ge=1, le=1000)]
    every: Annotated[int, Field(ge=1, le=100)] = 1
    offset: Annotated[int, Field(ge=0, le=99)] = 0

    @model_validator(mode="after")
    def _checks(self):
        if self.offset >= self.every:
            raise ValueError(f"offset : doit être inférieur à every ({self.every})")
        return self


class AssignSpec(_Model):
    teams: list[Code] = []
    users: list[str] = []

    @model_validator(mode="after")
    def _checks(self):
        if not self.teams and not self.users:
            raise ValueError("assign : au moins une équipe (teams) ou un agent (users)")
        return self


class CampaignSpec(_Model):
    """One demo campaign. Its settings go through ``domain.campaign_settings.clean``, the checks of
    the campaign form (``settings``), so only the file's own structure is typed here."""

    code: Code
    name: Name
    kind: CampaignType
    status: CampaignStatus = CampaignStatus.DRAFT
    description: str = ""
    objectives: dict[str, int | float] = {}
    qualitative_objectives: str = ""
    #: the call script: data/demo/scripts/<script>.yaml, whose ``code`` is the same
    script: Code
    #: product codes of products.yaml
    products: list[Code] = []
    target: TargetSpec
    #: the country of the called parties: the calling-rules profile, and where the targets live
    country: Literal["FR", "MA", "DZ"] = "FR"
    starts_in_days: Annotated[int, Field(ge=-365, le=365)] = 0
    days: Annotated[int, Field(ge=1, le=366)] = 28
    hours: dict[str, list[list[str]]] = {}
    timezone: str = ""
    dial_mode: DialMode = DialMode.PREVIEW
    max_attempts: int = 4
    retry_minutes: dict[str, int] = {}
    presented_number: Text
    sector: str | None = None
    abandon_cap: float = 0.03
    drop_after_s: float = 2.0
    drop_message: str = ""
    test_sample_size: int = 5
    network_seed: int = 1
    network: dict[str, float] = {}
    #: codes of the ``dispositions`` of campaigns.yaml, in the order agents see them
    dispositions: Annotated[list[Code], Field(min_length=1)]
    assign: AssignSpec

    @model_validator(mode="after")
    def _checks(self):
        _unique(self.dispositions, "dispositions", "code")
        return self

    def settings(self, script_id: int | None, today) -> tuple[dict, dict[str, DomainError]]:
        """The campaign's stored values as the campaign form would store them, and the form's refusals."""
        from datetime import timedelta

        from ..domain import campaign_settings

        starts_on = today + timedelta(days=self.starts_in_days)
        return campaign_settings.clean({
            **campaign_settings.DEFAULTS, "name": self.name, "code": self.code, "kind": self.kind.value,
            "description": " ".join(self.description.split()), "objectives": self.objectives,
            "qualitative_objectives": " ".join(self.qualitative_objectives.split()), "script_id": script_id,
            "products": self.products, "starts_on": starts_on, "ends_on": starts_on + timedelta(days=self.days),
            "hours": self.hours, "timezone": self.timezone, "dial_mode": self.dial_mode.value,
            "max_attempts": self.max_attempts, "retry_minutes": self.retry_minutes,
            "presented_number": self.presented_number, "abandon_cap": self.abandon_cap,
            "drop_after_s": self.drop_after_s, "drop_message": " ".join(self.drop_message.split()),
            "country": self.country, "sector": self.sector, "test_sample_size": self.test_sample_size,
            "network_seed": self.network_seed, "network": self.network})


class OppositionListSpec(_Model):
    """The company's own opposition list ("liste repoussoir"), from the contacts' opposition flag."""

    code: Code
    name: Name
    reason: Annotated[str, StringConstraints(max_length=200)] = ""
    #: the first contacts (by id) whose record has the flag; their numbers go on the list
    max_contacts: Count = 200


class ConsentsSpec(_Model):
    """Proof of prior consent to prospecting calls for contacts whose record says they agreed."""

    method: Literal["web_form", "paper", "call_recording", "email", "other"]
    #: the text the person agreed to, word for word
    text: Text
    source: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    max_contacts: Count = 200
    #: consent dates are spread between these many days before the seed
    oldest_days: Annotated[int, Field(ge=1, le=3650)] = 700
    newest_days: Annotated[int, Field(ge=0, le=3650)] = 10

    @model_validator(mode="after")
    def _checks(self):
        if self.newest_days >= self.oldest_days:
            raise ValueError("newest_days : doit être inférieur à oldest_days")
        return self


class CampaignsFile(_Model):
    dispositions: list[CampaignDispositionSpec] = []
    advisors: list[AdvisorSpec] = []
    opposition_list: OppositionListSpec | None = None
    consents: ConsentsSpec | None = None
    campaigns: list[CampaignSpec] = []

    @model_validator(mode="after")
    def _checks(self):
        _unique([d.code for d in self.dispositions], "dispositions", "code")
        _unique([a.name for a in self.advisors], "advisors", "name")
        _unique([c.code for c in self.campaigns], "campaigns", "code")
        return self


# --- everything together -------------------------------------------------------------


@dataclass(frozen=True)
class DemoData:
    directory: Path
    company: CompanyFile
    queues: QueuesFile
    products: ProductsFile
    knowledge: KnowledgeFile
    names: NamesFile
    places: PlacesFile
    shape: ContactsShape
    history: HistoryFile
    campaigns: CampaignsFile

    def script_path(self, code: str) -> Path:
        """A call script of the demo: a queue's (named by the queue's code) or a campaign's."""
        return self.directory / "scripts" / f"{code}.yaml"

    @cached_property
    def reserved_e164(self) -> frozenset[str]:
        """Every valid reading of the reserved numbers in France, Morocco, Algeria."""
        found: set[str] = set()
        for raw in self.company.reserved_numbers:
            found.update(phones.candidates(raw, ("FR", "MA", "DZ")))
        return frozenset(found)


FILES = {
    "company": ("company.yaml", CompanyFile),
    "queues": ("queues.yaml", QueuesFile),
    "products": ("products.yaml", ProductsFile),
    "knowledge": ("knowledge.yaml", KnowledgeFile),
    "names": ("names.yaml", NamesFile),
    "places": ("places.yaml", PlacesFile),
    "shape": ("contacts.yaml", ContactsShape),
    "history": ("history.yaml", HistoryFile),
    "campaigns": ("campaigns.yaml", CampaignsFile),
}


def load_demo(directory: Path | None = None) -> DemoData:
    """Read and validate every demo file; DemoDataError names the first problem."""
    directory = Path(directory or DEMO_DIR)
    parts = {key: load_file(directory / name, model) for key, (name, model) in FILES.items()}
    data = DemoData(directory=directory, **parts)
    _cross_checks(data)
    return data


def load_file(path: Path, model: type[BaseModel]):
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except FileNotFoundError:
        raise DemoDataError(f"{path} : fichier introuvable") from None
    except yaml.YAMLError as exc:
        raise DemoDataError(f"{path} : YAML invalide : {exc}") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(racine)'} : {err['msg']}"
                             for err in exc.errors())
        raise DemoDataError(f"{path} : {problems}") from None


def _cross_checks(data: DemoData) -> None:
    where = data.directory
    for index, featured in enumerate(data.company.featured_contacts):
        try:
            featured.cleaned()
        except DomainValidationError as exc:
            reasons = "; ".join(f"{name} : {_render(err)}" for name, err in exc.errors.items())
            raise DemoDataError(f"{where / 'company.yaml'} : featured_contacts.{index} : {reasons}") from None
    for raw in data.company.reserved_numbers:
        if not phones.candidates(raw, ("FR", "MA", "DZ")):
            raise DemoDataError(f"{where / 'company.yaml'} : reserved_numbers : « {raw} » n'est valide dans aucun pays")
    _floor_checks(data)
    queues = {q.code: set(q.dispositions) for q in data.queues.queues}
    for index, call in enumerate(data.history.calls):
        if call.queue not in queues:
            raise DemoDataError(f"{where / 'history.yaml'} : calls.{index} : file inconnue « {call.queue} »")
        if call.disposition not in queues[call.queue]:
            raise DemoDataError(f"{where / 'history.yaml'} : calls.{index} : la qualification « {call.disposition} » "
                                f"n'est pas dans la liste de la file {call.queue}")
    countries = set(data.shape.countries)
    if not countries <= set(data.places.countries):
        missing = ", ".join(sorted(countries - set(data.places.countries)))
        raise DemoDataError(f"{where / 'places.yaml'} : pays sans villes : {missing}")
    if not countries <= set(data.names.company_legal_forms):
        missing = ", ".join(sorted(countries - set(data.names.company_legal_forms)))
        raise DemoDataError(f"{where / 'names.yaml'} : company_legal_forms : pays sans formes juridiques : {missing}")
    _script_files_exist(data)
    _campaign_checks(data)


def _script_files_exist(data: DemoData) -> None:
    """Every queue has its call script file (checked before any write; the campaigns' in ``_campaign_checks``)."""
    missing = [str(data.script_path(q.code)) for q in data.queues.queues if not data.script_path(q.code).is_file()]
    if missing:
        raise DemoDataError("Script d'appel introuvable pour une file : " + ", ".join(missing))


def _campaign_checks(data: DemoData) -> None:
    """campaigns.yaml against the other files (scripts, qualifications, products, teams, logins), the
    campaign form's checks and the calling rules."""
    path = data.directory / "campaigns.yaml"
    inbound = {d.code for d in data.queues.dispositions}
    for index, spec in enumerate(data.campaigns.dispositions):
        if spec.code in inbound:
            raise DemoDataError(f"{path} : dispositions.{index} : code « {spec.code} » déjà pris par une qualification "
                                f"des appels entrants (queues.yaml)")
    users = {u.username: u for u in data.company.users}
    for index, spec in enumerate(data.campaigns.advisors):
        if spec.username is not None and spec.username not in users:
            raise DemoDataError(f"{path} : advisors.{index} ({spec.name}) : username : identifiant inconnu "
                                f"« {spec.username} » (absent de company.yaml)")
    products = {p.code for p in data.products.products}
    teams = {t.code for t in data.company.teams}
    outcomes = {d.code: d.outcome for d in data.campaigns.dispositions}
    for index, spec in enumerate(data.campaigns.campaigns):
        where = f"{path} : campaigns.{index} ({spec.code})"
        for code in spec.dispositions:
            if code not in outcomes:
                raise DemoDataError(f"{where} : dispositions : qualification inconnue « {code} » (absente de la liste "
                                    f"dispositions de ce fichier)")
        wanted = KIND_OUTCOME.get(spec.kind)
        if wanted and wanted not in {outcomes[code] for code in spec.dispositions}:
            raise DemoDataError(f"{where} : dispositions : une campagne « {spec.kind.value} » doit offrir une "
                                f"qualification de résultat « {wanted.value} »")
        _check_campaign_script(data, spec, where)
        values, refused = spec.settings(script_id=None, today=date.today())
        if refused:
            raise DemoDataError(f"{where} : " + " ; ".join(f"{name} : {_render(error)}"
                                                          for name, error in refused.items()))
        for code in spec.products:
            if code not in products:
                raise DemoDataError(f"{where} : products : produit inconnu « {code} » (absent de products.yaml)")
        for code in spec.assign.teams:
            if code not in teams:
                raise DemoDataError(f"{where} : assign.teams : équipe inconnue « {code} » (absente de company.yaml)")
        for name in spec.assign.users:
            if name not in users:
                raise DemoDataError(f"{where} : assign.users : identifiant inconnu « {name} » (absent de company.yaml)")
            if users[name].role != "agent":
                raise DemoDataError(f"{where} : assign.users : « {name} » n'est pas un agent (rôle {users[name].role})")
        problem = (_readiness_problem(spec, values) or _size_problem(spec, values)
                   or _drop_message_problem(values, data.company.company.name) or _calling_rules_problem(spec, values))
        if problem:
            raise DemoDataError(f"{where} : {problem}")


def _readiness_problem(spec: CampaignSpec, values: dict) -> str | None:
    """What the campaigns service asks before a campaign may dial: a demo campaign, even a draft, is ready."""
    from ..domain.campaign_settings import Readiness, not_ready

    missing = not_ready(Readiness(has_script=True, dispositions=len(spec.dispositions), contacts=spec.target.size,
                                  assignments=len(spec.assign.teams) + len(spec.assign.users),
                                  presented_number=values["presented_number"], dial_mode=values["dial_mode"],
                                  drop_message=values["drop_message"]))
    if not missing:
        return None
    return " ; ".join(f"{name} : {_render(error)}" for name, error in missing.items())


def _check_campaign_script(data: DemoData, spec: CampaignSpec, where: str) -> None:
    path = data.script_path(spec.script)
    if not path.is_file():
        raise DemoDataError(f"{where} : script « {spec.script} » : fichier {path} introuvable")
    try:
        script = _parse_script(path.read_text(encoding="utf-8"))
    except DomainValidationError as exc:
        problems = "; ".join(error.render() for error in exc.errors.values())
        raise DemoDataError(f"{where} : script « {spec.script} » : {path} refusé : {problems}") from None
    if script.code != spec.script:
        raise DemoDataError(f"{where} : script « {spec.script} » : le fichier {path} a le code « {script.code} » "
                            f"(le code d'un script est le nom de son fichier)")


def _size_problem(spec: CampaignSpec, values: dict) -> str | None:
    """Objectives and the test sample against the most contacts the list can hold."""
    size = spec.target.size
    if values["test_sample_size"] > size:
        return f"test_sample_size : {values['test_sample_size']} contacts tests pour une liste de {size} au plus " \
               f"(target.size)"
    for key in CONTACT_OBJECTIVES:
        if values["objectives"].get(key, 0) > size:
            return f"objectives.{key} : {values['objectives'][key]} pour une liste de {size} contacts au plus " \
                   f"(target.size)"
    if values["objectives"].get("calls", 0) > size * values["max_attempts"]:
        return f"objectives.calls : {values['objectives']['calls']} appels, plus que target.size × max_attempts " \
               f"({size * values['max_attempts']})"
    return None


def _drop_message_problem(values: dict, company: str) -> str | None:
    """What a dropped call hears is purely informational: who called, and a number to call back."""
    import phonenumbers

    message = values["drop_message"]
    if not message:
        return None
    if company not in message:
        return f"drop_message : le message doit nommer l'entreprise « {company} »"
    if not any(True for _ in phonenumbers.PhoneNumberMatcher(message, values["country"])):
        return "drop_message : le message doit donner un numéro pour rappeler"
    return None


def _calling_rules_problem(spec: CampaignSpec, values: dict) -> str | None:
    """A rule of the country's calling rules that would refuse every call of the campaign, whoever it calls.

    The campaign is put to the rules as one dial to a typical target (a
    consumer or a business, with consent): only the rules about the campaign
    itself count here (presented number, automated dialing, banned sector);
    those about the called person (hours, opposition, 4 calls in 30 days)
    are the dialer's business, call by call.
    """
    from ..domain.campaigns import PURPOSE
    from ..domain.compliance import Situation, evaluate
    from .compliance import has_profile, load_profile

    if not has_profile(values["country"]):
        return None
    profile = load_profile(values["country"])
    kinds = {rule.id: rule.kind for rule in profile.rules}
    dial = Situation(country=values["country"], at=datetime(2026, 1, 6, 10, 30, tzinfo=timezone.utc),
                     party="consumer" if spec.target.kind == "person" else "business", purpose=PURPOSE[spec.kind],
                     sector=values["sector"], consent=True, dialer=values["dial_mode"],
                     presented_number=values["presented_number"])
    for reason in evaluate(dial, profile).reasons:
        if kinds.get(reason.rule) in CAMPAIGN_RULE_KINDS:
            return (f"{CAMPAIGN_RULE_KINDS[kinds[reason.rule]]} : les règles d'appel refuseraient chaque appel de la "
                    f"campagne ({reason.rule}, {reason.reference}) : {reason.message}")
    return None


def _floor_checks(data: DemoData) -> None:
    """Agents' skills and teams against queues.yaml; every queue keeps an agent able to take its calls."""
    where = data.directory
    skills = {s.code for s in data.queues.skills}
    teams = {t.code for t in data.company.teams}
    agents = [u for u in data.company.users if u.role == "agent"]
    for index, user in enumerate(data.company.users):
        unknown = sorted(set(user.skills) - skills)
        if unknown:
            raise DemoDataError(f"{where / 'company.yaml'} : users.{index} ({user.username}) : compétence inconnue "
                                f"« {unknown[0]} » (absente de la liste skills de queues.yaml)")
    for index, queue in enumerate(data.queues.queues):
        if queue.overflow_team and queue.overflow_team not in teams:
            raise DemoDataError(f"{where / 'queues.yaml'} : queues.{index} ({queue.code}) : équipe de débordement "
                                f"inconnue « {queue.overflow_team} » (absente de teams dans company.yaml)")
        # every demo agent is a member of every queue: one of them must have its skills
        if not any(all(agent.skills.get(code, 0) >= level for code, level in queue.skills.items()) for agent in agents):
            raise DemoDataError(f"{where / 'queues.yaml'} : queues.{index} ({queue.code}) : aucun agent de company.yaml "
                                f"n'a les compétences requises {queue.skills} : la file ne serait jamais servie")


@lru_cache(maxsize=32)
def _parse_script(text: str):
    """``domain.scripts.parse_script``, once per text: every ``load_demo`` checks the campaigns' scripts."""
    from ..domain.scripts import parse_script

    return parse_script(text)


def _area_is_valid(region: str, area: str) -> bool:
    """Does some valid landline of ``region`` start with ``area``? (tries a few completions)"""
    import phonenumbers

    desc = phonenumbers.PhoneMetadata.metadata_for_region(region).fixed_line
    pattern = re.compile(desc.national_number_pattern)
    for length in desc.possible_length:
        if length > len(area) and any(pattern.fullmatch(area + str(d) * (length - len(area))) for d in range(10)):
            return True
    return False


def _render(error: DomainError) -> str:
    return error.render(lambda s: s)


def _unique(values: list[str], where: str, key: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{where} : {key} « {value} » en double")
        seen.add(value)
