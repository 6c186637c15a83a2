"""The FastAPI application: pages, JSON API, event stream, static files."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from ..domain.errors import DomainError
from ..services.context import Context
from ..store.db import Database
from ..config import get_settings
from . import i18n
from .deps import LoginRequired, page

STATIC = Path(__file__).with_name("static")
log = logging.getLogger(__name__)

#: routers are registered here; each feature module exposes ``router``
ROUTER_MODULES = ["auth", "desktop", "console", "events", "preferences", "calls", "contacts", "imports", "scripts", "knowledge",
                  "api", "wallboard", "kpis", "objectives", "staffing", "ivr", "queues_admin", "callbacks",
                  "campaigns", "campaign_results", "campaign_work", "dialer", "compliance", "frameworks", "review", "practice", "progress"]


def create_app(ctx: Context | None = None, background: bool = True) -> FastAPI:
    """Build the app. ``background`` runs the call ticker (ring timeouts,
    routing of waiting calls); tests that drive time by hand turn it off."""
    if ctx is None:
        ctx = Context(db=Database(get_settings().database_url))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        task = asyncio.create_task(_ticker(ctx)) if background else None
        yield
        if task:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(title="Plateau", version="0.1.0", lifespan=lifespan,
                  description="Contact centre and training floor — JSON API used by the pages.")
    app.state.ctx = ctx
    app.add_middleware(SessionMiddleware, secret_key=ctx.settings.secret_key, session_cookie="plateau_session",
                       same_site="lax", https_only=False, max_age=7 * 24 * 3600)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    import importlib

    for name in ROUTER_MODULES:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__package__}.{name}":
                continue
            raise
        app.include_router(module.router)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired):
        target = request.url.path
        if request.headers.get("hx-request"):
            return HTMLResponse("", status_code=401, headers={"HX-Redirect": f"/login?next={target}"})
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError):
        message = exc.render(i18n.gettext)
        if request.url.path.startswith("/api/"):
            errors = {k: v.render(i18n.gettext) for k, v in getattr(exc, "errors", {}).items()}
            return JSONResponse({"detail": message, "field": exc.field, "errors": errors}, status_code=_status(exc))
        if request.headers.get("hx-request"):
            return HTMLResponse(f'<p class="error" role="alert">{_escape(message)}</p>', status_code=_status(exc))
        # a page the browser navigated to: a whole document (title, lang, landmarks, h1), not a bare fragment
        return page(request, "error.html", status_code=_status(exc), message=message, status=_status(exc))

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException):
        if request.url.path.startswith("/api/") or request.headers.get("hx-request"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return page(request, "error.html", status_code=exc.status_code, message=exc.detail, status=exc.status_code)

    return app


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def _status(exc: DomainError) -> int:
    from ..domain.errors import ConflictError, NotFoundError, PermissionDenied

    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, PermissionDenied):
        return 403
    return 422


async def _ticker(ctx: Context) -> None:
    """Once a second: expire rings, offer waiting calls to free agents."""
    from ..services import calls

    while True:
        try:
            await asyncio.to_thread(calls.tick, ctx)
        except Exception:  # keep ticking; the error is logged
            log.exception("call ticker failed")
        await asyncio.sleep(1.0)
