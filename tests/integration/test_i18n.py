"""The interface really switches language: complete English and Arabic
catalogues, pages rendered in the user's language (right to left for Arabic),
and refusals from the domain translated on the way out.

The catalogue test fails as soon as someone adds a French string without
translating it: run ``make messages``, then fill the new entries in
``locale/en`` and ``locale/ar``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from plateau.services import agents
from plateau.services.users import actor_for, set_locale
from plateau.web.i18n import LOCALE_DIR
from tests.helpers import PASSWORD, csrf_of, make_queue, make_user

#: a Python %-format conversion: ``%(name)s``, ``%(num)d``, ``%s``, or the literal ``%%``
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?([#0\- +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%])")
#: the count of a plural message; a language may spell it out ("one", the Arabic dual) instead of printing it
COUNT_NAMES = {"num", "n"}
ARABIC_LETTER = re.compile(r"[\u0600-\u06FF]")
ROOT = Path(__file__).resolve().parents[2]


def _placeholders(text: str) -> set[tuple[str, str]]:
    return {(name, conversion) for name, conversion in PLACEHOLDER.findall(text) if conversion != "%"}


@lru_cache(maxsize=None)
def _source_ids() -> tuple:
    """Every message id in the sources, extracted now as ``make messages`` does (same
    babel.cfg, same keywords): a string added since the last ``make messages`` counts too."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found = {}
    for _filename, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map, options_map,
                                                                            keywords=keywords):
        found[message if isinstance(message, str) else tuple(message)] = None
    return tuple(found)


def _catalog(locale: str):
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_every_source_string_is_translated_with_the_same_placeholders(locale):
    catalog = _catalog(locale)
    ids = _source_ids()
    assert len(ids) > 500, "message extraction found too little: is babel.cfg still right?"
    problems = []
    for msgid in ids:
        message = catalog.get(msgid)
        shown = msgid if isinstance(msgid, str) else msgid[0]
        if message is None:
            problems.append(f"missing (run `make messages`): {shown!r}")
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {shown!r}")
        forms = list(message.string) if message.pluralizable else [message.string]
        if message.pluralizable and len(forms) != catalog.num_plurals:
            problems.append(f"{len(forms)} plural forms instead of {catalog.num_plurals}: {shown!r}")
        if not all(form and form.strip() for form in forms):
            problems.append(f"untranslated: {shown!r}")
            continue
        if message.pluralizable:
            allowed = _placeholders(msgid[0]) | _placeholders(msgid[1])
            needed = {p for p in _placeholders(msgid[0]) & _placeholders(msgid[1]) if p[0] not in COUNT_NAMES}
            for form in forms:
                if not _placeholders(form) <= allowed or not needed <= _placeholders(form):
                    problems.append(f"placeholders differ: {shown!r} → {form!r}")
        else:
            if _placeholders(message.string) != _placeholders(msgid):
                problems.append(f"placeholders differ: {msgid!r} → {message.string!r}")
            if message.string.count("%%") != msgid.count("%%") or (
                    not _placeholders(msgid) and "%" in message.string.replace("%%", "")):
                problems.append(f"stray %: {msgid!r} → {message.string!r}")
    assert not problems, f"{len(problems)} problem(s) in locale/{locale}:\n" + "\n".join(problems[:40])


def test_arabic_plurals_use_the_six_forms():
    catalog = _catalog("ar")
    assert catalog.num_plurals == 6
    plurals = [message for message in catalog if message.id and message.pluralizable]
    assert plurals
    for message in plurals:
        assert len(set(message.string)) >= 3, message.id  # singular, dual and plural at least differ


def _user_speaking(ctx, username="jane", locale="en"):
    user = make_user(ctx, username, name="Jane Doe")
    set_locale(ctx, user.id, locale)
    return user


def _login(client, username: str, locale: str) -> str:
    """Log in through the form, choosing the interface language there."""
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token,
                                           "next": "/", "locale": locale}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/preferences").text)


def test_login_page_follows_the_browser_language_and_the_locale_cookie(client):
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    assert '<html lang="en" dir="ltr">' in english.text
    assert "Log in to Plateau" in english.text and "Password" in english.text
    assert "Mot de passe" not in english.text
    arabic = client.get("/login", headers={"Accept-Language": "ar-MA"})
    assert 'lang="ar"' in arabic.text and 'dir="rtl"' in arabic.text and "كلمة المرور" in arabic.text
    client.cookies.set("locale", "en")
    assert "Log in to Plateau" in client.get("/login", headers={"Accept-Language": "ar"}).text
    client.cookies.clear()
    french = client.get("/login", headers={"Accept-Language": "de-DE"})
    assert '<html lang="fr" dir="ltr">' in french.text and "Mot de passe" in french.text


def test_language_chosen_at_login_is_kept_on_the_user(client, sqlite_ctx):
    from plateau.services.users import get_user

    user = make_user(sqlite_ctx, "karim")
    _login(client, "karim", "en")
    assert get_user(sqlite_ctx, user.id).locale == "en"
    desktop = client.get("/desktop")
    assert '<html lang="en" dir="ltr">' in desktop.text
    assert '<h2 id="presence-title">My status</h2>' in desktop.text
    assert "Agent desktop" in desktop.text and "Available" in desktop.text
    assert "Poste agent" not in desktop.text and "Mon état" not in desktop.text


