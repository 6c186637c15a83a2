"""The event stream over real HTTP: events arrive in order, and a reconnection
with Last-Event-ID gets exactly what was missed."""

import json

import httpx

from plateau.services import agents
from plateau.services.users import actor_for
from tests.helpers import PASSWORD, csrf_of, make_user


def _login(client: httpx.Client, username: str) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code in (200, 303)


def _read(client: httpx.Client, headers: dict, count: int, after: int | None = None) -> list[tuple[str, str, dict]]:
    """Read ``count`` events (id, type, data) from the stream, then close it."""
    events, current = [], {}
    params = {"after": after} if after is not None else {}
    with client.stream("GET", "/events", headers=headers, params=params, timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("id:"):
                current["id"] = line[3:].strip()
            elif line.startswith("event:"):
                current["event"] = line[6:].strip()
            elif line.startswith("data:"):
                current["data"] = json.loads(line[5:].strip())
            elif line == "" and "event" in current:
                events.append((current["id"], current["event"], current["data"]))
                current = {}
                if len(events) == count:
                    break
    return events


def test_events_resume_after_last_event_id(live):
    user = make_user(live.ctx, "amina")
    actor = actor_for(user)
    with httpx.Client(base_url=live.url) as client:
        _login(client, "amina")
        agents.set_state(live.ctx, actor, "available")
        agents.set_state(live.ctx, actor, "paused", "lunch")
        agents.set_state(live.ctx, actor, "available")
        first = _read(client, {}, 2, after=0)
        assert [(e[1], e[2]["state"]) for e in first] == [("agent_state", "available"), ("agent_state", "paused")]
        rest = _read(client, {"Last-Event-ID": first[-1][0]}, 1)
        assert rest[0][2]["state"] == "available" and int(rest[0][0]) > int(first[-1][0])


def test_the_stream_needs_a_login(live):
    with httpx.Client(base_url=live.url) as client:
        assert client.get("/events", follow_redirects=False).status_code in (303, 401)
