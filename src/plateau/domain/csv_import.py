"""Reading a customer file in CSV: encoding, delimiter, column mapping, row verdicts.

Pure functions, no I/O: bytes in, decoded text, headers mapped to contact
fields, one verdict per row, and the CSV layout of an export (which the
import reads back as is). The rules of a contact's fields are NOT here: every
row goes through ``contacts.clean_contact``, so an imported contact is held
to exactly what the edit form and the API demand. This module only turns a
row into the inputs of ``clean_contact`` and says which rows repeat one
another or a contact already in the file.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, Iterator

from phonenumbers import PhoneNumberType

from .contacts import (FIELD_LABELS, KINDS, PHONE_LABELS, SOCIO_PROFESSIONAL, STATUSES, TEMPERATURES,
                       CleanContact, PhoneInput, clean_contact)
from .errors import N_, DomainError, ValidationError
from . import phones
from .text import fold

# --- the file as a whole ---------------------------------------------------------

ENCODINGS = {"utf-8": "UTF-8", "utf-8-sig": N_("UTF-8 (avec BOM)"), "cp1252": "Windows-1252"}
DELIMITERS = {";": N_("point-virgule (;)"), ",": N_("virgule (,)")}
#: how many rows the preview shows
PREVIEW_ROWS = 10
PHONE_SLOTS = 3


class UnusableFile(DomainError):
    """The file cannot be imported at all (encoding, layout, mapping): nothing is written."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # a key of ENCODINGS


def _line_of(data: bytes, position: int) -> int:
    return data.count(b"\n", 0, position) + 1


