"""Contact fields and their rules: what a valid record of the customer file is.

``clean_contact`` takes raw strings (a form, a CSV row, JSON) and returns
typed, normalised values or a ValidationError naming every bad field, so the
edit form, the import and the API refuse the same things with the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from . import phones
from .errors import N_, DomainError, ValidationError
from .text import fold

KINDS = {"person": N_("Personne"), "company": N_("Entreprise")}
STATUSES = {"client": N_("Client"), "prospect": N_("Prospect")}
TEMPERATURES = {"cold": N_("Froid"), "warm": N_("Tiède"), "hot": N_("Chaud")}
CIVILITIES = {"M.": N_("Monsieur"), "Mme": N_("Madame")}
PHONE_LABELS = {"mobile": N_("Mobile"), "home": N_("Domicile"), "work": N_("Travail"), "other": N_("Autre")}
#: INSEE PCS 2020 top-level groups, the usual "CSP" of French files
SOCIO_PROFESSIONAL = {
    "agriculteur": N_("Agriculteurs exploitants"),
    "artisan_commercant": N_("Artisans, commerçants, chefs d'entreprise"),
    "cadre": N_("Cadres et professions intellectuelles supérieures"),
    "intermediaire": N_("Professions intermédiaires"),
    "employe": N_("Employés"),
    "ouvrier": N_("Ouvriers"),
    "retraite": N_("Retraités"),
    "sans_activite": N_("Sans activité professionnelle"),
}
COUNTRIES = {"FR": N_("France"), "MA": N_("Maroc"), "DZ": N_("Algérie"), "BE": N_("Belgique"), "CH": N_("Suisse"),
             "TN": N_("Tunisie")}
#: postcode shapes per country; others are accepted as typed (letters, digits, spaces)
POSTCODES = {"FR": r"\d{5}", "MA": r"\d{5}", "DZ": r"\d{5}", "BE": r"\d{4}", "CH": r"\d{4}", "TN": r"\d{4}"}

#: fields a person edits, in form order (phones handled apart)
EDITABLE = (
    "kind", "civility", "first_name", "last_name", "company_name", "company_id", "customer_number", "status",
    "email", "address_line", "postcode", "city", "country", "birth_date", "socio_professional_category",
    "segment", "prospect_temperature", "tags", "consent_call", "consent_email", "opposition",
)

FIELD_LABELS = {
    "kind": N_("Type"), "civility": N_("Civilité"), "first_name": N_("Prénom"), "last_name": N_("Nom"),
    "company_name": N_("Raison sociale"), "company_id": N_("Entreprise"), "customer_number": N_("N° client"),
    "status": N_("Statut"), "email": N_("E-mail"), "address_line": N_("Adresse"), "postcode": N_("Code postal"),
    "city": N_("Ville"), "country": N_("Pays"), "birth_date": N_("Date de naissance"),
    "socio_professional_category": N_("Catégorie socio-professionnelle"), "segment": N_("Segment"),
    "prospect_temperature": N_("Température prospect"), "tags": N_("Étiquettes"),
    "consent_call": N_("Accepte d'être appelé"), "consent_email": N_("Accepte les e-mails"),
    "opposition": N_("Opposition (ne pas démarcher)"), "phones": N_("Téléphones"),
    "qualification": N_("Qualification"),
}

_TRUE = {"1", "true", "vrai", "oui", "yes", "on", "o", "y", "x"}
_FALSE = {"", "0", "false", "faux", "non", "no", "off", "n"}


@dataclass
class PhoneInput:
    number: str
    label: str = "mobile"


@dataclass
class CleanContact:
    values: dict
    phones: list[tuple[str, str]] = field(default_factory=list)  # (e164, label)

    @property
    def search_name(self) -> str:
        v = self.values
        return fold(" ".join(filter(None, [v.get("last_name"), v.get("first_name"), v.get("company_name")])))


def _text(value, limit: int) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:limit] if text else None


def _bool(name: str, value, errors: dict) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    errors[name] = DomainError(N_("« %(value)s » n'est pas oui ou non."), name, value=value)
    return False


_LABEL_INDEXES: dict[int, dict[str, str]] = {}


def _by_label(choices: dict) -> dict[str, str]:
    """Folded label → code, built once per (constant) choice table."""
    index = _LABEL_INDEXES.get(id(choices))
    if index is None:
        index = _LABEL_INDEXES[id(choices)] = {fold(label): code for code, label in choices.items()}
    return index


def _choice(name: str, value, choices: dict, errors: dict, default=None):
    text = _text(value, 64)
    if text is None:
        return default
    if text in choices:
        return text
    # accept the French label too ("Chaud", "Client"), as typed in files
    code = _by_label(choices).get(fold(text))
    if code is not None:
        return code
    errors[name] = DomainError(N_("« %(value)s » n'est pas une valeur permise pour ce champ."), name, value=text)
    return default


def parse_date(name: str, value, errors: dict) -> date | None:
    if isinstance(value, date):
        return value
    text = _text(value, 20)
    if not text:
        return None
    for pattern in (r"(\d{4})-(\d{2})-(\d{2})", r"(\d{2})/(\d{2})/(\d{4})"):
        match = re.fullmatch(pattern, text)
        if match:
            parts = [int(p) for p in match.groups()]
            year, month, day = parts if pattern.startswith(r"(\d{4})") else (parts[2], parts[1], parts[0])
            try:
                return date(year, month, day)
            except ValueError:
                break
    errors[name] = DomainError(N_("« %(value)s » n'est pas une date (JJ/MM/AAAA)."), name, value=text)
    return None


#: the everyday shape of an address: ASCII dot-atom local part, host names of
#: letters, digits and inner hyphens (never "--" in 3rd-4th place, which IDNA
#: reserves), an alphabetic top-level domain
_PLAIN_EMAIL = re.compile(
    r"(?=[^@]{1,64}@)[a-z0-9_%+\-]+(?:\.[a-z0-9_%+\-]+)*"
    r"@(?:(?![a-z0-9\-]{2}--)[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", re.IGNORECASE)


def clean_email(value, errors: dict) -> str | None:
    """A valid address, lower-cased; ``email_validator`` judges the unusual ones.

    Most addresses have the plain shape that ``_PLAIN_EMAIL`` recognises in a
    few microseconds, and that ``email_validator`` always accepts unless the
    domain is a special-use one (``.local``, ``.test``…); the CSV import of a
    big file spends its time here otherwise. Anything else goes to the library.
    """
    text = _text(value, 254)
    if not text:
        return None
    if _PLAIN_EMAIL.fullmatch(text):
        domain = text.rsplit("@", 1)[1].lower()
        if not any(domain == name or domain.endswith("." + name) for name in SPECIAL_USE_DOMAIN_NAMES):
            return text.lower()
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        errors["email"] = DomainError(N_("« %(value)s » n'est pas une adresse e-mail valide."), "email", value=text)
        return None


def clean_postcode(value, country: str, errors: dict) -> str | None:
    text = _text(value, 16)
    if not text:
        return None
    pattern = POSTCODES.get(country, r"[A-Za-z0-9 \-]{2,10}")
    if not re.fullmatch(pattern, text):
        errors["postcode"] = DomainError(N_("« %(value)s » n'est pas un code postal valide pour ce pays (%(country)s)."),
                                         "postcode", value=text, country=country)
        return None
    return text.upper()


def clean_phones(raw: list[PhoneInput], region: str, errors: dict) -> list[tuple[str, str]]:
    result: list[tuple[str, str]] = []
    for index, item in enumerate(raw):
        if not (item.number or "").strip():
            continue
        try:
            e164 = phones.parse(item.number, region)
        except ValidationError as exc:
            err = exc.errors["phone"]
            errors[f"phone_{index}"] = DomainError(err.message, f"phone_{index}", **err.params)
            continue
        label = item.label if item.label in PHONE_LABELS else "other"
        if e164 not in [p for p, _ in result]:
            result.append((e164, label))
    return result


def clean_contact(data: dict, phone_inputs: list[PhoneInput] | None = None) -> CleanContact:
    """Validate raw values; raise ValidationError listing every bad field."""
    errors: dict[str, DomainError] = {}
    v: dict = {}
    v["kind"] = _choice("kind", data.get("kind"), KINDS, errors, "person")
    v["country"] = (_choice("country", (data.get("country") or "FR").upper(), COUNTRIES, errors, "FR")
                    if len(str(data.get("country") or "FR").strip()) == 2 else
                    _choice("country", data.get("country"), COUNTRIES, errors, "FR"))
    v["civility"] = _choice("civility", data.get("civility"), CIVILITIES, errors)
    for name, limit in (("first_name", 100), ("last_name", 100), ("company_name", 200), ("address_line", 200),
                        ("city", 100), ("segment", 64), ("customer_number", 32)):
        v[name] = _text(data.get(name), limit)
    if v["kind"] == "person" and not v["last_name"]:
        errors["last_name"] = DomainError(N_("Le nom est obligatoire."), "last_name")
    if v["kind"] == "company" and not v["company_name"]:
        errors["company_name"] = DomainError(N_("La raison sociale est obligatoire pour une entreprise."), "company_name")
    v["status"] = _choice("status", data.get("status"), STATUSES, errors, "prospect")
    v["prospect_temperature"] = _choice("prospect_temperature", data.get("prospect_temperature"), TEMPERATURES, errors)
    v["socio_professional_category"] = _choice("socio_professional_category", data.get("socio_professional_category"),
                                               SOCIO_PROFESSIONAL, errors)
    v["email"] = clean_email(data.get("email"), errors)
    v["postcode"] = clean_postcode(data.get("postcode"), v["country"] or "FR", errors)
    v["birth_date"] = parse_date("birth_date", data.get("birth_date"), errors)
    if v["birth_date"] and not date(1900, 1, 1) <= v["birth_date"] <= date.today():
        errors["birth_date"] = DomainError(N_("La date de naissance doit être passée et postérieure à 1900."), "birth_date")
    tags = data.get("tags") or []
    if isinstance(tags, str):
        tags = [t for t in re.split(r"[,;|]", tags)]
    v["tags"] = sorted({t.strip()[:40] for t in tags if t and t.strip()})
    for name in ("consent_call", "consent_email", "opposition"):
        v[name] = _bool(name, data.get(name), errors)
    company_id = data.get("company_id")
    if company_id not in (None, ""):
        try:
            v["company_id"] = int(company_id)
        except (TypeError, ValueError):
            errors["company_id"] = DomainError(N_("Entreprise inconnue."), "company_id")
    else:
        v["company_id"] = None
    clean_phone_list = clean_phones(phone_inputs or [], v["country"] or "FR", errors)
    if errors:
        raise ValidationError(errors)
    return CleanContact(values=v, phones=clean_phone_list)


def display_name(contact) -> str:
    """"Karim Benali", "Énergie Sud SARL", or "Karim Benali (Énergie Sud SARL)"."""
    person = " ".join(filter(None, [getattr(contact, "first_name", None), getattr(contact, "last_name", None)]))
    company = getattr(contact, "company_name", None)
    if getattr(contact, "kind", "person") == "company":
        return company or person
    return person or company or ""


def formal_name(contact) -> str:
    """With civility, as an announcement says it: "Monsieur Karim Benali"."""
    civility = CIVILITIES.get(getattr(contact, "civility", None) or "", "")
    name = display_name(contact)
    return f"{civility} {name}".strip() if civility and getattr(contact, "kind", "person") == "person" else name


# --- history: what changed, as text ---------------------------------------------------------

#: the whole record, for the "created" line of the history
ALL_FIELDS = "*"
MAX_NOTE = 5000


def history_text(name: str, value) -> str | None:
    """A field's value as the history keeps it: codes, ISO dates, "true"/"false".

    The history stores language-neutral text; pages turn codes back into
    labels in the reader's language (``FIELD_LABELS``, ``STATUSES``…).
    """
    if value is None or value == "" or value == [] or value == ():
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if name == "phones":
        return "; ".join(f"{e164} {label}" for e164, label in value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def parse_phones_text(text: str | None) -> list[tuple[str, str]]:
    """The inverse of ``history_text("phones", …)``."""
    result = []
    for part in (text or "").split(";"):
        number, _, label = part.strip().partition(" ")
        if number:
            result.append((number, label or "other"))
    return result


def diff(old: dict, new: dict) -> list[tuple[str, str | None, str | None]]:
    """(field, old text, new text) for every editable field whose value changed.

    Compared through ``history_text`` so that "" and None, or a tag list in
    another order, are not reported as changes.
    """
    changes = []
    for name in EDITABLE:
        before = history_text(name, _comparable(old.get(name)))
        after = history_text(name, _comparable(new.get(name)))
        if before != after:
            changes.append((name, before, after))
    return changes


def phones_changed(old: list[tuple[str, str]], new: list[tuple[str, str]]) -> bool:
    """Phones compare as a set of (number, label): a new order is not a change."""
    return {tuple(p) for p in old} != {tuple(p) for p in new}


def _comparable(value):
    if isinstance(value, (list, tuple)) and not (value and isinstance(value[0], (list, tuple))):
        return sorted(value)
    return value


def clean_note(body) -> str:
    """A note's text, trimmed; refused when empty or too long."""
    text = str(body or "").strip()
    if not text:
        raise ValidationError({"body": DomainError(N_("La note est vide : écrivez quelque chose avant d'enregistrer."),
                                                   "body")})
    if len(text) > MAX_NOTE:
        raise ValidationError({"body": DomainError(N_("La note dépasse %(max)s caractères."), "body", max=MAX_NOTE)})
    return text
