"""The whole workstation journey in two browser windows: a trainer's caller
console and an agent desktop driven by the keyboard alone (no clicks, no
programmatic focus on the agent side: only Tab, typing and shortcuts)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from plateau.services import demo
from plateau.store.models import Call, Callback, Contact, ContactChange, ContactPhone, ScriptAnswer, User
from tests.browser.conftest import assert_accessible, log_in

pytestmark = pytest.mark.browser

SHORT = 10_000


def tab_to(page: Page, selector: str, limit: int = 250) -> None:
    """Press Tab until the focused element matches ``selector`` (proves it is reachable by keyboard)."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} not reachable with Tab")


def focused_id(page: Page) -> str:
    return page.evaluate("() => document.activeElement ? document.activeElement.id : ''")


@pytest.fixture
def floor(live):
    demo.seed_demo(live.ctx, contacts=120, history_calls=4)
    return live


def _console(browser, base_url: str) -> Page:
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    log_in(page, base_url, "formateur", "formateur-plateau")
    page.goto(f"{base_url}/console")
    return page


def _agent(browser, base_url: str, username: str = "stagiaire1") -> Page:
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    log_in(page, base_url, username, "stagiaire-plateau")
    expect(page).to_have_url(re.compile(r"/desktop$"))
    return page


def _become_available(agent: Page) -> None:
    tab_to(agent, "#presence-state")
    agent.keyboard.type("Disp")
    tab_to(agent, "#presence-apply")
    agent.keyboard.press("Enter")
    expect(agent.locator("#presence-current")).to_contain_text("Disponible", timeout=SHORT)


def _place_call(console: Page, number: str, region: str = "FR") -> None:
    console.select_option("#console-queue", label="Service clients")
    console.fill("#console-number", number)
    console.select_option("#console-region", region)
    console.click("#console-call")


