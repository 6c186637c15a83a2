"""Campaign-specific work on a call: appointments, promises to pay, payment plans, sales.

What a call of a campaign may record depends on the campaign's type
(``WORK_BY_KIND``): an appointment-setting campaign books slots in the
advisors' calendars, a debt-collection one records promises to pay and
payment plans, a sales one records sales; surveys are the script's
questions, answered in the script panel (``services.scripts``) and
aggregated by ``services.campaign_results``.

Who may record: the agent on the call while it is connected, on hold or in
wrap-up; a supervisor also after it closed (a correction, a trainee's call
reviewed with them). Each recorded item carries the call, the contact and
the campaign, so results count it once.

The contact's history gets a note for each item (``Note`` with the call):
the history already shows notes with their call, and a sentence such as
"Rendez-vous pris avec Mme Roy le 24/11/2026 à 10:00 (visite)." says more
than a field change would. Like the system lines of a transcript, the note
is written in the site's language (French): it is a record of what was
agreed, not interface text.

Double booking: the slot is checked against the advisor's booked
appointments in the transaction, and the database's unique constraint on
(advisor, start) refuses the loser of a race; both say "déjà pris" the same
way (``domain.appointments.taken``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain import appointments as slots_rules
from ..domain import payment_plans as plans_rules
from ..domain import queue_hours
from ..domain import sales as sales_rules
from ..domain.calls import CallState
from ..domain.campaigns import CampaignType
from ..domain.contacts import formal_name
from ..domain.errors import N_, DomainError, NotFoundError, PermissionDenied, ValidationError
from ..store.models import (Advisor, Appointment, Call, Campaign, Contact, Note, PaymentPlan, Product, Sale, User)
from .calls import load_call
from .context import Actor, Context

APPOINTMENT, PROMISE, PLAN, SALE = "appointment", "promise", "plan", "sale"
#: the refusal when the campaign's type does not record this
NOT_FOR_KIND = {APPOINTMENT: N_("Ce type de campagne ne prévoit pas de prise de rendez-vous."),
                PROMISE: N_("Ce type de campagne ne prévoit pas de promesse de paiement."),
                PLAN: N_("Ce type de campagne ne prévoit pas d'échéancier."),
                SALE: N_("Ce type de campagne ne prévoit pas de vente.")}

#: what each campaign type records on a call (surveys: the script's questions)
WORK_BY_KIND: dict[str, tuple[str, ...]] = {
    CampaignType.APPOINTMENT: (APPOINTMENT,),
    CampaignType.SALE: (SALE,),
    CampaignType.PROSPECTING: (APPOINTMENT, SALE),
    CampaignType.LOYALTY: (SALE,),
    CampaignType.REACTIVATION: (SALE,),
    CampaignType.FOLLOW_UP: (APPOINTMENT, SALE),
    CampaignType.DEBT_COLLECTION: (PROMISE, PLAN),
    CampaignType.SURVEY: (),
    CampaignType.FILE_QUALIFICATION: (),
}

#: call states in which the agent on the call records; a supervisor may also once it is closed
LIVE_STATES = (CallState.CONNECTED, CallState.ON_HOLD, CallState.WRAP_UP)
REVIEW_STATES = LIVE_STATES + (CallState.CLOSED,)


def work_kinds(campaign_kind: str) -> tuple[str, ...]:
    return WORK_BY_KIND.get(campaign_kind, ())


# --- reading -----------------------------------------------------------------------------------


@dataclass
class AppointmentView:
    appointment: Appointment
    advisor_name: str
    advisor_timezone: str
    author_name: str


@dataclass
class PlanView:
    plan: PaymentPlan
    author_name: str

    @property
    def instalments(self) -> list[plans_rules.Instalment]:
        return [plans_rules.Instalment(date.fromisoformat(i["due"]), int(i["amount_cents"]))
                for i in self.plan.instalments or []]


@dataclass
class SaleView:
    sale: Sale
    #: product code → name, for the lines
    product_names: dict[str, str]
    author_name: str

    @property
    def lines(self) -> list[sales_rules.SaleLine]:
        return [sales_rules.SaleLine(line["product"], int(line["quantity"]), int(line["unit_price_cents"]),
                                     bool(line.get("additional"))) for line in self.sale.lines or []]


@dataclass
class CallWork:
    """What was recorded on one call, oldest first."""

    appointments: list[AppointmentView] = field(default_factory=list)
    plans: list[PlanView] = field(default_factory=list)
    sales: list[SaleView] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.appointments or self.plans or self.sales)


def work_of_call(ctx: Context, call_id: int) -> CallWork:
    with ctx.read() as session:
        return _work_of_call(session, call_id)


def _work_of_call(session: Session, call_id: int) -> CallWork:
    names = _UserNames(session)
    advisors = {a.id: a for a in session.scalars(select(Advisor).where(Advisor.id.in_(
        select(Appointment.advisor_id).where(Appointment.call_id == call_id))))}
    work = CallWork()
    for row in session.scalars(select(Appointment).where(Appointment.call_id == call_id, Appointment.status == "booked")
                               .order_by(Appointment.created_at, Appointment.id)):
        advisor = advisors.get(row.advisor_id)
        work.appointments.append(AppointmentView(row, advisor.name if advisor else "",
                                                 advisor.timezone if advisor else "Europe/Paris",
                                                 names.get(row.created_by)))
    for row in session.scalars(select(PaymentPlan).where(PaymentPlan.call_id == call_id)
                               .order_by(PaymentPlan.created_at, PaymentPlan.id)):
        work.plans.append(PlanView(row, names.get(row.created_by)))
    sales = list(session.scalars(select(Sale).where(Sale.call_id == call_id).order_by(Sale.created_at, Sale.id)))
    codes = {line["product"] for sale in sales for line in sale.lines or []}
    products = dict(session.execute(select(Product.code, Product.name).where(Product.code.in_(codes))).all())
    work.sales = [SaleView(row, products, names.get(row.created_by)) for row in sales]
    return work


class _UserNames:
    def __init__(self, session: Session):
        self.session, self.cache = session, {}

    def get(self, user_id: int | None) -> str:
        if user_id is None:
            return ""
        if user_id not in self.cache:
            user = self.session.get(User, user_id)
            self.cache[user_id] = user.display_name if user else ""
        return self.cache[user_id]


@dataclass
class ProductChoice:
    code: str
    name: str
    price_label: str


@dataclass
class WorkPanel:
    """Everything the call's campaign-work panel shows."""

    call: Call
    campaign: Campaign
    kinds: tuple[str, ...]
    can_record: bool
    #: why recording is closed (a msgid), when it is
    closed_reason: str | None
    contact_name: str
    currency: str
    advisors: list[Advisor]
    advisor: Advisor | None
    day: date
    slots: list[datetime]
    products: list[ProductChoice]
    work: CallWork


