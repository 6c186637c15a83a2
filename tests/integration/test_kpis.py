"""Indicators from real calls: calls driven through ``services.calls`` with a
fixed clock (answer, hold, transfer, hang up, qualify; short and long
abandons; a ring timeout; a caller still waiting), then the figures read
back (``call_facts``, ``queue_figures``, agent time, the KPI report,
objectives and the agent's day); the pages and the CSV over HTTP."""

import html
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from plateau.domain import kpis as rules
from plateau.domain.errors import NotFoundError, PermissionDenied, ValidationError
from plateau.services import agents, calls, kpis, objectives
from plateau.services.users import actor_for
from plateau.store.models import Callback, Queue, QueueMember, Team, User
from tests.helpers import login, make_queue, make_user

PARIS = ZoneInfo("Europe/Paris")


def _setup(ctx):
    trainer = actor_for(make_user(ctx, "formateur", role="supervisor"))
    alice = actor_for(make_user(ctx, "alice", name="Alice Martin"))
    bruno = actor_for(make_user(ctx, "bruno", name="Bruno Petit"))
    chloe = actor_for(make_user(ctx, "chloe", name="Chloé Roy"))
    queue_id, (info_id,) = make_queue(ctx, [alice, bruno])
    with ctx.unit() as session:
        team_a, team_b = Team(code="a", name="Équipe A"), Team(code="b", name="Équipe B")
        other = Queue(code="facturation", name="Facturation", sl_threshold_s=10)
        session.add_all([team_a, team_b, other])
        session.flush()
        for user_id, team in ((alice.id, team_a), (bruno.id, team_a), (chloe.id, team_b)):
            session.get(User, user_id).team_id = team.id
        session.add(QueueMember(queue_id=other.id, user_id=chloe.id))
    return {"trainer": trainer, "alice": alice, "bruno": bruno, "chloe": chloe, "queue": queue_id, "info": info_id,
            "other": other.id, "team_a": team_a.id, "team_b": team_b.id}


def _day(ctx, f):
    """A morning on the floor; returns the calls' ids in order."""
    clock, trainer, alice, bruno = ctx.clock, f["trainer"], f["alice"], f["bruno"]
    agents.set_state(ctx, bruno, "paused", "lunch")
    agents.set_state(ctx, alice, "available")
    clock.advance(seconds=2)
    # 1: answered after 4 s; 60 s talk, 10 s hold, 30 s talk, 20 s wrap-up; qualified
    one = calls.place_call(ctx, trainer, f["queue"], "06 11 11 11 11", "FR")
    assert one.agent_id == alice.id
    clock.advance(seconds=4)
    calls.answer(ctx, alice, one.id)
    clock.advance(seconds=60)
    calls.hold(ctx, alice, one.id)
    clock.advance(seconds=10)
    calls.resume(ctx, alice, one.id)
    clock.advance(seconds=30)
    calls.hang_up(ctx, alice, one.id)
    clock.advance(seconds=20)
    calls.close(ctx, alice, one.id, f["info"])
    clock.advance(seconds=5)
    # 2: rings out on Alice (25 s), Bruno takes it after 5 s more, talks 40 s, transfers it to Alice,
    #    who answers after 3 s, talks 50 s, wraps up 10 s
    two = calls.place_call(ctx, trainer, f["queue"], "06 22 22 22 22", "FR")
    clock.advance(seconds=25)
    calls.tick(ctx)
    assert agents.get_presence(ctx, alice.id).pause_reason == "no_answer"
    agents.set_state(ctx, bruno, "available")
    clock.advance(seconds=5)
    calls.answer(ctx, bruno, two.id)
    agents.set_state(ctx, alice, "available")
    clock.advance(seconds=40)
    calls.transfer(ctx, bruno, two.id, agent_id=alice.id, note="Facture")
    clock.advance(seconds=3)
    calls.answer(ctx, alice, two.id)
    clock.advance(seconds=50)
    calls.hang_up(ctx, alice, two.id)
    clock.advance(seconds=10)
    calls.close(ctx, alice, two.id, f["info"])
    agents.set_state(ctx, alice, "paused", "short_break")
    agents.set_state(ctx, bruno, "paused", "lunch")
    clock.advance(seconds=5)
    # 3: the caller hangs up after 3 s (a short abandon); 4: after 30 s
    three = calls.place_call(ctx, trainer, f["queue"], "06 33 33 33 33", "FR")
    clock.advance(seconds=3)
    calls.hang_up(ctx, trainer, three.id)
    four = calls.place_call(ctx, trainer, f["queue"], "06 44 44 44 44", "FR")
    clock.advance(seconds=30)
    calls.hang_up(ctx, trainer, four.id)
    # 5: the first caller calls again and is still waiting
    five = calls.place_call(ctx, trainer, f["queue"], "06 11 11 11 11", "FR")
    clock.advance(seconds=15)
    return [one.id, two.id, three.id, four.id, five.id]


