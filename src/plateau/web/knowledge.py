"""Knowledge base and product sheets: pages, the search fragment, the JSON API.

Read-only for everybody logged in. ``GET /kb/search?q=`` returns only the
results list, for the search box of the agent desktop's side panel; with
``target=<element id>`` its links load the article into that element
(``GET /kb/{slug}?fragment=1``) instead of leaving the desktop mid-call.
"""

from __future__ import annotations

import re
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from ..services import knowledge
from ..services.context import Context
from ..store.models import KnowledgeArticle, Product, User
from .deps import current_user, get_ctx, page
from .markdown import render_markdown

router = APIRouter()

_TARGET = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,40}$")


def _target(value: str | None) -> str | None:
    return value if value and _TARGET.match(value) else None


# --- pages -------------------------------------------------------------------------------


@router.get("/kb", include_in_schema=False)
def kb_index(request: Request, q: str = "", user: User = Depends(current_user), ctx: Context = Depends(get_ctx)):
    query = q.strip()
    return page(request, "knowledge/index.html", q=query, searched=bool(query),
                articles=knowledge.search_articles(ctx, query), products=knowledge.search_products(ctx, query),
                categories=knowledge.list_articles(ctx), target=None, announce=False)


@router.get("/kb/search", include_in_schema=False)
def kb_search(request: Request, q: str = "", target: str | None = None, limit: int = Query(20, ge=1, le=50),
              user: User = Depends(current_user), ctx: Context = Depends(get_ctx)):
    """Just the results list (htmx); the count also goes to the page's polite live region."""
    query = q.strip()
    return page(request, "knowledge/_results.html", q=query, searched=bool(query),
                articles=knowledge.search_articles(ctx, query, limit),
                products=knowledge.search_products(ctx, query), target=_target(target), announce=True)


@router.get("/kb/{slug}", include_in_schema=False)
def kb_article(request: Request, slug: str, fragment: bool = False, level: int = Query(2, ge=1, le=5),
               user: User = Depends(current_user), ctx: Context = Depends(get_ctx)):
    article = knowledge.get_article(ctx, slug)
    if fragment:
        return page(request, "knowledge/_article.html", article=article, level=level,
                    body=render_markdown(article.body, top=level + 1))
    return page(request, "knowledge/article.html", article=article, body=render_markdown(article.body, top=2))


@router.get("/products", include_in_schema=False)
def products_index(request: Request, user: User = Depends(current_user), ctx: Context = Depends(get_ctx)):
    return page(request, "knowledge/products.html", products=knowledge.list_products(ctx))


@router.get("/products/{code}", include_in_schema=False)
def product_sheet(request: Request, code: str, user: User = Depends(current_user), ctx: Context = Depends(get_ctx)):
    product = knowledge.get_product(ctx, code)
    return page(request, "knowledge/product.html", product=product, sheet=render_markdown(product.sheet, top=2))


# --- JSON API ------------------------------------------------------------------------------


class ArticleSummary(BaseModel):
    slug: str
    title: str
    category: str


class ArticleOut(ArticleSummary):
    body: str
    updated_at: datetime


class ProductOut(BaseModel):
    code: str
    name: str
    category: str
    summary: str
    price_label: str
    sheet: str


def _summary(article: KnowledgeArticle) -> ArticleSummary:
    return ArticleSummary(slug=article.slug, title=article.title, category=article.category)


def _product(product: Product) -> ProductOut:
    return ProductOut(code=product.code, name=product.name, category=product.category, summary=product.summary,
                      price_label=product.price_label, sheet=product.sheet)


@router.get("/api/kb/articles", response_model=list[ArticleSummary], tags=["knowledge"])
def api_articles(q: str = "", limit: int = Query(20, ge=1, le=50), user: User = Depends(current_user),
                 ctx: Context = Depends(get_ctx)):
    """Articles matching every word of ``q`` (accents and case ignored); all of them without ``q``."""
    if q.strip():
        return [_summary(a) for a in knowledge.search_articles(ctx, q, limit)]
    return [_summary(a) for category in knowledge.list_articles(ctx) for a in category.articles]


@router.get("/api/kb/articles/{slug}", response_model=ArticleOut, tags=["knowledge"])
def api_article(slug: str, user: User = Depends(current_user), ctx: Context = Depends(get_ctx)):
    article = knowledge.get_article(ctx, slug)
    return ArticleOut(slug=article.slug, title=article.title, category=article.category, body=article.body,
                      updated_at=article.updated_at)


@router.get("/api/products", response_model=list[ProductOut], tags=["knowledge"])
def api_products(user: User = Depends(current_user), ctx: Context = Depends(get_ctx)):
    return [_product(p) for p in knowledge.list_products(ctx)]


@router.get("/api/products/{code}", response_model=ProductOut, tags=["knowledge"])
def api_product(code: str, user: User = Depends(current_user), ctx: Context = Depends(get_ctx)):
    return _product(knowledge.get_product(ctx, code))