def panel(ctx: Context, actor: Actor, call_id: int, advisor_id: int | None = None, day: date | None = None) -> WorkPanel:
    """The panel of a call of a campaign: the agent on the call and supervisors see it."""
    with ctx.read() as session:
        now = ctx.now()
        call = load_call(session, call_id)
        if not actor.is_supervisor and call.agent_id != actor.id:
            raise PermissionDenied(N_("Cet appel n'est pas sur votre poste."))
        campaign = _campaign_of(session, call)
        kinds = work_kinds(campaign.kind)
        reason = _closed_reason(actor, call)
        contact = session.get(Contact, call.contact_id) if call.contact_id else None
        advisors = list(session.scalars(select(Advisor).where(Advisor.active.is_(True)).order_by(Advisor.name)))
        advisor = next((a for a in advisors if a.id == advisor_id), advisors[0] if advisors else None)
        tz = ZoneInfo(advisor.timezone) if advisor else ZoneInfo(ctx.settings.timezone)
        day = day or now.astimezone(tz).date()
        slots = _free(session, advisor, day, now) if advisor and APPOINTMENT in kinds else []
        rows = {p.code: p for p in session.scalars(select(Product).where(Product.code.in_(list(campaign.products or []))))}
        products = [ProductChoice(code, rows[code].name if code in rows else code,
                                  rows[code].price_label if code in rows else "")
                    for code in campaign.products or []]
        return WorkPanel(call=call, campaign=campaign, kinds=kinds, can_record=reason is None, closed_reason=reason,
                         contact_name=formal_name(contact) if contact else "",
                         currency=plans_rules.currency_of(campaign.country), advisors=advisors, advisor=advisor,
                         day=day, slots=slots, products=products, work=_work_of_call(session, call_id))