def decode(data: bytes, encoding: str | None = None) -> Decoded:
    """Decode a CSV file: UTF-8 (with or without BOM), else Windows-1252.

    Detection tries strict UTF-8 first: Windows-1252 text with accents is
    almost never valid UTF-8, while UTF-8 text read as Windows-1252 would
    silently give "LefÃ¨vre". Anything else (UTF-16, binary) is refused with
    what is wrong and where, rather than imported as mojibake.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnusableFile(N_("Le fichier est encodé en UTF-16 (ou UTF-32) : enregistrez-le en « CSV UTF-8 » ou en "
                              "CSV Windows-1252, puis recommencez."), "file")
    if b"\x00" in data:
        position = data.index(b"\x00")
        # text in UTF-16 without BOM: every other byte is zero
        sample = data[:200]
        if sample and sample.count(b"\x00") * 3 >= len(sample):
            raise UnusableFile(N_("Le fichier semble encodé en UTF-16 : enregistrez-le en « CSV UTF-8 » ou en CSV "
                                  "Windows-1252, puis recommencez."), "file")
        raise UnusableFile(N_("Le fichier contient un octet nul (ligne %(line)s) : ce n'est pas un fichier texte CSV."),
                           "file", line=_line_of(data, position))
    if encoding:
        encoding = normalise_encoding(encoding)
        if encoding == "utf-8" and data.startswith(b"\xef\xbb\xbf"):
            encoding = "utf-8-sig"
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise UnusableFile(N_("Le fichier n'est pas en %(encoding)s : l'octet 0x%(byte)s (ligne %(line)s) n'existe "
                                  "pas dans cet encodage."), "file", encoding=ENCODINGS[encoding],
                               byte=f"{data[exc.start]:02X}", line=_line_of(data, exc.start)) from None
    elif data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise UnusableFile(N_("Le fichier commence par la marque UTF-8 (BOM) mais n'est pas en UTF-8 : l'octet "
                                  "0x%(byte)s (ligne %(line)s) est invalide."), "file",
                               byte=f"{data[exc.start]:02X}", line=_line_of(data, exc.start)) from None
    else:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as utf8_error:
            try:
                text, encoding = data.decode("cp1252"), "cp1252"
            except UnicodeDecodeError as exc:
                raise UnusableFile(
                    N_("Le fichier n'est ni en UTF-8 (octet 0x%(utf8_byte)s invalide ligne %(utf8_line)s) ni en "
                       "Windows-1252 (octet 0x%(byte)s inconnu ligne %(line)s) : enregistrez-le en « CSV UTF-8 »."),
                    "file", utf8_byte=f"{data[utf8_error.start]:02X}", utf8_line=_line_of(data, utf8_error.start),
                    byte=f"{data[exc.start]:02X}", line=_line_of(data, exc.start)) from None
    text = text.rstrip("\x1a")  # the DOS end-of-file mark some old exports still add
    control = re.search(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]", text)
    if control:
        raise UnusableFile(N_("Le fichier contient un caractère de contrôle (U+%(code)s, ligne %(line)s) : ce n'est "
                              "pas un fichier texte CSV."), "file", code=f"{ord(control.group()):04X}",
                           line=text.count("\n", 0, control.start()) + 1)
    if not text.strip():
        raise UnusableFile(N_("Le fichier est vide."), "file")
    return Decoded(text, encoding)


def normalise_encoding(name: str) -> str:
    """"UTF8", "utf-8", "windows-1252", "cp1252", "latin1"… → a key of ENCODINGS."""
    key = re.sub(r"[^a-z0-9]", "", (name or "").lower())
    if key in ("utf8", "utf8sig"):
        return "utf-8"
    if key in ("cp1252", "windows1252", "win1252", "ansi", "latin1", "iso88591", "iso885915", "latin9"):
        return "cp1252"
    raise UnusableFile(N_("Encodage « %(value)s » non pris en charge : choisissez UTF-8 ou Windows-1252."), "encoding",
                       value=name)


def sniff_delimiter(header_line: str) -> str:
    """``;`` or ``,``: whichever the header line uses more, outside quotes.

    French spreadsheets write ``;`` (the comma is the decimal separator), so
    it wins a tie — a one-column file, say.
    """
    counts = {";": 0, ",": 0}
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    return "," if counts[","] > counts[";"] else ";"


def normalise_delimiter(value: str) -> str:
    text = (value or "").strip().lower()
    aliases = {";": ";", "semicolon": ";", "point-virgule": ";", "pointvirgule": ";", ",": ",", "comma": ",",
               "virgule": ","}
    if text in aliases:
        return aliases[text]
    raise UnusableFile(N_("Séparateur « %(value)s » non pris en charge : choisissez « ; » ou « , »."), "delimiter",
                       value=value)


@dataclass
class Table:
    """A decoded CSV file: its header and its data rows with their line numbers."""

    encoding: str
    delimiter: str
    headers: list[str]
    text: str = field(repr=False)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line in the file, cells) for every non-blank data row; the header is line 1."""
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=self.delimiter)
        try:
            next(reader, None)
            last = reader.line_num
            for cells in reader:
                line, last = last + 1, reader.line_num
                if any(cell.strip() for cell in cells):
                    yield line, cells
        except csv.Error as exc:
            raise UnusableFile(N_("Le fichier CSV est mal formé vers la ligne %(line)s : %(detail)s."), "file",
                               line=reader.line_num, detail=str(exc)) from None

    def count(self) -> int:
        return sum(1 for _ in self.rows())

    def head(self, size: int = PREVIEW_ROWS) -> list[tuple[int, list[str]]]:
        found = []
        for row in self.rows():
            found.append(row)
            if len(found) >= size:
                break
        return found


def read_table(data: bytes, encoding: str | None = None, delimiter: str | None = None) -> Table:
    """Decode, find the delimiter, read the header; raise UnusableFile if any of it fails."""
    decoded = decode(data, encoding)
    first_line = decoded.text.lstrip("\ufeff").split("\n", 1)[0]
    sep = normalise_delimiter(delimiter) if delimiter else sniff_delimiter(first_line)
    table = Table(decoded.encoding, sep, [], decoded.text)
    reader = csv.reader(io.StringIO(decoded.text, newline=""), delimiter=sep)
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise UnusableFile(N_("L'en-tête du fichier CSV est mal formé : %(detail)s."), "file", detail=str(exc)) from None
    if not any(cell.strip() for cell in header):
        raise UnusableFile(N_("La première ligne du fichier doit être l'en-tête (les noms des colonnes), or elle est "
                              "vide."), "file")
    table.headers = [cell.strip() or f"Colonne {index}" for index, cell in enumerate(header, start=1)]
    return table