def _bounds(ctx):
    now = ctx.now()
    return now - timedelta(hours=1), now + timedelta(hours=1)


def test_call_facts_from_real_calls(ctx):
    f = _setup(ctx)
    ids = _day(ctx, f)
    since, until = _bounds(ctx)
    with ctx.read() as session:
        facts = {fact.call_id: fact for fact in kpis.call_facts(session, since, until, now=ctx.now())}
    assert list(facts) == ids
    one, two, three, four, five = (facts[i] for i in ids)
    assert (one.wait_s, one.talk_s, one.hold_s, one.wrap_up_s) == (4, 90, 10, 20)
    assert one.closed and one.disposition == "info" and one.repeated and one.in_queue
    assert (two.wait_s, two.talk_s, two.wrap_up_s, two.transferred) == (30, 90, 10, True)
    assert [(leg.agent_id, leg.talk_s, leg.transferred, leg.closed) for leg in two.legs] == [
        (f["bruno"].id, 40, True, False), (f["alice"].id, 50, False, True)]
    assert two.legs[0].team_id == f["team_a"] and two.legs[1].wait_s == 3
    assert three.abandoned and three.wait_s == 3 and four.abandoned and four.wait_s == 30
    assert five.state == "offered" and five.wait_s == 15 and not five.repeated
    with ctx.read() as session:
        bruno_only = kpis.call_facts(session, since, until, agent_ids=[f["bruno"].id])
        team_b = kpis.call_facts(session, since, until, team_ids=[f["team_b"]])
        other_queue = kpis.call_facts(session, since, until, queue_ids=[f["other"]])
        later = kpis.call_facts(session, until, until + timedelta(hours=1))
    assert [fact.call_id for fact in bruno_only] == [ids[1]]
    assert team_b == [] and other_queue == [] and later == []


def test_queue_figures_with_each_queue_threshold(ctx):
    f = _setup(ctx)
    _day(ctx, f)
    since, until = _bounds(ctx)
    with ctx.read() as session:
        figures = kpis.queue_figures(session, since, until, now=ctx.now(), repeats=True)
    assert set(figures) == {f["queue"], f["other"]}
    main = figures[f["queue"]]
    assert (main.offered, main.handled, main.abandoned, main.short_abandoned) == (5, 2, 2, 1)
    assert main.answered_within == 1 and main.sl_threshold_s == 20
    assert main.service_level == pytest.approx(1 / 3)  # 1 / (2 + 2 − 1)
    assert main.abandon_rate == pytest.approx(1 / 4)  # (2 − 1) / (5 − 1)
    assert main.asa_s == 17 and main.aht_s == 110
    assert main.transfer_rate == 0.5 and main.repeat_rate == 0.5 and main.qualified_rate == 1
    assert main.waiting == 1 and main.longest_wait_s == 15
    assert figures[f["other"]].offered == 0 and figures[f["other"]].sl_threshold_s == 10


