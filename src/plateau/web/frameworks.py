"""Competency frameworks: the list, and each framework as a browsable, searchable tree.

Read-only for everybody logged in. ``GET /frameworks/{code}?q=`` is a plain
GET form that works without JavaScript (the count of matches is also in the
page title, which screen readers read on load); with htmx the same URL
answers with the results region only (``HX-Request``), its count announced
through the page's polite live region, and the URL pushed to the history.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup, escape

from ..domain.frameworks import LIST_LABELS, anchor, highlight
from ..services import frameworks
from ..store.models import User
from .deps import current_user, page

router = APIRouter()


def _marker(terms: tuple[str, ...]):
    """``mark(text)`` for the templates: the text escaped, the searched words in <mark>."""

    def mark(text: str | None) -> Markup:
        if not text:
            return Markup("")
        if not terms:
            return escape(text)
        return Markup("").join(Markup("<mark>%s</mark>") % piece if hit else escape(piece)
                               for piece, hit in highlight(text, terms))

    return mark


def number(value: float) -> str:
    """136 → « 136 », 0.5 → « 0,5 »: French decimals in the pages."""
    return f"{value:g}".replace(".", ",")


def _fragment(request: Request) -> bool:
    """An htmx search (not a history restore, which needs the whole page)."""
    return bool(request.headers.get("hx-request")) and not request.headers.get("hx-history-restore-request")


@router.get("/frameworks", include_in_schema=False)
def frameworks_index(request: Request, user: User = Depends(current_user)):
    return page(request, "frameworks/index.html", frameworks=frameworks.list_frameworks(), number=number)


@router.get("/frameworks/{code}", include_in_schema=False)
def framework_tree(request: Request, code: str, q: str = "", user: User = Depends(current_user)):
    framework, result = frameworks.search(code, q[:200])
    template = "frameworks/_results.html" if _fragment(request) else "frameworks/tree.html"
    return page(request, template, framework=framework, result=result, q=result.query,
                mark=_marker(result.terms), anchor=anchor, number=number, stats=framework.stats(),
                list_labels=LIST_LABELS)
