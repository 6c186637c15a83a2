"""Customer file pages ("fichier client"), the contact panels of the agent
desktop, and the contacts JSON API — all on ``services.crm``.

A contact panel is made of regions (summary, edit form, note form, history)
that htmx refreshes one at a time: saving the edit form never wipes a note
being typed, and the reverse. Without JavaScript every form still posts and
redirects. The same templates serve the contact page (``h1`` title) and the
desktop (inside its ``<section>`` titled by our ``h2#contact-title``).
"""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from ..domain import contacts as rules
from ..domain import phones
from ..domain.calls import STATE_LABELS as CALL_STATE_LABELS
from ..domain.contacts import EDITABLE, PhoneInput
from ..domain.errors import ConflictError, ValidationError
from ..services import crm
from ..services.context import Actor, Context
from .deps import current_actor, get_ctx, page, verify_csrf
from .i18n import gettext as _

router = APIRouter()
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/contacts", tags=["contacts"], dependencies=[Depends(verify_csrf)])

#: phone rows in the form (more are shown when a record already has more)
MAX_PHONES = 3
FLAGS = ("consent_call", "consent_email", "opposition")
#: results shown by the desktop's "already in the file?" search
CHOICE_LIMIT = 10

LABELS = {
    "KINDS": rules.KINDS, "STATUSES": rules.STATUSES, "TEMPERATURES": rules.TEMPERATURES,
    "CIVILITIES": rules.CIVILITIES, "PHONE_LABELS": rules.PHONE_LABELS, "CSP": rules.SOCIO_PROFESSIONAL,
    "COUNTRIES": rules.COUNTRIES, "FIELD_LABELS": rules.FIELD_LABELS, "CALL_STATES": CALL_STATE_LABELS,
}
_CHOICES = {"kind": rules.KINDS, "status": rules.STATUSES, "prospect_temperature": rules.TEMPERATURES,
            "civility": rules.CIVILITIES, "socio_professional_category": rules.SOCIO_PROFESSIONAL,
            "country": rules.COUNTRIES}


# --- what forms hold -----------------------------------------------------------------------------


def blank_form(ctx: Context, phone_e164: str | None = None) -> dict:
    """An empty creation form; a caller's number goes in the first phone row."""
    region = ctx.settings.default_region
    values: dict = {name: "" for name in EDITABLE}
    values.update(kind="person", status="prospect", country=region, phone_region=region)
    values.update({flag: False for flag in FLAGS})
    rows = []
    if phone_e164:
        rows.append({"number": phones.display(phone_e164, region), "label": "mobile", "stored": phone_e164})
    values["phones"] = _pad(rows)
    return values


def form_of(view: crm.ContactView) -> dict:
    """A stored record as its edit form shows it (numbers of its own country in national format)."""
    values: dict = {}
    for name in EDITABLE:
        value = getattr(view, name)
        if isinstance(value, bool):
            values[name] = value
        elif isinstance(value, date):
            values[name] = value.isoformat()
        elif isinstance(value, list):
            values[name] = ", ".join(value)
        else:
            values[name] = "" if value is None else str(value)
    values["phone_region"] = view.country
    values["phones"] = _pad([{"number": phones.display(p.e164, view.country), "label": p.label, "stored": p.e164}
                             for p in view.phones])
    return values


def form_from_post(form) -> dict:
    values: dict = {name: str(form.get(name, "")) for name in EDITABLE}
    values.update({flag: bool(form.get(flag)) for flag in FLAGS})
    values["phone_region"] = str(form.get("phone_region", ""))
    rows, index = [], 0
    while f"phone_{index}" in form and index < 20:
        rows.append({"number": str(form.get(f"phone_{index}", "")),
                     "label": str(form.get(f"phone_{index}_label", "mobile")),
                     "stored": str(form.get(f"phone_{index}_stored", ""))})
        index += 1
    values["phones"] = _pad(rows)
    return values