def test_agent_legs_time_and_callbacks(ctx):
    f = _setup(ctx)
    _day(ctx, f)
    since, until = _bounds(ctx)
    with ctx.read() as session:
        facts = kpis.call_facts(session, since, until, now=ctx.now())
        times = kpis.agent_times(session, since, until, PARIS, ctx.now())
    alice = rules.figures(rules.agent_legs(facts, agent_ids=[f["alice"].id]))
    bruno = rules.figures(rules.agent_legs(facts, agent_ids=[f["bruno"].id]))
    assert alice.handled == 2 and alice.aht_s == 90 and alice.transfer_rate == 0  # (120 + 60) / 2
    assert bruno.handled == 1 and bruno.transfer_rate == 1 and bruno.aht_s is None and bruno.qualified_rate is None
    alice_time = times[f["alice"].id]
    assert alice_time.pause_by_reason["no_answer"] > 0 and alice_time.pause_by_reason["short_break"] > 0
    assert alice_time.on_call_s > 0 and alice_time.wrap_up_s == 30 and alice_time.agent_days == 1
    assert f["chloe"].id not in times  # never logged in


def test_report_scopes_and_permissions(ctx):
    f = _setup(ctx)
    _day(ctx, f)
    with ctx.unit() as session:
        now = ctx.now()
        session.add_all([Callback(due_at=now - timedelta(minutes=40), status="done", done_at=now - timedelta(minutes=20),
                                  done_by=f["alice"].id, assigned_user_id=f["alice"].id, created_at=now),
                         Callback(due_at=now - timedelta(minutes=50), status="open", assigned_user_id=f["bruno"].id,
                                  created_at=now)])
    floor = kpis.report(ctx, f["trainer"], kpis.Filters())
    assert floor.scope == "floor" and floor.values["offered"] == 5 and floor.values["handled"] == 2
    assert floor.callbacks.due == 2 and floor.values["callbacks_on_time"] == 0.5
    assert {row.label: row.values["handled"] for row in floor.by_agent} == {"Alice Martin": 2, "Bruno Petit": 1}
    assert [row.label for row in floor.by_team] == ["Équipe A"]
    assert [row.key for row in floor.by_hour] == [10] and floor.by_hour[0].values["offered"] == 5
    assert floor.values["calls_per_agent_day"] == 1.0  # 2 calls, 2 agent-days
    mine = kpis.report(ctx, f["alice"], kpis.Filters())
    assert mine.scope == "agent" and mine.filters.agent_id == f["alice"].id
    assert mine.values["handled"] == 2 and mine.values["callbacks_on_time"] == 1 and not mine.applicable("offered")
    team = kpis.report(ctx, f["bruno"], kpis.Filters(team_id=f["team_a"]))
    assert team.scope == "team" and team.values["handled"] == 3 and team.values["transfer_rate"] == pytest.approx(1 / 3)
    with pytest.raises(PermissionDenied):
        kpis.report(ctx, f["bruno"], kpis.Filters(agent_id=f["alice"].id))
    with pytest.raises(PermissionDenied):
        kpis.report(ctx, f["bruno"], kpis.Filters(team_id=f["team_b"]))
    with pytest.raises(NotFoundError):
        kpis.report(ctx, f["trainer"], kpis.Filters(queue_id=9999))
    queue = kpis.report(ctx, f["trainer"], kpis.Filters(queue_id=f["queue"], period="week"))
    assert queue.scope == "queue" and queue.period.first.weekday() == 0 and queue.values["service_level"] == pytest.approx(1 / 3)
    with pytest.raises(ValidationError) as refused:
        kpis.report(ctx, f["trainer"], kpis.Filters(period="custom", start="2026-11-23", end="2026-11-01"))
    assert "end" in refused.value.errors
    with pytest.raises(ValidationError) as refused:
        kpis.report(ctx, f["trainer"], kpis.Filters(period="custom", start="hier", end=""))
    assert set(refused.value.errors) == {"start", "end"}
    yesterday = kpis.report(ctx, f["trainer"], kpis.Filters(period="yesterday"))
    assert yesterday.values["offered"] == 0 and yesterday.period.final


