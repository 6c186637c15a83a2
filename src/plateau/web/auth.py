"""Login, logout and the home redirect."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from ..services import agents as agent_service
from ..services.context import Context
from ..services.users import actor_for, authenticate
from ..store.models import User
from . import i18n
from .deps import current_user, get_ctx, page, verify_csrf

router = APIRouter()


@router.get("/", include_in_schema=False)
def home(user: User = Depends(current_user)):
    return RedirectResponse("/console" if user.role in ("supervisor", "admin") else "/desktop", status_code=303)


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str = "/"):
    return page(request, "login.html", next=_safe_next(next))


@router.post("/login", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/"),
          locale: str = Form("fr"), ctx: Context = Depends(get_ctx)):
    user = authenticate(ctx, username, password)
    if user is None:
        if locale in i18n.LOCALES:
            request.state.locale = locale  # the page answers in the language just chosen
        i18n.activate(locale)
        response = page(request, "login.html", status_code=401, next=_safe_next(next), username=username,
                        error=i18n.gettext("Identifiant ou mot de passe incorrect."))
        return _remember_locale(response, locale)
    csrf = request.session.get("csrf")
    request.session.clear()
    request.session.update(user_id=user.id, csrf=csrf)
    if locale in i18n.LOCALES and locale != user.locale:
        from ..services.users import set_locale

        set_locale(ctx, user.id, locale)
    return _remember_locale(RedirectResponse(_safe_next(next), status_code=303), locale)


def _remember_locale(response, locale: str):
    """The login page shows next time (after logout, on this browser) in the language chosen here."""
    if locale in i18n.LOCALES:
        response.set_cookie("locale", locale, max_age=365 * 24 * 3600, samesite="lax")
    return response


@router.post("/logout", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def logout(request: Request, user: User = Depends(current_user), ctx: Context = Depends(get_ctx)):
    agent_service.log_off(ctx, actor_for(user))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def _safe_next(target: str) -> str:
    """Only local paths: never redirect to another site after login."""
    parsed = urlparse(target or "/")
    if parsed.scheme or parsed.netloc or not (target or "/").startswith("/"):
        return "/"
    return target