# --- column mapping ----------------------------------------------------------------

#: the contact fields a column can feed, in the order the mapping selects show them
_CONTACT_FIELDS = ("customer_number", "kind", "civility", "first_name", "last_name", "company_name", "status",
                   "email", "address_line", "postcode", "city", "country", "birth_date",
                   "socio_professional_category", "segment", "prospect_temperature", "tags", "consent_call",
                   "consent_email", "opposition")
TARGETS: dict[str, str] = {name: FIELD_LABELS[name] for name in _CONTACT_FIELDS}
TARGETS["company_ref"] = N_("N° client de l'entreprise")
_PHONE_TARGET = N_("Téléphone %(slot)s")
_PHONE_LABEL_TARGET = N_("Type du téléphone %(slot)s")
_PHONE_NATIONAL = N_("Téléphone %(slot)s (format national)")
for _slot in range(1, PHONE_SLOTS + 1):
    TARGETS[f"phone_{_slot}"] = _PHONE_TARGET % {"slot": _slot}
    TARGETS[f"phone_{_slot}_label"] = _PHONE_LABEL_TARGET % {"slot": _slot}
TARGETS["phones_more"] = N_("Autres téléphones")
#: choosing this in a mapping select ignores the column
IGNORE = ""


def target_label(target: str, gettext=lambda s: s) -> str:
    """A target's label in the reader's language (the phone slots carry their number)."""
    match = re.fullmatch(r"phone_(\d)(_label)?", target)
    if match:
        return gettext(_PHONE_LABEL_TARGET if match.group(2) else _PHONE_TARGET) % {"slot": match.group(1)}
    return gettext(TARGETS[target])


def key(header: str) -> str:
    """A header reduced to what identifies it: "Tél. mobile" → "tel mobile", "N° client" → "no client"."""
    text = fold((header or "").replace("°", "o").replace("º", "o"))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


_SYNONYMS: dict[str, tuple[str, ...]] = {
    "last_name": ("nom", "nom de famille", "nom du contact", "nom contact", "nom client", "last name", "lastname",
                  "surname", "family name", "name", "nom usuel"),
    "first_name": ("prenom", "prenoms", "first name", "firstname", "given name", "prenom du contact"),
    "civility": ("civilite", "civ", "titre", "title", "salutation", "mr mme", "m mme"),
    "company_name": ("societe", "raison sociale", "entreprise", "company", "company name", "organisation",
                     "organization", "nom entreprise", "nom de l entreprise", "nom societe", "nom de la societe",
                     "denomination", "etablissement"),
    "kind": ("type", "type de contact", "type contact", "kind", "nature", "personne entreprise",
             "personne ou entreprise"),
    "customer_number": ("no client", "numero client", "numero de client", "num client", "n client", "code client",
                        "ref client", "reference client", "id client", "identifiant client", "customer number",
                        "customer id", "customer no", "client id", "client number", "no de client"),
    "status": ("statut", "status", "statut client", "client prospect", "client ou prospect", "type client"),
    "email": ("email", "e mail", "courriel", "mail", "adresse e mail", "adresse email", "adresse mail",
              "email address", "e mail address", "adresse electronique", "mel", "adresse courriel"),
    "address_line": ("adresse", "address", "adresse postale", "rue", "address line", "adresse 1", "adresse ligne 1",
                     "street", "voie", "numero et rue"),
    "postcode": ("cp", "code postal", "postcode", "postal code", "zip", "zip code", "zipcode", "code post"),
    "city": ("ville", "city", "commune", "localite", "town", "locality"),
    "country": ("pays", "country", "code pays", "country code"),
    "birth_date": ("date de naissance", "naissance", "date naissance", "birth date", "birthdate", "date of birth",
                   "dob", "ne le", "nee le", "ne e le", "ddn"),
    "socio_professional_category": ("csp", "pcs", "categorie socio professionnelle", "categorie socioprofessionnelle",
                                    "socio professional category", "profession", "categorie professionnelle"),
    "segment": ("segment", "segment client", "segmentation", "segment marketing"),
    "prospect_temperature": ("temperature", "temperature prospect", "chaleur", "prospect temperature",
                             "temperature du prospect"),
    "tags": ("etiquettes", "etiquette", "tags", "tag", "mots cles", "mot cle", "labels"),
    "consent_call": ("consentement appel", "consentement appels", "consentement telephone", "accepte d etre appele",
                     "accepte appel", "accepte les appels", "optin appel", "opt in appel", "optin telephone",
                     "consent call", "call consent", "consentement demarchage", "ok appel"),
    "consent_email": ("consentement email", "consentement e mail", "consentement mail", "consentement courriel",
                      "accepte les e mails", "accepte les emails", "accepte e mail", "optin email", "opt in email",
                      "optin e mail", "consent email", "email consent", "newsletter"),
    "opposition": ("opposition", "bloctel", "liste d opposition", "ne pas appeler", "ne pas demarcher",
                   "do not call", "dnc", "opposition demarchage"),
    "company_ref": ("no client entreprise", "no client de l entreprise", "no client societe",
                    "numero client entreprise", "code client entreprise", "company customer number"),
    "phones_more": ("autres telephones", "autres numeros", "other phones"),
}
_BY_KEY: dict[str, str] = {}
for _target, _names in _SYNONYMS.items():
    for _name in _names:
        _BY_KEY[_name] = _target
