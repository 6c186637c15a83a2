"""axe-core and a few structural checks on every page of the application, in the
states a trainee meets them: empty, with results, with errors, after a conflict.

Pages are grouped by who visits them, one login each, on the demo company
(``seed_demo``), so the file stays fast. Besides axe (serious and critical
violations), every page must have exactly one ``<h1>``, one ``<main>``, the
``lang`` of the user's language on ``<html>``, and a name on every control.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from plateau.services import demo
from plateau.store.models import Advisor, Call, Callback, Campaign, CallScript, Contact, Queue, User
from tests.browser.conftest import assert_accessible, log_in

pytestmark = pytest.mark.browser

SHORT = 10_000
CSV_DATA = Path(__file__).parents[1] / "data" / "csv"
AGENT = ("stagiaire1", "stagiaire-plateau")
SUPERVISOR = ("formateur", "formateur-plateau")

#: what every page must have beyond axe: one h1, one main landmark, the page's
#: language, and a name on each control (label, aria-label(ledby), title, or text for buttons)
STRUCTURE = """() => {
  const text = (el) => (el ? el.textContent.replace(/\\s+/g, " ").trim() : "");
  const named = (el) => {
    const by = el.getAttribute("aria-labelledby");
    if (by && by.split(/\\s+/).some((id) => text(document.getElementById(id)))) return true;
    if ((el.getAttribute("aria-label") || "").trim() || (el.getAttribute("title") || "").trim()) return true;
    if (el.labels && [...el.labels].some((label) => text(label))) return true;
    if (el.tagName === "BUTTON") return Boolean(text(el));
    if (el.tagName === "INPUT" && ["submit", "button", "reset"].includes(el.type)) return Boolean(el.value.trim());
    return false;
  };
  const controls = document.querySelectorAll("input:not([type=hidden]), select, textarea, button");
  return {
    h1: [...document.querySelectorAll("h1")].map(text),
    mains: document.querySelectorAll("main, [role=main]").length,
    lang: document.documentElement.getAttribute("lang") || "",
    dir: document.documentElement.getAttribute("dir") || "",
    unnamed: [...controls].filter((el) => !named(el)).map((el) => el.outerHTML.slice(0, 120)),
  };
}"""


def check(page: Page, what: str, lang: str = "fr") -> None:
    """axe-core plus the structural rules above."""
    facts = page.evaluate(STRUCTURE)
    assert len(facts["h1"]) == 1, f"{what}: {len(facts['h1'])} <h1> ({facts['h1']}), one expected"
    assert facts["mains"] == 1, f"{what}: {facts['mains']} main landmarks, one expected"
    assert facts["lang"] == lang, f"{what}: <html lang={facts['lang']!r}>, {lang!r} expected"
    assert facts["dir"] == ("rtl" if lang == "ar" else "ltr"), f"{what}: <html dir={facts['dir']!r}>"
    assert not facts["unnamed"], f"{what}: controls without an accessible name: {facts['unnamed']}"
    assert_accessible(page, what)


def visit(page: Page, url: str, what: str, lang: str = "fr", status: int = 200) -> None:
    response = page.goto(url)
    assert response is not None and response.status == status, f"{what}: {url} answered {response and response.status}"
    check(page, what, lang)


@pytest.fixture
def demo_floor(live, tmp_path, monkeypatch):
    """The demo company on a wiped database; uploaded files go to a temporary folder."""
    monkeypatch.setenv("PLATEAU_VAR_DIR", str(tmp_path / "var"))
    demo.seed_demo(live.ctx, contacts=120, history_calls=4)
    return live


def _login(browser: Browser, base: str, who: tuple[str, str]) -> Page:
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    log_in(page, base, *who)
    return page


def _due_callback(ctx) -> None:
    """A callback for the demo's Service clients team, due a minute ago."""
    with ctx.unit() as session:
        queue = session.scalars(select(Queue.id).where(Queue.code == "service-clients")).one()
        now = datetime.now(timezone.utc)
        session.add(Callback(due_at=now - timedelta(minutes=1), queue_id=queue, number="+33612345678", source="caller",
                             status="open", created_at=now))


