"""Indicator formulas on hand-built facts: every KPI of the catalogue, the edge
cases (no calls → None, short abandons, transfers, calls still in progress),
call histories rebuilt from events, agent time, callbacks and objectives."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from plateau.domain import kpis
from plateau.domain.kpis import CallbackFacts, CallFacts, HistoryEvent, StateChange

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
PARIS = ZoneInfo("Europe/Paris")


def call(n: int = 1, *, wait=10.0, talk=100.0, hold=0.0, wrap=20.0, answered=True, abandoned=False,
         deflected=False, transferred=False, closed=None, disposition="info", in_queue=True, state=None,
         queue_id=1, agent_id=7, team_id=None, direction="inbound", number="+33600000001", contact_id=None,
         reason=None, repeated=False, at=T0) -> CallFacts:
    closed = answered if closed is None else closed
    state = state or ("closed" if closed else "abandoned" if abandoned else "deflected" if deflected
                      else "wrap_up" if answered else "offered")
    return CallFacts(
        call_id=n, queue_id=queue_id, agent_id=agent_id if answered else None, team_id=team_id, direction=direction,
        created_at=at, answered_at=at + timedelta(seconds=wait) if answered else None, wait_s=wait,
        talk_s=talk if answered else 0.0, hold_s=hold if answered else 0.0, wrap_up_s=wrap if answered else 0.0,
        abandoned=abandoned, deflected=deflected, answered=answered, transferred=transferred, closed=closed,
        disposition=disposition if closed else None, caller_number=number, contact_id=contact_id, in_queue=in_queue,
        state=state, deflect_reason=reason, repeated=repeated)


# --- call figures -------------------------------------------------------------------------------


def test_no_calls_give_none_rates_not_a_division_by_zero():
    figures = kpis.figures([])
    assert (figures.offered, figures.handled, figures.abandoned) == (0, 0, 0)
    for rate in (figures.service_level, figures.abandon_rate, figures.asa_s, figures.aht_s, figures.transfer_rate,
                 figures.qualified_rate, figures.repeat_rate):
        assert rate is None
    values = kpis.values(figures)
    assert set(values) == set(kpis.KPIS)
    assert values["occupancy"] is None and values["calls_per_agent_day"] is None


def test_service_level_asa_and_aht():
    calls = [call(1, wait=5, talk=100, hold=20, wrap=30), call(2, wait=20, talk=200, hold=0, wrap=10),
             call(3, wait=40, talk=60, hold=0, wrap=0), call(4, wait=30, answered=False, abandoned=True)]
    figures = kpis.figures(calls, sl_threshold_s=20)
    assert figures.offered == 4 and figures.handled == 3 and figures.abandoned == 1
    assert figures.answered_within == 2  # 20 s exactly is within
    assert figures.service_level == pytest.approx(2 / 4)
    assert figures.asa_s == pytest.approx((5 + 20 + 40) / 3)
    assert figures.aht_s == pytest.approx((150 + 210 + 60) / 3)  # talk + hold + wrap-up
    assert (figures.talk_s, figures.hold_s, figures.wrap_up_s) == (360, 20, 40)
    assert figures.sl_threshold_s == 20


def test_short_abandons_are_apart_from_abandon_rate_and_service_level():
    calls = [call(1, wait=10), call(2, wait=3, answered=False, abandoned=True),
             call(3, wait=4.9, answered=False, abandoned=True), call(4, wait=5, answered=False, abandoned=True)]
    figures = kpis.figures(calls, sl_threshold_s=20)
    assert figures.abandoned == 3 and figures.short_abandoned == 2  # 5 s exactly is not short
    assert figures.abandon_rate == pytest.approx(1 / 2)  # (3 − 2) / (4 − 2)
    assert figures.service_level == pytest.approx(1 / 2)  # 1 / (1 + 3 − 2)


def test_only_short_abandons_leave_rates_undefined():
    figures = kpis.figures([call(1, wait=1, answered=False, abandoned=True)])
    assert figures.abandon_rate is None and figures.service_level is None


def test_aht_counts_closed_calls_only():
    live = call(2, talk=900, closed=False, state="connected")
    figures = kpis.figures([call(1, talk=100, wrap=20), live])
    assert figures.handled == 2 and figures.closed == 1
    assert figures.aht_s == 120


def test_transfer_rate_is_over_handled_calls():
    figures = kpis.figures([call(1, transferred=True), call(2), call(3), call(4, answered=False, abandoned=True)])
    assert figures.transferred == 1
    assert figures.transfer_rate == pytest.approx(1 / 3)


def test_qualified_rate_counts_calls_left_in_wrap_up():
    calls = [call(1), call(2), call(3, closed=False, state="wrap_up"), call(4, closed=False, state="connected")]
    figures = kpis.figures(calls)
    assert figures.qualified == 2
    assert figures.qualified_rate == pytest.approx(2 / 3)  # the live call is not due a qualification yet


def test_calls_that_never_waited_for_an_agent_are_counted_apart():
    calls = [call(1), call(2, answered=False, deflected=True, in_queue=False, reason="closed"),
             call(3, answered=False, abandoned=True, in_queue=False, state="abandoned"),
             call(4, answered=False, deflected=True, in_queue=False, reason="ivr_message"),
             call(5, answered=False, deflected=True, reason="max_wait"),
             call(6, answered=False, state="offered", wait=42)]
    figures = kpis.figures(calls)
    assert figures.offered == 3  # handled, deflected after waiting, still waiting
    assert figures.out_of_hours == 1 and figures.ended_in_ivr == 2
    assert figures.deflected == 3
    assert figures.waiting == 1 and figures.longest_wait_s == 42
    assert figures.abandoned == 0


def test_outbound_calls_are_not_inbound_indicators():
    assert kpis.figures([call(1, direction="outbound")]).offered == 0


def test_each_queue_can_have_its_own_threshold():
    calls = [call(1, wait=15, queue_id=1), call(2, wait=15, queue_id=2)]
    figures = kpis.figures(calls, queue_thresholds={1: 10, 2: 20})
    assert figures.answered_within == 1
    assert figures.sl_threshold_s is None  # two thresholds: no single "Y seconds"
    assert kpis.figures(calls, queue_thresholds={1: 20, 2: 20}).sl_threshold_s == 20


def test_repeat_rate():
    figures = kpis.figures([call(1, repeated=True), call(2), call(3), call(4)])
    assert figures.repeated == 1 and figures.repeat_rate == 0.25


def test_mark_repeats_looks_seven_days_ahead_by_number_or_contact():
    first = call(1, number="+33611111111", contact_id=None)
    other = call(2, number="+33622222222", contact_id=9)
    abandoned = call(3, number="+33633333333", answered=False, abandoned=True)
    arrivals = [(T0, "+33611111111", None), (T0 + timedelta(days=6, hours=23), "+33611111111", None),
                (T0 + timedelta(days=8), "+33622222222", None), (T0 + timedelta(days=2), "+33699999999", 9),
                (T0 + timedelta(hours=1), "+33633333333", None)]
    marked = {c.call_id: c.repeated for c in kpis.mark_repeats([first, other, abandoned], arrivals)}
    assert marked == {1: True, 2: True, 3: False}  # same contact from another number counts; abandoned calls are not "handled"
    late = kpis.mark_repeats([first], [(T0 + timedelta(days=7, seconds=1), "+33611111111", None)])
    assert late[0].repeated is False


def test_breakdowns_by_group_and_local_hour():
    calls = [call(1, at=T0), call(2, at=T0 + timedelta(minutes=50)), call(3, at=T0 + timedelta(hours=2))]
    by_hour = kpis.group(calls, kpis.local_hour(PARIS))
    assert {hour: len(rows) for hour, rows in by_hour.items()} == {10: 2, 12: 1}  # 09:00 UTC is 10:00 in Paris


# --- histories ----------------------------------------------------------------------------------


def ev(action, from_state, to_state, seconds, agent=None, actor=None, team=None, **data):
    return HistoryEvent(action, from_state, to_state, T0 + timedelta(seconds=seconds), agent, actor, team, data)


def facts(events, state, now=None, **extra):
    return kpis.facts_from_history(call_id=1, queue_id=1, agent_id=extra.pop("agent_id", None), team_id=None,
                                   direction="inbound", state=state, created_at=T0, caller_number="+33600000001",
                                   contact_id=None, disposition=extra.pop("disposition", None), events=events,
                                   now=now)


def test_history_of_an_answered_call():
    events = [ev("offer", None, "offered", 0), ev("ring", "offered", "ringing", 2, agent=7),
              ev("ring_timeout", "ringing", "offered", 22), ev("ring", "offered", "ringing", 25, agent=8),
              ev("answer", "ringing", "connected", 30, agent=8, team=3), ev("hold", "connected", "on_hold", 90, agent=8),
              ev("resume", "on_hold", "connected", 100, agent=8), ev("hang_up", "connected", "wrap_up", 130, agent=8),
              ev("close", "wrap_up", "closed", 150, agent=8, disposition="info")]
    result = facts(events, "closed", agent_id=8, disposition="info")
    assert result.wait_s == 30  # queue and both rings, up to the answer
    assert (result.talk_s, result.hold_s, result.wrap_up_s) == (90, 10, 20)
    assert result.answered and result.closed and result.qualified and result.in_queue
    assert not result.transferred
    assert [(leg.agent_id, leg.team_id) for leg in result.legs] == [(8, 3)]


def test_history_of_a_transferred_call_gives_each_agent_their_leg():
    events = [ev("offer", None, "offered", 0), ev("ring", "offered", "ringing", 1, agent=7),
              ev("answer", "ringing", "connected", 5, agent=7, team=1),
              ev("transfer", "connected", "transferred", 65, agent=7, team=1),
              ev("ring", "transferred", "ringing", 70, agent=8), ev("answer", "ringing", "connected", 75, agent=8, team=2),
              ev("hang_up", "connected", "wrap_up", 175, agent=8), ev("close", "wrap_up", "closed", 185, agent=8)]
    result = facts(events, "closed", agent_id=8, disposition="info")
    assert result.wait_s == 5 and result.transferred
    assert result.talk_s == 160 and result.wrap_up_s == 10
    legs = kpis.agent_legs([result])
    first, second = legs
    assert (first.agent_id, first.transferred, first.closed, first.talk_s, first.state) == (7, True, False, 60, "transferred")
    assert (second.agent_id, second.transferred, second.closed, second.talk_s) == (8, False, True, 100)
    assert second.wait_s == 10 and second.disposition == "info" and first.disposition is None
    assert kpis.figures([first]).transfer_rate == 1.0 and kpis.figures([first]).qualified_rate is None
    assert kpis.figures([second]).aht_s == 110
    assert [leg.agent_id for leg in kpis.agent_legs([result], team_ids=[2])] == [8]


def test_history_of_a_take_over_passes_the_call_to_the_supervisor():
    events = [ev("offer", None, "offered", 0), ev("ring", "offered", "ringing", 1, agent=7),
              ev("answer", "ringing", "connected", 3, agent=7), ev("take_over", "connected", "connected", 33, agent=50, actor=50),
              ev("hang_up", "connected", "wrap_up", 93, agent=50), ev("close", "wrap_up", "closed", 95, agent=50)]
    legs = facts(events, "closed", agent_id=50, disposition="info").legs
    assert [(leg.agent_id, leg.talk_s, leg.transferred, leg.closed) for leg in legs] == [(7, 30, True, False), (50, 60, False, True)]


def test_history_of_abandons_deflections_and_the_voice_menu():
    abandoned = facts([ev("offer", None, "offered", 0), ev("abandon", "offered", "abandoned", 4)], "abandoned")
    assert abandoned.abandoned and abandoned.wait_s == 4 and abandoned.in_queue
    closed = facts([ev("offer", None, "offered", 0), ev("deflect", "offered", "deflected", 0, reason="closed")], "deflected")
    assert closed.deflected and closed.deflect_reason == "closed" and not closed.in_queue
    in_menu = facts([ev("ivr", None, "ivr", 0), ev("abandon", "ivr", "abandoned", 30)], "abandoned")
    assert in_menu.abandoned and not in_menu.in_queue and in_menu.wait_s == 0
    via_menu = facts([ev("ivr", None, "ivr", 0), ev("enqueue", "ivr", "offered", 40),
                      ev("ring", "offered", "ringing", 45, agent=7), ev("answer", "ringing", "connected", 50, agent=7)],
                     "connected", now=T0 + timedelta(seconds=80))
    assert via_menu.in_queue and via_menu.wait_s == 10  # menu time is not queue wait
    assert via_menu.queued_at == T0 + timedelta(seconds=40)
    assert via_menu.talk_s == 30  # counted up to now while live


def test_history_of_a_call_still_waiting_counts_up_to_now():
    waiting = facts([ev("offer", None, "offered", 0)], "offered", now=T0 + timedelta(seconds=75))
    assert waiting.wait_s == 75 and not waiting.answered
    figures = kpis.figures([waiting])
    assert figures.waiting == 1 and figures.longest_wait_s == 75 and figures.service_level is None


# --- agent time -------------------------------------------------------------------------------------


def test_agent_time_occupancy_pauses_and_sessions():
    changes = [StateChange(7, "available", T0 - timedelta(hours=1)),  # before the period: counted from its start
               StateChange(7, "on_call", T0 + timedelta(minutes=10)),
               StateChange(7, "wrap_up", T0 + timedelta(minutes=14)),
               StateChange(7, "available", T0 + timedelta(minutes=15)),
               StateChange(7, "paused", T0 + timedelta(minutes=20), "lunch"),
               StateChange(7, "paused", T0 + timedelta(minutes=50), "short_break"),
               StateChange(7, "offline", T0 + timedelta(minutes=60)),
               StateChange(7, "available", T0 + timedelta(minutes=70))]
    time = kpis.agent_time(changes, T0, T0 + timedelta(hours=12), PARIS, now=T0 + timedelta(minutes=80))[7]
    assert time.available_s == (10 + 5 + 10) * 60
    assert time.on_call_s == 4 * 60 and time.wrap_up_s == 60
    assert time.paused_s == 40 * 60 and time.pause_by_reason == {"lunch": 1800, "short_break": 600}
    assert time.logged_s == 70 * 60
    assert time.occupancy == pytest.approx(5 / 30)
    assert time.sessions == ((T0, T0 + timedelta(minutes=60)), (T0 + timedelta(minutes=70), None))
    assert time.first_login == T0 and time.last_logout is None
    assert time.agent_days == 1


def test_agent_days_and_calls_per_agent_day():
    changes = [StateChange(1, "available", T0), StateChange(1, "offline", T0 + timedelta(hours=8)),
               StateChange(1, "available", T0 + timedelta(days=1)), StateChange(1, "offline", T0 + timedelta(days=1, hours=1)),
               StateChange(2, "available", T0), StateChange(2, "offline", T0 + timedelta(hours=2))]
    times = kpis.agent_time(changes, T0 - timedelta(hours=1), T0 + timedelta(days=2), PARIS)
    total = kpis.total_time(times.values())
    assert total.agent_days == 3
    figures = kpis.figures([call(n) for n in range(1, 31)])
    assert kpis.values(figures, total)["calls_per_agent_day"] == 10
    assert kpis.total_time([]).occupancy is None


def test_offline_all_period_counts_nothing():
    times = kpis.agent_time([StateChange(1, "offline", T0 - timedelta(days=1))], T0, T0 + timedelta(days=1), PARIS)
    assert times[1].logged_s == 0 and times[1].agent_days == 0 and times[1].occupancy is None
    assert kpis.values(kpis.figures([]), times[1])["pause_time"] is None


# --- callbacks ------------------------------------------------------------------------------------


def test_callbacks_on_time_with_tolerance():
    due = T0
    callbacks = [CallbackFacts(1, due, "done", due + timedelta(minutes=30)),  # on time: tolerance included
                 CallbackFacts(2, due, "done", due - timedelta(minutes=5)),
                 CallbackFacts(3, due, "done", due + timedelta(minutes=31)),
                 CallbackFacts(4, due, "open"),  # overdue
                 CallbackFacts(5, due + timedelta(hours=5), "open"),  # not yet due: not counted
                 CallbackFacts(6, due, "cancelled")]
    figures = kpis.callback_figures(callbacks, now=T0 + timedelta(hours=1))
    assert (figures.due, figures.on_time, figures.late, figures.open_overdue) == (4, 2, 1, 1)
    assert figures.on_time_rate == 0.5
    assert kpis.callback_figures([], T0).on_time_rate is None


# --- the catalogue and objectives ---------------------------------------------------------------------


def test_catalogue_covers_every_indicator_of_the_issue():
    assert set(kpis.KPIS) == {"offered", "handled", "abandoned", "short_abandoned", "abandon_rate", "answered_within",
                              "service_level", "asa", "aht", "occupancy", "calls_per_agent_day", "transfer_rate",
                              "repeat_rate", "callbacks_on_time", "pause_time", "qualified_rate"}
    for kpi in kpis.KPIS.values():
        assert kpi.label and kpi.formula and kpi.unit in ("count", "ratio", "seconds", "per_day")
        assert kpi.better in ("higher", "lower")
    assert "service_level" not in kpis.OBJECTIVE_KPIS and "aht" in kpis.OBJECTIVE_KPIS


@pytest.mark.parametrize(("comparator", "target", "value", "final", "status", "gap"), [
    ("<=", 240, 200, False, "met", 40), ("<=", 240, 240, True, "met", 0), ("<=", 240, 270, False, "not_yet", 30),
    ("<=", 240, 270, True, "missed", 30), (">=", 50, 38, False, "not_yet", 12), (">=", 50, 38, True, "missed", 12),
    (">=", 0.9, 0.95, True, "met", 0.05), (">=", 50, None, True, "no_data", None)])
def test_assess(comparator, target, value, final, status, gap):
    result = kpis.assess("aht", comparator, target, value, final)
    assert result.status == status
    assert result.gap == (pytest.approx(gap) if gap is not None else None)
    message, params = result.message()
    assert message and params["target"] == target


def test_assess_refuses_an_unknown_comparator():
    with pytest.raises(ValueError):
        kpis.assess("aht", "<", 1, 1, True)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["answered", "abandoned", "waiting", "deflected", "menu"]),
                          st.floats(min_value=0, max_value=600), st.booleans()), max_size=40),
       st.integers(min_value=0, max_value=60))
def test_figures_stay_consistent(rows, threshold):
    calls = []
    for n, (kind, wait, flag) in enumerate(rows):
        if kind == "answered":
            calls.append(call(n, wait=wait, transferred=flag))
        elif kind == "abandoned":
            calls.append(call(n, wait=wait, answered=False, abandoned=True))
        elif kind == "waiting":
            calls.append(call(n, wait=wait, answered=False, state="offered"))
        elif kind == "deflected":
            calls.append(call(n, answered=False, deflected=True, reason="max_wait"))
        else:
            calls.append(call(n, answered=False, abandoned=True, in_queue=False))
    figures = kpis.figures(calls, sl_threshold_s=threshold)
    assert figures.handled + figures.abandoned + figures.waiting <= figures.offered
    assert figures.short_abandoned <= figures.abandoned
    assert figures.answered_within <= figures.handled
    for rate in (figures.service_level, figures.abandon_rate, figures.transfer_rate, figures.qualified_rate):
        assert rate is None or 0 <= rate <= 1
    assert (figures.service_level is None) == (figures.handled + figures.abandoned - figures.short_abandoned == 0)


def test_the_docs_give_the_same_formulas_as_the_info_buttons():
    from pathlib import Path

    docs = (Path(__file__).parents[2] / "docs" / "kpis.md").read_text(encoding="utf-8")
    for kpi in kpis.KPIS.values():
        assert f"`{kpi.code}` | {kpi.label} | {kpi.formula} |" in docs, kpi.code
