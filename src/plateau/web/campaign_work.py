"""Campaign work on a call in the browser, and the advisors' calendars.

``GET /calls/{id}/work`` is the panel the agent desktop loads with htmx for a
call of a campaign (its container: ``<section id="campaign-work-panel"
class="panel" aria-labelledby="campaign-work-title" hx-get="/calls/{id}/work"
hx-trigger="load">``). The fragment is one ``<div id="campaign-work">``
whose forms replace its content (``hx-target="#campaign-work"
hx-swap="innerHTML"``; htmx says so in ``HX-Target``, and only the content
is sent back), so it works in any container and the element that holds what
is announced stays in the page. Opened directly (no htmx), the same URL is a
whole page and the forms post and redirect back to it.

A refused form comes back with what was typed, an error next to each field
and a summary linking to them (focus on the summary); a recorded item comes
back announced through the page's live region, focus on the list of what
the call recorded.

The advisors' pages (``/campaigns/advisors``…) set up the simple calendars
appointments are booked in, and show a day of each.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from jinja2 import pass_context

from ..domain import appointments as slot_rules
from ..domain import payment_plans as plan_rules
from ..domain import queue_hours
from ..domain.errors import N_, ConflictError, DomainError, NotFoundError, PermissionDenied, ValidationError
from ..domain.sales import TypedLine
from ..services import campaign_work as work
from ..services.context import Actor, Context
from .deps import current_actor, get_ctx, page, supervisor_actor, verify_csrf
from .i18n import gettext as _
from .i18n import localized_hours_errors as localized_hours
from .templating import env

router = APIRouter(include_in_schema=False)

DONE = {work.APPOINTMENT: N_("Rendez-vous enregistré."), work.PROMISE: N_("Promesse de paiement enregistrée."),
        work.PLAN: N_("Échéancier enregistré."), work.SALE: N_("Vente enregistrée.")}
ADVISOR_FIELD_LABELS = {"name": N_("Nom"), "location": N_("Lieu"), "slot_minutes": N_("Durée d'un créneau (minutes)"),
                        "timezone": N_("Fuseau horaire"), "hours": N_("Horaires")}
#: the fields of each work form, for the error summary (the row fields are named in ``field_label``)
FIELD_LABELS = {
    "advisor_id": N_("Conseiller"), "starts_at": N_("Créneau"), "mode": N_("Type de rendez-vous"), "note": N_("Note"),
    "amount": N_("Montant promis"), "due": N_("Date promise"), "debt": N_("Montant de la dette"),
    "method": N_("Moyen de paiement"), "count": N_("Nombre d'échéances"),
    "first_due": N_("Date de la première échéance"), "instalments": N_("Échéances"), "total": N_("Total des échéances"),
    "lines": N_("Produits vendus"), "payment_terms": N_("Conditions de paiement"),
    "delivery_terms": N_("Conditions de livraison"),
}


# --- formatting (Jinja filters, also used by the results pages) ---------------------------------------


def _locale(context) -> str:
    return (context.get("locale") if context else None) or "fr"


@pass_context
def money_cents(context, cents: int | None, currency: str = "EUR") -> str:
    """12050 → "120,50 €" in the reader's language."""
    return plan_rules.format_money(int(cents or 0), currency, _locale(context))


@pass_context
def day_full(context, day: date) -> str:
    """ "mardi 24 novembre 2026": the weekday said, for a calendar's day."""
    return format_date(day, "full", locale=_locale(context))


def in_zone(value: datetime | None, zone: str | ZoneInfo, fmt: str = "%H:%M") -> str:
    """A time in a given zone (an advisor's), not the site's."""
    if value is None:
        return ""
    return value.astimezone(zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)).strftime(fmt)


env.filters.update(money_cents=money_cents, day_full=day_full, in_zone=in_zone)


def field_label(name: str, products: list | None = None) -> str:
    """A form field's name as the error summary says it, rows numbered from 1."""
    head, _sep, tail = name.rpartition("_")
    if tail.isdigit() and head in ("due", "amount"):
        return (_("Échéance n° %(n)s, date") if head == "due" else _("Échéance n° %(n)s, montant")) % {"n": int(tail) + 1}
    if tail.isdigit() and head in ("quantity", "price", "product"):
        index = int(tail)
        product = products[index].name if products and index < len(products) else tail
        return {"quantity": _("Quantité de « %(product)s »"), "price": _("Prix unitaire de « %(product)s »"),
                "product": _("Produit « %(product)s »")}[head] % {"product": product}
    return _(FIELD_LABELS[name]) if name in FIELD_LABELS else ""


env.globals.update(campaign_work_field_label=field_label)


# --- the panel ---------------------------------------------------------------------------------------------


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def _int(text) -> int | None:
    text = str(text or "").strip()
    return int(text) if text.isdigit() else None


