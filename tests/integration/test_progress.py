"""Progress: competencies week by week from the effective ratings, attempts per scenario, time per module.

One world for every test: team « Groupe A » (Lina, Omar), team « Groupe B »
(Sami), a trainer. Calls over three weeks (Mondays 9, 16 and 23 November
2026, Europe/Paris), rated automatically then overridden by the trainer,
practice attempts on a FILEA scenario and an OFPPT one. Every figure below is
worked out by hand in the comments of ``world``.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from functools import lru_cache

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from plateau.domain.errors import NotFoundError, PermissionDenied, ValidationError
from plateau.services import frameworks, progress, ratings
from plateau.services.ratings import Judgement
from plateau.services.users import actor_for
from plateau.store.models import AgentPresence, Call, PracticeAttempt, Team, User
from tests.helpers import PASSWORD, login

FILEA = "filea-appels-sortants"
OFPPT = "ofppt-teleconseiller"
PROSPECTION = "prospection-rdv-photovoltaique"  # FILEA: criteria 01, 03…12
TRANSFER = "transfert-difficulte-paiement"  # OFPPT: M05/2, M04/A/1, M04/A/4, M04/B/1, M04/C/4
PERIOD = {"period": "custom", "start": "2026-11-09", "end": "2026-11-29"}
WEEKS = [date(2026, 11, 9), date(2026, 11, 16), date(2026, 11, 23)]


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=timezone.utc)


def f(n: int) -> str:
    return f"{FILEA}/{n:02d}"


def o(local: str) -> str:
    return f"{OFPPT}/{local}"


# --- the world ---------------------------------------------------------------------------------------------


def _call(ctx, agent_id: int, when: datetime, talk: float = 0, hold: float = 0, wrap: float = 0) -> int:
    with ctx.unit() as session:
        call = Call(state="closed", direction="outbound", caller_number="+33612345678", agent_id=agent_id,
                    created_at=when, state_since=when, declined_by=[], talk_seconds=talk, hold_seconds=hold,
                    wrap_up_seconds=wrap)
        session.add(call)
        session.flush()
        return call.id


def _attempt(ctx, trainee_id: int, call_id: int | None, scenario: str, when: datetime, outcome: str | None,
             ended: bool = True) -> None:
    with ctx.unit() as session:
        session.add(PracticeAttempt(scenario=scenario, trainee_id=trainee_id, call_id=call_id, seed=1,
                                    started_at=when, ended_at=when.replace(minute=7) if ended else None,
                                    outcome=outcome))


def _auto(ctx, call_id: int, framework: str, results: dict[str, str], source: str = "auto") -> None:
    ctx.clock.advance(seconds=1)
    ratings.record_auto(ctx, call_id, framework, [Judgement(c, r, [], "auto") for c, r in results.items()], source)


def _self(ctx, trainee, call_id: int, framework: str) -> None:
    """The trainee's grid, every criterion « not met »: never the retained result."""
    ctx.clock.advance(seconds=1)
    ratings.self_assess(ctx, trainee, call_id, framework,
                        {c.id: "not_met" for c in frameworks.get(framework).criteria()})


def _override(ctx, trainer, call_id: int, framework: str, criterion: str, result: str) -> None:
    ctx.clock.advance(seconds=1)
    ratings.override(ctx, trainer, call_id, framework, criterion, result, "Le formateur corrige.")


@lru_cache(maxsize=1)
def _password_hash() -> str:
    """One hash of the tests' password for every user here (hashing costs a third of a second each time)."""
    return PasswordHasher().hash(PASSWORD)


