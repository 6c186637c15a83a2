"""Appointment slots in an advisor's simple calendar ("prise de rendez-vous").

An advisor (a sales advisor, a technician) has weekly hours in the queue-hours
format (``{"mon": [["09:00", "12:00"], …]}``, local time in the advisor's own
zone, checked by ``domain.queue_hours``) and a slot length. A day's slots are
the slot-length steps that fit wholly inside one of that weekday's ranges:
09:00, 09:30 … 11:30 for 09:00-12:00 in 30-minute slots.

Slots are laid out in wall-clock time, as the advisor's diary reads, then
turned into UTC. On the day clocks go forward, a wall time that does not
exist (02:30 in Paris on the last Sunday of March) is no slot; on the day
they go back, a wall time that happens twice (02:30 on the last Sunday of
October) is one slot, the first one: a simple calendar never offers the
same printed time twice.

A slot is free when it starts after now and no booked appointment overlaps
it (an appointment booked before the slot length changed may straddle two
slots: both are taken). The database has the last word on a race: a unique
constraint on (advisor, start) refuses the second of two simultaneous
bookings, which the service reports as taken.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import queue_hours
from .errors import N_, ConflictError, DomainError, ValidationError

MODES = ("visit", "phone", "video")
MODE_LABELS = {"visit": N_("Visite"), "phone": N_("Téléphone"), "video": N_("Visio")}
MIN_SLOT_MINUTES, MAX_SLOT_MINUTES = 5, 240
MAX_NOTE = 2000
MAX_NAME = 200  # advisors.name
MAX_LOCATION = 200  # advisors.location
#: how far ahead a slot may be booked
BOOKING_HORIZON_DAYS = 366


def _exists(local: datetime, tz: ZoneInfo) -> bool:
    """False for a wall time skipped by a clock change (it does not survive a round trip through UTC)."""
    back = local.astimezone(timezone.utc).astimezone(tz)
    return back.replace(tzinfo=None) == local.replace(tzinfo=None)


def day_slots(hours: dict, slot_minutes: int, day: date, tz: ZoneInfo) -> list[datetime]:
    """The starts (aware, UTC) of the day's slots in the advisor's hours, in order."""
    step = timedelta(minutes=slot_minutes)
    starts: list[datetime] = []
    for start, end in (hours or {}).get(queue_hours.DAYS[day.weekday()], []):
        first = datetime.combine(day, time(0)) + timedelta(minutes=queue_hours._minutes(start))
        last = datetime.combine(day, time(0)) + timedelta(minutes=queue_hours._minutes(end))
        wall = first
        while wall + step <= last:
            local = wall.replace(tzinfo=tz, fold=0)
            if _exists(local, tz):
                starts.append(local.astimezone(timezone.utc))
            wall += step
    return sorted(set(starts))


def overlaps(start: datetime, minutes: int, booked: Iterable[tuple[datetime, datetime]]) -> bool:
    end = start + timedelta(minutes=minutes)
    return any(b_start < end and start < b_end for b_start, b_end in booked)


def free_slots(slots: Iterable[datetime], slot_minutes: int, booked: Iterable[tuple[datetime, datetime]],
               now: datetime) -> list[datetime]:
    """The slots still bookable: not started yet, and not overlapping a booked appointment."""
    booked = list(booked)
    return [start for start in slots if start > now and not overlaps(start, slot_minutes, booked)]


@dataclass(frozen=True)
class Booking:
    """An appointment request as checked: where it ends, and the cleaned mode and note."""

    starts_at: datetime
    ends_at: datetime
    mode: str
    note: str


def check_booking(advisor_name: str, slots: list[datetime], slot_minutes: int,
                  booked: Iterable[tuple[datetime, datetime]], starts_at: datetime | None, mode: str, note: str,
                  now: datetime, tz: ZoneInfo) -> Booking:
    """The booking, or the refusal: bad fields (ValidationError), or the slot taken (ConflictError)."""
    errors: dict[str, DomainError] = {}
    note = (note or "").strip()
    if mode not in MODES:
        errors["mode"] = DomainError(N_("Choisissez le type de rendez-vous : visite, téléphone ou visio."), "mode")
    if len(note) > MAX_NOTE:
        errors["note"] = DomainError(N_("La note dépasse %(max)s caractères."), "note", max=MAX_NOTE)
    if starts_at is None:
        errors["starts_at"] = DomainError(N_("Choisissez un créneau libre."), "starts_at")
    elif starts_at not in slots:
        errors["starts_at"] = DomainError(N_("Ce créneau ne fait pas partie des horaires de %(advisor)s : choisissez "
                                             "un créneau libre dans la liste."), "starts_at", advisor=advisor_name)
    elif starts_at <= now:
        errors["starts_at"] = DomainError(N_("Ce créneau est déjà passé : choisissez-en un plus tard."), "starts_at")
    elif starts_at - now > timedelta(days=BOOKING_HORIZON_DAYS):
        errors["starts_at"] = DomainError(N_("Un rendez-vous se prend au plus %(days)s jours à l'avance."),
                                          "starts_at", days=BOOKING_HORIZON_DAYS)
    if errors:
        raise ValidationError(errors)
    if overlaps(starts_at, slot_minutes, booked):
        raise taken(advisor_name, starts_at, tz)
    return Booking(starts_at, starts_at + timedelta(minutes=slot_minutes), mode, note)


def taken(advisor_name: str, starts_at: datetime, tz: ZoneInfo) -> ConflictError:
    """The refusal of a slot someone else has: the same words whether we saw it or the database did."""
    local = starts_at.astimezone(tz)
    return ConflictError(N_("Le créneau du %(date)s à %(time)s est déjà pris chez %(advisor)s : choisissez-en "
                            "un autre."), "starts_at", date=local.strftime("%d/%m/%Y"), time=local.strftime("%H:%M"),
                         advisor=advisor_name)


# --- advisors ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdvisorSettings:
    name: str
    hours: dict
    slot_minutes: int
    timezone: str
    location: str


def check_advisor(name: str, hours: dict, slot_minutes: str | int, tz_name: str, location: str,
                  errors: dict[str, DomainError] | None = None) -> AdvisorSettings:
    """An advisor's settings cleaned, or a ValidationError naming each bad field.

    ``errors`` may already hold refusals found while reading the form (the
    hours of one weekday): they are reported with these.
    """
    errors = dict(errors or {})
    name = (name or "").strip()
    location = (location or "").strip()
    tz_name = (tz_name or "").strip() or "Europe/Paris"
    if not name:
        errors["name"] = DomainError(N_("Indiquez le nom du conseiller."), "name")
    elif len(name) > MAX_NAME:
        errors["name"] = DomainError(N_("Le nom dépasse %(max)s caractères."), "name", max=MAX_NAME)
    if len(location) > MAX_LOCATION:
        errors["location"] = DomainError(N_("Le lieu dépasse %(max)s caractères."), "location", max=MAX_LOCATION)
    minutes = None
    text = str(slot_minutes if slot_minutes is not None else "").strip()
    if text.isdigit() and MIN_SLOT_MINUTES <= int(text) <= MAX_SLOT_MINUTES:
        minutes = int(text)
    else:
        errors["slot_minutes"] = DomainError(N_("La durée d'un créneau est un nombre de minutes entre %(min)s et "
                                                "%(max)s."), "slot_minutes", min=MIN_SLOT_MINUTES,
                                             max=MAX_SLOT_MINUTES)
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = DomainError(N_("Fuseau horaire inconnu « %(zone)s » (par exemple Europe/Paris, "
                                            "Africa/Casablanca, Africa/Algiers)."), "timezone", zone=tz_name)
    cleaned = {}
    if not any(key.startswith("hours") for key in errors):
        try:
            cleaned = queue_hours.validate_hours(hours or {})
        except DomainError as exc:
            errors["hours"] = exc
    if errors:
        raise ValidationError(errors)
    return AdvisorSettings(name, cleaned, minutes, tz_name, location)
