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


def make_queue(ctx, members, code: str = "service-clients", name: str = "Service clients",
               dispositions=(("info", "Information donnée"),)) -> tuple[int, list[int]]:
    """A queue with its qualification list and its agents; returns (queue id, disposition ids)."""
    from plateau.store.models import Disposition, Queue, QueueDisposition, QueueMember

    with ctx.unit() as session:
        queue = Queue(code=code, name=name)
        session.add(queue)
        session.flush()
        rows = [Disposition(code=d_code, label=label) for d_code, label in dispositions]
        session.add_all(rows)
        session.flush()
        session.add_all([QueueDisposition(queue_id=queue.id, disposition_id=row.id, position=index)
                         for index, row in enumerate(rows)])
        session.add_all([QueueMember(queue_id=queue.id, user_id=member.id) for member in members])
        return queue.id, [row.id for row in rows]
