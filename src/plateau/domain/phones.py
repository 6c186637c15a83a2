"""Phone numbers: parse whatever a person types, store E.164, show national.

Built on ``phonenumbers`` (Google's libphonenumber metadata) rather than our own
patterns: it knows every numbering plan, including Morocco's and Algeria's.
"""

from __future__ import annotations

import phonenumbers
from functools import lru_cache

from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from .errors import N_, ValidationError, DomainError


def parse(raw: str, region: str = "FR") -> str:
    """Return the E.164 form of ``raw`` read in ``region``, or raise ValidationError."""
    return parse_typed(raw, region)[0]


@lru_cache(maxsize=8192)
def parse_typed(raw: str, region: str = "FR") -> tuple[str, PhoneNumberType]:
    """E.164 and the kind of line (mobile, fixed…) in one pass.

    A number is valid exactly when its numbering plan gives it a type, which
    is what ``is_valid_number`` computes: asking once for the type serves
    both, and the cache answers the CSV import's second question (which
    label?) for free.
    """
    text = (raw or "").strip()
    if not text:
        raise _error(N_("Le numéro de téléphone est vide."), raw)
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        raise _error(N_("« %(value)s » n'est pas un numéro de téléphone."), raw) from None
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        raise _error(N_("« %(value)s » n'est pas un numéro valide (%(region)s)."), raw, region=region)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164), kind


def candidates(raw: str, regions: tuple[str, ...] | list[str]) -> list[str]:
    """Every valid E.164 reading of ``raw`` across ``regions``, in order.

    "06 12 34 56 78" is a valid mobile in France, Morocco and Algeria; a search
    must find all three, while a number with a ``+`` prefix has one reading.
    """
    found: list[str] = []
    for region in regions:
        try:
            e164 = parse(raw, region)
        except ValidationError:
            continue
        if e164 not in found:
            found.append(e164)
    return found


def display(e164: str, home_region: str = "FR") -> str:
    """National format for numbers of ``home_region``, international otherwise."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == home_region:
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def region_of(e164: str) -> str | None:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except NumberParseException:
        return None


def _error(message: str, raw: str, **params) -> ValidationError:
    return ValidationError({"phone": DomainError(message, "phone", value=raw, **params)})