def test_objectives_editing_and_validation(ctx):
    f = _setup(ctx)
    form = objectives.ObjectiveForm
    aht = objectives.create_objective(ctx, f["trainer"], form("all", "", "", "aht", "<=", "4:00"))
    assert aht.target == 240 and aht.active
    team = objectives.create_objective(ctx, f["trainer"], form("team", "", str(f["team_a"]), "qualified_rate", ">=", "90 %"))
    assert team.target == pytest.approx(0.9) and team.team_id == f["team_a"]
    with pytest.raises(ValidationError) as refused:
        objectives.create_objective(ctx, f["trainer"], form("agent", str(f["trainer"].id), "", "service_level", "<", "abc"))
    assert set(refused.value.errors) == {"user_id", "kpi", "comparator", "target"}
    for kpi, text in (("qualified_rate", "120"), ("aht", "4:75"), ("handled", "-3"), ("handled", "beaucoup")):
        with pytest.raises(ValidationError) as refused:
            objectives.create_objective(ctx, f["trainer"], form("all", "", "", kpi, ">=", text))
        assert set(refused.value.errors) == {"target"}
    with pytest.raises(PermissionDenied):
        objectives.create_objective(ctx, f["alice"], form("all", "", "", "aht", "<=", "240"))
    objectives.update_objective(ctx, f["trainer"], aht.id, form("agent", str(f["alice"].id), "", "aht", "<=", "300"))
    objectives.set_active(ctx, f["trainer"], team.id, False)
    rows = objectives.list_objectives(ctx, f["trainer"])
    assert [(row.objective.kpi, row.objective.scope, row.objective.target, row.who, row.objective.active)
            for row in rows] == [("aht", "agent", 300, "Alice Martin", True), ("qualified_rate", "team", 0.9, "Équipe A", False)]
    assert objectives.ObjectiveForm.of(rows[1].objective).target == "90"


def test_my_day_and_progress_against_objectives(ctx):
    f = _setup(ctx)
    form = objectives.ObjectiveForm
    for values in (("all", "", "", "aht", "<=", "100"), ("all", "", "", "calls_per_agent_day", ">=", "50"),
                   ("team", "", str(f["team_a"]), "transfer_rate", "<=", "50"),
                   ("team", "", str(f["team_b"]), "handled", ">=", "1"),
                   ("agent", str(f["bruno"].id), "", "handled", ">=", "1")):
        objectives.create_objective(ctx, f["trainer"], form(*values))
    _day(ctx, f)
    day = objectives.my_day(ctx, f["alice"])
    assert not day.period.final and day.figures.handled == 2 and day.values["aht"] == 90
    results = {(r.objective.kpi, r.measured_on): r.assessment for r in day.results}
    assert set(results) == {("aht", "agent"), ("calls_per_agent_day", "agent"), ("transfer_rate", "team")}
    assert results[("aht", "agent")].status == "met" and results[("aht", "agent")].gap == 10
    per_day = results[("calls_per_agent_day", "agent")]
    assert per_day.status == "not_yet" and per_day.value == 2 and per_day.gap == 48
    assert results[("transfer_rate", "team")].value == pytest.approx(1 / 3)  # the team's collective figure
    assert [leg.call_id for leg in day.calls] == [1, 2]
    with pytest.raises(PermissionDenied):
        objectives.my_day(ctx, f["alice"], user_id=f["bruno"].id)
    bruno = objectives.my_day(ctx, f["trainer"], user_id=f["bruno"].id)
    assert {r.objective.kpi for r in bruno.results} == {"aht", "calls_per_agent_day", "transfer_rate", "handled"}
    assert next(r for r in bruno.results if r.objective.kpi == "aht").assessment.status == "no_data"
    # tomorrow, yesterday's unmet objectives are missed
    ctx.clock.advance(days=1)
    yesterday = objectives.my_day(ctx, f["alice"], (ctx.now() - timedelta(days=1)).astimezone(PARIS).date())
    assert yesterday.period.final
    assert {r.objective.kpi: r.assessment.status for r in yesterday.results}["calls_per_agent_day"] == "missed"
    progress = objectives.progress(ctx, f["trainer"], yesterday.period.first)
    table = {(r.objective.kpi, r.who): r.assessment.status for r in progress.results}
    assert table[("aht", "Alice Martin")] == "met" and table[("aht", "Bruno Petit")] == "no_data"
    assert table[("aht", "Chloé Roy")] == "no_data" and table[("handled", "Bruno Petit")] == "met"
    assert table[("transfer_rate", "Équipe A")] == "met" and table[("handled", "Équipe B")] == "missed"
    with pytest.raises(PermissionDenied):
        objectives.progress(ctx, f["alice"])