for _target, _label in TARGETS.items():  # the export's own headers always map back
    _BY_KEY.setdefault(key(_label), _target)

_PHONE_WORDS = r"(?:tel|tele|telephone|telephones|phone|portable|mobile|gsm|cellulaire|cell|fixe)"
_PHONE_HEADER = re.compile(rf"^(?:(?:no|num|numero)(?: de)? )?{_PHONE_WORDS}\b(?P<rest>.*)$")
_PHONE_LABEL_HEADER = re.compile(rf"^(?:type|libelle|nature)(?: du| de)? {_PHONE_WORDS}(?: (?P<slot>\d))?$")
_MOBILE = {"portable", "mobile", "gsm", "cellulaire", "cell"}
_HOME = {"fixe", "domicile", "maison", "home", "perso", "personnel"}
_WORK = {"pro", "bureau", "travail", "work", "office", "professionnel", "standard"}


def _phone_header(header_key: str) -> tuple[bool, int | None]:
    """Is this column a phone number, and does its name say which (``Téléphone 2``)?"""
    match = _PHONE_HEADER.match(header_key)
    if not match:
        return False, None
    rest = match.group("rest").split()
    if "national" in rest or "type" in rest:
        return False, None  # "Téléphone 1 (format national)": a copy for people, the E.164 column is the data
    slot = next((int(word) for word in rest if word.isdigit()), None)
    return True, slot if slot and 1 <= slot <= PHONE_SLOTS else None


def phone_label_of(header: str) -> str | None:
    """The phone label a column name implies: "Portable" → mobile, "Tél. bureau" → work."""
    words = set(key(header).split())
    if words & _MOBILE:
        return "mobile"
    if words & _HOME:
        return "home"
    if words & _WORK:
        return "work"
    return None


def auto_map(headers: list[str]) -> list[str]:
    """A target per column (``IGNORE`` for none), from French and English names.

    Each target goes to the first column that claims it; up to three phone
    columns fill ``phone_1..3`` (a number in the name picks its slot).
    """
    mapping = [IGNORE] * len(headers)
    used: set[str] = set()
    phone_columns: list[tuple[int, int | None]] = []
    for index, header in enumerate(headers):
        header_key = key(header)
        target = _BY_KEY.get(header_key)
        if target is None:
            label_match = _PHONE_LABEL_HEADER.match(header_key)
            if label_match:
                target = f"phone_{label_match.group('slot') or 1}_label"
        if target is None or target.startswith("phone_") and not target.endswith("_label"):
            is_phone, slot = _phone_header(header_key)
            if is_phone:
                phone_columns.append((index, slot))
                continue
        if target and target not in used:
            mapping[index] = target
            used.add(target)
    free = [slot for slot in range(1, PHONE_SLOTS + 1)]
    # numbered columns first take their own slot, the others the next free ones
    for index, slot in phone_columns:
        if slot in free:
            mapping[index] = f"phone_{slot}"
            free.remove(slot)
    for index, slot in phone_columns:
        if mapping[index] == IGNORE and free:
            mapping[index] = f"phone_{free.pop(0)}"
    return mapping