def _panel(request: Request, ctx: Context, actor: Actor, call_id: int, status: int = 200,
           advisor_id: int | None = None, day: date | None = None, **extra):
    """The panel (an htmx request) or the whole page around it."""
    p = work.panel(ctx, actor, call_id, advisor_id, day)
    context = {"errors": {}, "values": {}, "failed": None, "refusal": None, "announce": "", "focus": ""}
    context.update(extra)
    if not request.headers.get("hx-request"):
        template = "campaign_work/page.html"
    elif request.headers.get("hx-target") == "campaign-work":
        template = "campaign_work/_panel_body.html"  # the panel's own forms: its content only
    else:
        template = "campaign_work/_panel.html"
    return page(request, template, status_code=status, p=p, MODE_LABELS=slot_rules.MODE_LABELS,
                METHOD_LABELS=plan_rules.METHOD_LABELS, DONE=DONE,
                MAX_INSTALMENTS=plan_rules.MAX_INSTALMENTS, **context)


@router.get("/calls/{call_id:int}/work")
def work_panel(call_id: int, request: Request, advisor: str = "", day: str = "", done: str = "",
               actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    """The panel; ``advisor`` and ``day`` pick whose free slots to show (the "Voir les créneaux" form)."""
    chosen_day = _day(day)
    extra = {"focus": "slots"} if day or advisor else {}
    if day and chosen_day is None:
        extra["errors"] = {"day": DomainError(N_("Date invalide : utilisez le calendrier ou le format AAAA-MM-JJ."),
                                              "day")}
        extra["failed"] = "slots"
    if done in DONE:
        extra["announce"] = _(DONE[done])
    return _panel(request, ctx, actor, call_id, advisor_id=_int(advisor), day=chosen_day, **extra)


async def _record(request: Request, ctx: Context, actor: Actor, call_id: int, what: str, action, values: dict,
                  advisor_id: int | None = None, day: date | None = None, **extra):
    """Run one recording; the panel again, with the refusal or the announcement."""
    try:
        action()
    except (PermissionDenied, NotFoundError):
        raise
    except (ValidationError, ConflictError) as exc:
        errors = getattr(exc, "errors", None) or {exc.field or "_": exc}
        status = 409 if isinstance(exc, ConflictError) else 422
        return _panel(request, ctx, actor, call_id, status=status, advisor_id=advisor_id, day=day, errors=errors,
                      values=values, failed=what, **extra)
    except DomainError as exc:  # not for this campaign, or not at this stage of the call
        return _panel(request, ctx, actor, call_id, status=422, advisor_id=advisor_id, day=day, refusal=exc)
    if not request.headers.get("hx-request"):
        return RedirectResponse(f"/calls/{call_id}/work?done={what}", status_code=303)
    return _panel(request, ctx, actor, call_id, advisor_id=advisor_id, day=day, announce=_(DONE[what]),
                  focus="recorded")


def _strings(form, *names: str) -> dict[str, str]:
    return {name: str(form.get(name, "")) for name in names}


@router.post("/calls/{call_id:int}/work/appointment", dependencies=[Depends(verify_csrf)])
async def post_appointment(call_id: int, request: Request, actor: Actor = Depends(current_actor),
                           ctx: Context = Depends(get_ctx)):
    form = await request.form()
    values = _strings(form, "advisor_id", "day", "starts_at", "mode", "note")
    advisor_id, starts_at = _int(values["advisor_id"]), None
    try:
        starts_at = datetime.fromisoformat(values["starts_at"]) if values["starts_at"] else None
        if starts_at is not None and starts_at.tzinfo is None:
            starts_at = None
    except ValueError:
        starts_at = None
    return await _record(request, ctx, actor, call_id, work.APPOINTMENT,
                         lambda: work.book_appointment(ctx, actor, call_id, advisor_id, starts_at, values["mode"],
                                                       values["note"]),
                         values, advisor_id=advisor_id, day=_day(values["day"]))


@router.post("/calls/{call_id:int}/work/promise", dependencies=[Depends(verify_csrf)])
async def post_promise(call_id: int, request: Request, actor: Actor = Depends(current_actor),
                       ctx: Context = Depends(get_ctx)):
    form = await request.form()
    values = _strings(form, "amount", "due", "debt", "method", "note")
    return await _record(request, ctx, actor, call_id, work.PROMISE,
                         lambda: work.record_promise(ctx, actor, call_id, values["amount"], values["due"],
                                                     values["debt"], values["method"], values["note"]), values)


@router.post("/calls/{call_id:int}/work/plan", dependencies=[Depends(verify_csrf)])
async def post_plan(call_id: int, request: Request, actor: Actor = Depends(current_actor),
                    ctx: Context = Depends(get_ctx)):
    """``action=propose`` splits the debt into equal monthly lines to edit; ``action=save`` records the lines."""
    form = await request.form()
    values = _strings(form, "debt", "count", "first_due", "method", "note")
    rows = []
    for index in range(plan_rules.MAX_INSTALMENTS + 12):
        if f"due_{index}" not in form and f"amount_{index}" not in form:
            break
        rows.append((str(form.get(f"due_{index}", "")), str(form.get(f"amount_{index}", ""))))
    values["rows"] = rows
    if form.get("action") == "propose" or not rows:
        try:
            debt_cents, lines = work.propose_plan(ctx, values["debt"], values["count"], values["first_due"])
        except ValidationError as exc:
            return _panel(request, ctx, actor, call_id, status=422, errors=exc.errors, values=values, failed=work.PLAN)
        values["rows"] = [(line.due.isoformat(), plan_rules.plain(line.amount_cents).replace("\u202f", ""))
                          for line in lines]
        return _panel(request, ctx, actor, call_id, values=values, failed=work.PLAN, focus="plan-lines",
                      announce=_("Échéancier proposé : %(count)s échéances. Vérifiez ou modifiez chaque ligne, "
                                 "puis enregistrez.") % {"count": len(lines)})
    return await _record(request, ctx, actor, call_id, work.PLAN,
                         lambda: work.record_payment_plan(ctx, actor, call_id, values["debt"], rows, values["method"],
                                                          values["note"]), values)


@router.post("/calls/{call_id:int}/work/sale", dependencies=[Depends(verify_csrf)])
async def post_sale(call_id: int, request: Request, actor: Actor = Depends(current_actor),
                    ctx: Context = Depends(get_ctx)):
    form = await request.form()
    values = _strings(form, "payment_terms", "delivery_terms")
    lines = []
    for index in range(200):
        if f"product_{index}" not in form:
            break
        line = TypedLine(str(form.get(f"product_{index}", "")), str(form.get(f"quantity_{index}", "")),
                         str(form.get(f"price_{index}", "")), bool(form.get(f"additional_{index}")))
        lines.append(line)
        values.update({f"quantity_{index}": line.quantity, f"price_{index}": line.unit_price,
                       f"additional_{index}": line.additional})
    return await _record(request, ctx, actor, call_id, work.SALE,
                         lambda: work.record_sale(ctx, actor, call_id, lines, values["payment_terms"],
                                                  values["delivery_terms"]), values)


# --- advisors -----------------------------------------------------------------------------------------------


def _advisor_labels() -> dict:
    return {"DAY_LABELS": queue_hours.DAY_LABELS, "DAYS": queue_hours.DAYS, "FIELD_LABELS": ADVISOR_FIELD_LABELS,
            "MODE_LABELS": slot_rules.MODE_LABELS}


@router.get("/campaigns/advisors")
def advisors_page(request: Request, saved: int = 0, actor: Actor = Depends(supervisor_actor),
                  ctx: Context = Depends(get_ctx)):
    return page(request, "campaign_work/advisors.html", rows=work.list_advisors(ctx, actor), saved=bool(saved),
                format_ranges=queue_hours.format_ranges, **_advisor_labels())


def _form_page(request: Request, form: work.AdvisorForm, advisor_id: int | None, errors: dict | None = None,
               status: int = 200):
    return page(request, "campaign_work/advisor_form.html", status_code=status, form=form, advisor_id=advisor_id,
                errors=errors or {}, **_advisor_labels())


@router.get("/campaigns/advisors/new")
def new_advisor_page(request: Request, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    return _form_page(request, work.advisor_form(ctx, actor), None)


@router.get("/campaigns/advisors/{advisor_id:int}/edit")
def edit_advisor_page(advisor_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                      ctx: Context = Depends(get_ctx)):
    return _form_page(request, work.advisor_form(ctx, actor, advisor_id), advisor_id)


@router.post("/campaigns/advisors/new", dependencies=[Depends(verify_csrf)])
async def create_advisor(request: Request, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    return await _save_advisor(request, ctx, actor, None)


@router.post("/campaigns/advisors/{advisor_id:int}/edit", dependencies=[Depends(verify_csrf)])
async def update_advisor(advisor_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                         ctx: Context = Depends(get_ctx)):
    return await _save_advisor(request, ctx, actor, advisor_id)


async def _save_advisor(request: Request, ctx: Context, actor: Actor, advisor_id: int | None):
    form = await request.form()
    typed = work.AdvisorForm(name=str(form.get("name", "")), location=str(form.get("location", "")),
                             slot_minutes=str(form.get("slot_minutes", "")), timezone=str(form.get("timezone", "")),
                             active=bool(form.get("active")),
                             hours={day: str(form.get(f"hours_{day}", "")) for day in queue_hours.DAYS})
    try:
        work.save_advisor(ctx, actor, advisor_id, typed)
    except ValidationError as exc:
        return _form_page(request, typed, advisor_id, localized_hours(exc.errors), status=422)
    return RedirectResponse("/campaigns/advisors?saved=1", status_code=303)


@router.get("/campaigns/advisors/{advisor_id:int}")
def advisor_day_page(advisor_id: int, request: Request, day: str = "", actor: Actor = Depends(supervisor_actor),
                     ctx: Context = Depends(get_ctx)):
    """One day of an advisor's calendar: every slot, free or booked (with whom)."""
    chosen = _day(day)
    if day and chosen is None:
        raise HTTPException(status_code=422, detail=_("Date invalide : utilisez le calendrier ou le format AAAA-MM-JJ."))
    if chosen is None:
        advisor = work.get_advisor(ctx, advisor_id)
        chosen = ctx.now().astimezone(ZoneInfo(advisor.timezone)).date()
    view = work.advisor_day(ctx, actor, advisor_id, chosen)
    return page(request, "campaign_work/advisor_day.html", view=view, **_advisor_labels())