def service_input(values: dict) -> tuple[dict, list[PhoneInput]]:
    """Form values → ``clean_contact`` input.

    A number shown from the record comes back as typed ("06 12 34 56 78");
    when it still reads as the stored number in the region it was shown for,
    the stored E.164 is kept, so changing the country cannot silently turn a
    French mobile into a Moroccan one.
    """
    data = {name: values[name] for name in EDITABLE}
    inputs = []
    for row in values["phones"]:
        number = row["number"].strip()
        if number and row.get("stored") and values.get("phone_region"):
            if row["stored"] in phones.candidates(number, [values["phone_region"]]):
                number = row["stored"]
        inputs.append(PhoneInput(number, row["label"]))
    return data, inputs


def _pad(rows: list[dict]) -> list[dict]:
    return rows + [{"number": "", "label": "mobile", "stored": ""} for _ in range(MAX_PHONES - len(rows))]


def shown(field: str, value) -> str:
    """A form or history value as a person reads it: labels, Oui/Non, national numbers."""
    if value in (None, "", []):
        return "—"
    if field in FLAGS:
        return _("Oui") if value in (True, "true") else _("Non")
    if field == "phones":
        pairs = rules.parse_phones_text(value) if isinstance(value, str) else [
            (r["number"], r["label"]) for r in value if r["number"].strip()]
        return "; ".join(f"{phones.display(n) if n.startswith('+') else n} ({_(rules.PHONE_LABELS.get(l, l))})"
                         for n, l in pairs) or "—"
    if field in _CHOICES and value in _CHOICES[field]:
        return _(_CHOICES[field][value])
    if field == "birth_date":
        try:
            return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
        except ValueError:
            return str(value)
    return str(value)


def differences(current: dict, mine: dict) -> list[dict]:
    """Fields where the saved record and the unsaved input differ (the conflict table)."""
    rows = []
    for name in EDITABLE:
        if shown(name, current[name]) != shown(name, mine[name]):
            rows.append({"field": name, "current": shown(name, current[name]), "mine": shown(name, mine[name])})
    if shown("phones", current["phones"]) != shown("phones", mine["phones"]):
        rows.append({"field": "phones", "current": shown("phones", current["phones"]),
                     "mine": shown("phones", mine["phones"])})
    return rows


def _int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _htmx(request: Request) -> bool:
    return bool(request.headers.get("hx-request")) and not request.headers.get("hx-history-restore-request")


# --- rendering ---------------------------------------------------------------------------------------


def _render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    return page(request, template, status_code=status, shown=shown, **LABELS, **context)


def _panel_context(ctx: Context, contact_id: int, call_id: int | None, embedded: bool, **extra) -> dict:
    view = crm.get_contact(ctx, contact_id)
    context = {"v": view, "items": crm.timeline(ctx, contact_id), "call_id": call_id, "embedded": embedded,
               "form": form_of(view), "version": view.version, "errors": {}, "note_errors": {}, "note_body": "",
               "conflict": None, "saved": None, "note_saved": None}
    context.update(extra)
    return context


def _panel(request: Request, ctx: Context, contact_id: int, call_id: int | None, embedded: bool,
           region: str | None = None, status: int = 200, **extra) -> HTMLResponse:
    """The contact panel, whole (page, desktop) or one region with out-of-band refreshes (htmx)."""
    context = _panel_context(ctx, contact_id, call_id, embedded, **extra)
    if region and _htmx(request):
        return _render(request, "contacts/_region_response.html", status, region=region, **context)
    if embedded or _htmx(request):
        return _render(request, "contacts/_panel.html", status, **context)
    return _render(request, "contacts/detail.html", status, **context)


def contact_panel(request: Request, ctx: Context, contact_id: int, call_id: int | None = None) -> str:
    """Desktop: the card, edit form, note form and history of a contact, edits linked to ``call_id``."""
    return _panel(request, ctx, contact_id, call_id, embedded=True).body.decode()


def create_panel(request: Request, ctx: Context, phone_e164: str | None, call_id: int | None,
                 form: dict | None = None, errors: dict | None = None, status: int = 200) -> str:
    """Desktop: the creation form ("masque de création") prefilled with the caller's number."""
    return _create_panel(request, ctx, phone_e164, call_id, form, errors, status).body.decode()