def _ids(ctx) -> dict:
    with ctx.read() as session:
        karim = session.scalars(select(Contact.id).where(Contact.customer_number == "EH00000001")).one()
        company = session.scalars(select(Contact.id).where(Contact.kind == "company").order_by(Contact.id)).first()
        agent = session.scalars(select(User.id).where(User.username == AGENT[0])).one()
        agent_call = session.scalars(select(Call.id).where(Call.agent_id == agent).order_by(Call.id)).first()
        any_call = session.scalars(select(Call.id).order_by(Call.id)).first()
        script = session.scalars(select(CallScript.id).order_by(CallScript.id)).first()
    assert company and any_call and script, "the demo has companies, past calls and scripts"
    return {"karim": karim, "company": company, "agent_call": agent_call, "any_call": any_call, "script": script}


def test_crm_and_calls_as_an_agent(demo_floor, browser):
    base, ids = demo_floor.url, _ids(demo_floor.ctx)
    page = _login(browser, base, AGENT)

    visit(page, f"{base}/contacts", "contact search (empty)")
    visit(page, f"{base}/contacts?q=benali", "contact search (results)")
    expect(page.locator("#contact-results-table")).to_contain_text("Benali")

    visit(page, f"{base}/contacts/new", "new contact")
    page.fill("#contact-last_name", "Martin")
    page.fill("#contact-phone-0", "12")
    page.fill("#contact-email", "pas-un-email")
    page.fill("#contact-postcode", "ABCDE")
    page.click("#contact-save")
    expect(page.locator("#contact-error-summary")).to_be_visible(timeout=SHORT)
    expect(page.locator("#contact-error-summary li")).to_have_count(3)
    check(page, "new contact (error summary)")

    visit(page, f"{base}/contacts/{ids['karim']}", "person's page")
    expect(page.locator("h1")).to_contain_text("Benali")
    visit(page, f"{base}/contacts/{ids['company']}", "company's page")

    # a stale edit: the same record opened twice, saved in one window, then in the other
    other = page.context.new_page()
    other.goto(f"{base}/contacts/{ids['karim']}")
    page.goto(f"{base}/contacts/{ids['karim']}")
    page.fill("#contact-city", "Villeurbanne")
    page.click("#contact-save")
    expect(page.locator("#contact-edit .notice")).to_be_visible(timeout=SHORT)
    other.fill("#contact-city", "Marseille")
    other.click("#contact-save")
    expect(other.locator("#contact-conflict")).to_be_visible(timeout=SHORT)
    check(other, "person's page (edit conflict)")
    other.close()

    visit(page, f"{base}/calls", "my calls")
    assert ids["agent_call"], f"the demo history (seed 42) gives {AGENT[0]} a past call"
    visit(page, f"{base}/calls/{ids['agent_call']}", "one of my calls")
    visit(page, f"{base}/callbacks", "my callbacks")
    # a caller of Service clients asked to be called back: the page, then the desktop panel, with it
    _due_callback(demo_floor.ctx)
    visit(page, f"{base}/callbacks", "my callbacks (one due)")
    page.goto(f"{base}/desktop")
    page.locator("#callback-list button").first.click()  # "Prendre"
    expect(page.locator("#live-polite")).to_contain_text("Rappel pris", timeout=SHORT)
    check(page, "agent desktop (a callback taken)")
    visit(page, f"{base}/me/day", "my daily activity sheet")

    # the error page: a supervisors' page, a record that does not exist
    visit(page, f"{base}/imports", "error page (403)", status=403)
    visit(page, f"{base}/contacts/999999", "error page (404)", status=404)


