"""Translations: French source strings, catalogues for English and Arabic.

Catalogues are read from the ``.po`` files at start-up and compiled in memory,
so there is no build step to forget. The current request's translations sit
in a context variable that Jinja's ``_()`` and Python's ``_()`` both read.
"""

from __future__ import annotations

import gettext as gettext_module
from contextvars import ContextVar
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
LOCALES = {"fr": "Français", "en": "English", "ar": "العربية"}
RTL = {"ar"}

_current: ContextVar[gettext_module.NullTranslations] = ContextVar("translations")


@lru_cache(maxsize=None)
def translations(locale: str) -> gettext_module.NullTranslations:
    po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == "fr" or not po.exists():
        return gettext_module.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


def activate(locale: str) -> None:
    _current.set(translations(locale if locale in LOCALES else "fr"))


def gettext(message: str) -> str:
    return _current.get(translations("fr")).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _current.get(translations("fr")).ngettext(singular, plural, n)


_ = gettext


def pick_locale(requested: str | None, accept_language: str | None) -> str:
    if requested in LOCALES:
        return requested
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LOCALES:
            return code
    return "fr"


def localized_hours_errors(errors: dict) -> dict:
    """Opening-hours errors name their weekday by its msgid ("Lundi"): show it in the reader's language.

    Shared by every form with weekly hours (queues, campaigns, advisors).
    """
    from ..domain.errors import DomainError
    from ..domain.queue_hours import DAY_LABELS

    return {name: DomainError(e.message, e.field, **{**e.params, "day": gettext(e.params["day"])})
            if isinstance(e.params.get("day"), str) and e.params["day"] in DAY_LABELS.values() else e
            for name, e in errors.items()}
