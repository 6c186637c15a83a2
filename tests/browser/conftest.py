"""Browser tests: a real uvicorn server on a free port, Debian's chromium driven
by Playwright (never a downloaded browser), axe-core injected from npm."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("PLATEAU_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(config, items):
    if not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed: `make test` installs Debian's chromium")
        for item in items:
            if "browser" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {
        "executable_path": CHROMIUM,
        "headless": True,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"],
    }


@pytest.fixture(scope="session")
def browser_context_args():
    return {"locale": "fr-FR", "timezone_id": "Europe/Paris", "viewport": {"width": 1400, "height": 1000}}


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core on the page; returns the serious and critical violations."""
    if not AXE.exists():
        pytest.fail(f"{AXE} missing: run `make test` (npm ci installs axe-core)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async (tags) => {
        const r = await axe.run(document, { runOnly: { type: "tag", values: tags } });
        return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                        nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5) }));
    }""", AXE_TAGS)
    return [v for v in result if v["impact"] in impacts]


def assert_accessible(page, what: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe-core on {what}: " + "; ".join(f"{v['id']} ({v['impact']}): {v['help']} {v['nodes']}" for v in violations)


def log_in(page, base_url: str, username: str, password: str) -> None:
    """Log in with the keyboard only: the login field has the focus when the page opens."""
    page.goto(f"{base_url}/login")
    assert page.evaluate("() => document.activeElement.id") == "username"
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)