def test_supervisor_pages(demo_floor, browser, tmp_path):
    base, ids = demo_floor.url, _ids(demo_floor.ctx)
    page = _login(browser, base, SUPERVISOR)

    visit(page, f"{base}/calls", "every call")
    expect(page.locator("main table tbody tr").first).to_be_visible()
    visit(page, f"{base}/calls/{ids['any_call']}", "a past call")
    visit(page, f"{base}/kpis?period=month", "indicators (this month)")
    visit(page, f"{base}/objectives", "objectives and progress")
    # the Erlang C staffing tool: a result (figures, table, chart), then refused fields
    visit(page, f"{base}/staffing?calls=100&interval_min=30&aht=180&target_sl_pct=80&target_time=20&agents=12&shrinkage_pct=30",
          "staffing (result)")
    visit(page, f"{base}/staffing?calls=-1&interval_min=30&aht=180&target_sl_pct=120&target_time=20", "staffing (errors)", status=422)

    # floor administration: the queues, a demo queue's settings (then refused hours), teams, skills,
    # the agents' teams and levels; the floor's callbacks
    visit(page, f"{base}/admin/queues", "queues and their routing rules")
    page.click("#queues-table a:text-is('Service clients')")
    page.wait_for_url(re.compile(r"/admin/queues/\d+$"))
    check(page, "a demo queue's settings")
    page.fill("#q-hours_mon", "8h-12h")
    page.click("#queue-save")
    expect(page.locator("#queue-error-summary")).to_be_visible(timeout=SHORT)
    expect(page.locator("#q-hours_mon")).to_have_value("8h-12h")
    check(page, "a demo queue's settings (refused hours)")
    visit(page, f"{base}/admin/teams", "teams")
    visit(page, f"{base}/admin/skills", "skills")
    visit(page, f"{base}/admin/agents", "agents' teams and skill levels")
    visit(page, f"{base}/admin/ivr", "voice menus (SVI)")
    visit(page, f"{base}/callbacks?scope=floor", "the floor's callbacks")

    # imports: the form, a refused file, a preview, a report with rejected rows
    visit(page, f"{base}/imports", "imports")
    page.set_input_files("#import-file", str(CSV_DATA / "utf16.csv"))
    page.click("#import-upload")
    expect(page.locator("#import-upload-error")).to_be_visible(timeout=SHORT)
    check(page, "imports (UTF-16 file refused)")
    small = tmp_path / "petit.csv"
    small.write_text("Nom;Prénom;Téléphone;E-mail\n"
                     "Lefèvre;Jean;01 23 45 67 89;jean.lefevre@example.fr\n"
                     "Dupont;Marie;12;marie.dupont@example.fr\n"
                     "Garnier;Louise;06 55 44 33 22;\n", encoding="utf-8")
    page.set_input_files("#import-file", str(small))
    page.click("#import-upload")
    expect(page.locator("#import-preview")).to_be_visible(timeout=SHORT)
    check(page, "import preview")
    page.click("#import-start")
    expect(page.locator("#import-report")).to_be_visible(timeout=SHORT)
    expect(page.locator("#import-rejections")).to_contain_text("Dupont")
    check(page, "import report")

    # call scripts: the list, a new one, a demo one, a broken text checked
    visit(page, f"{base}/scripts", "scripts")
    visit(page, f"{base}/scripts/new", "new script")
    visit(page, f"{base}/scripts/{ids['script']}", "a demo script")
    page.fill("#script-content", "code: [pas fermé\nname: Cassé\nsteps:\n\t- id: x\n")
    page.click("#script-check")
    expect(page.locator("#script-errors")).to_be_visible(timeout=SHORT)
    check(page, "script editor (errors)")

    # the caller console: idle, a call waiting in queue (no agent available), a contact search
    visit(page, f"{base}/console", "console (idle)")
    page.select_option("#console-queue", label="Service clients")
    page.fill("#console-number", "06 12 34 56 78")
    page.click("#console-call")
    expect(page.locator(".console-call").first).to_be_visible(timeout=SHORT)
    expect(page.locator(".console-state").first).to_contain_text("En file", timeout=SHORT)
    check(page, "console (call waiting)")
    page.fill("#console-contact-search", "benali")
    expect(page.locator("#console-contact-results li").first).to_be_visible(timeout=SHORT)
    check(page, "console (contact search)")
    # the wallboard with that call waiting; the listening page is checked in test_floor_journey (it needs a live call)
    visit(page, f"{base}/wallboard", "wallboard (a call waiting)")


def test_outbound_pages(demo_floor, browser):
    """Campaigns (list, form, each demo campaign, results, report), qualifications, advisors' calendars,
    the calling rules and a contact's consents; then the desktop's campaign panel for an agent."""
    base, ids = demo_floor.url, _ids(demo_floor.ctx)
    with demo_floor.ctx.read() as session:
        campaigns = session.scalars(select(Campaign).order_by(Campaign.id)).all()
        advisor = session.scalars(select(Advisor.id).order_by(Advisor.id)).first()
    assert {c.status for c in campaigns} == {"running", "test", "draft"}, "the demo has a campaign in each phase"
    page = _login(browser, base, SUPERVISOR)
    visit(page, f"{base}/campaigns", "campaigns")
    visit(page, f"{base}/campaigns/new", "new campaign")
    page.click("#campaign-save")
    expect(page.locator("main [role=alert], main .error-summary").first).to_be_visible(timeout=SHORT)
    check(page, "new campaign (errors)")
    for campaign in campaigns:
        visit(page, f"{base}/campaigns/{campaign.id}", f"campaign ({campaign.status})")
        visit(page, f"{base}/campaigns/{campaign.id}/results", f"campaign results ({campaign.status})")
    visit(page, f"{base}/campaigns/{campaigns[0].id}/edit", "campaign settings")
    test = next(c for c in campaigns if c.status == "test")
    visit(page, f"{base}/campaigns/{test.id}/results?scope=test", "campaign results (test calls)")
    visit(page, f"{base}/campaigns/{test.id}/report", "campaign report draft")
    visit(page, f"{base}/campaigns/qualifications", "campaign qualifications")
    visit(page, f"{base}/campaigns/advisors", "advisors")
    visit(page, f"{base}/campaigns/advisors/{advisor}", "an advisor's day")
    visit(page, f"{base}/compliance", "calling rules")
    visit(page, f"{base}/frameworks", "competency frameworks")
    visit(page, f"{base}/frameworks/filea-appels-sortants", "the FILEA framework")
    visit(page, f"{base}/frameworks/mc-acvd?q=reformulation", "the MC framework, searched")
    visit(page, f"{base}/contacts/{ids['karim']}/consents", "a contact's consents")

    agent = _login(browser, base, AGENT)
    visit(agent, f"{base}/desktop", "agent desktop (campaigns offered)")
    expect(agent.get_by_label("Campagne", exact=True)).to_be_visible()
    agent.click("#dialer-join")
    expect(agent.locator("#dialer-current")).to_be_visible(timeout=SHORT)
    check(agent, "agent desktop (working a campaign)")