def _create_panel(request: Request, ctx: Context, phone_e164: str | None, call_id: int | None,
                  form: dict | None = None, errors: dict | None = None, status: int = 200) -> HTMLResponse:
    return _render(request, "contacts/_create_panel.html", status, form=form or blank_form(ctx, phone_e164),
                   errors=errors or {}, call_id=call_id, phone=phone_e164, embedded=True)


def choice_panel(request: Request, ctx: Context, contacts: list, call_id: int | None, query: str | None = None) -> str:
    """Desktop: several contacts share the caller's number (or match a search): pick one for the call.

    ``contacts`` are ids, ``Contact`` rows or search summaries.
    """
    return _choice_panel(request, ctx, contacts, call_id, query).body.decode()


def _choice_panel(request: Request, ctx: Context, contacts: list, call_id: int | None,
                  query: str | None = None, phone: str | None = None) -> HTMLResponse:
    views = [crm.get_contact(ctx, c if isinstance(c, int) else c.id) for c in contacts]
    if phone is None and views:  # the number the contacts share: the caller's
        shared = set.intersection(*({p.e164 for p in view.phones} for view in views))
        phone = next((p.e164 for p in views[0].phones if p.e164 in shared), None)
    return _render(request, "contacts/_choice_panel.html", views=views, call_id=call_id, query=query, phone=phone)


# --- pages --------------------------------------------------------------------------------------------


@pages.get("/contacts")
def search_page(request: Request, q: str = "", after: str | None = None, actor: Actor = Depends(current_actor),
                ctx: Context = Depends(get_ctx)):
    query = q.strip()
    try:
        result = crm.search(ctx, query, after=after) if query else None
    except ValidationError:  # a cursor edited by hand: back to the first page
        after, result = None, crm.search(ctx, query)
    template = "contacts/_results.html" if _htmx(request) else "contacts/search.html"
    return _render(request, template, q=query, after=after, result=result)


@pages.get("/contacts/new")
def new_page(request: Request, phone: str = "", call_id: int | None = None, actor: Actor = Depends(current_actor),
             ctx: Context = Depends(get_ctx)):
    found = phones.candidates(phone, ctx.settings.phone_regions) if phone.strip() else []
    form = blank_form(ctx, found[0] if found else None)
    if phone.strip() and not found:
        form["phones"][0]["number"] = phone.strip()
    return _render(request, "contacts/new.html", form=form, errors={}, call_id=call_id)


