"""Erlang C staffing: published values first, then the properties the tool relies on, then input reading.

Published values used below (each test names its source):

- The classic worked example, 100 calls in 30 minutes, AHT 180 s, 80 % answered
  in 20 s (Call Centre Helper, "Erlang C Formula – Made Simple With an Easy
  Worked Example": A = 10 erlangs, 30 % shrinkage, 85 % maximum occupancy).
  Its figures as printed by two independent packages' documentation:
  * R package ErlangC 0.1.0 (CRAN), README, https://rdocumentation.org/packages/ErlangC/versions/0.1.0 :
    ``erlang_c(100, 30 min, 180 s, 20 s, 14)`` → traffic 10, wait probability 0.1741319,
    service level 0.88835, ASA 7.83593701177724 s, occupancy 0.7142857;
    ``calculate_agents(…, 0.8, max_occupancy=0.85, shrinkage=0.3)`` → 14 agents, and
    the first row of its search (11 agents): wait probability 0.6821182, service level 0.3896138.
  * pyworkforce 0.1.0 (PyPI), https://pypi.org/project/pyworkforce/0.1.0/ : ``required_positions``
    → raw_positions 14, positions 20, service_level 0.8883500191794669,
    occupancy 0.7142857142857143, waiting_probability 0.1741319335950498; and
    pyworkforce 0.5.1's own tests (queuing/tests/test_erlang.py, test_over_occupancy_erlangc):
    with a 70 % occupancy cap, 15 agents, 22 to schedule, SL 0.941, occupancy 0.667, P(wait) 0.102.
- Westbay Engineers' forum, thread "CCXLService" (12 January 2021), figures from
  Westbay Traffic Calculators (Erlang C): 57 calls an hour of 1110 s each, 21
  agents, 180 s target → service level 80.7 %; with a 20 s target the agents
  required go from 21 to 23.
- The Erlang B table of traffic-engineering handbooks (e.g. V. B. Iversen,
  "Teletraffic Engineering and Network Planning", ITU-D/DTU, table of Erlang's B
  formula): 5 erlangs on 10 lines block 1.84 %; 1 % blocking is reached at 4.46
  erlangs on 10 lines and 1.36 erlangs on 5 lines.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings, strategies as st

from plateau.domain import erlang
from plateau.domain.errors import ValidationError

CLASSIC = dict(calls=100, interval_s=1800, aht_s=180)  # 10 erlangs


# --- published values ----------------------------------------------------------------------------


def test_classic_example_with_14_agents_matches_the_published_figures():
    """R ErlangC 0.1.0 README and pyworkforce 0.1.0 (see the module docstring)."""
    s = erlang.evaluate(**CLASSIC, agents=14, target_time_s=20, shrinkage=0.3)
    assert s.load_erlangs == pytest.approx(10)
    assert s.probability_wait == pytest.approx(0.1741319335950498, abs=1e-12)
    assert s.service_level == pytest.approx(0.8883500191794669, abs=1e-12)
    assert s.asa_seconds == pytest.approx(7.83593701177724, abs=1e-9)
    assert s.occupancy == pytest.approx(0.7142857142857143, abs=1e-12)
    assert s.scheduled_agents == 20


def test_classic_example_search_finds_14_agents_and_20_to_schedule():
    """R ErlangC ``calculate_agents`` and pyworkforce ``required_positions``: 14 agents, 20 scheduled."""
    s = erlang.required(**CLASSIC, target_sl=0.8, target_time_s=20, shrinkage=0.3, max_occupancy=0.85)
    assert (s.agents, s.scheduled_agents) == (14, 20)
    assert s.service_level == pytest.approx(0.88835, abs=5e-6)


def test_classic_example_first_step_of_the_search():
    """R ErlangC's search table, first row: 11 agents wait 0.6821182, service level 0.3896138."""
    s = erlang.evaluate(**CLASSIC, agents=11, target_time_s=20)
    assert s.probability_wait == pytest.approx(0.6821182, abs=5e-8)
    assert s.service_level == pytest.approx(0.3896138, abs=5e-8)


def test_an_occupancy_cap_adds_agents_as_published():
    """pyworkforce 0.5.1's tests: a 70 % cap on the classic example → 15 agents, 22 scheduled."""
    s = erlang.required(**CLASSIC, target_sl=0.8, target_time_s=20, shrinkage=0.3, max_occupancy=0.7)
    assert (s.agents, s.scheduled_agents) == (15, 22)
    assert round(s.service_level, 3) == 0.941
    assert round(s.occupancy, 3) == 0.667
    assert round(s.probability_wait, 3) == 0.102