def _closed_reason(actor: Actor, call: Call) -> str | None:
    if actor.is_supervisor and call.state in REVIEW_STATES:
        return None
    if call.agent_id == actor.id and call.state in LIVE_STATES:
        return None
    if actor.is_supervisor or call.agent_id == actor.id:
        if call.state == CallState.CLOSED:
            return N_("L'appel est clôturé : seul un superviseur peut encore y enregistrer quelque chose.")
        return N_("Rien ne s'enregistre tant que la personne appelée n'est pas en ligne.")
    return N_("Seul l'agent qui a l'appel, ou un superviseur, enregistre le travail de campagne.")


def _campaign_of(session: Session, call: Call) -> Campaign:
    campaign = session.get(Campaign, call.campaign_id) if call.campaign_id else None
    if campaign is None:
        raise DomainError(N_("Cet appel ne fait partie d'aucune campagne."), "call")
    return campaign


def _recording(session: Session, actor: Actor, call_id: int, what: str) -> tuple[Call, Campaign]:
    """The call and its campaign, if ``actor`` may record ``what`` on it now."""
    call = load_call(session, call_id, lock=True)
    if not actor.is_supervisor and call.agent_id != actor.id:
        raise PermissionDenied(N_("Seul l'agent qui a l'appel, ou un superviseur, enregistre le travail de campagne."))
    campaign = _campaign_of(session, call)
    if what not in work_kinds(campaign.kind):
        raise DomainError(NOT_FOR_KIND[what], "call")
    reason = _closed_reason(actor, call)
    if reason is not None:
        raise DomainError(reason, "call")
    return call, campaign


def _history(session: Session, call: Call, actor: Actor, text: str, now: datetime) -> None:
    """The contact's history says what was agreed on this call (see the module's docstring)."""
    if call.contact_id is not None:
        session.add(Note(contact_id=call.contact_id, call_id=call.id, author_id=actor.id, body=text, created_at=now))


def _today(ctx: Context, now: datetime) -> date:
    return now.astimezone(ZoneInfo(ctx.settings.timezone)).date()


# --- appointments -----------------------------------------------------------------------------------


def _advisor(session: Session, advisor_id: int | None, active: bool = False) -> Advisor:
    advisor = session.get(Advisor, advisor_id) if advisor_id else None
    if advisor is None or (active and not advisor.active):
        raise NotFoundError(N_("Conseiller introuvable."))
    return advisor


def _booked(session: Session, advisor_id: int, since: datetime, until: datetime) -> list[Appointment]:
    return list(session.scalars(select(Appointment).where(
        Appointment.advisor_id == advisor_id, Appointment.status == "booked",
        Appointment.starts_at < until, Appointment.ends_at > since).order_by(Appointment.starts_at)))


def _day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, datetime.min.time(), tz).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz).astimezone(timezone.utc)
    return start, end


def _free(session: Session, advisor: Advisor, day: date, now: datetime) -> list[datetime]:
    tz = ZoneInfo(advisor.timezone)
    slots = slots_rules.day_slots(advisor.hours, advisor.slot_minutes, day, tz)
    booked = [(a.starts_at, a.ends_at) for a in _booked(session, advisor.id, *_day_bounds(day, tz))]
    return slots_rules.free_slots(slots, advisor.slot_minutes, booked, now)


def free_slots(ctx: Context, advisor_id: int, day: date) -> list[datetime]:
    """The advisor's free slots on a day of their calendar (their local date), as UTC starts."""
    with ctx.read() as session:
        return _free(session, _advisor(session, advisor_id), day, ctx.now())


