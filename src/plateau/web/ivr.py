"""Voice menus ("SVI") in the browser: the administration pages and the caller's keypad.

``/admin/ivr`` lists the menus; ``/admin/ivr/new`` and ``/admin/ivr/{id}`` edit
one as a plain form (works without JavaScript): name, number, the YAML text
with "Valider" (check only) and "Enregistrer" (check and save), every error
listed with its line (``scripts-editor.js`` adds "Aller à la ligne N"), and a
tree of the menu in nested lists, readable with a screen reader.

The JSON routes are the caller console's: dial a menu, press a key. What the
menu says comes back as ``utterance`` events (system lines), like an agent's
words.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from ..domain import ivr as rules
from ..domain import phones
from ..domain.errors import ConflictError, DomainError, ValidationError
from ..services import calls, ivr
from ..services.context import Actor, Context
from .deps import current_actor, get_ctx, page, supervisor_actor, verify_csrf

router = APIRouter()
api = APIRouter(prefix="/api", tags=["ivr"], dependencies=[Depends(verify_csrf)])

#: what "Nouveau serveur vocal" starts from: valid once the queue codes are those of the floor
STARTER = """\
start: accueil
nodes:
  accueil:
    prompt: >-
      Bienvenue. Pour parler à un conseiller, tapez 1 ; pour nos horaires, tapez 2 ;
      pour réécouter ce message, tapez étoile.
    options:
      "1": {queue: %(queue)s, message: "Nous vous mettons en relation avec un conseiller."}
      "2": {message: "Nous sommes ouverts du lundi au vendredi de 9 h à 18 h.", then: accueil}
      "*": {repeat: true}
    timeout: {seconds: 10, then: {repeat: true}}
    fallback: {queue: %(queue)s}
"""


# --- administration (supervisors, trainers, administrators) -------------------------------------


@router.get("/admin/ivr", include_in_schema=False)
def list_page(request: Request, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    return page(request, "ivr/list.html", summaries=ivr.list_menus(ctx))


@router.get("/admin/ivr/new", include_in_schema=False)
def new_page(request: Request, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    codes = sorted(ivr.queue_codes(ctx))
    starter = STARTER % {"queue": codes[0] if codes else "service-clients"}
    return _editor(request, ctx, None, ivr.MenuForm(content=starter), version=0)


@router.get("/admin/ivr/{menu_id}", include_in_schema=False)
def edit_page(menu_id: int, request: Request, saved: int = 0, actor: Actor = Depends(supervisor_actor),
              ctx: Context = Depends(get_ctx)):
    row = ivr.get_menu(ctx, menu_id)
    number = phones.display(row.number, ctx.settings.default_region) if row.number else ""
    form = ivr.MenuForm(row.name, number, row.content, row.active)
    return _editor(request, ctx, row, form, version=row.version, saved=bool(saved))


@router.post("/admin/ivr/new", dependencies=[Depends(verify_csrf)], include_in_schema=False)
async def create(request: Request, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    return await _submit(request, actor, ctx, None)


@router.post("/admin/ivr/{menu_id}", dependencies=[Depends(verify_csrf)], include_in_schema=False)
async def update(menu_id: int, request: Request, actor: Actor = Depends(supervisor_actor),
                 ctx: Context = Depends(get_ctx)):
    return await _submit(request, actor, ctx, menu_id)


async def _submit(request: Request, actor: Actor, ctx: Context, menu_id: int | None):
    data = await request.form()
    form = ivr.MenuForm(name=str(data.get("name", "")), number=str(data.get("number", "")),
                        content=str(data.get("content", "")).replace("\r\n", "\n"), active=bool(data.get("active")))
    try:
        version = int(str(data.get("version", "0")) or 0)
    except ValueError:
        version = 0
    row = ivr.get_menu(ctx, menu_id) if menu_id else None
    if data.get("action") != "save":
        try:
            ivr.check_menu(ctx, form.content)
        except ValidationError as exc:
            return _editor(request, ctx, row, form, version, errors=exc.errors, status=422)
        return _editor(request, ctx, row, form, version, valid=True)
    try:
        saved = ivr.save_menu(ctx, actor, menu_id, form, version if menu_id else None)
    except ValidationError as exc:
        return _editor(request, ctx, row, form, version, errors=exc.errors, status=422)
    except ConflictError as exc:
        current = ivr.get_menu(ctx, menu_id)
        # the form now carries the current version: saving again, knowingly, replaces it
        return _editor(request, ctx, current, form, current.version, conflict=exc, status=409)
    return RedirectResponse(f"/admin/ivr/{saved.id}?saved=1", status_code=303)


def _editor(request: Request, ctx: Context, row, form: ivr.MenuForm, version: int,
            errors: dict[str, DomainError] | None = None, valid: bool = False, saved: bool = False,
            conflict: DomainError | None = None, status: int = 200):
    errors = errors or {}
    fields = {k: e for k, e in errors.items() if k in ("name", "number")}
    text_errors = [e for k, e in errors.items() if k not in fields]
    try:
        menu = rules.parse_menu(form.content)  # the tree shows as soon as the text reads, queues or not
    except ValidationError:
        menu = None
    return page(request, "ivr/editor.html", status_code=status, row=row, form=form, version=version,
                field_errors=fields, text_errors=text_errors, menu=menu, tree=rules.tree(menu) if menu else None,
                queue_names=ivr.queue_names(ctx), valid=valid, saved=saved, conflict=conflict,
                KEY_LABELS=rules.KEY_LABELS, Kind=rules.Kind, HANGUP=rules.HANGUP, MAX_TRIES=rules.MAX_TRIES)


# --- the caller console's keypad (JSON) -------------------------------------------------------------


class EnterIn(BaseModel):
    number: str | None = Field(None, description="the caller's number, any format")
    region: str | None = Field(None, description="ISO country used to read a national number (FR, MA, DZ)")
    contact_id: int | None = Field(None, description="call from this contact's first number instead")


class KeyIn(BaseModel):
    key: str = Field(description="one key of the keypad: 0–9, * or #")


class IvrCallOut(BaseModel):
    id: int
    state: str = Field(description="ivr while in the menu; offered (in a queue), deflected… once out of it")
    ivr_id: int | None
    node: str | None = Field(description="the menu node the caller is in (None once out of the menu)")
    queue: str = Field(description="the queue's name once the call is in one")


def _out(ctx: Context, call_id: int, actor: Actor) -> IvrCallOut:
    view = calls.view(ctx, call_id, actor)
    return IvrCallOut(id=view.call.id, state=view.call.state, ivr_id=view.call.ivr_id,
                      node=view.call.ivr_node if view.call.state == "ivr" else None,
                      queue=view.queue.name if view.queue else "")


@api.post("/ivr/{menu_id}/calls", response_model=IvrCallOut, status_code=201)
def dial(menu_id: int, body: EnterIn, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    """Call a voice menu from the caller console; the start prompt comes as an ``utterance`` event."""
    call = ivr.enter(ctx, actor, menu_id, body.number, body.region, body.contact_id)
    return _out(ctx, call.id, actor)


@api.post("/calls/{call_id}/keys", response_model=IvrCallOut)
def press(call_id: int, body: KeyIn, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    """Press a key of the keypad (the call's caller, while the call is in the menu)."""
    ivr.press_key(ctx, actor, call_id, body.key)
    return _out(ctx, call_id, actor)


router.include_router(api)
