"""The customer file ("fichier client"): create and edit contacts, add notes,
find them (screen pop by number, search box), and tell a contact's story.

Validation is ``domain.contacts.clean_contact``; this module adds what needs
the database (an existing company, a free customer number), optimistic
locking, and one history row per changed field so that the contact's
timeline can say who changed what, when, and during which call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from ..domain import contacts as rules
from ..domain import phones as phone_rules
from ..domain import scripts as script_rules
from ..domain.contacts import ALL_FIELDS, EDITABLE, CleanContact, PhoneInput, display_name, formal_name
from ..domain.errors import N_, ConflictError, DomainError, NotFoundError, ValidationError
from ..store import search as search_index
from ..store.models import (Call, Callback, CallScript, Contact, ContactChange, ContactPhone, Disposition, Note,
                            Queue, ScriptAnswer, User, Utterance)
from .context import Actor, Context

#: a company card lists at most this many of its people
MAX_PEOPLE = 100
#: the screen pop offers a choice among at most this many contacts sharing a number
MAX_PHONE_MATCHES = 20
MAX_PAGE = 500
_PHONE_LIKE = re.compile(r"[+(]?[\d][\d\s().\-/]*")


# --- views -----------------------------------------------------------------------------------


@dataclass
class PhoneView:
    e164: str
    label: str


@dataclass
class ContactRef:
    id: int
    name: str
    kind: str = "person"


@dataclass
class CallbackView:
    id: int
    due_at: datetime
    status: str
    assignee: str | None
    queue: str | None
    note: str
    call_id: int | None


@dataclass
class ContactView:
    """Everything a contact card shows, read in one go (detached from the session)."""

    id: int
    kind: str
    civility: str | None
    first_name: str | None
    last_name: str | None
    company_name: str | None
    company_id: int | None
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
    version: int
    created_at: datetime
    updated_at: datetime
    phones: list[PhoneView] = field(default_factory=list)
    company: ContactRef | None = None
    people: list[ContactRef] = field(default_factory=list)
    callbacks: list[CallbackView] = field(default_factory=list)

    @property
    def name(self) -> str:
        return display_name(self)

    @property
    def formal_name(self) -> str:
        return formal_name(self)

    def values(self) -> dict:
        """The editable fields as ``clean_contact`` takes them (a PATCH starts from these)."""
        return {name: getattr(self, name) for name in EDITABLE}

    def phone_inputs(self) -> list[PhoneInput]:
        return [PhoneInput(p.e164, p.label) for p in self.phones]


@dataclass
class ContactSummary:
    """One line of search results."""

    id: int
    kind: str
    name: str
    status: str
    customer_number: str | None
    email: str | None
    city: str | None
    postcode: str | None
    company_name: str | None
    phones: list[str] = field(default_factory=list)


@dataclass
class SearchPage:
    items: list[ContactSummary]
    next_cursor: str | None


@dataclass
class Line:
    """One turn of a call's transcript."""

    speaker: str  # agent | caller | system
    who: str | None
    text: str
    at: datetime


@dataclass
class Answer:
    question: str
    step: str
    value: str


@dataclass
class CallItem:
    at: datetime
    who: str | None  # the agent
    id: int
    direction: str
    queue: str
    state: str
    caller_number: str
    ring_seconds: float
    talk_seconds: float
    hold_seconds: float
    wrap_up_seconds: float
    disposition: str | None
    transfer_note: str | None
    transcript: list[Line] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    kind: str = "call"


@dataclass
class NoteItem:
    at: datetime
    who: str | None
    id: int
    body: str
    call_id: int | None
    kind: str = "note"


@dataclass
class FieldChange:
    field: str
    label: str  # msgid from FIELD_LABELS
    old: str | None
    new: str | None


@dataclass
class ChangeItem:
    """One save: the fields it changed (or the record's creation)."""

    at: datetime
    who: str | None
    id: int
    call_id: int | None
    created: bool
    changes: list[FieldChange] = field(default_factory=list)
    kind: str = "change"


@dataclass
class CallbackItem:
    at: datetime
    who: str | None  # who promised it
    id: int
    due_at: datetime
    assignee: str | None
    queue: str | None
    status: str
    note: str
    call_id: int | None
    kind: str = "callback"