@pages.get("/contacts/create-panel")
def create_panel_route(request: Request, phone: str = "", call_id: int | None = None,
                       actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    found = phones.candidates(phone, ctx.settings.phone_regions) if phone.strip() else []
    return _create_panel(request, ctx, found[0] if found else None, call_id)


@pages.get("/contacts/choice-panel")
def choice_panel_route(request: Request, call_id: int | None = None, phone: str = "", q: str = "",
                       actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    """Contacts to pick for a call: those with ``phone`` (E.164), or the first results of ``q``."""
    found = phones.candidates(phone, ctx.settings.phone_regions) if phone.strip() else []
    if q.strip():
        contacts = crm.search(ctx, q, limit=CHOICE_LIMIT).items
    else:
        contacts = crm.lookup_by_phone(ctx, found[0]) if found else []
    return _choice_panel(request, ctx, contacts, call_id, q.strip() or None, found[0] if found else None)


@pages.post("/contacts", dependencies=[Depends(verify_csrf)])
async def create(request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    form = await request.form()
    return await run_in_threadpool(_create, request, ctx, actor, form)


def _create(request: Request, ctx: Context, actor: Actor, form) -> HTMLResponse | RedirectResponse:
    values = form_from_post(form)
    call_id = _int(form.get("call_id"))
    embedded = form.get("embedded") == "1"
    try:
        contact = crm.create_contact(ctx, actor, *service_input(values), call_id=call_id)
    except ValidationError as exc:
        if embedded:
            phone = next((row["stored"] for row in values["phones"] if row["stored"]), None)
            return _create_panel(request, ctx, phone, call_id, values, exc.errors, status=422)
        return _render(request, "contacts/new.html", 422, form=values, errors=exc.errors, call_id=call_id)
    if embedded and _htmx(request):
        message = _("Fiche créée et associée à l'appel.") if call_id else _("Fiche créée.")
        return _panel(request, ctx, contact.id, call_id, True, saved=message)
    if embedded:
        return RedirectResponse("/desktop", status_code=303)
    return RedirectResponse(f"/contacts/{contact.id}?created=1", status_code=303)


@pages.get("/contacts/{contact_id:int}")
def detail_page(contact_id: int, request: Request, call_id: int | None = None, saved: int = 0, created: int = 0,
                actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    message = _("Fiche créée.") if created else _("Fiche enregistrée.") if saved else None
    return _panel(request, ctx, contact_id, call_id, embedded=False, saved=message)


@pages.get("/contacts/{contact_id:int}/panel")
def panel_route(contact_id: int, request: Request, call_id: int | None = None,
                actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return HTMLResponse(contact_panel(request, ctx, contact_id, call_id))


@pages.post("/contacts/{contact_id:int}/edit", dependencies=[Depends(verify_csrf)])
async def edit(contact_id: int, request: Request, actor: Actor = Depends(current_actor),
               ctx: Context = Depends(get_ctx)):
    form = await request.form()
    return await run_in_threadpool(_edit, request, ctx, actor, contact_id, form)


def _edit(request: Request, ctx: Context, actor: Actor, contact_id: int, form):
    values = form_from_post(form)
    call_id = _int(form.get("call_id"))
    embedded = form.get("embedded") == "1"
    version = _int(form.get("version")) or 0
    try:
        crm.update_contact(ctx, actor, contact_id, version, *service_input(values), call_id=call_id)
    except ValidationError as exc:
        return _panel(request, ctx, contact_id, call_id, embedded, region="edit", status=422, form=values,
                      errors=exc.errors, version=version)
    except ConflictError as exc:
        current = crm.get_contact(ctx, contact_id)
        conflict = {"message": exc.render(_), "rows": differences(form_of(current), values)}
        # the form keeps the user's input and now carries the current version:
        # saving again, knowingly, replaces what the other person saved
        return _panel(request, ctx, contact_id, call_id, embedded, region="edit", status=409, form=values,
                      conflict=conflict, version=current.version)
    if _htmx(request):
        return _panel(request, ctx, contact_id, call_id, embedded, region="edit", saved=_("Fiche enregistrée."))
    return RedirectResponse("/desktop" if embedded else f"/contacts/{contact_id}?saved=1", status_code=303)


@pages.post("/contacts/{contact_id:int}/notes", dependencies=[Depends(verify_csrf)])
async def note(contact_id: int, request: Request, actor: Actor = Depends(current_actor),
               ctx: Context = Depends(get_ctx)):
    form = await request.form()
    return await run_in_threadpool(_note, request, ctx, actor, contact_id, form)


def _note(request: Request, ctx: Context, actor: Actor, contact_id: int, form):
    body = str(form.get("body", ""))
    call_id = _int(form.get("call_id"))
    embedded = form.get("embedded") == "1"
    try:
        crm.add_note(ctx, actor, contact_id, body, call_id=call_id)
    except ValidationError as exc:
        return _panel(request, ctx, contact_id, call_id, embedded, region="note", status=422,
                      note_errors=exc.errors, note_body=body)
    if _htmx(request):
        return _panel(request, ctx, contact_id, call_id, embedded, region="note", note_saved=_("Note ajoutée."))
    return RedirectResponse("/desktop" if embedded else f"/contacts/{contact_id}#contact-history-title",
                            status_code=303)


# --- JSON API -----------------------------------------------------------------------------------------


class PhoneIn(BaseModel):
    number: str = Field(description="any format: « 06 12 34 56 78 », « +212 6 61 23 45 67 », E.164")
    label: str = Field("mobile", description="mobile | home | work | other")


class ContactFields(BaseModel):
    """Every field is optional here; ``clean_contact`` says what is required."""

    kind: str | None = Field(None, description="person | company")
    civility: str | None = Field(None, description="M. | Mme")
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    company_id: int | None = Field(None, description="for a person: the id of the company record")
    customer_number: str | None = None
    status: str | None = Field(None, description="client | prospect")
    email: str | None = None
    address_line: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = Field(None, description="ISO code: FR, MA, DZ, BE, CH, TN")
    birth_date: date | None = None
    socio_professional_category: str | None = None
    segment: str | None = None
    prospect_temperature: str | None = Field(None, description="cold | warm | hot")
    tags: list[str] | None = None
    consent_call: bool | None = None
    consent_email: bool | None = None
    opposition: bool | None = None
    phones: list[PhoneIn] | None = Field(None, description="replaces the list when given")
    call_id: int | None = Field(None, description="the call during which the change is made (history link)")


class ContactCreate(ContactFields):
    pass


class ContactPatch(ContactFields):
    version: int = Field(description="the version the edit was made on; 409 if someone saved since")


class PhoneOut(BaseModel):
    e164: str
    label: str
    display: str


class ContactRefOut(BaseModel):
    id: int
    name: str


class CallbackOut(BaseModel):
    id: int
    due_at: datetime
    status: str
    assignee: str | None
    queue: str | None
    note: str


class ContactOut(BaseModel):
    id: int
    kind: str
    name: str
    formal_name: str
    civility: str | None
    first_name: str | None
    last_name: str | None
    company_name: str | None
    company_id: int | None
    company: ContactRefOut | None
    people: list[ContactRefOut]
    customer_number: str | None
    status: str
    email: str | None
    address_line: str | None
    postcode: str | None
    city: str | None
    country: str
    birth_date: date | None
    socio_professional_category: str | None
    segment: str | None
    prospect_temperature: str | None
    tags: list[str]
    consent_call: bool
    consent_email: bool
    opposition: bool
    qualification: str | None
    phones: list[PhoneOut]
    callbacks: list[CallbackOut]
    version: int
    created_at: datetime
    updated_at: datetime


class ContactSummaryOut(BaseModel):
    id: int
    kind: str
    name: str
    status: str
    customer_number: str | None
    email: str | None
    city: str | None
    postcode: str | None
    phones: list[str]


class SearchOut(BaseModel):
    items: list[ContactSummaryOut]
    next_cursor: str | None = Field(description="pass as `after` for the next page; null on the last page")


class NoteIn(BaseModel):
    body: str
    call_id: int | None = None


class NoteOut(BaseModel):
    id: int
    contact_id: int
    call_id: int | None
    author_id: int | None
    body: str
    created_at: datetime


class LineOut(BaseModel):
    speaker: str
    who: str | None
    text: str
    at: datetime


class AnswerOut(BaseModel):
    question: str
    step: str
    value: str


class FieldChangeOut(BaseModel):
    field: str
    label: str
    old: str | None
    new: str | None


class HistoryItemOut(BaseModel):
    kind: str = Field(description="call | note | change | callback")
    at: datetime
    who: str | None
    id: int
    call_id: int | None = Field(None, description="the call this item belongs to (the call itself for kind=call)")
    # call
    direction: str | None = None
    queue: str | None = None
    state: str | None = None
    ring_seconds: float | None = None
    talk_seconds: float | None = None
    hold_seconds: float | None = None
    wrap_up_seconds: float | None = None
    disposition: str | None = None
    transfer_note: str | None = None
    transcript: list[LineOut] = []
    answers: list[AnswerOut] = []
    # note
    body: str | None = None
    # change
    created: bool | None = None
    changes: list[FieldChangeOut] = []
    # callback
    due_at: datetime | None = None
    assignee: str | None = None
    status: str | None = None
    note: str | None = None


def _contact_out(view: crm.ContactView) -> ContactOut:
    return ContactOut(
        **{name: getattr(view, name) for name in ContactOut.model_fields
           if name not in ("name", "formal_name", "company", "people", "phones", "callbacks")},
        name=view.name, formal_name=view.formal_name,
        company=ContactRefOut(id=view.company.id, name=view.company.name) if view.company else None,
        people=[ContactRefOut(id=p.id, name=p.name) for p in view.people],
        phones=[PhoneOut(e164=p.e164, label=p.label, display=phones.display(p.e164, view.country)) for p in view.phones],
        callbacks=[CallbackOut(id=c.id, due_at=c.due_at, status=c.status, assignee=c.assignee, queue=c.queue,
                               note=c.note) for c in view.callbacks],
    )


def _history_out(item: crm.TimelineItem) -> HistoryItemOut:
    common = {"kind": item.kind, "at": item.at, "who": item.who, "id": item.id}
    if isinstance(item, crm.CallItem):
        return HistoryItemOut(**common, call_id=item.id, direction=item.direction, queue=item.queue, state=item.state,
                              ring_seconds=item.ring_seconds, talk_seconds=item.talk_seconds,
                              hold_seconds=item.hold_seconds, wrap_up_seconds=item.wrap_up_seconds,
                              disposition=item.disposition, transfer_note=item.transfer_note,
                              transcript=[LineOut(**vars(line)) for line in item.transcript],
                              answers=[AnswerOut(**vars(a)) for a in item.answers])
    if isinstance(item, crm.NoteItem):
        return HistoryItemOut(**common, call_id=item.call_id, body=item.body)
    if isinstance(item, crm.ChangeItem):
        return HistoryItemOut(**common, call_id=item.call_id, created=item.created,
                              changes=[FieldChangeOut(field=c.field, label=_(c.label), old=c.old, new=c.new)
                                       for c in item.changes])
    return HistoryItemOut(**common, call_id=item.call_id, due_at=item.due_at, assignee=item.assignee,
                          queue=item.queue, status=item.status, note=item.note)


def _api_input(body: ContactFields, base: dict | None = None) -> tuple[dict, list[PhoneInput] | None]:
    given = body.model_dump(exclude_unset=True, exclude={"phones", "call_id", "version"})
    data = {**(base or {}), **given}
    phone_inputs = [PhoneInput(p.number, p.label) for p in body.phones] if body.phones is not None else None
    return data, phone_inputs


@api.get("", response_model=SearchOut)
def api_search(q: str = "", after: str | None = None, limit: int = Query(25, ge=1, le=100),
               actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    """One search box: a name (any order, accents ignored), a phone in any format, an e-mail, a customer number.
    An empty ``q`` lists the whole file. Pages follow ``next_cursor``."""
    result = crm.search(ctx, q, after=after, limit=limit)
    return SearchOut(items=[ContactSummaryOut(**{k: getattr(s, k) for k in ContactSummaryOut.model_fields})
                            for s in result.items], next_cursor=result.next_cursor)


@api.get("/{contact_id}", response_model=ContactOut)
def api_get(contact_id: int, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return _contact_out(crm.get_contact(ctx, contact_id))


@api.post("", response_model=ContactOut, status_code=201)
def api_create(body: ContactCreate, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    data, phone_inputs = _api_input(body)
    contact = crm.create_contact(ctx, actor, data, phone_inputs or [], call_id=body.call_id)
    return _contact_out(crm.get_contact(ctx, contact.id))


@api.patch("/{contact_id}", response_model=ContactOut)
def api_update(contact_id: int, body: ContactPatch, actor: Actor = Depends(current_actor),
               ctx: Context = Depends(get_ctx)):
    """Only the fields sent change; ``phones``, when sent, replaces the list. A stale ``version`` gives 409."""
    view = crm.get_contact(ctx, contact_id)
    data, phone_inputs = _api_input(body, view.values())
    crm.update_contact(ctx, actor, contact_id, body.version, data,
                       phone_inputs if phone_inputs is not None else view.phone_inputs(), call_id=body.call_id)
    return _contact_out(crm.get_contact(ctx, contact_id))


@api.get("/{contact_id}/history", response_model=list[HistoryItemOut])
def api_history(contact_id: int, limit: int = Query(200, ge=1, le=1000), actor: Actor = Depends(current_actor),
                ctx: Context = Depends(get_ctx)):
    return [_history_out(item) for item in crm.timeline(ctx, contact_id, limit)]


@api.post("/{contact_id}/notes", response_model=NoteOut, status_code=201)
def api_note(contact_id: int, body: NoteIn, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    note_row = crm.add_note(ctx, actor, contact_id, body.body, call_id=body.call_id)
    return NoteOut(id=note_row.id, contact_id=contact_id, call_id=note_row.call_id, author_id=note_row.author_id,
                   body=note_row.body, created_at=note_row.created_at)


router.include_router(pages)
router.include_router(api)

__all__ = ["router", "contact_panel", "create_panel", "choice_panel"]