def target_of(value: str) -> str:
    """A target from what a person types: a code ("last_name"), a label ("Nom"), or "ignorer"."""
    text = (value or "").strip()
    if key(text) in ("", "ignorer", "ignore", "aucun", "none"):
        return IGNORE
    if text in TARGETS:
        return text
    for target, label in TARGETS.items():
        if key(label) == key(text):
            return target
    raise UnusableFile(N_("Champ « %(value)s » inconnu : choisissez un champ de la liste (par exemple last_name, "
                          "phone_1) ou « ignorer »."), "mapping", value=value)


def apply_overrides(headers: list[str], mapping: list[str], overrides: Iterable[str]) -> list[str]:
    """``COLONNE=champ`` pairs (column by name or number from 1) over an automatic mapping."""
    result = list(mapping)
    for item in overrides:
        column, sep, target_text = item.partition("=")
        if not sep:
            raise UnusableFile(N_("« %(value)s » : écrivez COLONNE=champ, par exemple « Tél. perso=phone_2 »."),
                               "mapping", value=item)
        column = column.strip()
        matches = [i for i, header in enumerate(headers) if key(header) == key(column)]
        if not matches and column.isdigit() and 1 <= int(column) <= len(headers):
            matches = [int(column) - 1]
        if not matches:
            raise UnusableFile(N_("Colonne « %(value)s » absente du fichier ; colonnes : %(columns)s."), "mapping",
                               value=column, columns=", ".join(headers))
        target = target_of(target_text)
        if target:  # the field moves to this column
            result = [IGNORE if t == target else t for t in result]
        result[matches[0]] = target
    return result


def check_mapping(headers: list[str], mapping: list[str]) -> None:
    """Refuse a mapping the import cannot work with, naming the columns at fault."""
    if len(mapping) != len(headers):
        raise UnusableFile(N_("La correspondance des colonnes ne correspond pas au fichier (%(count)s colonnes "
                              "attendues) : rechargez l'aperçu."), "mapping", count=len(headers))
    seen: dict[str, int] = {}
    for index, target in enumerate(mapping):
        if target == IGNORE:
            continue
        if target not in TARGETS:
            raise UnusableFile(N_("Champ « %(value)s » inconnu pour la colonne « %(column)s »."), "mapping",
                               value=target, column=headers[index])
        if target in seen:
            raise UnusableFile(N_("Les colonnes « %(first)s » et « %(second)s » sont toutes deux associées au champ "
                                  "« %(name)s » : gardez-en une seule."), "mapping", first=headers[seen[target]],
                               second=headers[index], name=TARGETS[target])
        seen[target] = index
    if "last_name" not in seen and "company_name" not in seen:
        raise UnusableFile(N_("Aucune colonne n'est associée au champ « Nom » ni au champ « Raison sociale » : sans "
                              "nom, aucun contact ne peut être importé. Colonnes du fichier : %(columns)s."),
                           "mapping", columns=", ".join(headers))


# --- rows --------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """Why a row is refused: a translatable message, and the column it is about."""

    message: str
    params: dict
    column: str | None = None

    def render(self, gettext=lambda s: s) -> str:
        text = DomainError(self.message, None, **self.params).render(gettext)
        return f"{gettext(self.column)} : {text}" if self.column else text

    def as_json(self) -> dict:
        return {"message": self.message, "params": self.params, "column": self.column}

    @classmethod
    def from_json(cls, data: dict) -> "Reason":
        return cls(data["message"], dict(data.get("params") or {}), data.get("column"))


@dataclass
class RowVerdict:
    line: int
    cells: list[str]
    clean: CleanContact | None = None
    company_ref: str | None = None
    reasons: list[Reason] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.reasons