def book_appointment(ctx: Context, actor: Actor, call_id: int, advisor_id: int, starts_at: datetime | None,
                     mode: str, note: str = "") -> Appointment:
    """Book one of the advisor's free slots for the call's contact."""
    with ctx.unit() as session:
        now = ctx.now()
        call, campaign = _recording(session, actor, call_id, APPOINTMENT)
        try:
            advisor = _advisor(session, advisor_id, active=True)
        except NotFoundError as exc:
            raise ValidationError({"advisor_id": DomainError(exc.message, "advisor_id")}) from None
        tz = ZoneInfo(advisor.timezone)
        starts_at = starts_at.astimezone(timezone.utc) if starts_at is not None else None
        day = starts_at.astimezone(tz).date() if starts_at else now.astimezone(tz).date()
        slots = slots_rules.day_slots(advisor.hours, advisor.slot_minutes, day, tz)
        booked = [(a.starts_at, a.ends_at) for a in _booked(session, advisor.id, *_day_bounds(day, tz))]
        booking = slots_rules.check_booking(advisor.name, slots, advisor.slot_minutes, booked, starts_at, mode, note,
                                            now, tz)
        advisor_name = advisor.name  # a failed flush expires the loaded rows: read it before
        values = dict(contact_id=call.contact_id, call_id=call.id, campaign_id=campaign.id, ends_at=booking.ends_at,
                      mode=booking.mode, note=booking.note, status="booked", created_by=actor.id, created_at=now)
        try:
            # a cancelled appointment keeps its row (and the unique start): book over it
            reused = session.execute(update(Appointment).where(
                Appointment.advisor_id == advisor.id, Appointment.starts_at == booking.starts_at,
                Appointment.status == "cancelled").values(**values).execution_options(synchronize_session=False))
            if reused.rowcount:
                appointment = session.scalars(select(Appointment).where(
                    Appointment.advisor_id == advisor.id, Appointment.starts_at == booking.starts_at)).one()
            else:
                appointment = Appointment(advisor_id=advisor.id, starts_at=booking.starts_at, **values)
                session.add(appointment)
                session.flush()
        except IntegrityError:
            raise slots_rules.taken(advisor_name, booking.starts_at, tz) from None
        local = booking.starts_at.astimezone(tz)
        text = N_("Rendez-vous pris avec %(advisor)s le %(date)s à %(time)s (%(mode)s).") % {
            "advisor": advisor.name, "date": local.strftime("%d/%m/%Y"), "time": local.strftime("%H:%M"),
            "mode": slots_rules.MODE_LABELS[booking.mode]}
        if booking.note:
            text += "\n" + N_("Note : %(note)s") % {"note": booking.note}
        _history(session, call, actor, text, now)
        return appointment


@dataclass
class SlotRow:
    starts_at: datetime
    ends_at: datetime
    appointment: Appointment | None
    contact_name: str
    #: not bookable any more: started already
    past: bool
    #: an appointment outside the advisor's present hours (booked before they changed)
    outside_hours: bool = False


@dataclass
class AdvisorDay:
    advisor: Advisor
    day: date
    rows: list[SlotRow]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.advisor.timezone)

    @property
    def previous_day(self) -> date:
        return self.day - timedelta(days=1)

    @property
    def next_day(self) -> date:
        return self.day + timedelta(days=1)

    @property
    def free_count(self) -> int:
        return sum(1 for row in self.rows if row.appointment is None and not row.past)


def advisor_day(ctx: Context, actor: Actor, advisor_id: int, day: date) -> AdvisorDay:
    """A day of an advisor's calendar: each slot free or booked (with whom), plus any appointment off the grid."""
    _require_supervisor(actor)
    with ctx.read() as session:
        now = ctx.now()
        advisor = _advisor(session, advisor_id)
        tz = ZoneInfo(advisor.timezone)
        booked = _booked(session, advisor.id, *_day_bounds(day, tz))
        contacts = {c.id: c for c in session.scalars(select(Contact).where(
            Contact.id.in_({a.contact_id for a in booked} - {None})))}
        step = timedelta(minutes=advisor.slot_minutes)
        rows: list[SlotRow] = []
        placed: set[int] = set()
        for start in slots_rules.day_slots(advisor.hours, advisor.slot_minutes, day, tz):
            hit = next((a for a in booked if a.starts_at < start + step and start < a.ends_at), None)
            if hit is not None:
                placed.add(hit.id)
            rows.append(SlotRow(start, start + step, hit, _name(contacts, hit), start <= now))
        for appointment in booked:
            if appointment.id not in placed:
                rows.append(SlotRow(appointment.starts_at, appointment.ends_at, appointment,
                                    _name(contacts, appointment), appointment.starts_at <= now, outside_hours=True))
        rows.sort(key=lambda row: row.starts_at)
        return AdvisorDay(advisor, day, rows)


def _name(contacts: dict, appointment: Appointment | None) -> str:
    if appointment is None or appointment.contact_id not in contacts:
        return ""
    return formal_name(contacts[appointment.contact_id])