def test_training_pages(demo_floor, browser):
    """The Entraînement page and the progress page, for a trainer (assignment form, team view) and a trainee."""
    base = demo_floor.url
    with demo_floor.ctx.read() as session:
        team = session.scalars(select(User.team_id).where(User.username == AGENT[0])).one()
    page = _login(browser, base, SUPERVISOR)
    visit(page, f"{base}/practice", "practice (trainer)")
    visit(page, f"{base}/progress", "progress (nobody chosen)")
    visit(page, f"{base}/progress?team_id={team}&framework=filea-appels-sortants", "progress (a team)")
    agent = _login(browser, base, AGENT)
    visit(agent, f"{base}/practice", "practice (trainee)")
    visit(agent, f"{base}/progress", "progress (own)")


def test_knowledge_preferences_and_languages_as_an_agent(demo_floor, browser):
    base = demo_floor.url
    page = _login(browser, base, AGENT)

    visit(page, f"{base}/kb", "knowledge base")
    visit(page, f"{base}/kb?q=linky", "knowledge base (search)")
    expect(page.locator("main")).to_contain_text("Linky")
    visit(page, f"{base}/kb/compteur-linky", "knowledge article")
    visit(page, f"{base}/products", "products")
    visit(page, f"{base}/products/assurance-depannage", "product sheet")

    # a refused preference: the server's answer (the browser's own number check bypassed)
    page.goto(f"{base}/preferences")
    page.fill("#pref-ring_timeout_s", "1")
    with page.expect_navigation():
        page.eval_on_selector("#prefs-save", "button => button.form.submit()")
    expect(page.locator("#prefs-errors")).to_be_visible()
    check(page, "preferences (error)")

    # the idle desktop in English, then in Arabic (right to left)
    for locale in ("en", "ar"):
        page.goto(f"{base}/preferences")
        page.select_option("#pref-locale", locale)
        page.click("#prefs-save")
        expect(page.locator("html")).to_have_attribute("lang", locale, timeout=SHORT)
        page.goto(f"{base}/desktop")
        page.wait_for_selector("#presence-panel")
        check(page, f"agent desktop (idle, {locale})", lang=locale)
    # right to left: French names and numbers in an Arabic page, a table, a form
    visit(page, f"{base}/contacts?q=benali", "contact search (results, ar)", lang="ar")
    visit(page, f"{base}/contacts/new", "new contact (ar)", lang="ar")


def test_the_page_checks_catch_what_they_look_for(live, page):
    """The checks above can fail: a second h1 and a control without a name are caught."""
    page.goto(f"{live.url}/login")
    check(page, "login")
    page.evaluate("""() => document.querySelector("main").insertAdjacentHTML("beforeend",
                                                                             '<h1>Bis</h1><input id="nameless">')""")
    with pytest.raises(AssertionError, match=r"2 <h1>"):
        check(page, "login with two h1")
    page.evaluate("() => document.querySelectorAll('h1')[1].remove()")
    with pytest.raises(AssertionError, match=r"without an accessible name.*nameless"):
        check(page, "login with a nameless field")
    page.evaluate("() => document.documentElement.setAttribute('lang', '')")
    with pytest.raises(AssertionError, match=r"<html lang=''>"):
        check(page, "login without lang")
