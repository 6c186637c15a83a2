"""The knowledge base and the product sheets: read-only reference for agents.

Search folds accents and case on both sides ("echeancier" finds
"Échéancier"): articles keep a folded copy of their text in ``search_text``,
every word of the query must appear in it, and articles whose title holds
the words come first. The base has tens of articles, not millions, so a
``LIKE`` per word is the right tool on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, select

from ..domain.errors import N_, NotFoundError
from ..domain.text import fold
from ..store.models import KnowledgeArticle, Product
from .context import Context

MAX_RESULTS = 50
#: Markdown marks carry no meaning for search
_MARKUP = re.compile(r"[#*_>`\[\]()|]+")


def search_text(title: str, category: str, body: str) -> str:
    """The folded text an article is searched by (kept in ``search_text``)."""
    return fold(_MARKUP.sub(" ", f"{title} {category} {body}"))


def query_terms(query: str | None) -> list[str]:
    """Folded words of a query, without duplicates, in order."""
    terms: list[str] = []
    for word in fold(_MARKUP.sub(" ", query or "")).split():
        if word not in terms:
            terms.append(word)
    return terms[:10]


@dataclass(frozen=True)
class Category:
    name: str
    articles: list[KnowledgeArticle]


def search_articles(ctx: Context, query: str | None, limit: int = 20) -> list[KnowledgeArticle]:
    """Articles holding every word of ``query``; title matches first. Empty query: none."""
    terms = query_terms(query)
    if not terms:
        return []
    limit = max(1, min(limit, MAX_RESULTS))
    conditions = [KnowledgeArticle.search_text.like(f"%{_escape(term)}%", escape="\\") for term in terms]
    with ctx.read() as session:
        found = list(session.scalars(select(KnowledgeArticle).where(and_(*conditions))))
    found.sort(key=lambda a: (-_title_hits(a, terms), fold(a.title)))
    return found[:limit]


def list_articles(ctx: Context) -> list[Category]:
    """Every article, grouped by category, both in alphabetical order."""
    with ctx.read() as session:
        articles = list(session.scalars(select(KnowledgeArticle)))
    groups: dict[str, list[KnowledgeArticle]] = {}
    for article in sorted(articles, key=lambda a: (fold(a.category), fold(a.title))):
        groups.setdefault(article.category, []).append(article)
    return [Category(name, items) for name, items in groups.items()]


def get_article(ctx: Context, slug: str) -> KnowledgeArticle:
    with ctx.read() as session:
        article = session.scalar(select(KnowledgeArticle).where(KnowledgeArticle.slug == slug))
    if article is None:
        raise NotFoundError(N_("Article introuvable."), "slug")
    return article


def list_products(ctx: Context) -> list[Product]:
    with ctx.read() as session:
        products = list(session.scalars(select(Product)))
    return sorted(products, key=lambda p: (fold(p.category), fold(p.name)))


def get_product(ctx: Context, code: str) -> Product:
    with ctx.read() as session:
        product = session.scalar(select(Product).where(Product.code == code))
    if product is None:
        raise NotFoundError(N_("Produit introuvable."), "code")
    return product


def search_products(ctx: Context, query: str | None, limit: int = 10) -> list[Product]:
    """Products whose name, category, summary or sheet hold every word of ``query``."""
    terms = query_terms(query)
    if not terms:
        return []
    found = []
    for product in list_products(ctx):
        haystack = search_text(f"{product.name} {product.summary}", product.category, product.sheet)
        if all(term in haystack for term in terms):
            found.append(product)
    found.sort(key=lambda p: -sum(term in fold(p.name) for term in terms))
    return found[:limit]


def _title_hits(article: KnowledgeArticle, terms: list[str]) -> int:
    title = fold(article.title)
    return sum(term in title for term in terms)


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
