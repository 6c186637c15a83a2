"""An outbound campaign from end to end, in two browser windows.

A supervisor creates a prospecting campaign for business contacts from a CRM
selection (a tag), runs the test calls ("appels tests") on a sample of 5,
then launches it; an agent works it in progressive mode with the keyboard
only, qualifying each call the dialer hands them; a consumer who slipped
into the selection is blocked by the calling rules and the campaign page
shows why; the results page updates by itself as the last calls close.

The dialer runs on the live server's own ticker against the simulated
network, set so that every number answers within a second: what varies is
which contacts the test sample draws, and the test reads it from the
database instead of guessing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from plateau.services import scripts
from plateau.services.context import SYSTEM
from plateau.store.models import Call, CampaignContact, Contact, ContactPhone, DialAttempt, Disposition
from tests.browser.conftest import assert_accessible, log_in
from tests.browser.test_agent_journey import _become_available, tab_to
from tests.helpers import PASSWORD, make_user

pytestmark = pytest.mark.browser

SHORT = 15_000
SCRIPT = Path(__file__).resolve().parents[2] / "data" / "demo" / "scripts" / "campagne-rdv-pros-photovoltaique.yaml"
COMPANIES = ["Boulangerie Martin", "Garage du Parc", "Imprimerie Lumière", "Menuiserie Roche", "Pharmacie Centrale",
             "Transports Valette"]


@pytest.fixture
def outbound_floor(live):
    ctx = live.ctx
    people = {"chef": make_user(ctx, "chef", role="supervisor", name="Chef de plateau"),
              "lina": make_user(ctx, "lina", name="Lina Agent")}
    script = scripts.import_script(ctx, SYSTEM, SCRIPT.read_text(encoding="utf-8"))
    now = ctx.now()
    with ctx.unit() as session:
        session.add_all([Disposition(code="out_rdv", label="Rendez-vous conseiller pris", outcome="appointment"),
                         Disposition(code="out_refus", label="Refus de l'offre", outcome="refused")])
        for index, name in enumerate(COMPANIES):
            session.add(Contact(kind="company", company_name=name, search_name=name.lower(), status="prospect",
                                tags=["salon-2026"], created_at=now, updated_at=now,
                                phones=[ContactPhone(e164=f"+3347210{index:04d}", label="work")]))
        # a consumer tagged by mistake: no recorded consent, so prospecting is refused
        session.add(Contact(kind="person", civility="Mme", first_name="Odile", last_name="Ferrand",
                            search_name="ferrand odile", status="prospect", tags=["salon-2026"], created_at=now,
                            updated_at=now, phones=[ContactPhone(e164="+33612000001", label="mobile")]))
    return live, people, script


def _window(browser: Browser, base: str, username: str) -> Page:
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    log_in(page, base, username, PASSWORD)
    return page


def _create_campaign(chef: Page, base: str, script_name: str) -> int:
    chef.goto(f"{base}/campaigns/new")
    chef.get_by_label("Nom de la campagne").fill("Salon des pros 2026")
    chef.get_by_label("Code", exact=True).fill("salon-pros-2026")
    chef.get_by_label("Type de campagne").select_option(label="Prospection")
    chef.get_by_label("Script d'appel").select_option(label=script_name)
    chef.get_by_label("Rendez-vous conseiller pris").check()
    chef.get_by_label("Refus de l'offre").check()
    chef.get_by_label("Étiquette").fill("salon-2026")
    chef.get_by_label("À l'enregistrement, ajouter à la liste les contacts de cette sélection").check()
    chef.get_by_label("Mode de numérotation").select_option(label="Progressif")
    chef.get_by_label("Numéro présenté").fill("01 62 48 30 00")
    chef.get_by_label("Contacts appelés en test").fill("5")
    for label, value in [("Décroché par la personne (poids)", "1"), ("Décroché par une autre personne (poids)", "0"),
                         ("Occupé (poids)", "0"), ("Pas de réponse (poids)", "0"), ("Répondeur (poids)", "0"),
                         ("Numéro invalide (poids)", "0"), ("Sonnerie médiane avant de décrocher (secondes)", "1"),
                         ("Dispersion des temps de sonnerie", "0")]:
        chef.get_by_label(label, exact=True).fill(value)
    chef.get_by_label("Lina Agent", exact=False).check()
    chef.click("#campaign-save")
    chef.wait_for_url(re.compile(r"/campaigns/\d+\?done=created"), timeout=SHORT)
    expect(chef.locator("main")).to_contain_text("7")  # the selection's contacts were added
    return int(re.search(r"/campaigns/(\d+)", chef.url).group(1))


def _handle_calls(agent: Page, count: int, qualification: str) -> None:
    """Take ``count`` calls from the dialer: each connects, the agent greets, hangs up, qualifies, closes."""
    announced = agent.locator("#live-assertive")
    for _ in range(count):
        # "Envoyer" is enabled only while a call is connected: the previous one is closed, so this is the next
        expect(agent.locator("#say-send")).to_be_enabled(timeout=SHORT)
        expect(announced).to_contain_text("a décroché : vous êtes en ligne", timeout=SHORT)
        tab_to(agent, "#say-text")
        agent.keyboard.type("Bonjour, Lina d'Énergie Horizon, je vous appelle au sujet du salon des pros.")
        agent.keyboard.press("Enter")
        agent.keyboard.press("Alt+Shift+R")
        expect(agent.locator("#wrapup-form")).to_be_visible(timeout=SHORT)
        tab_to(agent, "#wrapup-disposition")
        agent.keyboard.type(qualification)
        tab_to(agent, "#wrapup-close")
        agent.keyboard.press("Enter")
        expect(agent.locator("#live-polite")).to_contain_text("Appel clôturé", timeout=SHORT)


def _sample(live, campaign_id: int) -> tuple[int, bool]:
    """How many businesses the test sample drew, and whether the consumer is in it."""
    with live.ctx.read() as session:
        rows = session.execute(select(Contact.kind).join(CampaignContact, CampaignContact.contact_id == Contact.id)
                               .where(CampaignContact.campaign_id == campaign_id, CampaignContact.in_test)).all()
    kinds = [kind for (kind,) in rows]
    assert len(kinds) == 5
    return kinds.count("company"), "person" in kinds


def test_a_campaign_is_tested_launched_and_worked_in_progressive_mode(outbound_floor, browser):
    live, people, script = outbound_floor
    base = live.url
    chef = _window(browser, base, "chef")
    campaign_id = _create_campaign(chef, base, script.name)
    expect(chef.locator("h1")).to_contain_text("Salon des pros 2026")
    assert_accessible(chef, "campaign page (draft)")

    # test calls on a sample of 5
    chef.click("#campaign-action-test")
    expect(chef.locator("main")).to_contain_text("Appels tests", timeout=SHORT)
    tested, consumer_in_test = _sample(live, campaign_id)

    # the agent joins the campaign with the keyboard and takes the test calls
    agent = _window(browser, base, "lina")
    agent.goto(f"{base}/desktop")
    _become_available(agent)
    tab_to(agent, "#dialer-campaign")
    tab_to(agent, "#dialer-join")
    agent.keyboard.press("Enter")
    expect(agent.locator("#dialer-current")).to_contain_text("Salon des pros 2026", timeout=SHORT)
    _handle_calls(agent, tested, "Rendez")
    assert_accessible(agent, "agent desktop (campaign, between calls)")

    # the team has reviewed the test calls: launch
    chef.goto(f"{base}/campaigns/{campaign_id}")
    chef.click("#campaign-action-launch")
    expect(chef.locator("main")).to_contain_text("En cours", timeout=SHORT)
    chef.goto(f"{base}/campaigns/{campaign_id}/results")
    expect(chef.locator("#results-reached td").first).to_have_text("0")
    assert_accessible(chef, "campaign results (live)")

    remaining = len(COMPANIES) - tested
    _handle_calls(agent, remaining, "Refus")

    # the results page follows without a reload
    expect(chef.locator("#results-reached td").first).to_have_text(str(remaining), timeout=SHORT)

    # the consumer was never called: the campaign page says which rule blocked her
    chef.goto(f"{base}/campaigns/{campaign_id}?state=blocked")
    blocked = chef.locator("#targets-table tbody tr", has_text="Ferrand")
    expect(blocked).to_contain_text("Bloqué")
    expect(blocked).to_contain_text("loi n° 2025-594")
    assert_accessible(chef, "campaign page (blocked contact)")

    with live.ctx.read() as session:
        closed = session.scalars(select(Call).where(Call.campaign_id == campaign_id, Call.state == "closed")).all()
        attempts = session.scalars(select(DialAttempt).where(DialAttempt.campaign_id == campaign_id)).all()
        consumer = session.scalars(select(Contact).where(Contact.last_name == "Ferrand")).one()
    assert len(closed) == len(COMPANIES) and {c.direction for c in closed} == {"outbound"}
    assert sorted(a.outcome for a in attempts if a.allowed) == ["appointment"] * tested + ["refused"] * remaining
    refused = [a for a in attempts if not a.allowed]
    assert refused and {a.contact_id for a in refused} == {consumer.id}
    assert any(r["rule"] == "fr.consent" for r in refused[0].reasons)
    assert [a.test for a in refused][:1] == [consumer_in_test]