_PHONE_LABEL_VALUES = {fold(label): code for code, label in PHONE_LABELS.items()}
_PHONE_LABEL_VALUES.update({"portable": "mobile", "gsm": "mobile", "fixe": "home", "bureau": "work", "pro": "work",
                            "professionnel": "work"})
_FORMULA = re.compile(r"'[=+\-@\t\r]")


def _cell(text: str) -> str:
    """A cell as typed, minus the quote an export puts before "=…" against formula injection."""
    return text[1:] if text[:1] == "'" and _FORMULA.match(text) else text


class RowReader:
    """Turns the cells of a row into ``clean_contact``'s inputs, per a checked mapping.

    Compiled once per file so that the per-row work is a few list lookups.
    """

    def __init__(self, headers: list[str], mapping: list[str]):
        check_mapping(headers, mapping)
        self.headers = headers
        self.width = len(headers)
        self.fields = [(index, target) for index, target in enumerate(mapping) if target in _CONTACT_FIELDS]
        self.column_of = {target: headers[index] for index, target in enumerate(mapping) if target}
        by_target = {target: index for index, target in enumerate(mapping) if target}
        #: (number column, label column, label implied by the header), slot order
        self.phones = [(by_target[f"phone_{slot}"], by_target.get(f"phone_{slot}_label"),
                        phone_label_of(headers[by_target[f"phone_{slot}"]]))
                       for slot in range(1, PHONE_SLOTS + 1) if f"phone_{slot}" in by_target]
        self.more_phones = by_target.get("phones_more")
        self.company_ref = by_target.get("company_ref")

    def read(self, line: int, cells: list[str]) -> RowVerdict:
        """Validate one row with ``clean_contact``; the verdict lists every fault."""
        verdict = RowVerdict(line, cells)
        if len(cells) > self.width and any(c.strip() for c in cells[self.width:]):
            verdict.reasons.append(Reason(N_("La ligne a %(count)s colonnes alors que l'en-tête en a %(expected)s "
                                             "(séparateur ou guillemets mal placés ?)."),
                                          {"count": len(cells), "expected": self.width}))
            return verdict
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        data = {name: _cell(cells[index]) for index, name in self.fields}
        if (not (data.get("kind") or "").strip() and not (data.get("last_name") or "").strip()
                and (data.get("company_name") or "").strip()):
            data["kind"] = "company"  # a row with only a company name is a company
        inputs: list[PhoneInput] = []
        sources: list[str] = []
        guessed: list[bool] = []  # no header word nor label column says what the number is
        for number_index, label_index, default_label in self.phones:
            label = default_label
            if label_index is not None and cells[label_index].strip():
                label = _PHONE_LABEL_VALUES.get(fold(cells[label_index]), cells[label_index].strip())
            inputs.append(PhoneInput(_cell(cells[number_index]), label or "mobile"))
            sources.append(self.headers[number_index])
            guessed.append(label is None)
        if self.more_phones is not None:
            for number in re.split(r"[|,;/]", cells[self.more_phones]):
                inputs.append(PhoneInput(_cell(number.strip()), "other"))
                sources.append(self.headers[self.more_phones])
                guessed.append(False)
        try:
            verdict.clean = clean_contact(data, inputs)
            if any(guessed):
                _label_by_number(verdict.clean, inputs, guessed)
        except ValidationError as exc:
            for name, error in exc.errors.items():
                if name.startswith("phone_") and name[6:].isdigit():
                    column = sources[int(name[6:])]
                else:
                    column = self.column_of.get(name) or FIELD_LABELS.get(name)
                verdict.reasons.append(Reason(error.message, dict(error.params), column))
        if self.company_ref is not None:
            verdict.company_ref = cells[self.company_ref].strip() or None
        return verdict


_KIND_LABELS = {PhoneNumberType.MOBILE: "mobile", PhoneNumberType.FIXED_LINE_OR_MOBILE: "mobile",
                PhoneNumberType.FIXED_LINE: "home", PhoneNumberType.VOIP: "home"}


