"""Request helpers shared by every router: who is logged in, CSRF, rendering.

Pages are cookie-session authenticated; every unsafe request must carry the
session's CSRF token (hidden ``csrf_token`` field, or ``X-CSRF-Token`` header
that htmx and our scripts send).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from ..domain import prefs as prefs_rules
from ..services.context import Actor, Context
from ..services.users import actor_for, get_user
from ..domain.errors import NotFoundError
from ..store.models import User
from . import i18n
from .templating import render_string

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class LoginRequired(Exception):
    """Raised for a page request without a valid session: redirect to login."""


def get_ctx(request: Request) -> Context:
    return request.app.state.ctx


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def verify_csrf(request: Request) -> None:
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrf-token")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get("csrf_token")
    if not expected or not sent or not secrets.compare_digest(str(expected), str(sent)):
        raise HTTPException(status_code=403, detail=i18n.gettext("Jeton de sécurité (CSRF) absent ou périmé : rechargez la page."))


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def _session_user(request: Request, ctx: Context) -> User | None:
    """The logged-in, active user of this session, or None (session expired after inactivity)."""
    user_id = request.session.get("user_id")
    user = None
    if user_id:
        try:
            user = get_user(ctx, user_id)
        except NotFoundError:
            user = None
    if user is not None and user.active:
        timeout = prefs_rules.effective(user.prefs)["session_timeout_min"] * 60
        now = datetime.now(timezone.utc).timestamp()
        last = request.session.get("seen", now)
        if now - last > timeout:
            user = None
            request.session.clear()
        else:
            request.session["seen"] = now
    return user if user is not None and user.active else None


async def current_user(request: Request, ctx: Context = Depends(get_ctx)) -> User:
    """Async on purpose: the user's language is activated here, on the request's own
    context, so that it reaches the route, the other dependencies (sync ones run in
    worker threads on a copy of this context) and the error handlers; a sync
    dependency would set it on a worker thread's copy, lost on return."""
    user = await run_in_threadpool(_session_user, request, ctx)
    if user is None:
        if _wants_html(request):
            raise LoginRequired()
        i18n.activate(request_locale(request))
        raise HTTPException(status_code=401, detail=i18n.gettext("Connexion requise."))
    i18n.activate(user.locale)
    request.state.user = user
    return user


def current_actor(user: User = Depends(current_user)) -> Actor:
    return actor_for(user)


def supervisor_actor(actor: Actor = Depends(current_actor)) -> Actor:
    if not actor.is_supervisor:
        raise HTTPException(status_code=403, detail=i18n.gettext("Réservé aux superviseurs, formateurs et administrateurs."))
    return actor


def admin_actor(actor: Actor = Depends(current_actor)) -> Actor:
    if not actor.is_admin:
        raise HTTPException(status_code=403, detail=i18n.gettext("Réservé aux administrateurs."))
    return actor


def request_locale(request: Request) -> str:
    """The logged-in user's language, else the one just picked on the login form,
    else the ``locale`` cookie (set at login), else the browser's."""
    user = getattr(request.state, "user", None)
    if user is not None:
        return user.locale
    if getattr(request.state, "locale", None) in i18n.LOCALES:
        return request.state.locale
    return i18n.pick_locale(request.cookies.get("locale"), request.headers.get("accept-language"))


def page(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    """Render a template with what every page needs (user, CSRF token, locale)."""
    user = getattr(request.state, "user", None)
    locale = request_locale(request)
    i18n.activate(locale)
    html = render_string(
        template,
        request=request,
        user=user,
        csrf=csrf_token(request),
        locale=locale,
        rtl=locale in i18n.RTL,
        prefs=prefs_rules.effective(user.prefs if user else None),
        **context,
    )
    return HTMLResponse(html, status_code=status_code)