@pytest.fixture
def world(ctx):
    with ctx.unit() as session:
        team_a, team_b = Team(code="groupe-a", name="Groupe A"), Team(code="groupe-b", name="Groupe B")
        session.add_all([team_a, team_b])
        session.flush()
        users = [User(username=name, display_name=name.title(), password_hash=_password_hash(), role="agent",
                      locale="fr", prefs={}, created_at=ctx.now(), team_id=team.id)
                 for name, team in (("lina", team_a), ("omar", team_a), ("sami", team_b))]
        users.append(User(username="chef", display_name="Chef Formateur", password_hash=_password_hash(),
                          role="supervisor", locale="fr", prefs={}, created_at=ctx.now()))
        session.add_all(users)
        session.flush()
        session.add_all([AgentPresence(user_id=user.id, state="offline", since=ctx.now()) for user in users])
        people = {user.username: actor_for(user) for user in users}
        teams = {"a": team_a.id, "b": team_b.id}
    lina, omar, chef = people["lina"], people["omar"], people["chef"]
    ctx.clock.set(at(3))
    # before the period: counted by « the last 12 weeks » only
    early = _call(ctx, lina.id, at(3), talk=60)
    _attempt(ctx, lina.id, early, PROSPECTION, at(3), "refused")
    _auto(ctx, early, FILEA, {f(1): "met"})
    _self(ctx, lina, early, FILEA)

    # Lina, week of 9/11, practice (360 s): the retained results are 01 met, 03 not met (the later automatic
    # run), 08 met, 09 met (the trainer's); 02 and 15 are not criteria of the scenario, so not on its grid
    # → B1 1/2, B2 2/2; the scenario's score 3/4 = 75 %
    ctx.clock.set(at(10, 11))
    call1 = _call(ctx, lina.id, at(10), talk=300, hold=20, wrap=40)
    _attempt(ctx, lina.id, call1, PROSPECTION, at(10), "agreed")
    _auto(ctx, call1, FILEA, {f(1): "met", f(3): "met", f(8): "met", f(9): "not_met", f(15): "not_assessable"})
    _auto(ctx, call1, FILEA, {f(3): "not_met"})
    _auto(ctx, call1, FILEA, {f(8): "not_met"}, source="llm")  # a proposal only: never retained
    _self(ctx, lina, call1, FILEA)
    _override(ctx, chef, call1, FILEA, f(9), "met")
    _override(ctx, chef, call1, FILEA, f(2), "met")

    # Lina, week of 16/11, a real call: the trainer's 01 « met » stays retained after a later automatic « not met »
    # → B1 1/1, B2 2/2
    ctx.clock.set(at(17, 11))
    call2 = _call(ctx, lina.id, at(17), talk=200)
    _auto(ctx, call2, FILEA, {f(1): "not_met", f(8): "met", f(10): "met"})
    _override(ctx, chef, call2, FILEA, f(1), "met")
    _auto(ctx, call2, FILEA, {f(1): "not_met"})
    _self(ctx, lina, call2, FILEA)

    # Omar, week of 16/11, practice (100 s) not self-assessed: B1 1/2, B2 0/2; scenario 1/4 = 25 %
    ctx.clock.set(at(18, 11))
    call3 = _call(ctx, omar.id, at(18), talk=100)
    _attempt(ctx, omar.id, call3, PROSPECTION, at(18), "refused")
    _auto(ctx, call3, FILEA, {f(1): "met", f(4): "not_met", f(8): "not_met", f(11): "not_met"})

    # Sami (Groupe B), week of 16/11: never in Groupe A's figures
    sami_call = _call(ctx, people["sami"].id, at(17), talk=500)
    _attempt(ctx, people["sami"].id, sami_call, PROSPECTION, at(17), "agreed")
    _auto(ctx, sami_call, FILEA, {f(1): "not_met"})

    # Lina, week of 23/11, practice (240 s), the caller hung up: B1 2/2, B2 2/3; scenario 4/5 = 80 %
    ctx.clock.set(at(24, 11))
    call5 = _call(ctx, lina.id, at(24), talk=200, wrap=40)
    _attempt(ctx, lina.id, call5, PROSPECTION, at(24), "hung_up")
    _auto(ctx, call5, FILEA, {f(1): "met", f(3): "met", f(8): "met", f(9): "not_met", f(10): "met"})
    _self(ctx, lina, call5, FILEA)

    # Omar, 26/11: an attempt still in progress (no call yet)
    ctx.clock.set(at(26, 11))
    _attempt(ctx, omar.id, None, PROSPECTION, at(26), None, ended=False)
    # Omar, 25/11, OFPPT practice (240 s): M05 1/1, M04 1/2; scenario 2/3 (the others unrated). Rated last:
    # OFPPT is the framework Omar was last rated against
    call4 = _call(ctx, omar.id, at(25), talk=150, hold=30, wrap=60)
    _attempt(ctx, omar.id, call4, TRANSFER, at(25), "agreed")
    _auto(ctx, call4, OFPPT, {o("M05/2"): "met", o("M04/A/1"): "met", o("M04/A/4"): "not_met"})

    ctx.clock.set(datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc))
    return {**people, "teams": teams, "calls": {"early": early, 1: call1, 2: call2, 3: call3, 4: call4, 5: call5}}