def _label_by_number(clean: CleanContact, inputs: list[PhoneInput], guessed: list[bool]) -> None:
    """A plain "Téléphone" column: label each number by what its numbering plan says it is."""
    filled = [index for index, item in enumerate(inputs) if (item.number or "").strip()]
    if len(filled) != len(clean.phones):
        return  # the same number twice in the row: keep the labels as cleaned
    region = clean.values.get("country") or "FR"
    # parse_typed is cached: this asks again the question clean_contact just answered
    clean.phones = [(e164, _KIND_LABELS.get(phones.parse_typed(inputs[index].number, region)[1], "other"))
                    if guessed[index] else (e164, label) for index, (e164, label) in zip(filled, clean.phones)]


def read_rows(reader: RowReader, rows: Iterable[tuple[int, list[str]]]) -> Iterator[RowVerdict]:
    for line, cells in rows:
        yield reader.read(line, cells)


# --- duplicates ---------------------------------------------------------------------


@dataclass
class Existing:
    """What the customer file already holds, for the values a batch of rows uses."""

    phones: dict[str, int] = field(default_factory=dict)  # e164 → contact id
    emails: dict[str, int] = field(default_factory=dict)  # lower-case e-mail → contact id
    numbers: dict[str, tuple[int, str]] = field(default_factory=dict)  # customer number → (id, kind)


def lookup_keys(verdicts: Iterable[RowVerdict]) -> tuple[set[str], set[str], set[str]]:
    """The phones, e-mails and customer numbers to look up in the database."""
    phones, emails, numbers = set(), set(), set()
    for verdict in verdicts:
        if verdict.clean is None:
            if verdict.company_ref:
                numbers.add(verdict.company_ref)
            continue
        values = verdict.clean.values
        phones.update(e164 for e164, _ in verdict.clean.phones)
        if values["email"]:
            emails.add(values["email"])
        if values["customer_number"]:
            numbers.add(values["customer_number"])
        if verdict.company_ref:
            numbers.add(verdict.company_ref)
    return phones, emails, numbers


def find_duplicates(verdicts: list[RowVerdict], existing: Existing) -> None:
    """Add duplicate reasons to the verdicts, in file order.

    A row repeats a contact of the file when it shares a phone number or an
    e-mail with it, and another row of the file when it shares one with a row
    accepted before it (the first occurrence is imported). Customer numbers
    are unique. A person may name its company by customer number: the
    company must exist, in the file or in the database.
    """
    seen_phones: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    seen_numbers: dict[str, int] = {}
    for verdict in verdicts:
        clean = verdict.clean
        if clean is None:
            continue
        reasons = verdict.reasons
        values = clean.values
        for e164, _label in clean.phones:
            if e164 in existing.phones:
                reasons.append(Reason(N_("Doublon du contact n° %(id)s (même téléphone %(value)s)."),
                                      {"id": existing.phones[e164], "value": e164}))
            elif e164 in seen_phones:
                reasons.append(Reason(N_("Doublon de la ligne %(line)s du fichier (même téléphone %(value)s)."),
                                      {"line": seen_phones[e164], "value": e164}))
        email = values["email"]
        if email and email in existing.emails:
            reasons.append(Reason(N_("Doublon du contact n° %(id)s (même e-mail %(value)s)."),
                                  {"id": existing.emails[email], "value": email}))
        elif email and email in seen_emails:
            reasons.append(Reason(N_("Doublon de la ligne %(line)s du fichier (même e-mail %(value)s)."),
                                  {"line": seen_emails[email], "value": email}))
        number = values["customer_number"]
        if number and number in existing.numbers:
            reasons.append(Reason(N_("Le n° client %(value)s existe déjà (contact n° %(id)s)."),
                                  {"id": existing.numbers[number][0], "value": number}))
        elif number and number in seen_numbers:
            reasons.append(Reason(N_("Le n° client %(value)s est déjà celui de la ligne %(line)s du fichier."),
                                  {"line": seen_numbers[number], "value": number}))
        if reasons:
            continue
        for e164, _label in clean.phones:
            seen_phones[e164] = verdict.line
        if email:
            seen_emails[email] = verdict.line
        if number:
            seen_numbers[number] = verdict.line
    _check_company_refs(verdicts, existing)