def test_westbay_calculator_figures():
    """Westbay forum, CCXLService thread: 57 calls/h × 1110 s, 21 agents, 180 s → 80.7 %; 20 s → 23 agents."""
    s = erlang.evaluate(calls=57, interval_s=3600, aht_s=1110, agents=21, target_time_s=180)
    assert round(s.service_level, 3) == 0.807
    assert erlang.required(57, 3600, 1110, target_sl=0.8, target_time_s=180).agents == 21
    assert erlang.required(57, 3600, 1110, target_sl=0.8, target_time_s=20).agents == 23


def test_erlang_b_table_values():
    """Erlang B table: B(10 lines, 5 E) = 1.84 %; 1 % blocking at 4.46 E on 10 lines, 1.36 E on 5 lines."""
    assert round(erlang.erlang_b(10, 5.0), 4) == 0.0184
    assert round(erlang.erlang_b(10, 4.46), 3) == 0.010
    assert round(erlang.erlang_b(5, 1.36), 3) == 0.010
    assert erlang.erlang_b(1, 1.0) == pytest.approx(0.5)


def test_the_issue_example_in_the_json_the_cli_prints():
    """360 calls in 30 min, 4 min each, 80 % in 15 s: 48 erlangs, 55 agents (as_dict rounds for the JSON)."""
    s = erlang.required(360, 1800, 240, 0.8, 15, shrinkage=0.3)
    assert list(s.as_dict()) == ["load_erlangs", "agents", "probability_wait", "service_level", "asa_seconds",
                                 "occupancy", "scheduled_agents"]
    assert s.as_dict() == {"load_erlangs": 48.0, "agents": 55, "probability_wait": 0.2387, "service_level": 0.8459,
                           "asa_seconds": 8.18, "occupancy": 0.8727, "scheduled_agents": 79}
    assert erlang.evaluate(360, 1800, 240, 54, 15).service_level < 0.8  # 54 is one short


# --- properties ----------------------------------------------------------------------------------


def _direct_c(agents: int, load: float) -> float:
    """Erlang C from its textbook definition with factorials (independent of the recurrence)."""
    top = load ** agents / math.factorial(agents) * agents / (agents - load)
    return top / (sum(load ** k / math.factorial(k) for k in range(agents)) + top)


loads = st.floats(min_value=0.05, max_value=60, allow_nan=False, allow_infinity=False)
ahts = st.floats(min_value=10, max_value=1200)
times = st.floats(min_value=0, max_value=300)


def _traffic(load: float, aht: float) -> dict:
    """calls, interval and AHT giving ``load`` erlangs (as many calls as erlangs, in an interval one AHT long)."""
    return dict(calls=load, interval_s=aht, aht_s=aht)


@given(loads, st.integers(min_value=0, max_value=25))
def test_the_recurrence_equals_the_factorial_formula(load, extra):
    agents = erlang.first_stable(load) + extra
    assert erlang.probability_wait(agents, load) == pytest.approx(_direct_c(agents, load), rel=1e-9, abs=1e-15)


@given(loads, ahts, times)
def test_more_agents_never_serve_worse(load, aht, target_time):
    """SL rises, P(wait), ASA and occupancy fall as agents are added; probabilities stay in [0, 1]."""
    rows = erlang.levels(**_traffic(load, aht), target_time_s=target_time, first=0, last=erlang.first_stable(load) + 30)
    for row in rows:
        assert 0 <= row.probability_wait <= 1 and 0 <= row.service_level <= 1 and 0 <= row.occupancy <= 1
    for low, high in zip(rows, rows[1:]):
        assert high.service_level >= low.service_level - 1e-12
        assert high.probability_wait <= low.probability_wait + 1e-12
        assert high.asa_seconds <= low.asa_seconds
        assert high.occupancy <= low.occupancy


@given(loads, ahts, times, st.integers(min_value=0, max_value=40))
def test_levels_walk_gives_the_same_figures_as_one_by_one(load, aht, target_time, start):
    """The one-pass table (carried Erlang B) equals evaluating each staffing afresh."""
    for row in erlang.levels(**_traffic(load, aht), target_time_s=target_time, first=start, last=start + 5):
        alone = erlang.evaluate(**_traffic(load, aht), agents=row.agents, target_time_s=target_time)
        assert row.probability_wait == pytest.approx(alone.probability_wait, rel=1e-9, abs=1e-15)
        assert row.service_level == pytest.approx(alone.service_level, rel=1e-9, abs=1e-15)