def test_english_user_sees_the_agent_desktop_in_english(client, sqlite_ctx):
    _user_speaking(sqlite_ctx)
    _login(client, "jane", "en")
    page = client.get("/desktop").text
    assert '<h2 id="presence-title">My status</h2>' in page
    for english in ("Agent desktop", "Change state", "Break reason", "Keyboard shortcuts", "Customer record"):
        assert english in page, english
    for french in ("Mon état", "Changer d'état", "Motif de pause", "Raccourcis clavier", "Fiche client"):
        assert french not in page, french


def test_arabic_user_gets_a_right_to_left_desktop_in_arabic(client, sqlite_ctx):
    _user_speaking(sqlite_ctx, "salma", locale="ar")
    _login(client, "salma", "ar")
    page = client.get("/desktop").text
    assert '<html lang="ar" dir="rtl">' in page
    assert '<h2 id="presence-title">حالتي</h2>' in page
    assert "مكتب الوكيل" in page and "Poste agent" not in page
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S))
    words = re.findall(r"[^\W\d_]{3,}", visible)
    arabic = [word for word in words if ARABIC_LETTER.search(word)]
    assert len(arabic) > 0.8 * len(words), sorted(set(words) - set(arabic))


def test_language_changed_in_preferences_switches_the_next_page(client, sqlite_ctx):
    make_user(sqlite_ctx, "amina")
    token = _login(client, "amina", "fr")
    assert "Mon état" in client.get("/desktop").text
    saved = client.post("/preferences", data={"csrf_token": token, "locale": "ar", "ring_timeout_s": "20",
                                              "wrap_up_limit_s": "120", "session_timeout_min": "240"})
    assert saved.status_code == 200 and 'dir="rtl"' in saved.text and "حُفظت التفضيلات." in saved.text
    assert '<h2 id="presence-title">حالتي</h2>' in client.get("/desktop").text


def _call_in_wrap_up(ctx, client, agent):
    """Trainer places a call, the agent answers and hangs up: the call waits for a disposition."""
    from plateau.services import calls

    trainer = make_user(ctx, "formateur", role="supervisor")
    queue_id, _ = make_queue(ctx, [agent])
    agents.set_state(ctx, actor_for(agent), "available")
    call = calls.place_call(ctx, actor_for(trainer), queue_id, "06 12 34 56 78", "FR")
    assert client.post(f"/api/calls/{call.id}/answer").status_code == 200
    assert client.post(f"/api/calls/{call.id}/hangup").json()["state"] == "wrap_up"
    return call.id


def test_domain_refusal_comes_back_in_the_users_language(client, sqlite_ctx):
    agent = _user_speaking(sqlite_ctx)
    client.headers["X-CSRF-Token"] = _login(client, "jane", "en")
    call_id = _call_in_wrap_up(sqlite_ctx, client, agent)
    refused = client.post(f"/api/calls/{call_id}/close", json={"disposition_id": None})
    assert refused.status_code == 422
    body = refused.json()
    assert body["errors"]["disposition"] == "Choose a disposition: the call cannot be closed without one."
    assert body["detail"] == "Choose a disposition: the call cannot be closed without one."
    # a refusal raised by a rule with parameters is translated and filled in too
    missing = client.post("/api/calls/999999/close", json={"disposition_id": None})
    assert missing.status_code == 404 and missing.json()["detail"] == "Call not found."


def test_domain_refusal_in_arabic_and_french_for_other_users(client, sqlite_ctx):
    agent = _user_speaking(sqlite_ctx, "salma", locale="ar")
    client.headers["X-CSRF-Token"] = _login(client, "salma", "ar")
    call_id = _call_in_wrap_up(sqlite_ctx, client, agent)
    refused = client.post(f"/api/calls/{call_id}/close", json={"disposition_id": None})
    assert refused.json()["errors"]["disposition"] == "اختر تصنيفًا: لا يمكن إغلاق المكالمة بدونه."
    # the same user back in French: the message follows the stored locale, not a leftover of the last request
    set_locale(sqlite_ctx, agent.id, "fr")
    again = client.post(f"/api/calls/{call_id}/close", json={"disposition_id": None})
    assert again.json()["errors"]["disposition"] == "Choisissez une qualification : l'appel ne peut pas être clôturé sans."


def test_failed_login_answers_in_the_chosen_language_and_the_choice_is_remembered(client, sqlite_ctx):
    make_user(sqlite_ctx, "amina")
    token = csrf_of(client.get("/login").text)
    failed = client.post("/login", data={"username": "amina", "password": "wrong", "csrf_token": token,
                                         "next": "/", "locale": "en"})
    assert failed.status_code == 401
    assert '<html lang="en" dir="ltr">' in failed.text and "Incorrect username or password." in failed.text
    assert client.cookies.get("locale") == "en"
    assert "Log in to Plateau" in client.get("/login").text


def test_refusals_raised_by_permission_checks_are_translated(client, sqlite_ctx):
    _user_speaking(sqlite_ctx)
    _login(client, "jane", "en")
    console = client.get("/console")
    assert console.status_code == 403
    assert "Supervisors, trainers and administrators only." in console.text and 'lang="en"' in console.text
    missing = client.get("/api/contacts/99999")
    assert missing.status_code == 404 and missing.json()["detail"] == "Contact not found (record no. 99999)."