def _shares(row) -> list:
    """A row's weeks as (met, assessed) pairs, None for a week without any assessed criterion."""
    return [(t.met, t.assessed) if t.assessed else None for t in row.weeks]


def _row(report, code: str):
    return next(row for row in report.competencies if row.unit.code == code)


def _module(report, code: str):
    return next(m for m in report.modules if m.unit.code == code)


# --- the framework side ---------------------------------------------------------------------------------


def test_each_framework_counts_its_criteria_under_the_documented_units():
    filea = frameworks.get(FILEA)
    assert [u.code for u in progress.unit_list(filea)] == ["B1", "B2"]
    assert progress.units(filea)[f(7)].code == "B1" and progress.units(filea)[f(8)].code == "B2"
    assert all(u.planned_hours is None for u in progress.unit_list(filea))

    ofppt = frameworks.get(OFPPT)
    ofppt_units = progress.units(ofppt)
    assert [u.code for u in progress.unit_list(ofppt)] == [f"M0{n}" for n in range(1, 9)]
    assert ofppt_units[o("M04/A/1")].code == "M04"  # a lettered sub-list climbs to its module
    assert ofppt_units[o("M04/A/1")].planned_hours == 45 and ofppt_units[o("M05/2")].planned_hours == 18
    assert sum(u.planned_hours for u in progress.unit_list(ofppt)) == 216

    infep = frameworks.get("infep-bts-teleconseiller")
    cp1 = progress.units(infep)["infep-bts-teleconseiller/CP1/1"]
    assert cp1.code == "CP1" and [m.id for m in cp1.modules] == ["infep-bts-teleconseiller/MQ1"]
    assert cp1.planned_hours == 136
    assert len(progress.unit_list(infep)) == 22

    mc = frameworks.get("mc-acvd")
    codes = [u.code for u in progress.unit_list(mc)]
    assert "C1.1" in codes and "C4.4" in codes and "E1" in codes
    assert progress.units(mc)["mc-acvd/C1.1/1"].code == "C1.1"
    under_c1 = [c for c in mc.criteria() if c.parent == "mc-acvd/C1"]
    assert under_c1 and progress.units(mc)[under_c1[0].id].code == "C1"


# --- figures ------------------------------------------------------------------------------------------------


def test_a_trainers_view_of_a_team_adds_up_its_members_week_by_week(ctx, world):
    report = progress.report(ctx, world["chef"], progress.Filters(team_id=world["teams"]["a"], framework=FILEA,
                                                                  **PERIOD))
    assert report.scope == "team" and report.subject == "Groupe A"
    assert report.weeks == WEEKS
    assert _shares(_row(report, "B1")) == [(1, 2), (2, 3), (2, 2)]
    assert _shares(_row(report, "B2")) == [(2, 2), (2, 4), (2, 3)]
    assert _shares(report.overall) == [(3, 4), (4, 7), (4, 5)]
    assert [t.calls for t in report.overall.weeks] == [1, 2, 1]
    assert (report.overall.total.met, report.overall.total.assessed, report.overall.total.calls) == (11, 16, 4)
    assert _row(report, "B1").total.share == pytest.approx(5 / 7)
    assert report.threshold == pytest.approx(0.7)
    assert report.waiting_calls == 0

    by_name = {t.name: t for t in report.trainees}
    assert list(by_name) == ["Lina", "Omar"]  # Sami is in another team
    lina, omar = by_name["Lina"], by_name["Omar"]
    assert (lina.total.met, lina.total.assessed, lina.total.calls) == (10, 12, 3)
    assert (lina.units[_row(report, "B1").unit.id].met, lina.units[_row(report, "B1").unit.id].assessed) == (4, 5)
    assert (omar.total.met, omar.total.assessed) == (1, 4)
    assert omar.units[_row(report, "B2").unit.id].share == 0  # 0 %, not « no data »
    assert (lina.attempts, lina.practice_seconds) == (2, 600)
    assert (omar.attempts, omar.practice_seconds) == (3, 340)  # both frameworks, the running attempt at 0 s

    [prospection, transfer] = report.scenarios
    assert (prospection.code, prospection.attempts, len(prospection.trainee_ids)) == (PROSPECTION, 4, 2)
    assert prospection.last_at == at(26) and prospection.last_in_progress
    assert prospection.best == pytest.approx(0.8)
    assert (transfer.code, transfer.attempts, transfer.last_outcome) == (TRANSFER, 1, "agreed")
    assert transfer.best == pytest.approx(2 / 3)

    assert (_module(report, "B1").seconds, _module(report, "B1").attempts) == (700, 4)
    assert (_module(report, "B2").seconds, _module(report, "B2").attempts) == (700, 4)
    assert (report.practice_seconds, report.practice_attempts) == (700, 4)