def test_known_caller_journey_by_keyboard(floor, browser):
    base = floor.url
    agent = _agent(browser, base)
    console = _console(browser, base)
    assert_accessible(agent, "agent desktop (idle)")
    _become_available(agent)

    # the trainer calls from Karim Benali's number, typed as a person would
    before = focused_id(agent)
    _place_call(console, "06 12 34 56 78")
    expect(agent.locator("#live-assertive")).to_have_text("Appel entrant – Service clients – Monsieur Karim Benali",
                                                          timeout=SHORT)
    assert focused_id(agent) == before, "the ring must not move keyboard focus"
    expect(agent.locator("#ring-banner")).to_be_visible()
    assert_accessible(agent, "agent desktop (ringing)")

    # answer by shortcut; double press answers once
    agent.keyboard.press("Alt+Shift+A")
    agent.keyboard.press("Alt+Shift+A")
    expect(agent.locator("#call-state")).to_contain_text("En communication", timeout=SHORT)
    expect(agent.locator("#contact-panel")).to_contain_text("Benali", timeout=SHORT)
    expect(agent.locator("#contact-panel")).to_contain_text("EH00000001")
    expect(agent.locator("#script-title")).to_be_visible(timeout=SHORT)

    # two lines exchanged
    console.fill("textarea[id^=console-say-text-]", "Bonjour, j'ai une question sur mon contrat.")
    console.keyboard.press("Enter")
    expect(agent.locator("#transcript")).to_contain_text("j'ai une question sur mon contrat", timeout=SHORT)
    expect(agent.locator("#live-polite")).to_contain_text("Client : Bonjour, j'ai une question", timeout=SHORT)
    tab_to(agent, "#say-text")
    agent.keyboard.type("Énergie Horizon, Yasmine à votre écoute, bonjour !")
    agent.keyboard.press("Enter")
    expect(console.locator("ol[id^=console-transcript-]")).to_contain_text("Yasmine à votre écoute", timeout=SHORT)
    assert_accessible(agent, "agent desktop (in call)")

    # the script opens on the first step with questions to answer; one answered, then next step by shortcut
    expect(agent.locator("#script-step-title")).to_contain_text("Identification", timeout=SHORT)
    tab_to(agent, "#script-q-nom_titulaire")
    agent.keyboard.type("Benali")
    agent.keyboard.press("Tab")
    expect(agent.locator("#script-q-nom_titulaire-status")).to_contain_text("Enregistré", timeout=SHORT)
    agent.keyboard.press("Alt+Shift+N")
    expect(agent.locator("#script-step-title")).to_contain_text("Découverte", timeout=SHORT)

    # hold and resume: both sides see it
    agent.keyboard.press("Alt+Shift+H")
    expect(agent.locator("#call-state")).to_contain_text("En attente", timeout=SHORT)
    expect(console.locator(".console-state")).to_contain_text("En attente", timeout=SHORT)
    agent.keyboard.press("Alt+Shift+H")
    expect(agent.locator("#call-state")).to_contain_text("En communication", timeout=SHORT)
    expect(console.locator(".console-state")).to_contain_text("En communication", timeout=SHORT)

    # the contact's second phone is added, saved with the shortcut
    tab_to(agent, "#contact-phone-1")
    agent.keyboard.type("07 98 76 54 32")
    agent.keyboard.press("Alt+Shift+S")
    expect(agent.locator("#contact-panel")).to_contain_text("07 98 76 54 32", timeout=SHORT)

    # hang up; closing without a qualification is refused with a message
    agent.keyboard.press("Alt+Shift+R")
    expect(agent.locator("#wrapup-form")).to_be_visible(timeout=SHORT)
    expect(agent.locator("#live-assertive")).to_contain_text("Post-appel", timeout=SHORT)
    assert_accessible(agent, "agent desktop (wrap-up)")
    tab_to(agent, "#wrapup-close")
    agent.keyboard.press("Enter")
    expect(agent.locator("#wrapup-disposition-error")).to_have_text(
        "Choisissez une qualification : l'appel ne peut pas être clôturé sans.", timeout=SHORT)

    # qualification, note, callback tomorrow at 10:30 for me, then close
    tab_to(agent, "#wrapup-disposition")
    agent.keyboard.type("Rappel")
    tab_to(agent, "#wrapup-note")
    agent.keyboard.type("Souhaite changer d'offre, rappeler avec les tarifs.")
    tomorrow = date.today() + timedelta(days=2)
    tab_to(agent, "#callback-date")
    agent.keyboard.type(tomorrow.strftime("%d%m%Y"))
    if agent.input_value("#callback-date") != tomorrow.isoformat():  # month-first locales
        agent.keyboard.press("Shift+Tab")
        agent.keyboard.press("Shift+Tab")
        tab_to(agent, "#callback-date")
        agent.keyboard.type(tomorrow.strftime("%m%d%Y"))
    assert agent.input_value("#callback-date") == tomorrow.isoformat()
    tab_to(agent, "#callback-time")
    agent.keyboard.type("1030")
    tab_to(agent, "#wrapup-close")
    agent.keyboard.press("Enter")
    expect(agent.locator("#live-polite")).to_contain_text("Appel clôturé", timeout=SHORT)
    expect(agent.locator("#presence-current")).to_contain_text("Disponible", timeout=SHORT)
    expect(console.locator(".console-state").first).to_contain_text("Clôturé", timeout=SHORT)

    # the stored truth
    with floor.ctx.read() as session:
        karim = session.scalars(select(Contact).where(Contact.customer_number == "EH00000001")).one()
        call = session.scalars(select(Call).where(Call.contact_id == karim.id).order_by(Call.id.desc())).first()
        assert call.state == "closed" and call.hold_seconds > 0 and call.talk_seconds > 0
        phones = set(session.scalars(select(ContactPhone.e164).where(ContactPhone.contact_id == karim.id)))
        assert phones == {"+33612345678", "+33798765432"}
        assert session.scalars(select(ScriptAnswer.value).where(ScriptAnswer.call_id == call.id)).all() == ["Benali"]
        callback = session.scalars(select(Callback).where(Callback.call_id == call.id)).one()
        agent_id = session.scalars(select(User.id).where(User.username == "stagiaire1")).one()
        assert callback.assigned_user_id == agent_id
        assert session.scalars(select(ContactChange.call_id).where(ContactChange.contact_id == karim.id,
                                                                   ContactChange.field == "phones")).all() == [call.id]

    # the contact's history shows the call with everything
    agent.goto(f"{base}/contacts/{karim.id}")
    history = agent.locator("#contact-history")
    expect(history).to_contain_text("Service clients")
    expect(history).to_contain_text("Rappel à programmer")
    expect(history).to_contain_text("Yasmine à votre écoute")
    expect(history).to_contain_text("Benali")
    expect(history).to_contain_text("Souhaite changer d'offre")
    expect(history).to_contain_text("07 98 76 54 32")
    assert_accessible(agent, "contact page")


