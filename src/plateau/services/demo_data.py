"""The demo company's reference data: read ``data/demo/*.yaml`` and check it.

The files are meant to be edited by hand (a trainer adapts the company to a
course), so every mistake is reported with the file, the place in it and the
rule broken, before anything is written to the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from ..config import DATA_DIR
from ..domain import phones
from ..domain.contacts import CleanContact, PhoneInput, clean_contact
from ..domain.errors import DomainError
from ..domain.errors import ValidationError as DomainValidationError

DEMO_DIR = DATA_DIR / "demo"

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
        from ..domain.queue_hours import validate_hours
        from .floor_admin import delay_problems, holiday_country_known

        try:
            validate_hours({day: [list(span) for span in spans] for day, spans in self.hours.items()})
        except DomainError as exc:
            raise ValueError(f"hours : {_render(exc)}") from None
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

    def script_path(self, queue_code: str) -> Path:
        return self.directory / "scripts" / f"{queue_code}.yaml"

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
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
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
