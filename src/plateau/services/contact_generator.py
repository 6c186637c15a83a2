"""A realistic, reproducible customer file: the rows ``plateau seed`` inserts.

Built for volume (a million rows for the benchmarks): Faker is called only to
fill pools of French street names up front, every row is then drawn from
pools with one ``random.Random``, so a seed always gives the same file and a
row costs microseconds. Phone numbers are drawn against libphonenumber's own
numbering-plan patterns, so each one is valid by construction; the file
holds the imperfections of a real one (duplicates, shared household numbers,
missing e-mails and addresses) on purpose.
"""

from __future__ import annotations

import random
import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import accumulate

import phonenumbers
from faker import Faker
from faker.providers.person.fr_FR import Provider as FrenchNames

from ..domain.contacts import SOCIO_PROFESSIONAL
from ..domain.text import fold
from .demo_data import CitySpec, DemoData

#: (leading national digits, national length) per region and line type; the
#: metadata pattern of libphonenumber decides, these only aim the draw
_PLANS: dict[tuple[str, str], tuple[str, int]] = {
    ("FR", "mobile"): ("67", 9),
    ("FR", "fixed"): ("12345", 9),
    ("MA", "mobile"): ("67", 9),
    ("MA", "fixed"): ("5", 9),
    ("DZ", "mobile"): ("567", 9),
    ("DZ", "fixed"): ("234", 8),
}


class NumberPlan:
    """Draws valid E.164 numbers of one region and type (mobile or fixed)."""

    def __init__(self, region: str, kind: str, excluded: frozenset[str]):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        desc = metadata.mobile if kind == "mobile" else metadata.fixed_line
        self.pattern = re.compile(desc.national_number_pattern)
        self.prefix = f"+{metadata.country_code}"
        self.leads, self.length = _PLANS[(region, kind)]
        self.excluded = excluded

    def draw(self, rng: random.Random, area: str | None = None) -> str:
        """A number; ``area`` fixes its first national digits (a city's landlines)."""
        lead = area if area and len(area) < self.length else None
        rest = self.length - len(lead) if lead else self.length - 1
        span = 10 ** rest
        for _ in range(10_000):
            national = (lead or rng.choice(self.leads)) + str(rng.randrange(span)).zfill(rest)
            if self.pattern.fullmatch(national):
                number = self.prefix + national
                if number not in self.excluded:
                    return number
        raise RuntimeError(f"no valid number drawn for {self.prefix} {self.leads}")  # pragma: no cover


def _weighted(mapping: dict) -> tuple[list, list[float]]:
    keys = list(mapping)
    return keys, list(accumulate(mapping[k] for k in keys))