def test_the_retained_result_is_the_trainers_then_the_latest_automatic_one(ctx, world):
    calls = world["calls"]
    with ctx.read() as session:
        results = progress.effective_results(session, select(Call.id).where(Call.id.in_([calls[1], calls[2]])),
                                             frameworks.get(FILEA))
    # call 1 is a practice call: its scenario's criteria only (not 02, not 15), the trainer's 09
    assert results[calls[1]] == {f(1): "met", f(3): "not_met", f(8): "met", f(9): "met"}
    assert results[calls[2]] == {f(1): "met", f(8): "met", f(10): "met"}
    # the same answer as the review page's grid, call by call
    for call_id in (calls[1], calls[2]):
        grid = ratings.grid(ctx, world["chef"], call_id, FILEA)
        assert {row.id: row.effective for row in grid.rows if row.effective} == results[call_id]


def test_a_trainees_own_progress_hides_practice_calls_they_have_not_self_assessed(ctx, world):
    lina = progress.report(ctx, world["lina"], progress.Filters(framework=FILEA, **PERIOD))
    assert lina.scope == "trainee" and lina.subject == "Lina" and lina.trainees == []
    assert _shares(_row(lina, "B1")) == [(1, 2), (1, 1), (2, 2)]
    assert _shares(_row(lina, "B2")) == [(2, 2), (2, 2), (2, 3)]
    [row] = lina.scenarios
    assert (row.attempts, row.last_at, row.last_outcome, row.best, row.waiting) == (2, at(24), "hung_up", 0.8, 0)
    assert (_module(lina, "B1").seconds, lina.practice_seconds, lina.practice_attempts) == (600, 600, 2)

    own = progress.report(ctx, world["omar"], progress.Filters(framework=FILEA, **PERIOD))
    assert own.waiting_calls == 1
    assert all(t.assessed == 0 for row in own.competencies for t in row.weeks)
    prospection = next(s for s in own.scenarios if s.code == PROSPECTION)
    assert prospection.best is None and prospection.waiting == 1 and prospection.last_in_progress

    seen_by_trainer = progress.report(ctx, world["chef"], progress.Filters(trainee_id=world["omar"].id,
                                                                           framework=FILEA, **PERIOD))
    assert seen_by_trainer.waiting_calls == 0
    assert _shares(_row(seen_by_trainer, "B1")) == [None, (1, 2), None]
    assert _shares(_row(seen_by_trainer, "B2")) == [None, (0, 2), None]
    assert next(s for s in seen_by_trainer.scenarios if s.code == PROSPECTION).best == pytest.approx(0.25)


def test_time_per_module_with_the_hours_the_framework_plans(ctx, world):
    # no framework chosen: the one Omar was last rated against (OFPPT)
    report = progress.report(ctx, world["chef"], progress.Filters(trainee_id=world["omar"].id, **PERIOD))
    assert report.framework.code == OFPPT and report.filters.framework == OFPPT
    m04, m05, m01 = _module(report, "M04"), _module(report, "M05"), _module(report, "M01")
    assert (m04.seconds, m04.attempts, m04.unit.planned_hours) == (240, 1, 45)
    assert (m05.seconds, m05.attempts, m05.unit.planned_hours) == (240, 1, 18)
    assert (m01.seconds, m01.attempts, m01.unit.planned_hours) == (0, 0, 12)
    assert (report.practice_seconds, report.practice_attempts) == (240, 1)  # counted once in all
    assert _shares(_row(report, "M05")) == [None, None, (1, 1)]
    assert _shares(_row(report, "M04")) == [None, None, (1, 2)]


