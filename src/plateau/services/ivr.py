"""Voice menus ("SVI"): edited by supervisors and administrators, walked by callers.

A menu is stored as the YAML text its author wrote (comments and order kept),
checked by ``domain.ivr.parse_menu`` against the queues that exist on every
save, with a ``version`` for optimistic locking as call scripts have. Its
``number`` (E.164, unique) is the number a caller dials to reach it.

A call in a menu is a Call in state ``ivr`` with ``ivr_id`` and ``ivr_node``;
the rest of its position (the nodes it came through, for ``back``, and the
wrong tries in a row) is written in the data of its last ``key`` (or
``ivr_timeout``) CallEvent, so that every key pressed is a committed row and a
restart loses nothing. What the menu says is a system line of the call's
transcript (``services.calls._system_line``): the caller console shows and
announces it, and the agent who later takes the call reads it.

This module also gives the caller console what it shows while a call waits in
a queue (position, estimated wait, callback offer: ``waiting_status``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain import ivr as rules
from ..domain import phones
from ..domain.calls import WAITING, CallState, Direction, Media
from ..domain.clock import as_utc
from ..domain.errors import (N_, ConflictError, DomainError, IllegalTransition, NotFoundError, PermissionDenied,
                             ValidationError)
from ..domain.text import fold
from ..store.models import Call, CallEvent, IvrMenu, Queue, User
from . import calls
from .context import Actor, Context

MAX_NAME = 200  # the length of ivr_menus.name
#: CallEvent actions that move a caller inside a menu (their data holds the position)
MOVES = ("offer", "key", "ivr_timeout")


# --- editing (supervisors and administrators) -------------------------------------------------


@dataclass
class MenuSummary:
    menu: IvrMenu
    updated_by_name: str | None
    #: the menu no longer parses (a queue it names was renamed, or it was edited outside the editor)
    problems: int = 0


def _require_editor(actor: Actor) -> None:
    if not actor.is_supervisor:
        raise PermissionDenied(N_("Seuls les superviseurs, formateurs et administrateurs modifient les serveurs "
                                  "vocaux."))


def queue_codes(ctx: Context) -> set[str]:
    """The codes a menu may send calls to: the active queues."""
    with ctx.read() as session:
        return set(session.scalars(select(Queue.code).where(Queue.active.is_(True))))


def queue_names(ctx: Context) -> dict[str, str]:
    with ctx.read() as session:
        return dict(session.execute(select(Queue.code, Queue.name)).all())


def list_menus(ctx: Context) -> list[MenuSummary]:
    codes = queue_codes(ctx)
    with ctx.read() as session:
        rows = session.scalars(select(IvrMenu).order_by(IvrMenu.name, IvrMenu.id)).all()
        names = dict(session.execute(select(User.id, User.display_name).where(
            User.id.in_({row.updated_by for row in rows if row.updated_by}))).all())
    region = ctx.settings.default_region
    return [MenuSummary(row, names.get(row.updated_by), len(rules.problems(row.content, codes, region)))
            for row in rows]


def get_menu(ctx: Context, menu_id: int) -> IvrMenu:
    with ctx.read() as session:
        row = session.get(IvrMenu, menu_id)
    if row is None:
        raise NotFoundError(N_("Serveur vocal introuvable."))
    return row


def active_menus(ctx: Context) -> list[IvrMenu]:
    """The menus a caller can dial (the console's list)."""
    with ctx.read() as session:
        return list(session.scalars(select(IvrMenu).where(IvrMenu.active.is_(True)).order_by(IvrMenu.name)))


def menu_names(ctx: Context) -> dict[int, str]:
    with ctx.read() as session:
        return dict(session.execute(select(IvrMenu.id, IvrMenu.name)).all())


def check_menu(ctx: Context, text: str) -> rules.Menu:
    """Parse and check a menu's text against the queues of the database ("Valider" in the editor)."""
    return rules.parse_menu(text, queue_codes(ctx), ctx.settings.default_region)


@dataclass
class MenuForm:
    """What the editor sends: the menu's name, its number (may be empty), its text, whether callers can dial it."""

    name: str = ""
    number: str = ""
    content: str = ""
    active: bool = True


def _checked(ctx: Context, session: Session, form: MenuForm, menu_id: int | None) -> tuple[str, str | None]:
    """The cleaned name and E.164 number, or a ValidationError with every problem (fields and text)."""
    errors: dict[str, DomainError] = {}
    name = (form.name or "").strip()
    if not name:
        errors["name"] = DomainError(N_("Donnez un nom au serveur vocal."), "name")
    elif len(name) > MAX_NAME:
        errors["name"] = DomainError(N_("Le nom : %(max)s caractères au plus."), "name", max=MAX_NAME)
    number = None
    if (form.number or "").strip():
        try:
            number = phones.parse(form.number, ctx.settings.default_region)
        except ValidationError as exc:
            error = exc.errors["phone"]
            errors["number"] = DomainError(error.message, "number", **error.params)
        else:
            other = session.scalars(select(IvrMenu).where(IvrMenu.number == number)).first()
            if other is not None and other.id != menu_id:
                errors["number"] = DomainError(N_("Le numéro %(number)s est déjà celui du serveur vocal « %(name)s »."),
                                               "number", number=phones.display(number), name=other.name)
    codes = set(session.scalars(select(Queue.code).where(Queue.active.is_(True))))
    errors.update({key: error for key, error in
                   ((f"{n:03d}", e) for n, e in enumerate(rules.problems(form.content, codes,
                                                                          ctx.settings.default_region), 1))})
    if errors:
        raise ValidationError(errors)
    return name, number


def save_menu(ctx: Context, actor: Actor, menu_id: int | None, form: MenuForm,
              expected_version: int | None) -> IvrMenu:
    """Create (``menu_id`` None) or replace a menu, if nobody saved it meanwhile.

    Errors name their field (``name``, ``number``) or, for the text, its line
    and place (keys ``001``, ``002``… in the order of the text)."""
    _require_editor(actor)
    with ctx.unit() as session:
        now = ctx.now()
        name, number = _checked(ctx, session, form, menu_id)
        if menu_id is None:
            row = IvrMenu(code=_free_code(session, name), name=name, number=number, content=form.content,
                          active=form.active, version=1, updated_at=now, updated_by=actor.id)
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise _number_taken(number) from None
            return row
        row = session.get(IvrMenu, menu_id)
        if row is None:
            raise NotFoundError(N_("Serveur vocal introuvable."))
        if expected_version != row.version:
            raise _conflict(session, row)
        # the version in the WHERE makes a simultaneous save lose cleanly
        try:
            done = session.execute(
                update(IvrMenu).where(IvrMenu.id == menu_id, IvrMenu.version == expected_version)
                .values(name=name, number=number, content=form.content, active=form.active,
                        version=expected_version + 1, updated_at=now, updated_by=actor.id)
                .execution_options(synchronize_session=False))
        except IntegrityError:
            raise _number_taken(number) from None
        if done.rowcount != 1:
            session.expire(row)
            raise _conflict(session, row)
        session.expire(row)
        session.refresh(row)
        return row


def import_menu(ctx: Context, actor: Actor, code: str, name: str, number: str | None, content: str) -> IvrMenu:
    """Create or update the menu with this ``code`` (demo seed, data folders); the same text twice changes nothing."""
    _require_editor(actor)
    with ctx.unit() as session:
        now = ctx.now()
        row = session.scalars(select(IvrMenu).where(IvrMenu.code == code)).first()
        name, e164 = _checked(ctx, session, MenuForm(name, number or "", content), row.id if row else None)
        if row is None:
            row = IvrMenu(code=code, name=name, number=e164, content=content, active=True, version=1,
                          updated_at=now, updated_by=actor.id)
            session.add(row)
            session.flush()
        elif (row.name, row.number, row.content) != (name, e164, content):
            row.name, row.number, row.content, row.version = name, e164, content, row.version + 1
            row.updated_at, row.updated_by = now, actor.id
        return row


def _free_code(session: Session, name: str) -> str:
    """A code made from the name ("Accueil Énergie" → accueil-energie), numbered if taken."""
    base = re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")[:56] or "svi"
    taken = set(session.scalars(select(IvrMenu.code).where(IvrMenu.code.like(f"{base}%"))))
    code, n = base, 2
    while code in taken:
        code, n = f"{base}-{n}", n + 1
    return code


def _number_taken(number: str | None) -> ValidationError:
    return ValidationError({"number": DomainError(N_("Le numéro %(number)s est déjà celui d'un autre serveur vocal."),
                                                  "number", number=phones.display(number or ""))})


def _conflict(session: Session, row: IvrMenu) -> ConflictError:
    who = session.get(User, row.updated_by) if row.updated_by else None
    if who is None:  # an import by the system (seed, data folder)
        return ConflictError(N_("Ce serveur vocal a été remplacé par un import (version %(version)s) depuis que vous "
                                "l'avez ouvert : vos changements n'ont pas été enregistrés."), "version",
                             version=row.version)
    return ConflictError(
        N_("Ce serveur vocal a été enregistré par %(user)s (version %(version)s) depuis que vous l'avez ouvert : vos "
           "changements n'ont pas été enregistrés."), "version", user=who.display_name, version=row.version)


@lru_cache(maxsize=64)
def _parsed(content: str) -> rules.Menu:
    """Menus are read on every key; the text is the cache key. Queues are not checked
    here (a queue closed since the save is handled when the call gets there)."""
    return rules.parse_menu(content)


def parsed(row: IvrMenu) -> rules.Menu:
    try:
        return _parsed(row.content)
    except ValidationError:
        raise DomainError(N_("Le serveur vocal « %(name)s » contient des erreurs : corrigez-le dans l'éditeur avant "
                             "de l'appeler."), "ivr_id", name=row.name) from None


def demo_menus(directory: Path, queue_codes: Iterable[str]) -> list[rules.MenuEntry]:
    """The demo company's menus (``ivr.yaml`` of the demo folder), checked against its queues
    before anything is written; none when the folder has no such file."""
    from .demo_data import DemoDataError

    path = directory / "ivr.yaml"
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    found = rules.file_problems(text, queue_codes)
    if found:
        raise DemoDataError(f"{path} : " + " ; ".join(error.render() for error in found))
    return rules.read_menus_file(text)


# --- a caller in the menu ------------------------------------------------------------------------


def enter(ctx: Context, actor: Actor, menu_id: int, number: str | None = None, region: str | None = None,
          contact_id: int | None = None) -> Call:
    """The caller console dials a menu: an inbound call in state ``ivr`` that hears the start prompt."""
    if not actor.is_supervisor:
        raise PermissionDenied(N_("Seuls les formateurs et superviseurs peuvent passer des appels depuis la console."))
    with ctx.unit() as session:
        now = ctx.now()
        row = session.get(IvrMenu, menu_id) if menu_id else None
        if row is None or not row.active:
            raise ValidationError({"ivr_id": DomainError(N_("Choisissez un serveur vocal."), "ivr_id")})
        menu = parsed(row)
        caller_number = calls.caller_number_of(session, ctx, number, region, contact_id)
        outcome = rules.enter(menu)
        call = Call(direction=Direction.INBOUND, media=Media.TEXT, state=CallState.IVR, queue_id=None,
                    caller_number=caller_number, caller_user_id=actor.id, created_at=now, state_since=now,
                    declined_by=[], priority=0, ivr_id=row.id, ivr_node=outcome.node)
        session.add(call)
        session.flush()
        calls._record(session, call, "offer", None, CallState.IVR, now, actor.id,
                      {"ivr_id": row.id, "version": row.version, **_position_data(outcome)})
        calls._notify(session, call, "offer", now)
        for text in outcome.said:
            calls._system_line(session, call, text, now)
        return call


def press_key(ctx: Context, actor: Actor, call_id: int, key: str) -> Call:
    """The caller presses a key of the keypad: the menu answers, moves, or lets the call out."""
    key = str(key or "").strip()
    if key not in rules.KEYS:
        raise ValidationError({"key": DomainError(N_("Touche inconnue : 0 à 9, * ou #."), "key")})
    with ctx.unit() as session:
        now = ctx.now()
        call = calls._load(session, call_id, lock=True)
        if call.caller_user_id != actor.id:
            raise PermissionDenied(N_("Cet appel n'est pas le vôtre."))
        if call.state != CallState.IVR:
            raise IllegalTransition(N_("Cet appel n'est plus dans le serveur vocal : les touches sont sans effet."))
        row = session.get(IvrMenu, call.ivr_id)
        menu = parsed(row)
        node, history, tries = _position(session, call, menu)
        outcome = rules.step(menu, node, key, history, tries)
        calls._record(session, call, "key", CallState.IVR, CallState.IVR, now, actor.id,
                      {"key": key, "from": node, **_position_data(outcome)})
        _follow(session, ctx, call, outcome, now, actor.id)
        return call


def expire_timeouts(ctx: Context) -> int:
    """Callers silent past their node's ``timeout``: the menu acts for them. Returns how many.

    Called by the call ticker every second: it only reads, unless a silence is due."""
    with ctx.read() as session:
        now = ctx.now()
        due = []
        for call in session.scalars(select(Call).where(Call.state == CallState.IVR)):
            row = session.get(IvrMenu, call.ivr_id)
            try:
                menu = parsed(row)
            except DomainError:
                continue
            timeout = menu.node(call.ivr_node).timeout
            last = _last_move(session, call.id)
            since = as_utc(last.at) if last is not None else as_utc(call.state_since)
            if timeout is not None and (now - since).total_seconds() >= timeout.seconds:
                due.append((call.id, last.id if last is not None else None))
    done = 0
    for call_id, last_id in due:
        with ctx.unit() as session:
            now = ctx.now()
            call = calls._load(session, call_id, lock=True)
            last = _last_move(session, call.id)
            if call.state != CallState.IVR or (last.id if last is not None else None) != last_id:
                continue  # a key was pressed meanwhile: it wins
            menu = parsed(session.get(IvrMenu, call.ivr_id))
            node, history, tries = _position(session, call, menu)
            outcome = rules.no_input(menu, node, history, tries)
            if outcome is None:
                continue
            calls._record(session, call, "ivr_timeout", CallState.IVR, CallState.IVR, now, None,
                          {"from": node, **_position_data(outcome)})
            _follow(session, ctx, call, outcome, now, None)
            done += 1
    return done


def _follow(session: Session, ctx: Context, call: Call, outcome: rules.Outcome, now: datetime,
            actor_id: int | None) -> None:
    """Say what the menu says, then keep the caller in the menu or let the call out."""
    for text in outcome.said:
        calls._system_line(session, call, text, now)
    if outcome.end == rules.End.PROMPT:
        call.ivr_node = outcome.node
    elif outcome.end == rules.End.QUEUE:
        queue = session.scalars(select(Queue).where(Queue.code == outcome.queue)).first()
        if queue is None or not queue.active:  # closed down since the menu was saved
            calls.deflect(session, call, now, "ivr_no_queue",
                          N_("Ce service n'est pas joignable pour le moment. Merci de rappeler ultérieurement."),
                          actor_id, {"queue": outcome.queue})
        else:
            calls.enqueue(session, ctx, call, queue, now, actor_id)
    elif outcome.end == rules.End.TRANSFER:
        calls.deflect(session, call, now, outcome.reason, "", actor_id, {"number": outcome.number})
    else:
        calls.deflect(session, call, now, outcome.reason, "", actor_id)


def _position_data(outcome: rules.Outcome) -> dict:
    return {"node": outcome.node, "history": list(outcome.history), "tries": outcome.tries, "end": str(outcome.end),
            "invalid": outcome.invalid}


def _last_move(session: Session, call_id: int) -> CallEvent | None:
    return session.scalars(select(CallEvent).where(CallEvent.call_id == call_id, CallEvent.action.in_(MOVES))
                           .order_by(CallEvent.id.desc()).limit(1)).first()


def _position(session: Session, call: Call, menu: rules.Menu) -> tuple[str, tuple[str, ...], int]:
    """Where the caller is: node, history and wrong tries, as the last move recorded them.

    A menu edited during the call may have lost nodes: the caller is then
    back at the start (the history keeps the nodes that still exist)."""
    last = _last_move(session, call.id)
    data = (last.data or {}) if last is not None else {}
    node = call.ivr_node if menu.has_node(call.ivr_node) else menu.start
    history = tuple(n for n in data.get("history", ()) if menu.has_node(n))
    tries = int(data.get("tries", 0) or 0) if node == data.get("node") else 0
    return node, history, tries


# --- the caller console while a call waits in a queue ---------------------------------------------


def waiting_status(ctx: Context, actor: Actor, call_ids: Iterable[int]) -> dict[int, dict]:
    """Position, estimated wait and callback offer of the actor's calls waiting in a queue, by call id."""
    ids = list(call_ids)
    if not ids:
        return {}
    with ctx.read() as session:
        now = ctx.now()
        waiting = session.scalars(select(Call).where(Call.id.in_(ids), Call.caller_user_id == actor.id,
                                                     Call.state.in_([s.value for s in WAITING]))).all()
        return {call.id: calls.queue_status(session, call, now=now) for call in waiting}
