"""The inbound floor in three browser windows: two agents with different language skills
each receive the call of their queue, while a supervisor's wallboard follows every state
change live, then listens silently to one call ("écoute discrète") and whispers to its
agent. Every user acts with the keyboard only; the calls come from a trainer through the
services, on the live server's own context."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from plateau.services import calls
from plateau.services.users import actor_for
from plateau.store.models import AgentSkill, Event, Queue, QueueMember, QueueSkill, Skill
from tests.browser.conftest import log_in
from tests.browser.test_agent_journey import _become_available, tab_to
from tests.browser.test_pages_axe import check
from tests.helpers import PASSWORD, make_user

pytestmark = pytest.mark.browser

SHORT = 10_000


@pytest.fixture
def skilled_floor(live):
    """Amina speaks French, Bilal Arabic; both serve both queues, each queue requires its language."""
    ctx = live.ctx
    people = {name: make_user(ctx, name, role=role, name=display)
              for name, role, display in (("amina", "agent", "Amina Fr"), ("bilal", "agent", "Bilal Ar"),
                                          ("chef", "supervisor", "Chef de plateau"),
                                          ("formateur", "supervisor", "Formateur"))}
    with ctx.unit() as session:
        french = Skill(code="fr", label="Français", kind="language")
        arabic = Skill(code="ar", label="Arabe", kind="language")
        fr_queue = Queue(code="clients-fr", name="Clients francophones", alert_waiting=1)
        ar_queue = Queue(code="clients-ar", name="Clients arabophones")
        session.add_all([french, arabic, fr_queue, ar_queue])
        session.flush()
        session.add_all([AgentSkill(user_id=people["amina"].id, skill_id=french.id, level=4),
                         AgentSkill(user_id=people["bilal"].id, skill_id=arabic.id, level=4),
                         QueueSkill(queue_id=fr_queue.id, skill_id=french.id, min_level=1),
                         QueueSkill(queue_id=ar_queue.id, skill_id=arabic.id, min_level=1)])
        session.add_all([QueueMember(queue_id=queue.id, user_id=people[agent].id)
                         for queue in (fr_queue, ar_queue) for agent in ("amina", "bilal")])
    return live, people, {"fr": fr_queue.id, "ar": ar_queue.id}


def _window(browser: Browser, base: str, username: str) -> Page:
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    log_in(page, base, username, PASSWORD)
    return page


def _row(wallboard: Page, user) -> str:
    return f"#agent-{user.id}"


def test_skills_route_calls_while_the_wallboard_follows_and_a_call_is_listened_to(skilled_floor, browser):
    live, people, queues = skilled_floor
    base, ctx = live.url, live.ctx
    trainer = actor_for(people["formateur"])

    supervisor = _window(browser, base, "chef")
    supervisor.goto(f"{base}/wallboard")
    expect(supervisor.locator(_row(supervisor, people["amina"]))).to_contain_text("Hors ligne")
    supervisor.evaluate("() => { window.notReloaded = true; }")
    check(supervisor, "wallboard")

    amina = _window(browser, base, "amina")
    bilal = _window(browser, base, "bilal")
    for agent in (amina, bilal):
        expect(agent).to_have_url(re.compile(r"/desktop$"))
        _become_available(agent)
    for name in ("amina", "bilal"):
        expect(supervisor.locator(_row(supervisor, people[name]))).to_contain_text("Disponible", timeout=SHORT)

    # each call rings the agent with the queue's language
    fr_call = calls.place_call(ctx, trainer, queues["fr"], "06 12 34 56 78")
    ar_call = calls.place_call(ctx, trainer, queues["ar"], "+212 6 61 23 45 67")
    assert (fr_call.agent_id, ar_call.agent_id) == (people["amina"].id, people["bilal"].id)
    expect(amina.locator("#ring-banner")).to_contain_text("Clients francophones", timeout=SHORT)
    expect(bilal.locator("#ring-banner")).to_contain_text("Clients arabophones", timeout=SHORT)
    expect(supervisor.locator(_row(supervisor, people["amina"]))).to_contain_text("Appel entrant", timeout=SHORT)
    for agent in (amina, bilal):
        agent.keyboard.press("Alt+Shift+A")
        expect(agent.locator("#call-state")).to_contain_text("En communication", timeout=SHORT)
    for name, queue in (("amina", "Clients francophones"), ("bilal", "Clients arabophones")):
        row = supervisor.locator(_row(supervisor, people[name]))
        expect(row).to_contain_text("En appel", timeout=SHORT)
        expect(row).to_contain_text("En communication", timeout=SHORT)
        expect(row).to_contain_text(queue)
    assert supervisor.evaluate("() => window.notReloaded === true"), "the wallboard updated without a reload"
    check(supervisor, "wallboard (two calls)")

    # the supervisor listens to Bilal's call, by keyboard
    tab_to(supervisor, f"#listen-{people['bilal'].id}")
    supervisor.keyboard.press("Enter")
    supervisor.wait_for_url(f"{base}/wallboard/calls/{ar_call.id}")
    expect(supervisor.locator("#listen-on")).to_be_visible()
    expect(supervisor.locator("#live-polite")).to_contain_text("Écoute discrète de l'appel", timeout=SHORT)
    check(supervisor, "listening page")

    before = supervisor.evaluate("() => document.activeElement && document.activeElement.id")
    # the desktop has settled after the answer (the script panel comes last)
    expect(bilal.locator("#script-panel")).to_contain_text("Pas de script d'appel", timeout=SHORT)
    tab_to(bilal, "#say-text")
    bilal.keyboard.type("Bonjour, Bilal à votre écoute.")
    bilal.keyboard.press("Enter")
    expect(bilal.locator("#transcript")).to_contain_text("Bonjour, Bilal à votre écoute.", timeout=SHORT)
    calls.say(ctx, trainer, ar_call.id, "Salam, je voudrais changer mon forfait.")
    transcript = supervisor.locator("#listen-transcript")
    expect(transcript).to_contain_text("Bonjour, Bilal à votre écoute.", timeout=SHORT)
    expect(transcript).to_contain_text("Salam, je voudrais changer mon forfait.", timeout=SHORT)
    assert supervisor.evaluate("() => document.activeElement && document.activeElement.id") == before, \
        "new lines never move the focus"
    # the agents' desktops show nothing of the écoute
    for agent in (amina, bilal):
        text = agent.locator("body").inner_text()
        assert "coute discr" not in text
        assert "Chef de plateau" not in text

    # a whisper to Bilal, by keyboard: on his desktop, read out politely
    tab_to(supervisor, "#listen-whisper-text")
    supervisor.keyboard.type("Proposez le forfait Liberté.")
    tab_to(supervisor, "#listen-whisper-send")
    supervisor.keyboard.press("Enter")
    expect(supervisor.locator("#listen-result")).to_contain_text("Message envoyé à Bilal Ar.", timeout=SHORT)
    expect(bilal.locator("#whisper-list")).to_contain_text("Message du superviseur : Proposez le forfait Liberté.",
                                                           timeout=SHORT)
    expect(bilal.locator("#live-polite")).to_contain_text("Message du superviseur : Proposez le forfait Liberté.")

    assert "Proposez le forfait" not in amina.locator("body").inner_text(), "a whisper reaches its agent only"
    with ctx.read() as session:
        caller_events = session.scalars(select(Event.type).where(Event.channel == f"user:{trainer.id}")).all()
        agent_events = session.scalars(select(Event.type).where(Event.channel.in_(
            [f"user:{people['amina'].id}", f"user:{people['bilal'].id}"]))).all()
    assert "whisper" not in caller_events and "supervision" not in caller_events + agent_events

    # back to the wallboard by keyboard; a caller left waiting raises an alert, and only that is announced
    tab_to(supervisor, "#listen-stop")
    supervisor.keyboard.press("Enter")
    supervisor.wait_for_url(f"{base}/wallboard")
    expect(supervisor.locator("#live-polite")).to_contain_text(f"Écoute de l'appel {ar_call.id} arrêtée.", timeout=SHORT)
    waiting = calls.place_call(ctx, trainer, queues["fr"], "01 23 45 67 89")
    assert waiting.state == "offered", "Amina is busy and Bilal does not speak French"
    expect(supervisor.locator(f"#queue-{queues['fr']}")).to_contain_text("Alerte : 1 appel en attente (seuil 1)",
                                                                         timeout=SHORT)
    expect(supervisor.locator("#live-polite")).to_contain_text(
        "Clients francophones – Alerte : 1 appel en attente (seuil 1)", timeout=SHORT)
    calls.hang_up(ctx, trainer, waiting.id)
    expect(supervisor.locator("#live-polite")).to_contain_text(
        "Clients francophones : fin d’alerte (appels en attente).", timeout=SHORT)
    announced = supervisor.locator("#live-polite p").all_inner_texts()
    assert all(line.startswith(("Écoute de l'appel", "Clients francophones")) for line in announced), announced

    # a forced pause on Amina, who is on a call: the dialog says why it is refused; Escape goes back
    pause_button = f"#pause-{people['amina'].id}"
    tab_to(supervisor, pause_button)
    supervisor.keyboard.press("Enter")
    expect(supervisor.locator("#pause-dialog")).to_be_visible()
    expect(supervisor.locator("#pause-dialog-title")).to_contain_text("Amina Fr")
    assert supervisor.evaluate("() => document.activeElement.id") == "pause-dialog-reason"
    check(supervisor, "wallboard (pause dialog)")
    tab_to(supervisor, "#pause-dialog-confirm")
    supervisor.keyboard.press("Enter")
    expect(supervisor.locator("#pause-dialog [role=alert]")).to_have_text(
        "Amina Fr a un appel sur son poste : la pause pourra être imposée une fois l'appel clôturé.", timeout=SHORT)
    supervisor.keyboard.press("Escape")
    expect(supervisor.locator("#pause-dialog")).to_be_hidden()
    assert supervisor.evaluate("() => document.activeElement.id") == pause_button[1:]

    # the supervisor listens to Amina's call, then takes it: it moves to their own desktop, Amina is free
    tab_to(supervisor, f"#listen-{people['amina'].id}")
    supervisor.keyboard.press("Enter")
    supervisor.wait_for_url(f"{base}/wallboard/calls/{fr_call.id}")
    tab_to(supervisor, "#listen-take-over")
    supervisor.keyboard.press("Enter")
    supervisor.wait_for_url(f"{base}/desktop")
    expect(supervisor.locator("#call-state")).to_contain_text("En communication", timeout=SHORT)
    expect(supervisor.locator("#say-text")).to_be_enabled()
    expect(amina.locator("#call-idle")).to_be_visible(timeout=SHORT)
    expect(amina.locator("#presence-current")).to_contain_text("Disponible", timeout=SHORT)
    expect(amina.locator("#live-polite")).to_contain_text("Un superviseur a pris votre appel", timeout=SHORT)
    calls.say(ctx, trainer, fr_call.id, "Merci de me prendre en charge.")
    expect(supervisor.locator("#transcript")).to_contain_text("Merci de me prendre en charge.", timeout=SHORT)