def test_the_period_is_weeks_of_the_site_time_zone_ending_today(ctx, world):
    report = progress.report(ctx, world["chef"], progress.Filters(trainee_id=world["lina"].id, framework=FILEA))
    assert report.filters.period == "12w"
    assert len(report.weeks) == 12 and report.weeks[0] == date(2026, 9, 7) and report.weeks[-1] == date(2026, 11, 23)
    assert report.period.last == date(2026, 11, 27)
    assert _shares(_row(report, "B1"))[-4:] == [(1, 1), (1, 2), (1, 1), (2, 2)]  # the call of 3/11 now counts
    assert next(iter(report.scenarios)).attempts == 3
    four = progress.report(ctx, world["chef"], progress.Filters(trainee_id=world["lina"].id, framework=FILEA,
                                                                period="4w"))
    assert four.weeks == [date(2026, 11, 2), *WEEKS]

    # Sunday 22 November, 23:30 in Paris (22:30 UTC) belongs to the week of the 16th
    late = _call(ctx, world["lina"].id, datetime(2026, 11, 22, 22, 30, tzinfo=timezone.utc))
    _auto(ctx, late, FILEA, {f(5): "not_met"})
    ctx.clock.set(datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc))
    report = progress.report(ctx, world["chef"], progress.Filters(trainee_id=world["lina"].id, framework=FILEA,
                                                                  **PERIOD))
    assert _shares(_row(report, "B1")) == [(1, 2), (1, 2), (2, 2)]
    # Lina has not self-assessed that real call: her own page leaves it out, and says so
    own = progress.report(ctx, world["lina"], progress.Filters(framework=FILEA, **PERIOD))
    assert _shares(_row(own, "B1")) == [(1, 2), (1, 1), (2, 2)] and own.waiting_calls == 1


def test_who_may_see_what_and_bad_filters(ctx, world):
    lina, chef = world["lina"], world["chef"]
    with pytest.raises(PermissionDenied):
        progress.report(ctx, lina, progress.Filters(trainee_id=world["omar"].id, framework=FILEA))
    with pytest.raises(PermissionDenied):
        progress.report(ctx, lina, progress.Filters(team_id=world["teams"]["a"], framework=FILEA))
    with pytest.raises(ValidationError) as caught:
        progress.report(ctx, chef, progress.Filters(framework=FILEA))
    assert list(caught.value.errors) == ["trainee"]
    with pytest.raises(ValidationError) as caught:
        progress.report(ctx, chef, progress.Filters(trainee_id=lina.id, period="custom", start="2026-11-29",
                                                    end="2026-11-09"))
    assert list(caught.value.errors) == ["end"]
    with pytest.raises(NotFoundError):
        progress.report(ctx, chef, progress.Filters(trainee_id=lina.id, framework="inconnu"))
    with pytest.raises(NotFoundError):
        progress.report(ctx, chef, progress.Filters(team_id=9999))
    with ctx.unit() as session:
        empty = Team(code="groupe-c", name="Groupe C")
        session.add(empty)
        session.flush()
        empty_id = empty.id
    nobody = progress.report(ctx, chef, progress.Filters(team_id=empty_id, framework=FILEA, **PERIOD))
    assert nobody.trainees == [] and nobody.scenarios == [] and nobody.overall.total.assessed == 0
    # a trainee chosen wins over the team
    both = progress.report(ctx, chef, progress.Filters(trainee_id=lina.id, team_id=world["teams"]["a"],
                                                       framework=FILEA, **PERIOD))
    assert both.scope == "trainee" and both.subject == "Lina"


# --- the pages ---------------------------------------------------------------------------------------------


@pytest.fixture
def app(ctx):
    """The app on both backends."""
    from plateau.web.app import create_app

    return create_app(ctx, background=False)


def _client(app, username: str):
    client = TestClient(app)
    client.__enter__()
    login(client, username)
    return client


def test_the_page_shows_the_chart_and_the_same_figures_in_tables(app, world):
    chef = _client(app, "chef")
    try:
        empty = chef.get("/progress")
        assert empty.status_code == 200 and "Choisissez un stagiaire ou une équipe" in empty.text
        page = chef.get("/progress", params={"team": world["teams"]["a"], "framework": FILEA, **PERIOD})
        assert page.status_code == 200
        html = page.text
        assert html.count("<h1") == 1
        assert '<svg role="img"' in html and 'aria-labelledby="progress-chart-title progress-chart-desc"' in html
        assert 'href="#progress-weeks-table"' in html and 'id="progress-weeks-table"' in html
        assert html.count("<caption") == 5 and 'scope="row"' in html
        assert 'stroke-dasharray' in html  # FILEA's 70 % pass mark
        assert '<label for="progress-trainee">' in html and '<label for="progress-framework">' in html
        # B1, week of 16/11: 2 met out of 3; the same figure as the service
        assert "67 % <span class=\"hint\">(2 sur 3)</span>" in html
        assert "71 % <span class=\"hint\">(5 sur 7)</span>" in html
        assert "Prospection — rendez-vous avec une boulangère pressée" in html and "en cours" in html
        assert "11 min 40 s" in html  # 700 s of practice on FILEA scenarios
        assert f'href="/progress?trainee={world["lina"].id}&amp;framework={FILEA}' in html
        ofppt = chef.get("/progress", params={"trainee": world["omar"].id, "framework": OFPPT, **PERIOD})
        assert "45 h" in ofppt.text
        assert "accord" in ofppt.text
        bad = chef.get("/progress", params={"trainee": world["lina"].id, "period": "custom", "start": "demain"})
        assert bad.status_code == 422 and 'id="progress-start-error"' in bad.text and 'aria-invalid="true"' in bad.text
    finally:
        chef.__exit__(None, None, None)