@given(loads, ahts, times, st.floats(min_value=0.05, max_value=0.99), st.sampled_from([1.0, 0.95, 0.85, 0.7]))
@settings(max_examples=150)
def test_required_is_the_fewest_agents_that_reach_the_targets(load, aht, target_time, target_sl, cap):
    found = erlang.required(**_traffic(load, aht), target_sl=target_sl, target_time_s=target_time, max_occupancy=cap)
    assert found.service_level >= target_sl and found.occupancy <= cap
    assert found.agents > found.load_erlangs
    fewer = found.agents - 1
    if fewer >= 1:
        one_less = erlang.evaluate(**_traffic(load, aht), agents=fewer, target_time_s=target_time)
        assert one_less.service_level < target_sl or one_less.load_erlangs / fewer > cap


def test_an_overloaded_floor_has_no_service_and_no_finite_asa():
    """Fewer agents than erlangs: the queue grows without end (SL 0, P(wait) 1, ASA null in the JSON)."""
    for agents in (1, 9, 10):
        s = erlang.evaluate(**CLASSIC, agents=agents, target_time_s=20)
        assert s.overloaded
        assert (s.probability_wait, s.service_level, s.occupancy) == (1.0, 0.0, 1.0)
        assert math.isinf(s.asa_seconds) and s.as_dict()["asa_seconds"] is None
    assert not erlang.evaluate(**CLASSIC, agents=11, target_time_s=20).overloaded


def test_no_traffic_needs_one_agent_who_never_keeps_anyone_waiting():
    s = erlang.required(0, 1800, 180, 0.8, 20)
    assert (s.agents, s.probability_wait, s.service_level, s.asa_seconds, s.occupancy) == (1, 0.0, 1.0, 0.0, 0.0)


def test_large_floors_stay_exact_and_fast_enough_to_search():
    """Thousands of agents: the recurrence never overflows (factorials would)."""
    s = erlang.required(calls=30_000, interval_s=1800, aht_s=300, target_sl=0.9, target_time_s=10)
    assert s.load_erlangs == pytest.approx(5000)
    assert 5000 < s.agents < 5200 and 0.9 <= s.service_level < 1


def test_required_refuses_what_has_no_answer():
    with pytest.raises(ValueError):
        erlang.required(**CLASSIC, target_sl=1.0, target_time_s=20)
    with pytest.raises(ValueError):
        erlang.required(**CLASSIC, target_sl=0.8, target_time_s=20, max_occupancy=0)
    with pytest.raises(ValueError):
        erlang.required(**CLASSIC, target_sl=0.8, target_time_s=20, shrinkage=1)


# --- shrinkage -----------------------------------------------------------------------------------


@pytest.mark.parametrize("agents, shrinkage, planned", [
    (14, 0.3, 20),   # 14 / 0.7 = 20 exactly
    (21, 0.3, 30),   # 21 / 0.7 is 30.000000000000004 in floating point: still 30 (pyworkforce plans 31)
    (15, 0.3, 22),   # 21.43 → 22
    (55, 0.3, 79),   # 78.57 → 79
    (10, 0.0, 10),
    (3, 0.5, 6),
    (1, 0.99, 100),
    (0, 0.3, 0),
])
def test_scheduled_agents_round_up_but_keep_whole_quotients(agents, shrinkage, planned):
    assert erlang.scheduled(agents, shrinkage) == planned


@given(st.integers(min_value=0, max_value=5000), st.integers(min_value=0, max_value=95))
def test_scheduled_is_the_fewest_that_cover_the_shrinkage(agents, percent):
    shrinkage = percent / 100
    planned = erlang.scheduled(agents, shrinkage)
    assert planned * (100 - percent) >= agents * 100  # enough on the phones (exact, in whole numbers)
    assert planned == 0 or (planned - 1) * (100 - percent) < agents * 100  # and not one more than needed


@pytest.mark.parametrize("shrinkage", [-0.1, 1.0, 1.5])
def test_shrinkage_outside_zero_one_is_refused(shrinkage):
    with pytest.raises(ValueError):
        erlang.scheduled(10, shrinkage)


# --- reading what people type --------------------------------------------------------------------

API = {attr: erlang.Field(name) for attr, name in {
    "calls": "calls", "interval_s": "interval", "aht_s": "aht", "target_sl": "target_sl",
    "target_time_s": "target_time", "agents": "agents", "shrinkage": "shrinkage",
    "max_occupancy": "max_occupancy"}.items()}
GOOD = {"calls": "360", "interval": "1800", "aht": "240", "target_sl": "0.8", "target_time": "15"}


def _errors(raw, fields=API) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        erlang.read(raw, fields)
    return {name: error.render() for name, error in caught.value.errors.items()}