def test_daily_sheet_lists_the_agents_calls(ctx):
    f = _setup(ctx)
    _day(ctx, f)
    sheet = objectives.daily_sheet(ctx, f["alice"])
    assert [(c.queue, c.disposition, c.facts.transferred) for c in sheet.calls] == [
        ("Service clients", "Information donnée", False), ("Service clients", "Information donnée", False)]
    bruno = objectives.daily_sheet(ctx, f["trainer"], user_id=f["bruno"].id)
    assert [(c.disposition, c.facts.transferred) for c in bruno.calls] == [("", True)]
    assert bruno.day.time.pause_by_reason["lunch"] > 0


# --- over HTTP ------------------------------------------------------------------------------------------


def text(response) -> str:
    """The page as a reader sees it (Jinja escapes apostrophes)."""
    return html.unescape(response.text)


def _client(app, username):
    client = TestClient(app)
    client.headers["X-CSRF-Token"] = login(client, username)
    return client


def test_kpi_page_filters_and_csv(app, sqlite_ctx):
    f = _setup(sqlite_ctx)
    _day(sqlite_ctx, f)
    boss = _client(app, "formateur")
    page = boss.get("/kpis")
    assert page.status_code == 200
    assert "Indicateurs du plateau" in text(page) and "Durée moyenne de traitement (DMT)" in text(page)
    assert "(Temps de communication + temps de mise en attente + temps de post-appel) ÷ appels clôturés." in text(page)
    assert 'role="img"' in text(page) and "Alice Martin" in text(page) and 'id="table-hour"' in text(page)
    assert "33,3 %" in text(page)  # the service level, in French
    agent_page = boss.get(f"/kpis?agent={f['bruno'].id}&period=today")
    assert "Indicateurs de Bruno Petit" in text(agent_page) and "sans objet" in text(agent_page)
    refused = boss.get("/kpis?period=custom&start=2026-11-30&end=2026-11-01")
    assert refused.status_code == 422 and "La date de fin doit suivre la date de début." in text(refused)
    export = boss.get(f"/kpis.csv?queue={f['queue']}")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    csv_text = export.content.decode("utf-8")
    assert csv_text.startswith("\ufeff")
    lines = csv_text.lstrip("\ufeff").splitlines()
    header = lines[0].split(";")
    assert header[:3] == ["Vue", "Nom", "Appels présentés"] and "Niveau de service (%)" in header
    total = dict(zip(header, lines[1].split(";")))
    assert total["Nom"] == "Service clients" and total["Appels présentés"] == "5"
    assert total["Niveau de service (%)"] == "33,3" and total["Durée moyenne de traitement (DMT) (s)"] == "110"
    rows = [line.split(";")[:2] for line in lines[2:]]
    assert ["Agent", "Alice Martin"] in rows and ["Équipe", "Équipe A"] in rows and ["Heure", "10:00"] in rows
    agent_row = dict(zip(header, next(line.split(";") for line in lines if line.startswith("Agent;Bruno"))))
    assert agent_row["Appels présentés"] == "" and agent_row["Taux de transfert (%)"] == "100,0"


def test_an_agent_sees_only_their_own_figures(app, sqlite_ctx):
    f = _setup(sqlite_ctx)
    _day(sqlite_ctx, f)
    bruno = _client(app, "bruno")
    own = bruno.get("/kpis")
    assert own.status_code == 200 and "Indicateurs de Bruno Petit" in text(own)
    assert 'name="agent"' not in text(own) and "Alice Martin" not in text(own)
    assert "Mon équipe (collectif) : Équipe A" in text(own)
    team = bruno.get(f"/kpis?team={f['team_a']}")
    assert team.status_code == 200 and "Indicateurs de l'équipe Équipe A (collectif)" in text(team)
    assert bruno.get(f"/kpis?agent={f['alice'].id}").status_code == 403
    assert bruno.get(f"/kpis.csv?agent={f['alice'].id}").status_code == 403
    assert bruno.get(f"/kpis?team={f['team_b']}").status_code == 403
    assert bruno.get(f"/agents/{f['alice'].id}/day").status_code == 403
    assert bruno.get("/objectives").status_code == 403
    assert bruno.post("/objectives/new", data={"scope": "all", "kpi": "aht", "comparator": "<=",
                                               "target": "1"}).status_code == 403


