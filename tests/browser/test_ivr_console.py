"""A trainer calls the demo company's voice menu from the caller console with the
keyboard alone: the prompts are announced (aria-live) without moving focus, the
keypad takes the digits typed, and the call lands in a queue whose position is
announced. Then the menu's editor, with a mistake, passes axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from plateau.services import demo
from plateau.store.models import IvrMenu
from tests.browser.conftest import assert_accessible, log_in
from tests.browser.test_agent_journey import focused_id, tab_to

pytestmark = pytest.mark.browser

SHORT = 10_000


@pytest.fixture
def floor(live):
    demo.seed_demo(live.ctx, contacts=60, history_calls=0)
    return live


def test_the_trainer_walks_the_voice_menu_by_keyboard_into_a_queue(floor, browser):
    base = floor.url
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    log_in(page, base, "formateur", "formateur-plateau")
    page.goto(f"{base}/console")
    polite = page.locator("#live-polite")

    # the number, the menu (shown with the number it dials), then "Appeler le serveur vocal"
    tab_to(page, "#console-number")
    page.keyboard.type("06 12 34 56 78")
    tab_to(page, "#console-ivr")
    expect(page.locator("#console-ivr option:checked")).to_have_text("Énergie Horizon — standard — 01 84 88 00 00")
    tab_to(page, "#console-call-ivr")
    page.keyboard.press("Enter")
    expect(polite).to_contain_text("Serveur vocal : Bienvenue chez Énergie Horizon.", timeout=SHORT)
    assert focused_id(page) == "console-call-ivr", "a prompt must not move keyboard focus"
    keypad = page.locator(".keypad")
    expect(keypad).to_have_attribute("role", "group")
    expect(keypad.locator("button")).to_have_count(12)
    # the phone's layout; "*" and "#" are named for screen readers
    assert [b.strip() for b in keypad.locator("button").all_text_contents()] == [
        "1", "2", "3", "4", "5", "6", "7", "8", "9", "* étoile", "0", "# dièse"]
    assert_accessible(page, "console (call in the voice menu)")

    # into the keypad; then digits typed on the keyboard press the keys
    tab_to(page, ".keypad button[data-key='1']")
    page.keyboard.type("2")
    expect(polite).to_contain_text("Serveur vocal : Pour payer une facture", timeout=SHORT)
    transcript = page.locator("ol[id^=console-transcript-]")
    expect(transcript.locator("li.system-line")).to_have_count(2)
    page.keyboard.type("9")  # back to the start
    expect(transcript.locator("li.system-line")).to_have_count(3, timeout=SHORT)
    expect(transcript.locator("li.system-line").last).to_contain_text("Bienvenue chez Énergie Horizon.")
    page.keyboard.type("3")  # contract, moving, meter: to an adviser
    expect(polite).to_contain_text("Serveur vocal : Nous vous mettons en relation avec un conseiller.", timeout=SHORT)
    expect(page.locator(".console-state")).to_contain_text("En file d'attente", timeout=SHORT)
    expect(polite).to_contain_text("Vous êtes n° 1 dans la file « Service clients ».", timeout=SHORT)
    expect(page.locator(".keypad")).to_have_count(0)
    # the keypad is gone: focus went to the call's transcript, not to the top of the page
    expect(page.locator(":focus")).to_have_attribute("id", re.compile(r"^console-transcript-\d+$"))
    assert_accessible(page, "console (call waiting in a queue)")

    # the menu's editor: the tree, then a mistake reported with its line
    with floor.ctx.read() as session:
        menu_id = session.scalars(select(IvrMenu.id)).one()
    page.goto(f"{base}/admin/ivr/{menu_id}")
    expect(page.locator("#ivr-tree")).to_contain_text("Nœud « facturation »")
    text = page.locator("#script-content").input_value()
    page.locator("#script-content").fill(text.replace("{queue: depannage}", "{queue: urgences}"))
    page.click("#ivr-check")
    expect(page.locator("#script-errors")).to_contain_text("file d'attente « urgences » inconnue", timeout=SHORT)
    expect(page.locator("#script-errors button").first).to_have_text(re.compile(r"Aller à la ligne \d+"))
    assert_accessible(page, "voice menu editor (errors)")