def test_read_accepts_french_numbers_and_defaults_the_optional_fields():
    asked = erlang.read({**GOOD, "calls": "1 800", "target_sl": "0,8", "agents": ""}, API)
    assert asked == erlang.Request(calls=1800, interval_s=1800, aht_s=240, target_sl=0.8, target_time_s=15,
                                   agents=None, shrinkage=0.0, max_occupancy=1.0)
    assert erlang.read({**GOOD, "agents": "55", "shrinkage": "0.3"}, API).agents == 55


def test_read_reports_every_refused_field_with_a_precise_message():
    errors = _errors({"calls": "-1", "interval": "0", "aht": "abc", "target_sl": "80", "agents": "2,5",
                      "shrinkage": "1", "max_occupancy": "0"})
    assert errors == {
        "calls": "Doit être supérieur ou égal à 0 (reçu « -1 »).",
        "interval": "Doit être strictement supérieur à 0 (reçu « 0 »).",
        "aht": "« abc » n'est pas un nombre.",
        "target_sl": "Doit être strictement compris entre 0 et 1 (reçu « 80 »).",
        "target_time": "Champ obligatoire.",
        "agents": "Nombre entier attendu (reçu « 2,5 »).",
        "shrinkage": "Doit être compris entre 0 inclus et 1 exclu (reçu « 1 »).",
        "max_occupancy": "Doit être compris entre 0 exclu et 1 inclus (reçu « 0 »).",
    }


@pytest.mark.parametrize("text", ["inf", "nan", "-inf", "1e400", "0x10", ""])
def test_read_refuses_what_is_not_a_finite_number(text):
    assert "aht" in _errors({**GOOD, "aht": text})


@pytest.mark.parametrize("field, text", [("target_sl", "0"), ("target_sl", "1"), ("agents", "0"),
                                         ("agents", "100001"), ("shrinkage", "-0.01"), ("target_time", "-5")])
def test_read_bounds(field, text):
    assert set(_errors({**GOOD, field: text})) == {field}


def test_read_shows_bounds_in_the_surface_units():
    """A page in per cent and minutes gets its messages in per cent and minutes, keyed by its own names."""
    page = {**API, "target_sl": erlang.Field("target_sl_pct", den=100, suffix=" %"),
            "interval_s": erlang.Field("interval_min", num=60, suffix=" min")}
    raw = {**GOOD, "target_sl_pct": "100", "interval_min": "0"}
    assert _errors(raw, page) == {
        "target_sl_pct": "Doit être strictement compris entre 0 % et 100 % (reçu « 100 »).",
        "interval_min": "Doit être strictement supérieur à 0 min (reçu « 0 »).",
    }
    asked = erlang.read({**raw, "target_sl_pct": "80", "interval_min": "30"}, page)
    assert (asked.target_sl, asked.interval_s) == (0.8, 1800)


def test_read_refuses_loads_beyond_what_it_can_staff():
    assert set(_errors({**GOOD, "calls": "1000000"})) == {"calls"}
    assert set(_errors({**GOOD, "calls": "100000", "max_occupancy": "0.01"})) == {"max_occupancy"}


# --- the page's study ----------------------------------------------------------------------------


def _asked(**changes) -> erlang.Request:
    return erlang.Request(**{**dict(calls=100, interval_s=1800, aht_s=180, target_sl=0.8, target_time_s=20),
                             **changes})


def test_study_table_runs_from_the_first_stable_staffing_to_five_past_the_minimum():
    found = erlang.study(_asked())
    assert found.staffing == found.needed and found.needed.agents == 14
    assert [row.agents for row in found.rows] == list(range(11, 20))
    assert found.meets_target


def test_study_of_given_agents_stretches_the_table_to_them():
    short = erlang.study(_asked(agents=9))
    assert short.staffing.agents == 9 and short.staffing.overloaded and not short.meets_target
    assert [row.agents for row in short.rows] == list(range(9, 20))
    far = erlang.study(_asked(agents=500))  # too far to show: the table keeps to the target
    assert [row.agents for row in far.rows] == list(range(11, 20)) and far.meets_target


def test_study_table_is_capped_for_large_floors():
    found = erlang.study(_asked(calls=20_000, target_sl=0.99, target_time_s=0))  # 2000 erlangs, 99 % never wait
    assert found.needed.agents + erlang.SPREAD - erlang.first_stable(2000) + 1 > erlang.MAX_ROWS
    assert len(found.rows) == erlang.MAX_ROWS
    assert found.rows[-1].agents == found.needed.agents + erlang.SPREAD