# --- debt collection ----------------------------------------------------------------------------------


def record_promise(ctx: Context, actor: Actor, call_id: int, amount: str, due: str | date, debt: str = "",
                   method: str = "", note: str = "") -> PaymentPlan:
    """A promise to pay ``amount`` (typed: "120,50") by ``due``; the whole debt may be noted beside it."""
    with ctx.unit() as session:
        now = ctx.now()
        call, campaign = _recording(session, actor, call_id, PROMISE)
        errors: dict[str, DomainError] = {}
        checked = _gather(errors, lambda: plans_rules.check_promise(amount, due, _today(ctx, now), debt))
        terms = _gather(errors, lambda: plans_rules.check_terms(method, note))
        if errors:
            raise ValidationError(errors)
        cents, day, debt_cents = checked
        method, note = terms
        plan = PaymentPlan(contact_id=call.contact_id, call_id=call.id, campaign_id=campaign.id, kind=PROMISE,
                           debt_cents=debt_cents, total_cents=cents,
                           instalments=[plans_rules.Instalment(day, cents).to_json()], payment_method=method,
                           note=note, created_by=actor.id, created_at=now)
        session.add(plan)
        session.flush()
        currency = plans_rules.currency_of(campaign.country)
        text = N_("Promesse de paiement : %(amount)s au plus tard le %(date)s.") % {
            "amount": plans_rules.format_money(cents, currency), "date": day.strftime("%d/%m/%Y")}
        _history(session, call, actor, _with_terms(text, method, note), now)
        return plan


def propose_plan(ctx: Context, debt: str, count: str, first_due: str | date) -> tuple[int, list[plans_rules.Instalment]]:
    """The debt split into ``count`` equal monthly instalments from ``first_due``, for the agent to adjust."""
    return plans_rules.propose(debt, count, first_due, _today(ctx, ctx.now()))


def record_payment_plan(ctx: Context, actor: Actor, call_id: int, debt: str,
                        instalments: list[tuple[str, str]], method: str = "", note: str = "") -> PaymentPlan:
    """A payment plan ("échéancier"): the debt and its instalments as (date, amount) typed on the form."""
    with ctx.unit() as session:
        now = ctx.now()
        call, campaign = _recording(session, actor, call_id, PLAN)
        errors: dict[str, DomainError] = {}
        checked = _gather(errors, lambda: plans_rules.check_plan(debt, instalments, _today(ctx, now)))
        terms = _gather(errors, lambda: plans_rules.check_terms(method, note))
        if errors:
            raise ValidationError(errors)
        debt_cents, lines = checked
        method, note = terms
        plan = PaymentPlan(contact_id=call.contact_id, call_id=call.id, campaign_id=campaign.id, kind=PLAN,
                           debt_cents=debt_cents, total_cents=sum(i.amount_cents for i in lines),
                           instalments=[i.to_json() for i in lines], payment_method=method, note=note,
                           created_by=actor.id, created_at=now)
        session.add(plan)
        session.flush()
        currency = plans_rules.currency_of(campaign.country)
        text = N_("Échéancier : %(total)s en %(count)s échéances, du %(first)s au %(last)s.") % {
            "total": plans_rules.format_money(debt_cents, currency), "count": len(lines),
            "first": lines[0].due.strftime("%d/%m/%Y"), "last": lines[-1].due.strftime("%d/%m/%Y")}
        _history(session, call, actor, _with_terms(text, method, note), now)
        return plan


def _with_terms(text: str, method: str, note: str) -> str:
    if method:
        text += "\n" + N_("Moyen de paiement : %(method)s") % {"method": plans_rules.METHOD_LABELS[method]}
    if note:
        text += "\n" + N_("Note : %(note)s") % {"note": note}
    return text


def _gather(errors: dict, check):
    """Run a check that may refuse several fields; its refusals join ``errors``."""
    try:
        return check()
    except ValidationError as exc:
        errors.update(exc.errors)
        return None


# --- sales -------------------------------------------------------------------------------------------