def test_a_trainee_sees_their_own_page_only(app, world):
    omar = _client(app, "omar")
    try:
        own = omar.get("/progress", params={"framework": FILEA, **PERIOD})
        assert own.status_code == 200 and "Omar" in own.text
        assert "attend votre auto-évaluation" in own.text
        assert 'id="progress-trainee"' not in own.text  # no one else to pick
        assert omar.get("/progress", params={"trainee": world["lina"].id}).status_code == 403
        assert omar.get("/progress", params={"team": world["teams"]["a"]}).status_code == 403
        assert omar.get("/progress.csv", params={"trainee": world["lina"].id}).status_code == 403
        assert omar.get("/progress.csv", params={"team": world["teams"]["a"]}).status_code == 403
    finally:
        omar.__exit__(None, None, None)


def test_the_csv_export_holds_every_table(app, world):
    chef = _client(app, "chef")
    try:
        export = chef.get("/progress.csv", params={"team": world["teams"]["a"], "framework": FILEA, **PERIOD})
    finally:
        chef.__exit__(None, None, None)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "progression-team-filea-appels-sortants-2026-11-09-2026-11-29.csv" in export.headers["content-disposition"]
    text = export.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["Progression", "Équipe", "Groupe A", FILEA, "2026-11-09", "2026-11-29"]
    b1 = f"{FILEA}/B1"
    weekly = [r for r in rows if r and r[0] == b1]
    assert weekly == [
        [b1, weekly[0][1], "2026-11-09", "1", "2", "50,0", "1"],
        [b1, weekly[0][1], "2026-11-16", "2", "3", "66,7", "2"],
        [b1, weekly[0][1], "2026-11-23", "2", "2", "100,0", "1"],
        [b1, weekly[0][1], "Période", "5", "7", "71,4", "4"],
        [b1, weekly[0][1], "700", "4", ""],
    ]
    overall = [r for r in rows if r and r[0] == FILEA]
    assert overall[3] == [FILEA, "Ensemble du référentiel", "Période", "11", "16", "68,8", "4"]
    assert overall[4] == [FILEA, "Ensemble (chaque mise en situation une fois)", "700", "4", ""]
    scenario = next(r for r in rows if r and r[0] == PROSPECTION)
    assert scenario == [PROSPECTION, "Prospection — rendez-vous avec une boulangère pressée", FILEA, "4",
                        "2026-11-26 11:00", "en cours", "80,0", "0"]
    header = rows.index(["Par stagiaire"]) + 1
    assert rows[header][:7] == ["Stagiaire", "Appels évalués", "Critères acquis", "Critères évalués",
                                "Part acquise (%)", "Mises en situation", "Temps d'entraînement (s)"]
    assert rows[header][7:] == ["B1 (%)", "B2 (%)"]
    assert rows[header + 1] == ["Lina", "3", "10", "12", "83,3", "2", "600", "80,0", "85,7"]
    assert rows[header + 2] == ["Omar", "1", "1", "4", "25,0", "3", "340", "50,0", "0,0"]


def test_a_trainee_csv_is_their_own(app, world):
    lina = _client(app, "lina")
    try:
        export = lina.get("/progress.csv", params={"framework": FILEA, **PERIOD})
    finally:
        lina.__exit__(None, None, None)
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8").lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["Progression", "Stagiaire", "Lina"]
    assert ["Par stagiaire"] not in rows
    assert [r for r in rows if r and r[0] == PROSPECTION][0][3:7] == ["2", "2026-11-24 11:00", "a raccroché",
                                                                     "80,0"]
