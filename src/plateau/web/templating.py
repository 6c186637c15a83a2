"""Jinja2 environment: autoescape, gettext, and the filters pages share."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from ..config import get_settings
from ..domain import phones
from ..domain.errors import DomainError
from . import i18n

TEMPLATES = Path(__file__).with_name("templates")

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "xml"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)


def local_time(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(get_settings().timezone)).strftime(fmt)


def phone(value: str | None) -> Markup:
    """A phone number in national format, always left-to-right."""
    if not value:
        return Markup("")
    shown = phones.display(value, get_settings().default_region)
    return Markup('<span dir="ltr" class="phone">%s</span>') % shown


def duration(seconds: float | None) -> str:
    seconds = int(round(seconds or 0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def error_text(error: DomainError | None) -> str:
    return error.render(i18n.gettext) if error else ""


env.filters.update(local_time=local_time, phone=phone, duration=duration, error_text=error_text)
#: ``translate`` is gettext as a plain function, for templates that hand it to
#: Python code (Jinja's ``_`` needs the template context to be called)
env.globals.update(LOCALES=i18n.LOCALES, translate=i18n.gettext)


def reason_text(reason) -> str:
    """A calling-rule refusal (stored on a dial attempt) in the reader's language."""
    from ..domain.compliance import reason_text as render

    return render(reason, i18n.gettext)


env.filters.update(reason_text=reason_text)


def render_string(name: str, **context) -> str:
    return env.get_template(name).render(**context)


__all__ = ["env", "render_string", "escape"]
