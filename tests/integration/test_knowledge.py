"""Knowledge base and product sheets: accent-blind search, read-only pages for agents."""

from __future__ import annotations

import re

import pytest

from plateau.domain.errors import NotFoundError
from plateau.services import demo, knowledge
from plateau.services.demo_data import load_demo
from plateau.store.models import KnowledgeArticle
from tests.helpers import login, make_user


@pytest.fixture
def catalogue(ctx):
    demo.seed_catalogue(ctx, load_demo())
    return ctx


def _slugs(articles) -> list[str]:
    return [a.slug for a in articles]


def test_search_ignores_accents_and_case(catalogue):
    for query in ("echeancier", "ÉCHÉANCIER", "Échéancier", "echéancier"):
        assert "echeancier-de-paiement" in _slugs(knowledge.search_articles(catalogue, query)), query
    assert _slugs(knowledge.search_articles(catalogue, "cheque energie"))[0] == "cheque-energie"


def test_every_word_must_match_and_title_matches_come_first(catalogue):
    found = knowledge.search_articles(catalogue, "compteur linky")
    assert found and found[0].slug == "compteur-linky"
    assert all("linky" in a.search_text and "compteur" in a.search_text for a in found)
    assert knowledge.search_articles(catalogue, "linky zeppelin") == []


def test_like_wildcards_are_searched_literally(catalogue):
    assert knowledge.search_articles(catalogue, "") == []
    assert knowledge.search_articles(catalogue, "   ") == []
    percent = knowledge.search_articles(catalogue, "%", limit=50)
    assert percent and all("%" in a.search_text for a in percent)
    assert len(percent) < sum(len(c.articles) for c in knowledge.list_articles(catalogue))
    assert knowledge.search_articles(catalogue, "\\_") == []


def test_articles_are_grouped_by_category(catalogue):
    categories = knowledge.list_articles(catalogue)
    names = [c.name for c in categories]
    assert "Facturation et paiement" in names and len(names) == len(set(names))
    assert sum(len(c.articles) for c in categories) >= 20


def test_products_and_unknown_references(catalogue):
    products = knowledge.list_products(catalogue)
    assert len(products) >= 5
    assert knowledge.get_product(catalogue, "option-verte").name == "Option Verte 100 % renouvelable"
    assert [p.code for p in knowledge.search_products(catalogue, "THERMOSTAT")][0] == "thermostat-connecte"
    with pytest.raises(NotFoundError):
        knowledge.get_article(catalogue, "nulle-part")
    with pytest.raises(NotFoundError):
        knowledge.get_product(catalogue, "nulle-part")


# --- pages ------------------------------------------------------------------------------


@pytest.fixture
def agent_client(client, sqlite_ctx):
    demo.seed_catalogue(sqlite_ctx, load_demo())
    make_user(sqlite_ctx, "amina")
    login(client, "amina")
    return client


def test_pages_need_a_login(client, sqlite_ctx):
    for url in ("/kb", "/kb/search?q=linky", "/kb/compteur-linky", "/products", "/products/option-verte"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code in (303, 401), url


def test_kb_page_lists_categories_and_searches_without_javascript(agent_client):
    page = agent_client.get("/kb")
    assert page.status_code == 200
    assert "<h1>Base de connaissances</h1>" in page.text
    assert '<label for="kb-q">' in page.text and 'role="search"' in page.text
    assert "<h3" in page.text and "Facturation et paiement" in page.text
    searched = agent_client.get("/kb", params={"q": "demenagement"})
    assert "Déménagement d&#39;un client" in searched.text
    assert "résultat" in searched.text
    assert 'data-announce' not in searched.text  # a full page announces nothing twice


def test_search_fragment_is_just_the_list_and_announces_the_count(agent_client):
    fragment = agent_client.get("/kb/search", params={"q": "CHEQUE"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "<h1" not in fragment.text
    assert "Le chèque énergie" in fragment.text
    assert re.search(r'data-announce="\d+ résultats? pour « CHEQUE »\."', fragment.text)
    empty = agent_client.get("/kb/search", params={"q": "zeppelin"})
    assert "Aucun résultat pour « zeppelin »." in empty.text


def test_search_fragment_can_load_articles_into_a_side_panel(agent_client):
    fragment = agent_client.get("/kb/search", params={"q": "linky", "target": "kb-panel"})
    assert 'hx-get="/kb/compteur-linky?fragment=1&amp;level=3"' in fragment.text
    assert 'hx-target="#kb-panel"' in fragment.text
    hostile = agent_client.get("/kb/search", params={"q": "linky", "target": '"><script>'})
    assert "hx-target" not in hostile.text and "<script>" not in hostile.text
    panel = agent_client.get("/kb/compteur-linky", params={"fragment": 1, "level": 3})
    assert '<h3 id="kb-article-title"' in panel.text and "<h4>" in panel.text and "<h2" not in panel.text


def test_article_page_renders_its_sections_under_the_title(agent_client):
    page = agent_client.get("/kb/compteur-linky")
    assert page.status_code == 200
    assert "<h1>Le compteur Linky</h1>" in page.text
    assert "<h2>Ce que c'est</h2>" in page.text and "<h2>Lire l'écran</h2>" in page.text
    assert "<h1>" not in page.text.split("<h1>Le compteur Linky</h1>", 1)[1]
    assert agent_client.get("/kb/nulle-part").status_code == 404


def test_article_markup_cannot_inject_html(agent_client, sqlite_ctx):
    with sqlite_ctx.unit() as session:
        session.add(KnowledgeArticle(slug="piege", title="Piège", category="Test",
                                     body="## Titre\n<script>alert(1)</script>\n\n[lien](javascript:alert(1))",
                                     search_text="piege", updated_at=sqlite_ctx.now()))
    page = agent_client.get("/kb/piege")
    assert "<script>alert(1)</script>" not in page.text
    assert "href=\"javascript" not in page.text


def test_product_pages(agent_client):
    listing = agent_client.get("/products")
    assert listing.status_code == 200
    assert "<caption>" in listing.text and '<th scope="col">Prix</th>' in listing.text
    assert 'href="/products/thermostat-connecte"' in listing.text
    sheet = agent_client.get("/products/assurance-depannage")
    assert "<h1>Assurance Dépannage Sérénité</h1>" in sheet.text and "<h2>Garanties</h2>" in sheet.text
    assert agent_client.get("/products/nulle-part").status_code == 404


def test_json_api(agent_client):
    found = agent_client.get("/api/kb/articles", params={"q": "rgpd"}).json()
    assert found[0]["slug"] == "rgpd-droits-des-personnes"
    article = agent_client.get("/api/kb/articles/bloctel-et-demarchage").json()
    assert "Bloctel" in article["body"]
    assert len(agent_client.get("/api/products").json()) >= 5
    assert agent_client.get("/api/products/nulle-part").status_code == 404
