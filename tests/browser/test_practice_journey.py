"""A role play from end to end: a trainee practises a call with the simulated caller, keyboard
only, then fills the self-assessment grid before seeing any result; the automatic results and
the trainee's own sit side by side; a trainer overrides one criterion with a reason.

The demo company gives the queue, its qualifications and the CRM; the scenario is
"information-option-verte" (MC ACVD), played with the strong agent's own lines from
tests/data/scenarios, so the caller's answers are the ones the unit tests expect.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from plateau.services import demo
from plateau.store.models import Call, PracticeAttempt, Rating, Utterance
from tests.browser.conftest import assert_accessible, log_in
from tests.browser.test_agent_journey import tab_to

pytestmark = pytest.mark.browser

SHORT = 15_000
SCENARIO = "information-option-verte"
LINES = yaml.safe_load((Path(__file__).resolve().parents[1] / "data" / "scenarios" / f"{SCENARIO}.yaml")
                       .read_text(encoding="utf-8"))["strong"]["lines"]


@pytest.fixture
def school(live):
    demo.seed_demo(live.ctx, contacts=120, history_calls=4)
    return live


def _window(browser: Browser, base: str, who: tuple[str, str]) -> Page:
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    log_in(page, base, *who)
    return page


def test_a_practice_call_is_self_assessed_then_reviewed_by_a_trainer(school, browser):
    base = school.url
    trainee = _window(browser, base, ("stagiaire1", "stagiaire-plateau"))

    # the Entraînement page: start the scenario with the keyboard
    trainee.goto(f"{base}/practice")
    assert_accessible(trainee, "practice page")
    tab_to(trainee, f"#start-{SCENARIO}")
    trainee.keyboard.press("Enter")
    trainee.wait_for_url(re.compile(r"/desktop"), timeout=SHORT)

    # the simulated caller rings; answer and talk with the strong agent's first lines
    expect(trainee.locator("#ring-banner")).to_be_visible(timeout=SHORT)
    trainee.keyboard.press("Alt+Shift+A")
    expect(trainee.locator("#call-state")).to_contain_text("En communication", timeout=SHORT)
    expect(trainee.locator("#say-send")).to_be_enabled(timeout=SHORT)
    spoken = [line for line in LINES if isinstance(line, str)][:4]
    for count, line in enumerate(spoken, start=1):
        tab_to(trainee, "#say-text")
        trainee.keyboard.type(line)
        trainee.keyboard.press("Enter")
        # each line gets the caller's answer, shown live in the transcript while the focus stays put
        with school.ctx.read() as session:
            call = session.scalars(select(Call).order_by(Call.id.desc())).first()
        answer = _wait_for_caller_lines(school, call.id, count)
        expect(trainee.locator("#transcript")).to_contain_text(answer[:40], timeout=SHORT)
        assert trainee.evaluate("() => document.activeElement.id") == "say-text"

    # hang up, qualify, close
    trainee.keyboard.press("Alt+Shift+R")
    expect(trainee.locator("#wrapup-form")).to_be_visible(timeout=SHORT)
    tab_to(trainee, "#wrapup-disposition")
    trainee.keyboard.type("Information")
    tab_to(trainee, "#wrapup-close")
    trainee.keyboard.press("Enter")
    expect(trainee.locator("#live-polite")).to_contain_text("Appel clôturé", timeout=SHORT)

    # the review page: the grid to fill first, no result shown yet
    trainee.goto(f"{base}/calls/{call.id}/review")
    expect(trainee.locator("#self-title")).to_be_visible()
    assert trainee.locator("#review-table").count() == 0
    assert_accessible(trainee, "review (self-assessment form)")
    fieldsets = trainee.locator("form fieldset")
    total = fieldsets.count()
    assert total == 8  # the scenario's criteria, not the whole framework
    for index in range(total):
        # Tab to the fieldset's first radio ("Acquis"), Space checks it
        tab_to(trainee, f"#self-{index + 1}-met")
        trainee.keyboard.press("Space")
    tab_to(trainee, "#self-submit")
    trainee.keyboard.press("Enter")
    expect(trainee.locator("#review-table")).to_be_visible(timeout=SHORT)
    assert_accessible(trainee, "review (results side by side)")
    first_row = trainee.locator("#review-table tbody tr").first
    expect(first_row).to_contain_text("Acquis")

    with school.ctx.read() as session:
        sources = set(session.scalars(select(Rating.source).where(Rating.call_id == call.id)))
        attempt = session.scalars(select(PracticeAttempt).where(PracticeAttempt.call_id == call.id)).one()
    assert sources == {"auto", "self"} and attempt.self_assessed_at is not None and attempt.ended_at is not None

    # a trainer overrides the first criterion, with a reason
    trainer = _window(browser, base, ("formateur", "formateur-plateau"))
    trainer.goto(f"{base}/calls/{call.id}/review")
    trainer.locator("#override-1").locator("xpath=..").locator("summary").click()  # "Modifier le résultat…"
    trainer.select_option("#override-1-result", "not_met")
    trainer.fill("#override-1-comment", "La présentation n'a pas cité le service.")
    trainer.click("#override-1-submit")
    expect(trainer.locator("#review-table tbody tr").first).to_contain_text("La présentation n'a pas cité le service.",
                                                                            timeout=SHORT)
    assert_accessible(trainer, "review (trainer override)")
    with school.ctx.read() as session:
        kept = session.scalars(select(Rating.source).where(Rating.call_id == call.id, Rating.criterion_id ==
                                                           session.scalars(select(Rating.criterion_id).where(
                                                               Rating.call_id == call.id, Rating.source == "trainer")
                                                           ).one())).all()
    assert sorted(kept) == ["auto", "self", "trainer"]  # the automatic result is kept beside the trainer's


def _wait_for_caller_lines(live, call_id: int, count: int, timeout_s: float = 15.0) -> str:
    """The caller answered ``count`` agent lines; returns its last answer."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with live.ctx.read() as session:
            said = session.execute(select(Utterance.speaker, Utterance.text).where(Utterance.call_id == call_id)
                                   .order_by(Utterance.id)).all()
        if [s for s, _ in said].count("agent") >= count and [s for s, _ in said].count("caller") >= count:
            return [text for speaker, text in said if speaker == "caller"][-1]
        time.sleep(0.2)
    raise AssertionError(f"the simulated caller did not answer {count} lines: {said}")