def test_unknown_caller_ends_with_a_new_contact(floor, browser):
    base = floor.url
    agent = _agent(browser, base, "stagiaire2")
    console = _console(browser, base)
    _become_available(agent)
    _place_call(console, "+212 6 61 23 45 67")
    expect(agent.locator("#live-assertive")).to_contain_text("Appel entrant – Service clients – numéro", timeout=SHORT)
    agent.keyboard.press("Alt+Shift+A")
    # the creation form ("masque de création") prefilled with the number
    expect(agent.locator("#contact-phone-0")).to_have_value(re.compile(r"\+212 ?6 ?61 ?23 ?45 ?67|0661234567|06 ?61"), timeout=SHORT)
    # back to the welcome step from the step list: the script addresses an unknown caller politely
    expect(agent.locator("#script-step-title")).to_contain_text("Identification", timeout=SHORT)
    tab_to(agent, '#script-steps button[hx-get*="step=accueil"]')
    agent.keyboard.press("Enter")
    expect(agent.locator("#script-panel")).to_contain_text("Je vous écoute, Madame, Monsieur.", timeout=SHORT)
    expect(agent.locator("#script-step-title")).to_be_focused()
    tab_to(agent, "#contact-last_name")
    agent.keyboard.type("Idrissi")
    agent.keyboard.press("Alt+Shift+S")
    expect(agent.locator("#contact-panel")).to_contain_text("Idrissi", timeout=SHORT)
    with floor.ctx.read() as session:
        created = session.scalars(select(Contact).where(Contact.last_name == "Idrissi")).one()
        assert session.scalars(select(ContactPhone.e164).where(ContactPhone.contact_id == created.id)).all() == ["+212661234567"]
        call = session.scalars(select(Call).order_by(Call.id.desc())).first()
        assert call.contact_id == created.id


def test_reload_mid_call_restores_the_call(floor, browser):
    base = floor.url
    agent = _agent(browser, base, "stagiaire3")
    console = _console(browser, base)
    _become_available(agent)
    _place_call(console, "06 12 34 56 78")
    expect(agent.locator("#ring-banner")).to_be_visible(timeout=SHORT)
    agent.keyboard.press("Alt+Shift+A")
    expect(agent.locator("#call-state")).to_contain_text("En communication", timeout=SHORT)
    console.fill("textarea[id^=console-say-text-]", "Vous m'entendez ?")
    console.keyboard.press("Enter")
    expect(agent.locator("#transcript")).to_contain_text("Vous m'entendez ?", timeout=SHORT)
    agent.reload()
    expect(agent.locator("#call-state")).to_contain_text("En communication", timeout=SHORT)
    expect(agent.locator("#transcript")).to_contain_text("Vous m'entendez ?")
    expect(agent.locator("#contact-panel")).to_contain_text("Benali")
    # the stream resumes after the reload: a new line arrives
    console.fill("textarea[id^=console-say-text-]", "Toujours là ?")
    console.keyboard.press("Enter")
    expect(agent.locator("#transcript")).to_contain_text("Toujours là ?", timeout=SHORT)