def _check_company_refs(verdicts: list[RowVerdict], existing: Existing) -> None:
    companies = {v.clean.values["customer_number"]: v for v in verdicts
                 if v.ok and v.clean.values["kind"] == "company" and v.clean.values["customer_number"]}
    for verdict in verdicts:
        ref = verdict.company_ref
        if not ref or not verdict.ok:
            continue
        column = TARGETS["company_ref"]
        if verdict.clean.values["kind"] == "company":
            verdict.reasons.append(Reason(N_("Une entreprise ne peut pas être rattachée à une autre entreprise "
                                             "(n° client %(value)s)."), {"value": ref}, column))
        elif ref in existing.numbers:
            if existing.numbers[ref][1] != "company":
                verdict.reasons.append(Reason(N_("Le contact n° client %(value)s n'est pas une entreprise."),
                                              {"value": ref}, column))
        elif ref not in companies:
            verdict.reasons.append(Reason(N_("Entreprise n° client %(value)s introuvable, ni dans le fichier client ni "
                                             "parmi les lignes acceptées de ce fichier."), {"value": ref}, column))


# --- export -------------------------------------------------------------------------


def export_headers() -> list[str]:
    """The export's columns, in French; each maps back to its field on import."""
    headers = [TARGETS[name] for name in ("customer_number", "kind", "civility", "first_name", "last_name",
                                          "company_name", "company_ref", "status", "email", "address_line",
                                          "postcode", "city", "country", "birth_date", "socio_professional_category",
                                          "segment", "prospect_temperature", "tags", "consent_call", "consent_email",
                                          "opposition")]
    for slot in range(1, PHONE_SLOTS + 1):
        headers += [TARGETS[f"phone_{slot}"], _PHONE_NATIONAL % {"slot": slot},
                    TARGETS[f"phone_{slot}_label"]]
    headers.append(TARGETS["phones_more"])
    return headers


_SAFE_PHONE = re.compile(r"[+\-][\d\s().\-]*")


def safe_cell(text: str) -> str:
    """Quote a value a spreadsheet would run as a formula ("=HYPERLINK(…)"); E.164 numbers stay as they are."""
    if text[:1] in ("=", "@", "\t", "\r") or (text[:1] in ("+", "-") and not _SAFE_PHONE.fullmatch(text)):
        return "'" + text
    return text


def _yes_no(value: bool) -> str:
    return "oui" if value else "non"


def export_row(contact, phones: list[tuple[str, str, str]], company_number: str | None) -> list[str]:
    """One contact as export cells; ``phones`` are (e164, national, label) in order."""
    birth: date | None = contact.birth_date
    cells = [
        contact.customer_number or "", KINDS.get(contact.kind, contact.kind or ""), contact.civility or "",
        contact.first_name or "", contact.last_name or "", contact.company_name or "", company_number or "",
        STATUSES.get(contact.status, contact.status or ""), contact.email or "", contact.address_line or "",
        contact.postcode or "", contact.city or "", contact.country or "",
        birth.strftime("%d/%m/%Y") if birth else "",
        SOCIO_PROFESSIONAL.get(contact.socio_professional_category or "", contact.socio_professional_category or ""),
        contact.segment or "", TEMPERATURES.get(contact.prospect_temperature or "", contact.prospect_temperature or ""),
        ", ".join(contact.tags or []), _yes_no(contact.consent_call), _yes_no(contact.consent_email),
        _yes_no(contact.opposition),
    ]
    for slot in range(PHONE_SLOTS):
        if slot < len(phones):
            e164, national, label = phones[slot]
            cells += [e164, national, PHONE_LABELS.get(label, label)]
        else:
            cells += ["", "", ""]
    cells.append(" | ".join(e164 for e164, _n, _l in phones[PHONE_SLOTS:]))
    return [safe_cell(cell) for cell in cells]


def to_csv(rows: Iterable[list[str]], delimiter: str = ";") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()

