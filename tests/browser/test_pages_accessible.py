"""axe-core on the pages that don't need a call: login, idle desktop, preferences."""

from tests.browser.conftest import assert_accessible, log_in
from tests.helpers import PASSWORD, make_user


def test_login_page_is_accessible(live, page):
    page.goto(f"{live.url}/login")
    assert_accessible(page, "login")


def test_idle_desktop_and_preferences_are_accessible(live, page):
    make_user(live.ctx, "amina")
    log_in(page, live.url, "amina", PASSWORD)
    page.goto(f"{live.url}/desktop")
    page.wait_for_selector("#presence-panel")
    assert_accessible(page, "agent desktop (idle)")
    page.goto(f"{live.url}/preferences")
    assert_accessible(page, "preferences")