TimelineItem = CallItem | NoteItem | ChangeItem | CallbackItem
_KIND_ORDER = {"call": 0, "change": 1, "note": 2, "callback": 3}


# --- writing ---------------------------------------------------------------------------------


def create_contact(ctx: Context, actor: Actor, data: dict, phones: list[PhoneInput],
                   call_id: int | None = None) -> Contact:
    """A new record; with ``call_id``, the call is then attached to it (the screen pop settles)."""
    clean = rules.clean_contact(data, phones)
    with ctx.unit() as session:
        now = ctx.now()
        _check_call(session, call_id)
        _check_links(session, clean, None)
        contact = Contact(**clean.values, search_name=clean.search_name, created_at=now, updated_at=now)
        contact.phones = [ContactPhone(e164=e164, label=label, position=i) for i, (e164, label) in enumerate(clean.phones)]
        session.add(contact)
        _flush(session, clean)
        session.add(ContactChange(contact_id=contact.id, field=ALL_FIELDS, old_value=None,
                                  new_value=display_name(contact), user_id=actor.id, call_id=call_id, at=now))
    if call_id is not None:
        from . import calls

        calls.attach_contact(ctx, actor, call_id, contact.id)
    return contact


def update_contact(ctx: Context, actor: Actor, contact_id: int, expected_version: int, data: dict,
                   phones: list[PhoneInput], call_id: int | None = None) -> Contact:
    """Save an edit made on version ``expected_version``; refuse it if someone saved meanwhile.

    Only changed fields are written, each with a history row. Nothing is
    written when nothing changed (the version stays, so a double submit is
    harmless).
    """
    try:
        with ctx.unit() as session:
            now = ctx.now()
            contact = _load(session, contact_id)
            if contact.version != expected_version:
                raise _conflict(ctx, session, contact_id)
            clean = rules.clean_contact(data, phones)
            _check_call(session, call_id)
            _check_links(session, clean, contact_id)
            changed = rules.diff({name: getattr(contact, name) for name in EDITABLE}, clean.values)
            old_phones = [(p.e164, p.label) for p in contact.phones]
            phones_changed = rules.phones_changed(old_phones, clean.phones)
            if not changed and not phones_changed:
                return contact
            history = [(name, old, new) for name, old, new in changed]
            for name, _old, _new in changed:
                setattr(contact, name, clean.values[name])
            if phones_changed:
                contact.phones = [ContactPhone(e164=e164, label=label, position=i)
                                  for i, (e164, label) in enumerate(clean.phones)]
                history.append(("phones", rules.history_text("phones", old_phones),
                                rules.history_text("phones", clean.phones)))
            if contact.search_name != clean.search_name:
                contact.search_name = clean.search_name
            contact.updated_at = now
            flag_modified(contact, "updated_at")  # the row is updated, so ``version`` moves, even for phones only
            for name, old, new in history:
                session.add(ContactChange(contact_id=contact_id, field=name, old_value=old, new_value=new,
                                          user_id=actor.id, call_id=call_id, at=now))
            _flush(session, clean)
            return contact
    except StaleDataError:
        # another transaction saved between our read and our write: it has committed now
        with ctx.read() as session:
            raise _conflict(ctx, session, contact_id) from None


def add_note(ctx: Context, actor: Actor, contact_id: int, body: str, call_id: int | None = None) -> Note:
    text = rules.clean_note(body)
    with ctx.unit() as session:
        _load(session, contact_id)
        _check_call(session, call_id)
        note = Note(contact_id=contact_id, call_id=call_id, author_id=actor.id, body=text, created_at=ctx.now())
        session.add(note)
        session.flush()
        return note