class ContactGenerator:
    """Yields contact rows (dicts of ``contacts`` columns) and their phones.

    ``first_customer_number`` continues the numbering of an existing file;
    ``now`` anchors creation dates and ages. Companies are produced before the
    persons of a batch so the caller can insert them and hand back their ids
    (``add_companies``) for the employees that follow.
    """

    def __init__(self, data: DemoData, seed: int | str, now: datetime, first_customer_number: int = 1):
        self.rng = rng = random.Random(seed)
        self.now = now
        self.shape = shape = data.shape
        self.prefix = data.company.company.customer_number_prefix
        self.digits = data.company.company.customer_number_digits
        self.next_number = first_customer_number
        faker = Faker("fr_FR")
        faker.seed_instance(rng.randrange(2**32))
        names = data.names
        self.first_names = {
            ("fr", "M."): list(FrenchNames.first_names_male),
            ("fr", "Mme"): list(FrenchNames.first_names_female),
            ("mg", "M."): list(names.maghrebi_first_names.male),
            ("mg", "Mme"): list(names.maghrebi_first_names.female),
        }
        self.last_names = {"fr": list(FrenchNames.last_names), "mg": list(names.maghrebi_last_names)}
        self.activities = list(names.company_activities)
        self.legal_forms = {country: list(forms) for country, forms in names.company_legal_forms.items()}
        self.streets = {country: list(places.streets) for country, places in data.places.countries.items()}
        self.streets["FR"] = sorted({faker.street_name() for _ in range(3000)})
        self.cities = {}
        for country, places in data.places.countries.items():
            self.cities[country] = (places.cities, list(accumulate(c.weight for c in places.cities)))
        self.countries, self.country_weights = _weighted({k: v.share for k, v in shape.countries.items()})
        self.segments = _weighted(shape.segments)
        self.company_segments = _weighted(shape.company_segments)
        self.temperatures = _weighted(shape.temperatures)
        self.csp = list(SOCIO_PROFESSIONAL)
        excluded = data.reserved_e164
        self.plans = {(region, kind): NumberPlan(region, kind, excluded)
                      for region in ("FR", "MA", "DZ") for kind in ("mobile", "fixed")}
        self.company_pool: list[tuple[int, str]] = []  # (id, name) of inserted companies
        self.recent: list[tuple[dict, list[tuple[str, str]]]] = []  # persons for duplicates

    # --- public -----------------------------------------------------------------------

    def companies(self, count: int) -> tuple[list[dict], list[list[tuple[str, str]]]]:
        rows, phones = [], []
        for _ in range(count):
            row, numbers = self._company()
            rows.append(row)
            phones.append(numbers)
        return rows, phones

    def add_companies(self, ids: list[int], rows: list[dict]) -> None:
        self.company_pool.extend((cid, row["company_name"]) for cid, row in zip(ids, rows))
        del self.company_pool[:-500]

    def persons(self, count: int) -> tuple[list[dict], list[list[tuple[str, str]]]]:
        rows, phones = [], []
        shape, rng = self.shape, self.rng
        for _ in range(count):
            roll = rng.random()
            if self.recent and roll < shape.duplicate_person:
                row, numbers = self._duplicate(*rng.choice(self.recent))
            elif self.recent and roll < shape.duplicate_person + shape.shared_phone:
                row, numbers = self._household(*rng.choice(self.recent))
            else:
                row, numbers = self._person()
            rows.append(row)
            phones.append(numbers)
            if len(self.recent) < 400:
                self.recent.append((row, numbers))
            else:
                self.recent[rng.randrange(400)] = (row, numbers)
        return rows, phones

    def split(self, size: int) -> tuple[int, int]:
        """How many companies and persons a batch of ``size`` rows holds."""
        companies = sum(1 for _ in range(size) if self.rng.random() < self.shape.companies)
        return companies, size - companies

    # --- rows -------------------------------------------------------------------------

    def _base(self, kind: str, country: str) -> tuple[dict, str | None]:
        """Fields common to persons and companies, and the landline area of the address."""
        rng, shape = self.rng, self.shape
        created = self.now - timedelta(seconds=rng.randrange(4 * 365 * 86400))
        updated = created + timedelta(seconds=rng.randrange(max(1, int((self.now - created).total_seconds()))))
        is_client = rng.random() < shape.clients
        opposition = rng.random() < shape.opposition
        row = {
            "kind": kind, "company_id": None, "customer_number": None,
            "status": "client" if is_client else "prospect",
            "civility": None, "first_name": None, "last_name": None, "company_name": None, "search_name": "",
            "email": None, "address_line": None, "postcode": None, "city": None, "country": country,
            "birth_date": None, "socio_professional_category": None, "segment": None,
            "prospect_temperature": None if is_client else self._pick(self.temperatures),
            "tags": self._tags() if is_client else [],
            "consent_call": (not opposition) and rng.random() < shape.consent_call,
            "consent_email": rng.random() < shape.consent_email,
            "opposition": opposition, "qualification": None, "version": 1,
            "created_at": created, "updated_at": updated,
        }
        if is_client:
            row["customer_number"] = self._customer_number()
        area = None
        if rng.random() >= shape.missing.address:
            area = self._address(row, country)
        return row, area

    def _person(self) -> tuple[dict, list[tuple[str, str]]]:
        rng, shape = self.rng, self.shape
        country = self._pick((self.countries, self.country_weights))
        origin = "mg" if rng.random() < shape.countries[country].maghrebi_names else "fr"
        civility = "M." if rng.random() < 0.5 else "Mme"
        row, area = self._base("person", country)
        row["first_name"] = rng.choice(self.first_names[(origin, civility)])
        row["last_name"] = rng.choice(self.last_names[origin])
        if rng.random() >= shape.missing.civility:
            row["civility"] = civility
        if self.company_pool and rng.random() < shape.employees:
            row["company_id"], row["company_name"] = rng.choice(self.company_pool)
        if rng.random() >= shape.missing.birth_date:
            row["birth_date"] = self._birth_date()
        if rng.random() >= shape.missing.socio_professional_category:
            row["socio_professional_category"] = rng.choice(self.csp)
        row["segment"] = self._pick(self.segments)
        if rng.random() >= shape.missing.email:
            row["email"] = self._email(row["first_name"], row["last_name"])
        row["search_name"] = search_name(row)
        return row, self._phones(country, area, person=True)

    def _company(self) -> tuple[dict, list[tuple[str, str]]]:
        rng = self.rng
        country = self._pick((self.countries, self.country_weights))
        origin = "mg" if rng.random() < self.shape.countries[country].maghrebi_names else "fr"
        row, area = self._base("company", country)
        name = (f"{rng.choice(self.activities)} {rng.choice(self.last_names[origin])} "
                f"{rng.choice(self.legal_forms[country])}")
        row["company_name"] = name
        row["segment"] = self._pick(self.company_segments)
        if rng.random() >= self.shape.missing.email:
            row["email"] = f"contact.{_slug(name)}@{rng.choice(self.shape.email_domains)}"
        row["search_name"] = search_name(row)
        return row, self._phones(country, area, person=False)

    def _duplicate(self, original: dict, numbers: list) -> tuple[dict, list[tuple[str, str]]]:
        """The same person entered again, as a prospect, often with less detail."""
        row, _ = self._base("person", original["country"])
        for key in ("civility", "first_name", "last_name", "address_line", "postcode", "city", "birth_date",
                    "socio_professional_category", "segment"):
            row[key] = original[key]
        if row["customer_number"]:
            row["status"], row["customer_number"], row["tags"] = "prospect", None, []
            row["prospect_temperature"] = self._pick(self.temperatures)
        row["email"] = original["email"] if self.rng.random() < 0.5 else None
        row["search_name"] = search_name(row)
        return row, list(numbers[:1])

    def _household(self, original: dict, numbers: list) -> tuple[dict, list[tuple[str, str]]]:
        """Another member of the household, reachable on the same number."""
        row, own = self._person()
        row["country"] = original["country"]
        for key in ("last_name", "address_line", "postcode", "city"):
            row[key] = original[key]
        row["search_name"] = search_name(row)
        shared = list(numbers[:1])
        return row, shared + [n for n in own if not shared or n[0] != shared[0][0]][:1]

    # --- fields -----------------------------------------------------------------------

    def _phones(self, country: str, area: str | None, person: bool) -> list[tuple[str, str]]:
        rng, shape = self.rng, self.shape
        if rng.random() < shape.missing.phone:
            return []
        first_fixed = rng.random() < (shape.landline_first if person else 0.7)
        region = country
        if person and country == "FR" and not first_fixed and rng.random() < shape.foreign_mobile_in_france:
            region = "MA" if rng.random() < 0.5 else "DZ"
        label = ("home" if person else "work") if first_fixed else "mobile"
        numbers = [(self.plans[(region, "fixed" if first_fixed else "mobile")].draw(rng, area if first_fixed else None),
                    label)]
        if rng.random() < shape.second_phone:
            second_fixed = not first_fixed
            number = self.plans[(country, "fixed" if second_fixed else "mobile")].draw(rng, area if second_fixed else None)
            if number != numbers[0][0]:
                numbers.append((number, ("work" if not person or rng.random() < 0.3 else "home")
                                if second_fixed else "mobile"))
        return numbers

    def _address(self, row: dict, country: str) -> str | None:
        """Fill the address; returns how the city's landlines begin."""
        rng = self.rng
        cities, weights = self.cities[country]
        city: CitySpec = rng.choices(cities, cum_weights=weights)[0]
        street = rng.choice(self.streets[country])
        number = rng.randint(1, 180)
        if country == "FR":
            suffix = " bis" if rng.random() < 0.03 else ""
            row["address_line"] = f"{number}{suffix} {street}"
        elif country == "MA":
            row["address_line"] = f"{number}, {street}"
        else:
            row["address_line"] = f"{number} {street}"
        row["postcode"], row["city"] = city.postcode, city.name
        return city.area

    def _email(self, first: str, last: str) -> str:
        rng = self.rng
        local = f"{_slug(first)}.{_slug(last)}"
        if rng.random() < 0.6:
            local += str(rng.randint(1, 999))
        return f"{local}@{rng.choice(self.shape.email_domains)}"

    def _birth_date(self) -> date:
        today = self.now.date()
        return today - timedelta(days=self.rng.randint(18 * 365 + 5, 90 * 365))

    def _tags(self) -> list[str]:
        rng = self.rng
        return sorted(tag for tag, share in self.shape.tags.items() if rng.random() < share)

    def _customer_number(self) -> str:
        number = f"{self.prefix}{self.next_number:0{self.digits}d}"
        self.next_number += 1
        return number

    def _pick(self, weighted: tuple[list, list[float]]):
        keys, cumulative = weighted
        return self.rng.choices(keys, cum_weights=cumulative)[0]


@lru_cache(maxsize=65536)
def _fold(part: str) -> str:
    return fold(part)


def search_name(row: dict) -> str:
    """What ``CleanContact.search_name`` gives: folded "last first company"."""
    return " ".join(f for f in (_fold(p) for p in (row["last_name"], row["first_name"], row["company_name"]) if p) if f)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _fold(text)).strip("-")
