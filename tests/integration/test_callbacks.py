"""Callback tasks: each agent's list in order, taking one (one winner when two agents
click together), closing it done or cancelled, moving it; the events that keep the
other desktops right; the desktop panel and the "Mes rappels" page."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from plateau.domain.errors import ConflictError, IllegalTransition, PermissionDenied, ValidationError
from plateau.services import callbacks, calls
from plateau.services.users import actor_for
from plateau.store.models import Callback, Contact, ContactPhone, Event, Queue
from tests.helpers import login, make_queue, make_user


@pytest.fixture
def floor(ctx):
    """Queue "Service clients" (ana, bilal), queue "Facturation" (chloe), a trainer, Karim Benali."""
    boss = actor_for(make_user(ctx, "formateur", role="supervisor"))
    ana = actor_for(make_user(ctx, "ana", name="Ana Martin"))
    bilal = actor_for(make_user(ctx, "bilal", name="Bilal Haddad"))
    chloe = actor_for(make_user(ctx, "chloe", name="Chloé Roux"))
    first, _ = make_queue(ctx, [ana, bilal])
    second, _ = make_queue(ctx, [chloe], code="facturation", name="Facturation", dispositions=(("paid", "Payé"),))
    with ctx.unit() as session:
        now = ctx.now()
        karim = Contact(kind="person", civility="M.", first_name="Karim", last_name="Benali", search_name="benali karim",
                        created_at=now, updated_at=now, tags=[])
        session.add(karim)
        session.flush()
        session.add(ContactPhone(contact_id=karim.id, e164="+33612345678", label="mobile"))
    return {"boss": boss, "ana": ana, "bilal": bilal, "chloe": chloe, "first": first, "second": second,
            "karim": karim.id}


def _callback(ctx, minutes: float, queue_id=None, assigned=None, number="+33600000001", contact_id=None,
              source="caller", status="open") -> int:
    with ctx.unit() as session:
        now = ctx.now()
        row = Callback(due_at=now + timedelta(minutes=minutes), queue_id=queue_id,
                       assigned_user_id=assigned.id if assigned else None, number=number, contact_id=contact_id,
                       source=source, status=status, created_at=now)
        session.add(row)
        session.flush()
        return row.id


def _ids(views) -> list[int]:
    return [view.callback.id for view in views]


def test_each_agent_sees_theirs_and_their_queues_in_due_order(ctx, floor):
    later = _callback(ctx, 30, queue_id=floor["first"])
    mine = _callback(ctx, -20, assigned=floor["ana"], source="agent", number=None, contact_id=floor["karim"])
    same_time_a = _callback(ctx, -5, queue_id=floor["first"])
    same_time_b = _callback(ctx, -5, queue_id=floor["first"])
    _callback(ctx, -60, assigned=floor["bilal"], queue_id=floor["first"])  # bilal's
    _callback(ctx, -60, queue_id=floor["second"])  # a queue ana is not in
    _callback(ctx, -90, queue_id=floor["first"], status="done")
    listed = callbacks.list_callbacks(ctx, floor["ana"])
    assert _ids(listed) == [mine, same_time_a, same_time_b, later]
    assert [v.timing for v in listed] == ["late", "due", "due", "upcoming"]
    first = listed[0]
    assert (first.contact_name, first.number, first.assignee_name) == ("Monsieur Karim Benali", "+33612345678", "Ana Martin")
    assert _ids(callbacks.list_callbacks(ctx, floor["ana"], due_only=True)) == [mine, same_time_a, same_time_b]
    assert callbacks.count_upcoming(ctx, floor["ana"]) == 1
    assert len(callbacks.list_callbacks(ctx, floor["boss"], scope="floor")) == 6
    with pytest.raises(PermissionDenied):
        callbacks.list_callbacks(ctx, floor["ana"], scope="floor")


def test_a_caller_asking_to_be_called_back_lands_in_the_queue_members_lists(ctx, floor):
    with ctx.unit() as session:
        session.get(Queue, floor["first"]).callback_after_s = 30
    call = calls.place_call(ctx, floor["boss"], floor["first"], "06 12 34 56 78")
    ctx.clock.advance(seconds=30)
    calls.tick(ctx)
    asked = calls.request_callback(ctx, floor["boss"], call.id)
    for agent in ("ana", "bilal"):
        view = callbacks.list_callbacks(ctx, floor[agent], due_only=True)
        assert _ids(view) == [asked.id]
        assert view[0].contact_name == "Monsieur Karim Benali" and view[0].callback.source == "caller"
    assert callbacks.list_callbacks(ctx, floor["chloe"]) == []



def test_a_new_callback_can_be_announced_to_the_desktops_that_may_take_it(ctx, floor):
    task = _callback(ctx, 0, queue_id=floor["first"])
    with ctx.unit() as session:
        callbacks.notify_created(session, session.get(Callback, task), ctx.now())
    with ctx.read() as session:
        events = session.scalars(select(Event).where(Event.type == "callback")).all()
    assert sorted(e.channel for e in events) == sorted(["floor", f"user:{floor['ana'].id}", f"user:{floor['bilal'].id}"])
    assert {e.payload["action"] for e in events} == {"new"}

def test_claim_is_idempotent_and_refused_to_a_colleague(ctx, floor):
    task = _callback(ctx, -1, queue_id=floor["first"])
    claimed = callbacks.claim(ctx, floor["ana"], task)
    assert claimed.assigned_user_id == floor["ana"].id
    callbacks.claim(ctx, floor["ana"], task)  # a double click takes it once
    with pytest.raises(ConflictError) as taken:
        callbacks.claim(ctx, floor["bilal"], task)
    assert taken.value.render() == "Ce rappel a déjà été pris par Ana Martin."
    with pytest.raises(PermissionDenied):
        callbacks.claim(ctx, floor["chloe"], _callback(ctx, -1, queue_id=floor["first"]))
    assert _ids(callbacks.list_callbacks(ctx, floor["bilal"])) == [task + 1]
    with ctx.read() as session:
        events = session.scalars(select(Event).where(Event.type == "callback").order_by(Event.id)).all()
    # bilal's desktop is told, so it drops the callback; the floor too; chloe (another queue) is not
    assert sorted(e.channel for e in events) == sorted(["floor", f"user:{floor['ana'].id}", f"user:{floor['bilal'].id}"])
    assert all(e.payload["action"] == "claim" and e.payload["assigned_user_id"] == floor["ana"].id for e in events)


def test_two_agents_claiming_at_once_one_wins(ctx, floor):
    task = _callback(ctx, -1, queue_id=floor["first"])
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def attempt(name):
        start.wait()
        try:
            callbacks.claim(ctx, floor[name], task)
            outcomes[name] = "won"
        except ConflictError:
            outcomes[name] = "lost"

    threads = [threading.Thread(target=attempt, args=(name,)) for name in ("ana", "bilal")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["lost", "won"]
    winner = next(name for name, outcome in outcomes.items() if outcome == "won")
    with ctx.read() as session:
        assert session.get(Callback, task).assigned_user_id == floor[winner].id
        claims = session.scalars(select(Event).where(Event.type == "callback", Event.channel == "floor")).all()
    assert len(claims) == 1


def test_done_records_who_and_when_and_is_not_repeated(ctx, floor):
    task = _callback(ctx, -1, queue_id=floor["first"])
    ctx.clock.advance(minutes=3)
    done = callbacks.complete(ctx, floor["bilal"], task, "done", "Rappelé, client satisfait.")
    assert (done.status, done.done_by, done.done_at, done.assigned_user_id) == ("done", floor["bilal"].id, ctx.now(),
                                                                                floor["bilal"].id)
    assert done.note == "Rappelé, client satisfait."
    assert callbacks.complete(ctx, floor["bilal"], task, "done").status == "done"  # double click
    with pytest.raises(IllegalTransition):
        callbacks.complete(ctx, floor["bilal"], task, "cancelled", "trop tard")
    with pytest.raises(IllegalTransition):
        callbacks.complete(ctx, floor["ana"], task, "done")
    assert callbacks.list_callbacks(ctx, floor["bilal"]) == []
    with ctx.read() as session:
        channels = {e.channel for e in session.scalars(select(Event).where(Event.type == "callback"))
                    if e.payload["action"] == "done"}
    assert channels == {"floor", f"user:{floor['ana'].id}", f"user:{floor['bilal'].id}"}


def test_cancelling_needs_a_reason(ctx, floor):
    task = _callback(ctx, -1, assigned=floor["ana"])
    with pytest.raises(ValidationError) as refused:
        callbacks.complete(ctx, floor["ana"], task, "cancelled", "  ")
    assert refused.value.errors["note"].render() == "Indiquez pourquoi le rappel est annulé."
    with pytest.raises(PermissionDenied):
        callbacks.complete(ctx, floor["chloe"], task, "cancelled", "pas à moi")
    cancelled = callbacks.complete(ctx, floor["ana"], task, "cancelled", "Le client a rappelé entre-temps.")
    assert (cancelled.status, cancelled.note, cancelled.done_by) == ("cancelled", "Le client a rappelé entre-temps.",
                                                                     floor["ana"].id)
    # a supervisor closes anyone's callback
    other = _callback(ctx, -1, assigned=floor["ana"])
    assert callbacks.complete(ctx, floor["boss"], other, "done").done_by == floor["boss"].id


def test_reschedule_moves_it_in_the_order(ctx, floor):
    # the test clock: Monday 23 November 2026, 10:00 in Paris
    first = _callback(ctx, -10, assigned=floor["ana"])
    second = _callback(ctx, -5, assigned=floor["ana"])
    with pytest.raises(ValidationError) as refused:
        callbacks.reschedule(ctx, floor["ana"], first, "2026-11-22", "10:00")
    assert refused.value.errors["callback_date"].render() == "Le rappel doit être programmé dans le futur."
    with pytest.raises(ValidationError):
        callbacks.reschedule(ctx, floor["ana"], first, "", "10:00")
    moved = callbacks.reschedule(ctx, floor["ana"], first, "2026-11-24", "14:30", "Client absent ce matin.")
    assert moved.due_at.isoformat() == "2026-11-24T13:30:00+00:00" and moved.note == "Client absent ce matin."
    assert _ids(callbacks.list_callbacks(ctx, floor["ana"])) == [second, first]


# --- the panel and the page -------------------------------------------------------------------------


def _client(app, username):
    client = TestClient(app)
    return client, login(client, username)


def test_desktop_panel_and_its_buttons(app, sqlite_ctx):
    ana = make_user(sqlite_ctx, "ana", name="Ana Martin")
    bilal = make_user(sqlite_ctx, "bilal", name="Bilal Haddad")
    queue_id, _ = make_queue(sqlite_ctx, [ana, bilal])
    task = _callback(sqlite_ctx, -2, queue_id=queue_id, number="+33612345678")
    _callback(sqlite_ctx, 120, queue_id=queue_id)
    client, token = _client(app, "ana")
    desktop = client.get("/desktop")
    assert 'id="callbacks-panel"' in desktop.text and 'hx-get="/desktop/callbacks"' in desktop.text
    panel = client.get("/desktop/callbacks")
    assert panel.status_code == 200
    assert "06 12 34 56 78" in panel.text and "Demandé par l'appelant en attente" in panel.text
    assert f'id="callback-{task}-claim"' in panel.text and "1 autre rappel prévu plus tard." in panel.text
    taken = client.post(f"/callbacks/{task}/claim", data={"csrf_token": token, "from": "desktop"},
                        headers={"HX-Request": "true"})
    assert taken.status_code == 200
    assert 'data-announce="Rappel pris : il est maintenant dans votre liste."' in taken.text
    assert f'id="callback-{task}-done"' in taken.text and "autofocus" in taken.text
    refused = client.post(f"/callbacks/{task}/cancel", data={"csrf_token": token, "from": "desktop", "note": ""},
                          headers={"HX-Request": "true"})
    assert refused.status_code == 422 and "Indiquez pourquoi le rappel est annulé." in refused.text
    # bilal's panel no longer offers it; his click is refused with the name of who has it
    other, other_token = _client(app, "bilal")
    assert f'id="callback-{task}-claim"' not in other.get("/desktop/callbacks").text
    late = other.post(f"/callbacks/{task}/claim", data={"csrf_token": other_token, "from": "desktop"},
                      headers={"HX-Request": "true"})
    assert late.status_code == 409 and "Ce rappel a déjà été pris par Ana Martin." in late.text
    # without JavaScript the form posts and comes back to the desktop
    done = client.post(f"/callbacks/{task}/done", data={"csrf_token": token, "from": "desktop"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/desktop"
    assert "Aucun rappel à faire pour le moment." in client.get("/desktop/callbacks").text


def test_callbacks_page(app, sqlite_ctx):
    ana = make_user(sqlite_ctx, "ana", name="Ana Martin")
    make_user(sqlite_ctx, "formateur", role="supervisor")
    queue_id, _ = make_queue(sqlite_ctx, [ana])
    task = _callback(sqlite_ctx, 60, assigned=actor_for(ana), source="agent")
    client, token = _client(app, "ana")
    page = client.get("/callbacks")
    assert page.status_code == 200 and "<caption>1 rappel ouvert</caption>" in page.text
    assert "Promis par un agent" in page.text
    refused = client.post(f"/callbacks/{task}/reschedule", data={"csrf_token": token, "callback_date": "2020-01-01",
                                                                  "callback_time": "10:00"})
    assert refused.status_code == 422 and "Le rappel doit être programmé dans le futur." in refused.text
    assert 'value="2020-01-01"' in refused.text
    moved = client.post(f"/callbacks/{task}/reschedule", data={"csrf_token": token, "callback_date": "2026-12-01",
                                                                "callback_time": "09:15"}, follow_redirects=False)
    assert moved.status_code == 303 and "Rappel reporté." in client.get(moved.headers["location"]).text
    assert client.get("/callbacks?scope=floor").text.count("<h1>Mes rappels</h1>") == 1  # agents see their own
    boss, _ = _client(app, "formateur")
    assert "<h1>Rappels du plateau</h1>" in boss.get("/callbacks?scope=floor").text