def record_sale(ctx: Context, actor: Actor, call_id: int, lines: list[sales_rules.TypedLine], payment_terms: str,
                delivery_terms: str = "") -> Sale:
    """A sale of the campaign's products: lines as typed (quantity, unit price, additional or not)."""
    with ctx.unit() as session:
        now = ctx.now()
        call, campaign = _recording(session, actor, call_id, SALE)
        errors: dict[str, DomainError] = {}
        sold = _gather(errors, lambda: sales_rules.parse_lines(lines, campaign.products or []))
        terms = _gather(errors, lambda: sales_rules.check_terms(payment_terms, delivery_terms))
        if errors:
            raise ValidationError(errors)
        total = sales_rules.amounts(sold)
        payment_terms, delivery_terms = terms
        sale = Sale(contact_id=call.contact_id, call_id=call.id, campaign_id=campaign.id,
                    lines=[line.to_json() for line in sold], amount_cents=total.amount_cents,
                    additional_cents=total.additional_cents, payment_terms=payment_terms,
                    delivery_terms=delivery_terms, created_by=actor.id, created_at=now)
        session.add(sale)
        session.flush()
        currency = plans_rules.currency_of(campaign.country)
        names = dict(session.execute(select(Product.code, Product.name).where(
            Product.code.in_([line.product for line in sold]))).all())
        detail = ", ".join(N_("%(quantity)s × %(product)s") % {"quantity": line.quantity,
                                                               "product": names.get(line.product, line.product)}
                           for line in sold)
        text = N_("Vente : %(amount)s (%(lines)s).") % {"amount": plans_rules.format_money(total.amount_cents, currency),
                                                        "lines": detail}
        if total.additional_cents:
            text += "\n" + N_("Dont vente additionnelle : %(amount)s.") % {
                "amount": plans_rules.format_money(total.additional_cents, currency)}
        text += "\n" + N_("Paiement : %(terms)s") % {"terms": payment_terms}
        if delivery_terms:
            text += "\n" + N_("Livraison : %(terms)s") % {"terms": delivery_terms}
        _history(session, call, actor, text, now)
        return sale


# --- advisors (their calendars' settings) ---------------------------------------------------------------


def _require_supervisor(actor: Actor) -> None:
    if not actor.is_supervisor:
        raise PermissionDenied(N_("Réservé aux superviseurs, formateurs et administrateurs."))


@dataclass
class AdvisorForm:
    """The advisor form as typed: hours as one "09:00-12:00, 14:00-18:00" text per weekday."""

    name: str = ""
    location: str = ""
    slot_minutes: str = "30"
    timezone: str = "Europe/Paris"
    active: bool = True
    hours: dict[str, str] = field(default_factory=dict)


def list_advisors(ctx: Context, actor: Actor) -> list[Advisor]:
    _require_supervisor(actor)
    with ctx.read() as session:
        return list(session.scalars(select(Advisor).order_by(Advisor.active.desc(), Advisor.name, Advisor.id)))


def get_advisor(ctx: Context, advisor_id: int) -> Advisor:
    with ctx.read() as session:
        return _advisor(session, advisor_id)


def advisor_form(ctx: Context, actor: Actor, advisor_id: int | None = None) -> AdvisorForm:
    _require_supervisor(actor)
    if advisor_id is None:
        return AdvisorForm()
    advisor = get_advisor(ctx, advisor_id)
    return AdvisorForm(name=advisor.name, location=advisor.location, slot_minutes=str(advisor.slot_minutes),
                       timezone=advisor.timezone, active=advisor.active,
                       hours={day: queue_hours.format_ranges((advisor.hours or {}).get(day, []))
                              for day in queue_hours.DAYS})


def save_advisor(ctx: Context, actor: Actor, advisor_id: int | None, form: AdvisorForm) -> Advisor:
    """Create (``advisor_id`` None) or update an advisor; hours use the queues' format and checks."""
    from .floor_admin import hours_problems

    _require_supervisor(actor)
    table, errors = hours_problems(form.hours or {})
    settings = slots_rules.check_advisor(form.name, table, form.slot_minutes, form.timezone, form.location, errors)
    with ctx.unit() as session:
        advisor = Advisor() if advisor_id is None else _advisor(session, advisor_id)
        advisor.name, advisor.hours, advisor.slot_minutes = settings.name, settings.hours, settings.slot_minutes
        advisor.timezone, advisor.location, advisor.active = settings.timezone, settings.location, bool(form.active)
        session.add(advisor)
        session.flush()
        return advisor
