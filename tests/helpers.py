"""Small helpers for tests: users, logins, CSRF tokens."""

from __future__ import annotations

import re

from plateau.services.users import create_user

PASSWORD = "motdepasse-test"


def make_user(ctx, username: str, role: str = "agent", name: str | None = None):
    return create_user(ctx, username, PASSWORD, name or username.title(), role=role)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF meta tag"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD) -> str:
    """Log in through the real form; returns the CSRF token for later posts."""
    page = client.get("/login")
    token = csrf_of(page.text)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                           "next": "/", "locale": "fr"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/login").text)
