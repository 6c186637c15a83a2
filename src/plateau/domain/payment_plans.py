"""Debt collection on a call ("recouvrement"): a promise to pay, or a payment plan ("échéancier").

Money is counted in cents (integers) from the form to the database, so that
a plan of 3 × 33,33 € + 0,01 € adds up exactly; amounts are typed the French
way ("1 200,50", "1200.5", "120 €") and shown with the campaign's currency.

A promise is one amount by one date. A plan spreads the whole debt over at
most ``MAX_INSTALMENTS`` instalments: every amount above zero, dates in
strictly ascending order, none in the past nor more than
``MAX_YEARS_AHEAD`` years ahead, and the instalments adding up to the debt
to the cent. ``split`` proposes equal monthly instalments the agent may then
edit line by line.

The money helpers here (``parse_cents``, ``format_money``, ``currency_of``)
serve the sales recorded on calls too (``domain.sales``).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from babel.numbers import format_currency

from .errors import N_, DomainError, ValidationError

MAX_INSTALMENTS = 24
#: the largest amount one figure may hold (10 million in the currency): amounts_cents columns are 32-bit
MAX_CENTS = 1_000_000_000
MAX_YEARS_AHEAD = 3
MAX_METHOD = 32  # payment_plans.payment_method
MAX_NOTE = 2000
PAYMENT_METHODS = ("", "transfer", "card", "direct_debit", "cheque", "cash")
METHOD_LABELS = {"": N_("Non précisé"), "transfer": N_("Virement"), "card": N_("Carte bancaire"),
                 "direct_debit": N_("Prélèvement"), "cheque": N_("Chèque"), "cash": N_("Espèces")}

#: the currency amounts are shown in, by the campaign's country
CURRENCIES = {"FR": "EUR", "MA": "MAD", "DZ": "DZD"}

_AMOUNT = re.compile(r"\d+(?:[.,]\d{1,2})?")


def currency_of(country: str | None) -> str:
    return CURRENCIES.get((country or "").upper(), "EUR")


def parse_cents(text, field: str) -> int:
    """ "1 200,50" → 120050. Spaces, a currency sign and a decimal comma or point are forgiven.

    Refusals do not repeat the field's name: the form shows them next to the
    field and the error summary puts the field's label before them.
    """
    raw = "" if text is None else str(text)
    compact = re.sub(r"[\s\u00a0\u202f€]|EUR|MAD|DZD|DH|DA", "", raw.strip(), flags=re.IGNORECASE)
    if not compact:
        raise DomainError(N_("Indiquez un montant."), field)
    if compact.startswith("-") or (_AMOUNT.fullmatch(compact) and not int(_to_cents(compact))):
        raise DomainError(N_("Le montant doit être supérieur à zéro."), field)
    if not _AMOUNT.fullmatch(compact):
        raise DomainError(N_("Montant illisible « %(value)s » : écrivez par exemple 120 ou 120,50."), field,
                          value=raw.strip())
    cents = _to_cents(compact)
    if cents > MAX_CENTS:
        raise DomainError(N_("Le montant dépasse la limite de %(max)s."), field, max=plain(MAX_CENTS))
    return cents


def _to_cents(compact: str) -> int:
    return int((Decimal(compact.replace(",", ".")) * 100).to_integral_value())


def format_money(cents: int, currency: str = "EUR", locale: str = "fr") -> str:
    return format_currency(Decimal(cents) / 100, currency, locale=locale)


def plain(cents: int) -> str:
    """An amount inside a sentence, in the form's own unit, without a currency: "1 200,50"."""
    text = f"{cents // 100:,}".replace(",", "\u202f")
    return f"{text},{cents % 100:02d}"


def parse_day(text, field: str) -> date:
    """A date picked in a date field (AAAA-MM-JJ) or typed JJ/MM/AAAA."""
    if isinstance(text, date):
        return text
    value = ("" if text is None else str(text)).strip()
    if not value:
        raise DomainError(N_("Indiquez une date."), field)
    for parse in (date.fromisoformat, _french_date):
        try:
            return parse(value)
        except ValueError:
            continue
    raise DomainError(N_("Date illisible « %(value)s » : utilisez le format JJ/MM/AAAA."), field, value=value)


def _french_date(value: str) -> date:
    parts = re.split(r"[/.-]", value)
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise ValueError(value)
    day, month, year = (int(part) for part in parts)
    return date(year, month, day)


def not_past(day: date, today: date, field: str) -> date:
    """Dates promised on a call are today or later, and not absurdly far (a mistyped year)."""
    if day < today:
        raise DomainError(N_("Le %(date)s est déjà passé."), field, date=day.strftime("%d/%m/%Y"))
    if day > today + timedelta(days=366 * MAX_YEARS_AHEAD):
        raise DomainError(N_("Pas plus de %(years)s ans à l'avance."), field, years=MAX_YEARS_AHEAD)
    return day