def _load(session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFoundError(N_("Contact introuvable (fiche n° %(id)s)."), id=contact_id)
    return contact


def _check_call(session: Session, call_id: int | None) -> None:
    if call_id is not None and session.get(Call, call_id) is None:
        raise NotFoundError(N_("Appel introuvable."))


def _check_links(session: Session, clean: CleanContact, contact_id: int | None) -> None:
    """What only the database knows: the company exists, the customer number is free."""
    values = clean.values
    errors: dict[str, DomainError] = {}
    company_id = values.get("company_id")
    if company_id is not None:
        company = session.get(Contact, company_id)
        if values["kind"] == "company":
            errors["company_id"] = DomainError(N_("Une entreprise ne peut pas appartenir à une autre entreprise."),
                                               "company_id")
        elif company is None or company.kind != "company" or company_id == contact_id:
            errors["company_id"] = DomainError(N_("Aucune entreprise n'a le n° de fiche %(id)s."), "company_id",
                                               id=company_id)
    number = values.get("customer_number")
    if number:
        other = session.scalar(select(Contact.id).where(Contact.customer_number == number,
                                                        Contact.id != (contact_id or 0)).limit(1))
        if other is not None:
            errors["customer_number"] = _number_taken(number, other)
    if errors:
        raise ValidationError(errors)


def _number_taken(number: str, other: int | None) -> DomainError:
    if other is None:
        return DomainError(N_("Le n° client %(value)s est déjà attribué."), "customer_number", value=number)
    return DomainError(N_("Le n° client %(value)s est déjà celui de la fiche n° %(id)s."), "customer_number",
                       value=number, id=other)


def _flush(session: Session, clean: CleanContact) -> None:
    """Flush; a customer number taken by a concurrent save becomes a field error."""
    try:
        session.flush()
    except IntegrityError as exc:
        if "customer_number" in str(exc.orig) and clean.values.get("customer_number"):
            raise ValidationError({"customer_number": _number_taken(clean.values["customer_number"], None)}) from None
        raise


def _conflict(ctx: Context, session: Session, contact_id: int) -> ConflictError:
    """Name who saved the record last, and when, from its history."""
    row = session.execute(select(ContactChange.at, User.display_name)
                          .outerjoin(User, User.id == ContactChange.user_id)
                          .where(ContactChange.contact_id == contact_id)
                          .order_by(ContactChange.id.desc()).limit(1)).first()
    if row is None:
        contact = session.get(Contact, contact_id)
        at, who = (contact.updated_at if contact else ctx.now()), None
    else:
        at, who = row
    local = at.astimezone(ZoneInfo(ctx.settings.timezone))
    when = {"date": local.strftime("%d/%m/%Y"), "time": local.strftime("%H:%M")}
    if who:
        error = ConflictError(
            N_("Cette fiche a été modifiée par %(who)s le %(date)s à %(time)s pendant que vous la modifiiez : "
               "rien n'a été enregistré. Comparez la version actuelle avec votre saisie, puis enregistrez à nouveau "
               "si besoin."), who=who, **when)
    else:  # a whole sentence of its own: translators cannot inflect a French "un autre utilisateur" parameter
        error = ConflictError(
            N_("Cette fiche a été modifiée par un autre utilisateur le %(date)s à %(time)s pendant que vous la "
               "modifiiez : rien n'a été enregistré. Comparez la version actuelle avec votre saisie, puis "
               "enregistrez à nouveau si besoin."), **when)
    error.changed_by, error.changed_at = who, at
    return error


# --- reading one contact -----------------------------------------------------------------------


def lookup_by_phone(ctx: Context, e164: str) -> list[Contact]:
    """The screen pop: contacts with exactly this E.164 number (indexed), oldest record first."""
    with ctx.read() as session:
        ids = list(session.scalars(select(ContactPhone.contact_id).where(ContactPhone.e164 == e164)
                                   .distinct().order_by(ContactPhone.contact_id).limit(MAX_PHONE_MATCHES)))
        return _contacts(session, ids)


def get_contact(ctx: Context, contact_id: int) -> ContactView:
    with ctx.read() as session:
        contact = _load(session, contact_id)
        view = ContactView(**{name: getattr(contact, name) for name in (
            "id", "kind", "civility", "first_name", "last_name", "company_name", "company_id", "customer_number",
            "status", "email", "address_line", "postcode", "city", "country", "birth_date",
            "socio_professional_category", "segment", "prospect_temperature", "consent_call", "consent_email",
            "opposition", "qualification", "version", "created_at", "updated_at")},
            tags=list(contact.tags or []),
            phones=[PhoneView(p.e164, p.label) for p in contact.phones])
        if contact.company_id:
            company = session.get(Contact, contact.company_id)
            if company is not None:
                view.company = ContactRef(company.id, display_name(company), company.kind)
        if contact.kind == "company":
            people = session.scalars(select(Contact).where(Contact.company_id == contact.id)
                                     .order_by(Contact.search_name, Contact.id).limit(MAX_PEOPLE))
            view.people = [ContactRef(p.id, display_name(p), p.kind) for p in people]
        rows = session.execute(
            select(Callback, User.display_name, Queue.name)
            .outerjoin(User, User.id == Callback.assigned_user_id).outerjoin(Queue, Queue.id == Callback.queue_id)
            .where(Callback.contact_id == contact_id, Callback.status == "open").order_by(Callback.due_at))
        view.callbacks = [CallbackView(cb.id, cb.due_at, cb.status, user, queue, cb.note or "", cb.call_id)
                          for cb, user, queue in rows]
        return view


def timeline(ctx: Context, contact_id: int, limit: int = 200) -> list[TimelineItem]:
    """The contact's history, newest first: calls, notes, field changes, callbacks."""
    with ctx.read() as session:
        _load(session, contact_id)
        users = _Names(session, User, "display_name")
        items: list[TimelineItem] = []
        items += _call_items(session, contact_id, limit, users)
        for note in session.scalars(select(Note).where(Note.contact_id == contact_id)
                                    .order_by(Note.created_at.desc(), Note.id.desc()).limit(limit)):
            items.append(NoteItem(note.created_at, users.get(note.author_id), note.id, note.body, note.call_id))
        items += _change_items(session, contact_id, limit, users)
        queues = _Names(session, Queue, "name")
        for cb in session.scalars(select(Callback).where(Callback.contact_id == contact_id)
                                  .order_by(Callback.created_at.desc(), Callback.id.desc()).limit(limit)):
            items.append(CallbackItem(cb.created_at, users.get(cb.created_by), cb.id, cb.due_at,
                                      users.get(cb.assigned_user_id), queues.get(cb.queue_id), cb.status,
                                      cb.note or "", cb.call_id))
    items.sort(key=lambda item: (item.at, -_KIND_ORDER[item.kind], item.id), reverse=True)
    return items[:limit]


class _Names:
    """id → name for users or queues, fetched once per id."""

    def __init__(self, session: Session, model, column: str):
        self.session, self.model, self.column, self.cache = session, model, column, {}

    def get(self, row_id: int | None) -> str | None:
        if row_id is None:
            return None
        if row_id not in self.cache:
            row = self.session.get(self.model, row_id)
            self.cache[row_id] = getattr(row, self.column) if row is not None else None
        return self.cache[row_id]


def _call_items(session: Session, contact_id: int, limit: int, users: _Names) -> list[CallItem]:
    calls = list(session.scalars(select(Call).where(Call.contact_id == contact_id)
                                 .order_by(Call.created_at.desc(), Call.id.desc()).limit(limit)))
    if not calls:
        return []
    ids = [c.id for c in calls]
    queues = _Names(session, Queue, "name")
    dispositions = _Names(session, Disposition, "label")
    lines: dict[int, list[Line]] = {i: [] for i in ids}
    for u in session.scalars(select(Utterance).where(Utterance.call_id.in_(ids)).order_by(Utterance.at, Utterance.id)):
        lines[u.call_id].append(Line(u.speaker, users.get(u.user_id), u.text, u.at))
    answers: dict[int, list[Answer]] = {i: [] for i in ids}
    for a in session.scalars(select(ScriptAnswer).where(ScriptAnswer.call_id.in_(ids))
                             .order_by(ScriptAnswer.at, ScriptAnswer.id)):
        answers[a.call_id].append(_answer(session, a))
    return [CallItem(c.created_at, users.get(c.agent_id), c.id, c.direction, queues.get(c.queue_id) or "", c.state,
                     c.caller_number, c.ring_seconds or 0, c.talk_seconds or 0, c.hold_seconds or 0,
                     c.wrap_up_seconds or 0, dispositions.get(c.disposition_id), c.transfer_note,
                     lines[c.id], answers[c.id]) for c in calls]


def _answer(session: Session, answer: ScriptAnswer) -> Answer:
    """The question's label from the script as it is now; its id if it is gone."""
    from . import scripts

    if answer.script_id:
        row = session.get(CallScript, answer.script_id)
        if row is not None:
            try:
                step, question = scripts.parsed(row).question(answer.question_id)
            except DomainError:
                pass
            else:
                return Answer(question.label, step.title, script_rules.show_answer(question, answer.value))
    return Answer(answer.question_id, answer.step_id, answer.value)


def _change_items(session: Session, contact_id: int, limit: int, users: _Names) -> list[ChangeItem]:
    """Field changes grouped by save (same moment, same person, same call)."""
    rows = session.scalars(select(ContactChange).where(ContactChange.contact_id == contact_id)
                           .order_by(ContactChange.id.desc()).limit(limit * (len(EDITABLE) + 1)))
    items: list[ChangeItem] = []
    for row in rows:
        last = items[-1] if items else None
        if last is None or (last.at, last.call_id, last.who, last.created) != (
                row.at, row.call_id, users.get(row.user_id), row.field == ALL_FIELDS) or last.created:
            last = ChangeItem(row.at, users.get(row.user_id), row.id, row.call_id, row.field == ALL_FIELDS)
            items.append(last)
        if row.field != ALL_FIELDS:
            last.changes.insert(0, FieldChange(row.field, rules.FIELD_LABELS.get(row.field, row.field),
                                               row.old_value, row.new_value))
    return items


# --- search --------------------------------------------------------------------------------------


def search(ctx: Context, query: str, after: str | None = None, limit: int = 25) -> SearchPage:
    """One box: a name (any order, accents and case ignored, word starts), a phone number in
    any format, an e-mail, a customer number. Pages follow a cursor, never an offset."""
    limit = max(1, min(int(limit), MAX_PAGE))
    after_id = _cursor(after)
    with ctx.read() as session:
        ids = _matching_ids(ctx, session, (query or "").strip(), after_id, limit + 1)
        page = ids[:limit]
        items = _summaries(session, page)
    return SearchPage(items=items, next_cursor=str(page[-1]) if len(ids) > limit else None)


def iter_search(ctx: Context, query: str, batch: int = MAX_PAGE) -> Iterator[Contact]:
    """Every contact a search finds, page after page (the CSV export)."""
    after_id = 0
    query = (query or "").strip()
    while True:
        with ctx.read() as session:
            ids = _matching_ids(ctx, session, query, after_id, batch)
            contacts = _contacts(session, ids)
        yield from contacts
        if len(ids) < batch:
            return
        after_id = ids[-1]


def _cursor(after: str | None) -> int:
    if after in (None, ""):
        return 0
    if not str(after).isdigit():
        raise ValidationError({"after": DomainError(N_("Curseur de page invalide : recommencez la recherche."),
                                                    "after")})
    return int(after)


def _matching_ids(ctx: Context, session: Session, query: str, after: int, limit: int) -> list[int]:
    """Ids after ``after``, ascending: the union of what each reading of the query finds."""
    if not query:
        return list(session.scalars(select(Contact.id).where(Contact.id > after).order_by(Contact.id).limit(limit)))
    found: set[int] = set()
    digits = re.sub(r"\D", "", query)
    if _PHONE_LIKE.fullmatch(query) and len(digits) >= 6:
        numbers = phone_rules.candidates(query, ctx.settings.phone_regions)
        if numbers:
            found.update(session.scalars(
                select(ContactPhone.contact_id).where(ContactPhone.e164.in_(numbers), ContactPhone.contact_id > after)
                .distinct().order_by(ContactPhone.contact_id).limit(limit)))
    elif "@" in query:
        found.update(session.scalars(select(Contact.id).where(Contact.email == query.lower(), Contact.id > after)
                                     .order_by(Contact.id).limit(limit)))
    else:
        found.update(search_index.name_ids(session, search_index.terms(query), after, limit))
    if " " not in query and len(query) <= 32:
        found.update(session.scalars(select(Contact.id).where(Contact.customer_number.in_({query, query.upper()}),
                                                              Contact.id > after)))
    return sorted(found)[:limit]


def _summaries(session: Session, ids: list[int]) -> list[ContactSummary]:
    return [ContactSummary(c.id, c.kind, display_name(c), c.status, c.customer_number, c.email, c.city, c.postcode,
                           c.company_name, [p.e164 for p in c.phones]) for c in _contacts(session, ids)]


def _contacts(session: Session, ids: list[int]) -> list[Contact]:
    """Contacts with their phones, in the order of ``ids``."""
    if not ids:
        return []
    rows = session.scalars(select(Contact).options(selectinload(Contact.phones)).where(Contact.id.in_(ids)))
    by_id = {c.id: c for c in rows}
    return [by_id[i] for i in ids if i in by_id]
