"""A sale recorded on a call: product lines, amount, payment and delivery terms, the additional sale.

Each line is one of the campaign's products with a quantity and a unit price
(in cents: the price is typed on the call, since offers and discounts vary);
a line may be flagged as an additional sale ("vente additionnelle": what the
agent sold on top of what the person called about, or on top of what they
already have). The sale's amount is the sum of its lines, and its
additional part the sum of the flagged ones: both are stored with the sale
so that results and reports add whole sales, never re-price them.

Amounts are parsed and shown by the money helpers of ``domain.payment_plans``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import N_, DomainError, ValidationError
from .payment_plans import MAX_CENTS, parse_cents

MAX_QUANTITY = 9999
MAX_TERMS = 200  # sales.payment_terms, sales.delivery_terms


@dataclass(frozen=True)
class SaleLine:
    product: str
    quantity: int
    unit_price_cents: int
    additional: bool = False

    @property
    def amount_cents(self) -> int:
        return self.quantity * self.unit_price_cents

    def to_json(self) -> dict:
        return {"product": self.product, "quantity": self.quantity, "unit_price_cents": self.unit_price_cents,
                "additional": self.additional}


@dataclass(frozen=True)
class TypedLine:
    """One product row of the sale form as typed: an empty or zero quantity means "not sold"."""

    product: str
    quantity: str = ""
    unit_price: str = ""
    additional: bool = False


@dataclass(frozen=True)
class Amounts:
    amount_cents: int
    additional_cents: int


def amounts(lines: Iterable[SaleLine]) -> Amounts:
    lines = list(lines)
    return Amounts(sum(line.amount_cents for line in lines),
                   sum(line.amount_cents for line in lines if line.additional))


def parse_lines(rows: list[TypedLine], offered: Iterable[str]) -> list[SaleLine]:
    """The rows sold, checked: a product the campaign offers, a whole quantity from 1 to
    ``MAX_QUANTITY``, a unit price above zero, each product once per kind (main or additional).

    Refusals name their row: ``quantity_0``, ``price_0``, ``product_0`` for the first row.
    """
    offered = set(offered)
    errors: dict[str, DomainError] = {}
    lines: list[SaleLine] = []
    seen: set[tuple[str, bool]] = set()
    for index, row in enumerate(rows):
        quantity_text, price_text = (row.quantity or "").strip(), (row.unit_price or "").strip()
        if quantity_text in ("", "0") and not price_text:
            continue  # not sold
        if row.product not in offered:
            errors[f"product_{index}"] = DomainError(N_("Le produit « %(product)s » n'est pas proposé par cette "
                                                        "campagne."), f"product_{index}", product=row.product)
            continue
        quantity = None
        if not quantity_text.isdigit() or not 1 <= int(quantity_text) <= MAX_QUANTITY:
            errors[f"quantity_{index}"] = DomainError(N_("La quantité est un nombre entier entre 1 et %(max)s."),
                                                      f"quantity_{index}", max=MAX_QUANTITY)
        else:
            quantity = int(quantity_text)
        price = None
        try:
            price = parse_cents(price_text, f"price_{index}")
        except DomainError as exc:
            errors[f"price_{index}"] = exc
        key = (row.product, bool(row.additional))
        if key in seen:
            errors[f"product_{index}"] = DomainError(N_("Le produit « %(product)s » figure deux fois : regroupez les "
                                                        "quantités sur une ligne."), f"product_{index}",
                                                     product=row.product)
        seen.add(key)
        if quantity is not None and price is not None:
            lines.append(SaleLine(row.product, quantity, price, bool(row.additional)))
    if not errors and not lines:
        errors["lines"] = DomainError(N_("Indiquez au moins un produit vendu, avec sa quantité et son prix unitaire."),
                                      "lines")
    if not errors and amounts(lines).amount_cents > MAX_CENTS:
        errors["lines"] = DomainError(N_("Le montant de la vente dépasse la limite autorisée."), "lines")
    if errors:
        raise ValidationError(errors)
    return lines


def check_terms(payment_terms: str, delivery_terms: str) -> tuple[str, str]:
    payment_terms, delivery_terms = (payment_terms or "").strip(), (delivery_terms or "").strip()
    errors = {}
    for name, value in (("payment_terms", payment_terms), ("delivery_terms", delivery_terms)):
        if len(value) > MAX_TERMS:
            errors[name] = DomainError(N_("%(max)s caractères au plus."), name, max=MAX_TERMS)
    if not payment_terms:
        errors["payment_terms"] = DomainError(N_("Indiquez les conditions de paiement convenues."), "payment_terms")
    if errors:
        raise ValidationError(errors)
    return payment_terms, delivery_terms