# --- payment plans -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instalment:
    due: date
    amount_cents: int

    def to_json(self) -> dict:
        return {"due": self.due.isoformat(), "amount_cents": self.amount_cents}


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, kept inside shorter months (31 January + 1 → 28 or 29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def split(total_cents: int, count: int, first_due: date) -> list[Instalment]:
    """Equal monthly instalments from ``first_due``; the odd cents go to the first ones."""
    if not 1 <= count <= MAX_INSTALMENTS or total_cents < count:
        raise DomainError(N_("Impossible de partager ce montant en autant d'échéances."), "count")
    share, rest = divmod(total_cents, count)
    return [Instalment(add_months(first_due, n), share + (1 if n < rest else 0)) for n in range(count)]


def check_count(text, field: str = "count") -> int:
    value = ("" if text is None else str(text)).strip()
    if not value.isdigit() or not 1 <= int(value) <= MAX_INSTALMENTS:
        raise DomainError(N_("Le nombre d'échéances est un nombre entier entre 1 et %(max)s."), field,
                          max=MAX_INSTALMENTS)
    return int(value)


def _collect(errors: dict, field: str, check):
    """Run one field's check; its refusal goes into ``errors`` under ``field``."""
    try:
        return check()
    except DomainError as exc:
        errors[field] = exc
        return None


def propose(debt, count, first_due, today: date) -> tuple[int, list[Instalment]]:
    """The debt and its equal monthly split, from the form's three fields (each refusal names its field)."""
    errors: dict[str, DomainError] = {}
    debt_cents = _collect(errors, "debt", lambda: parse_cents(debt, "debt"))
    n = _collect(errors, "count", lambda: check_count(count))
    due = _collect(errors, "first_due", lambda: not_past(parse_day(first_due, "first_due"), today, "first_due"))
    if not errors and debt_cents < n:
        errors["count"] = DomainError(N_("Impossible de partager ce montant en autant d'échéances."), "count")
    if errors:
        raise ValidationError(errors)
    return debt_cents, split(debt_cents, n, due)


def check_plan(debt, rows: list[tuple[str, str]], today: date) -> tuple[int, list[Instalment]]:
    """A plan as typed (the debt, then each instalment's date and amount) → cents and instalments.

    Rules: at least one and at most ``MAX_INSTALMENTS`` instalments, each
    amount above zero, each date today or later and after the one before,
    the amounts adding up to the debt to the cent. Refusals name their row:
    ``due_0``/``amount_0`` for the first instalment ("Échéance n° 1"),
    ``instalments`` for the plan as a whole, ``total`` when the lines do
    not add up to the debt. Fully blank rows are ignored.
    """
    errors: dict[str, DomainError] = {}
    debt_cents = _collect(errors, "debt", lambda: parse_cents(debt, "debt"))
    rows = [(str(due or "").strip(), str(amount or "").strip()) for due, amount in rows]
    rows = [row for row in rows if row != ("", "")]
    if not rows:
        errors["instalments"] = DomainError(N_("Indiquez au moins une échéance (date et montant)."), "instalments")
    elif len(rows) > MAX_INSTALMENTS:
        errors["instalments"] = DomainError(N_("Un échéancier compte au plus %(max)s échéances (ici %(count)s)."),
                                            "instalments", max=MAX_INSTALMENTS, count=len(rows))
    instalments: list[Instalment] = []
    previous: date | None = None
    for index, (due_text, amount_text) in enumerate(rows):
        due_field, amount_field = f"due_{index}", f"amount_{index}"
        due = _collect(errors, due_field, lambda: not_past(parse_day(due_text, due_field), today, due_field))
        cents = _collect(errors, amount_field, lambda: parse_cents(amount_text, amount_field))
        if due is not None and previous is not None and due <= previous:
            errors[due_field] = DomainError(
                N_("Échéance n° %(n)s : sa date (%(date)s) doit suivre celle de l'échéance précédente (%(before)s)."),
                due_field, n=index + 1, date=due.strftime("%d/%m/%Y"), before=previous.strftime("%d/%m/%Y"))
        previous = due if due is not None else previous
        if due is not None and cents is not None:
            instalments.append(Instalment(due, cents))
    if not errors:
        total = sum(i.amount_cents for i in instalments)
        if total != debt_cents:
            errors["total"] = DomainError(
                N_("Les échéances totalisent %(total)s alors que la dette est de %(debt)s : écart de %(gap)s."),
                "total", total=plain(total), debt=plain(debt_cents), gap=plain(abs(total - debt_cents)))
    if errors:
        raise ValidationError(errors)
    return debt_cents, instalments


# --- promises ----------------------------------------------------------------------------------------


def check_promise(amount, due, today: date, debt="") -> tuple[int, date, int]:
    """A promise to pay: (amount, date, debt) in cents; the debt, when given, is at least the amount (0: not given)."""
    errors: dict[str, DomainError] = {}
    cents = _collect(errors, "amount", lambda: parse_cents(amount, "amount"))
    day = _collect(errors, "due", lambda: not_past(parse_day(due, "due"), today, "due"))
    debt_cents = 0
    if str(debt or "").strip():
        debt_cents = _collect(errors, "debt", lambda: parse_cents(debt, "debt"))
        if debt_cents is not None and cents is not None and debt_cents < cents:
            errors["debt"] = DomainError(N_("La dette (%(debt)s) ne peut pas être inférieure au montant promis "
                                            "(%(amount)s)."), "debt", debt=plain(debt_cents), amount=plain(cents))
    if errors:
        raise ValidationError(errors)
    return cents, day, debt_cents


def check_terms(method: str, note: str) -> tuple[str, str]:
    """The payment method (one of ``PAYMENT_METHODS``) and the note of a promise or a plan."""
    method, note = (method or "").strip(), (note or "").strip()
    errors = {}
    if method not in PAYMENT_METHODS:
        errors["method"] = DomainError(N_("Moyen de paiement inconnu."), "method")
    if len(note) > MAX_NOTE:
        errors["note"] = DomainError(N_("La note dépasse %(max)s caractères."), "note", max=MAX_NOTE)
    if errors:
        raise ValidationError(errors)
    return method, note
