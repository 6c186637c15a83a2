"""My preferences: language, adjustable timings (WCAG 2.2.1) and remappable shortcuts (2.1.4)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ..domain import prefs as prefs_rules
from ..domain.errors import ValidationError
from ..services import users
from ..services.context import Actor, Context
from ..store.models import User
from . import i18n
from .deps import current_actor, current_user, get_ctx, page, verify_csrf

router = APIRouter(include_in_schema=False)


def _render(request: Request, user: User, values: dict, errors: dict | None = None, saved: bool = False, status: int = 200):
    return page(request, "preferences.html", status_code=status, values=values, errors=errors or {}, saved=saved,
                SHORTCUT_LABELS=prefs_rules.SHORTCUT_LABELS, LIMITS=prefs_rules.LIMITS)


@router.get("/preferences")
def show(request: Request, user: User = Depends(current_user)):
    return _render(request, user, prefs_rules.effective(user.prefs))


@router.post("/preferences", dependencies=[Depends(verify_csrf)])
async def save(request: Request, user: User = Depends(current_user), actor: Actor = Depends(current_actor),
               ctx: Context = Depends(get_ctx)):
    form = await request.form()
    values = {key: form.get(key, "") for key in prefs_rules.LIMITS}
    values["shortcuts"] = {action: form[f"shortcut_{action}"] for action in prefs_rules.DEFAULT_SHORTCUTS
                           if f"shortcut_{action}" in form}
    locale = form.get("locale", user.locale)
    try:
        users.update_prefs(ctx, actor, values)
    except ValidationError as exc:
        shown = {**prefs_rules.effective(user.prefs), **{k: v for k, v in values.items() if k != "shortcuts"}}
        shown["shortcuts"] = {**prefs_rules.effective(user.prefs)["shortcuts"], **values["shortcuts"]}
        return _render(request, user, shown, errors=exc.errors, status=422)
    if locale in i18n.LOCALES:
        users.set_locale(ctx, user.id, locale)
    fresh = users.get_user(ctx, user.id)
    request.state.user = fresh
    return _render(request, fresh, prefs_rules.effective(fresh.prefs), saved=True)
