"""Opening hours of a queue, and its public-holiday closures.

Hours are local time ranges per weekday: ``{"mon": [["08:30", "12:30"],
["13:30", "18:00"]], …}``. A day absent from a non-empty table is closed; an
empty table means open around the clock. Public holidays come from the
``holidays`` package for the queue's country (FR, MA, DZ…), so Easter Monday
or Aïd al-Adha close the queue without anyone typing dates.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from .errors import N_, DomainError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_LABELS = {
    "mon": N_("Lundi"), "tue": N_("Mardi"), "wed": N_("Mercredi"), "thu": N_("Jeudi"),
    "fri": N_("Vendredi"), "sat": N_("Samedi"), "sun": N_("Dimanche"),
}
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)|24:00")


def _minutes(text: str) -> int:
    if text == "24:00":
        return 24 * 60
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def validate_hours(hours: dict) -> dict:
    """The table cleaned and sorted, or a DomainError naming the day and the range."""
    if not isinstance(hours, dict):
        raise DomainError(N_("Horaires illisibles."), "hours")
    cleaned: dict[str, list[list[str]]] = {}
    for day, ranges in hours.items():
        if day not in DAYS:
            raise DomainError(N_("Jour inconnu « %(day)s » (mon, tue, wed, thu, fri, sat, sun)."), "hours", day=day)
        spans = []
        for span in ranges or []:
            if not (isinstance(span, (list, tuple)) and len(span) == 2
                    and all(isinstance(x, str) and _HHMM.fullmatch(x) for x in span)):
                raise DomainError(N_("%(day)s : chaque plage s'écrit HH:MM-HH:MM."), "hours", day=day)
            start, end = (_minutes(x) for x in span)
            if start >= end:
                raise DomainError(N_("%(day)s : la plage %(start)s-%(end)s finit avant de commencer."), "hours",
                                  day=day, start=span[0], end=span[1])
            spans.append([span[0], span[1]])
        spans.sort(key=lambda s: _minutes(s[0]))
        for before, after in zip(spans, spans[1:]):
            if _minutes(after[0]) < _minutes(before[1]):
                raise DomainError(N_("%(day)s : les plages %(first)s et %(second)s se chevauchent."), "hours", day=day,
                                  first="-".join(before), second="-".join(after))
        if spans:
            cleaned[day] = spans
    return cleaned


def parse_ranges(day: str, text: str) -> list[list[str]]:
    """``"08:30-12:30, 13:30-18:00"`` → ``[["08:30", "12:30"], ["13:30", "18:00"]]`` (form input)."""
    spans = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        bits = [b.strip() for b in part.split("-")]
        if len(bits) != 2:
            raise DomainError(N_("%(day)s : chaque plage s'écrit HH:MM-HH:MM."), "hours", day=day)
        spans.append(bits)
    return spans


def format_ranges(spans: list[list[str]]) -> str:
    return ", ".join(f"{a}-{b}" for a, b in spans)


@lru_cache(maxsize=32)
def _holidays(country: str, year: int):
    return holidays.country_holidays(country, years=year)


def holiday_name(country: str | None, day: date) -> str | None:
    if not country:
        return None
    try:
        return _holidays(country, day.year).get(day)
    except NotImplementedError:
        return None


def is_open(hours: dict, holiday_country: str | None, local: datetime) -> bool:
    """Whether the queue takes calls at this local time."""
    if holiday_name(holiday_country, local.date()):
        return False
    if not hours:
        return True
    minute = local.hour * 60 + local.minute
    for start, end in hours.get(DAYS[local.weekday()], []):
        if _minutes(start) <= minute < _minutes(end):
            return True
    return False


def next_opening(hours: dict, holiday_country: str | None, local: datetime, horizon_days: int = 14) -> datetime | None:
    """When the queue opens next (local time), to tell a caller; None if not within the horizon."""
    if is_open(hours, holiday_country, local):
        return local
    for offset in range(horizon_days + 1):
        day = (local + timedelta(days=offset)).date()
        if holiday_name(holiday_country, day):
            continue
        spans = hours.get(DAYS[day.weekday()], []) if hours else [["00:00", "24:00"]]
        for start, _end in spans:
            at = datetime.combine(day, time(0), tzinfo=local.tzinfo) + timedelta(minutes=_minutes(start))
            if at > local:
                return at
    return None