def test_objectives_pages(app, sqlite_ctx):
    f = _setup(sqlite_ctx)
    boss = _client(app, "formateur")
    assert boss.get("/objectives").status_code == 200
    form = boss.get("/objectives/new")
    assert form.status_code == 200 and 'name="target"' in text(form)
    refused = boss.post("/objectives/new", data={"scope": "team", "team_id": "", "kpi": "aht", "comparator": ">=",
                                                 "target": "quatre minutes"})
    assert refused.status_code == 422
    assert "Choisissez l'équipe concernée." in text(refused) and "Durée invalide" in text(refused)
    assert 'aria-invalid="true"' in text(refused) and "quatre minutes" in text(refused)
    created = boss.post("/objectives/new", data={"scope": "all", "kpi": "aht", "comparator": "<=", "target": "4:00"},
                        follow_redirects=False)
    assert created.status_code == 303 and created.headers["location"] == "/objectives?saved=created"
    listing = boss.get("/objectives?saved=created")
    assert "Objectif créé." in text(listing) and "au plus 4 min 00 s" in text(listing)
    assert "Alice Martin" in text(listing)  # the progress table lists every agent for an objective for all
    objective_id = objectives.list_objectives(sqlite_ctx, f["trainer"])[0].objective.id
    edit = boss.get(f"/objectives/{objective_id}")
    assert 'value="240"' in text(edit)
    boss.post(f"/objectives/{objective_id}", data={"scope": "agent", "user_id": str(f["alice"].id), "kpi": "aht",
                                                   "comparator": "<=", "target": "300"})
    assert "au plus 5 min 00 s" in boss.get("/objectives").text
    boss.post(f"/objectives/{objective_id}/active", data={"active": "0"})
    assert "Désactivé" in boss.get("/objectives").text
    assert boss.get("/objectives/9999").status_code == 404
    no_token = TestClient(app)
    login(no_token, "formateur")
    assert no_token.post("/objectives/new", data={"scope": "all"}).status_code == 403


def test_my_day_panel_and_daily_sheet(app, sqlite_ctx):
    f = _setup(sqlite_ctx)
    objectives.create_objective(sqlite_ctx, f["trainer"], objectives.ObjectiveForm("all", "", "", "calls_per_agent_day",
                                                                                   ">=", "50"))
    _day(sqlite_ctx, f)
    alice = _client(app, "alice")
    desktop = alice.get("/desktop")
    assert 'id="my-day-panel"' in text(desktop) and 'hx-get="/me/day/panel"' in text(desktop)
    assert "Ma journée" in text(desktop) and "2 appels" in text(desktop)
    panel = alice.get("/me/day/panel")
    assert "Pas encore atteint" in text(panel) and "Il manque encore 48 appels par jour pour atteindre l'objectif." in text(panel)
    sheet = alice.get("/me/day")
    assert sheet.status_code == 200 and "Fiche journalière d'activité" in text(sheet)
    assert "Alice Martin" in text(sheet) and "Information donnée" in text(sheet) and "Équipe A" in text(sheet)
    assert "Pause : Pause courte" in text(sheet) and "Pause : Appel non décroché" in text(sheet)
    assert "Totaux : 2 appels" in text(sheet) and 'onclick="window.print()"' in text(sheet)
    assert alice.get("/me/day?date=demain").status_code == 422
    empty = alice.get("/me/day?date=2026-01-05")
    assert "Aucun appel traité ce jour-là." in text(empty)
    boss = _client(app, "formateur")
    bruno_sheet = boss.get(f"/agents/{f['bruno'].id}/day")
    assert bruno_sheet.status_code == 200 and "Bruno Petit" in text(bruno_sheet) and "Transféré" in text(bruno_sheet)
    assert boss.get("/agents/9999/day").status_code == 404
