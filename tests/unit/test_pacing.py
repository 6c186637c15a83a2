"""Dialer pacing (``domain.pacing``): the modes' rules, the safeguards, and the distributions they rest on.

The drop estimates are checked against a brute-force enumeration of the
same model (every count of answers and of agents freeing up, with
``math.comb``); the safeguards and the monotonicity the dialer relies on
are properties over random campaign states.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import assume, given, settings, strategies as st

from plateau.domain import pacing
from plateau.domain.errors import DomainError
from plateau.domain.pacing import PacingInput, decide
from plateau.domain.phone_network import NetworkProfile, Response, draw


def state(mode="predictive", free=5, busy=15, in_flight=0, waiting=0, **extra) -> PacingInput:
    values = dict(answer_rate=None, prior_answer_rate=0.3, connected_today=0, dropped_today=0)
    values.update(extra)
    return PacingInput(mode=mode, free_agents=free, busy_agents=busy, in_flight=in_flight, waiting=waiting, **values)


# --- the modes ------------------------------------------------------------------------------------


def test_preview_never_dials_agents_dial_themselves():
    decision = decide(state("preview", free=10, busy=0))
    assert (decision.dials, decision.reason) == (0, "preview")


@pytest.mark.parametrize("free, in_flight, waiting, expected", [
    (5, 0, 0, 5), (5, 2, 0, 3), (5, 2, 1, 2), (3, 4, 0, 0), (0, 0, 0, 0),
])
def test_progressive_dials_one_line_per_free_agent_not_yet_covered(free, in_flight, waiting, expected):
    decision = decide(state("progressive", free=free, busy=2, in_flight=in_flight, waiting=waiting))
    assert (decision.dials, decision.reason) == (expected, "progressive")


def test_nobody_logged_in_means_no_dial():
    for mode in ("progressive", "predictive"):
        decision = decide(state(mode, free=0, busy=0))
        assert (decision.dials, decision.reason) == (0, "no_agents")


def test_predictive_dials_ahead_of_free_agents():
    """10 free agents, a 30 % answer rate: progressive dials 10 lines (3 answers expected), predictive more."""
    decision = decide(state(free=10, busy=10))
    assert decision.reason == "ahead"
    assert decision.dials > 10
    assert decision.dial_level > 1
    # and not recklessly: the expected answers stay around the agents able to take them
    assert (decision.dials * 0.3) < 10 + 1


def test_predictive_without_free_agents_and_nobody_about_to_finish_does_not_dial():
    # memoryless: a 3-hour mean handling time frees nobody in 10 s
    assert decide(state(free=0, busy=20, mean_handle_s=10_800)).dials == 0
    # every busy agent just picked up: none will be free within one ring time
    assert decide(state(free=0, busy=20, busy_elapsed_s=(1.0,) * 20)).dials == 0


def test_predictive_dials_for_agents_about_to_finish():
    """Busy agents near the end of calls that always last 150 to 200 s will free up: predictive dials for
    them, progressive cannot; the same agents early in their calls will not."""
    handles = tuple(150 + i * 0.05 for i in range(1000))
    late = state(free=0, busy=20, busy_elapsed_s=(190.0,) * 20, recent_handle_s=handles, mean_handle_s=175.0)
    assert decide(late).dials > 0
    assert decide(replace(late, mode="progressive")).dials == 0
    early = replace(late, busy_elapsed_s=(20.0,) * 20)
    assert decide(early).dials == 0


def test_the_cap_reached_falls_back_to_progressive():
    decision = decide(state(free=6, busy=14, in_flight=2, connected_today=100, dropped_today=3))
    assert (decision.dials, decision.reason) == (4, "cap_reached")


def _brute_force_any_drop(lines: int, p: float, able: int, busy: int, q: float) -> float:
    """P(D > able + K) for D ~ Binomial(lines, p), K ~ Binomial(busy, q)."""
    def pmf(n: int, chance: float, count: int) -> float:
        return math.comb(n, count) * chance ** count * (1 - chance) ** (n - count)

    return sum(pmf(lines, p, d) * pmf(busy, q, k) for d in range(lines + 1) for k in range(busy + 1) if d > able + k)


def test_no_room_left_in_the_day_allows_a_line_ahead_only_if_a_drop_is_very_unlikely():
    """30 drops of 1 010 connects (2.97 %): one more drop (31 / 1 011) breaks the cap. Predictive then
    dials ahead only while the chance of any drop stays under ``tail_risk`` (1 %)."""
    near = state(free=4, busy=16, connected_today=1010, dropped_today=30, answer_rate=0.6, samples=10_000)
    decision = decide(near)
    assert (decision.dials, decision.reason) == (4, "cap_guard")  # a 5th line: all 5 answer 7 % of the time
    assert decide(replace(near, dropped_today=0)).dials > 4
    # at a 30 % answer rate a 5th line is safe enough
    cautious = decide(replace(near, answer_rate=None, samples=0))
    q = pacing.soon_free_probability(10.0, 180.0)
    assert cautious.dials == 5
    assert _brute_force_any_drop(5, 0.3, 4, 16, q) <= near.tail_risk


def test_the_margin_tightens_as_the_day_nears_the_cap():
    dials = [decide(state(free=8, busy=12, connected_today=1000, dropped_today=d)).dials for d in (0, 10, 20, 25)]
    assert dials == sorted(dials, reverse=True)
    assert dials[0] > dials[-1]


def test_unknown_mode_is_refused_naming_it():
    with pytest.raises(DomainError) as refused:
        decide(state("robot"))
    assert refused.value.field == "mode"
    assert "robot" in refused.value.render()


def test_every_reason_has_a_label_for_the_supervisor():
    reasons = {decide(s).reason for s in (
        state("preview"), state("progressive"), state(free=0, busy=0), state(free=10, busy=10),
        state(connected_today=100, dropped_today=5),
        state(free=4, busy=16, connected_today=1010, dropped_today=30, answer_rate=0.6, samples=10_000))}
    assert reasons == set(pacing.REASON_LABELS)


# --- the figures the decision rests on -----------------------------------------------------------------


def test_abandon_rate_is_dropped_over_connected():
    assert pacing.abandon_rate(0, 0) == 0.0
    assert pacing.abandon_rate(200, 6) == 0.03


def test_the_measured_answer_rate_takes_over_from_the_prior_as_dials_accumulate():
    prior_only = state(answer_rate=0.6, samples=0)
    few = state(answer_rate=0.6, samples=10)
    many = state(answer_rate=0.6, samples=10_000)
    assert pacing.blended_answer_rate(prior_only) == pytest.approx(0.3)
    assert pacing.blended_answer_rate(few) == pytest.approx((0.6 * 10 + 0.3 * 100) / 110)
    assert pacing.blended_answer_rate(many) == pytest.approx(0.6, abs=0.005)
    assert pacing.blended_answer_rate(state(answer_rate=None, samples=50)) == pytest.approx(0.3)


def test_a_call_ringing_longer_is_less_likely_to_be_answered():
    profile = NetworkProfile()
    chances = [pacing.answer_probability_after(age, profile) for age in (0.0, 3.0, 5.0, 10.0, 15.0, 20.0, 24.9)]
    assert chances[0] == pytest.approx(profile.human_rate)
    # busy and invalid numbers are known within 3 s: past that, the longer it rings, the less likely a person
    assert chances[1] > chances[0]
    assert chances[1:] == sorted(chances[1:], reverse=True)
    assert chances[-1] < 0.05
    assert pacing.answer_probability_after(25.0, profile) == 0.0  # the network gave up: no answer
    assert pacing.answer_probability_after(0.0, profile, answer_rate=0.5) == pytest.approx(0.5)


def test_answer_probability_after_matches_the_simulated_network():
    """Of the draws still ringing at 8 s, the share a person answers is what the formula says."""
    profile = NetworkProfile()
    fates = [draw(profile, 3, key) for key in range(20_000)]
    ringing = [f for f in fates if f.after_s > 8.0]
    human = sum(f.response in (Response.ANSWERED, Response.WRONG_PERSON) for f in ringing) / len(ringing)
    assert human == pytest.approx(pacing.answer_probability_after(8.0, profile), abs=0.02)


def test_free_within_from_how_long_the_agent_has_been_busy():
    handles = [100.0] * 60 + [200.0] * 60
    assert pacing.free_within(95.0, 10.0, 150.0, handles) == 0.5  # half the calls end at 100 s
    assert pacing.free_within(150.0, 10.0, 150.0, handles) == 0.0  # the rest run to 200 s
    assert pacing.free_within(195.0, 10.0, 150.0, handles) == 1.0
    # before enough calls are seen: the log-normal prior, low at first, higher later in the call
    assert pacing.free_within(1.0, 10.0, 150.0) < 0.001
    assert pacing.free_within(150.0, 10.0, 150.0) > pacing.free_within(30.0, 10.0, 150.0)


def test_calls_still_going_count_against_the_short_ones_already_finished():
    """Early in the day only the short calls have finished: 60 of 30 s, while 60 agents are 40 s into
    calls still going. The finished calls alone would say every agent past 25 s frees up within 10 s;
    counting the calls still going (Kaplan–Meier), half of them do."""
    finished, going = [30.0] * 60, [40.0] * 60
    assert pacing.free_within(25.0, 10.0, 150.0, finished) == 1.0
    assert pacing.free_within(25.0, 10.0, 150.0, finished, going) == pytest.approx(0.5)
    # and the mean handling time: time so far over calls finished, not the finished calls' 30 s
    assert pacing.handling_mean(finished, going, 150.0) == pytest.approx((60 * 30 + 60 * 40) / 60)
    assert pacing.handling_mean(finished[:10], going, 150.0) == 150.0  # too few: the prior


def _brute_force_drops(lines: int, p: float, able: int, busy: int, q: float) -> float:
    total = 0.0
    for d in range(lines + 1):
        pd = math.comb(lines, d) * p ** d * (1 - p) ** (lines - d)
        for k in range(busy + 1):
            pk = math.comb(busy, k) * q ** k * (1 - q) ** (busy - k)
            total += pd * pk * max(0, d - able - k)
    return total


@pytest.mark.parametrize("free, busy, in_flight, waiting", [(3, 7, 4, 0), (0, 10, 6, 1), (8, 2, 0, 0), (1, 9, 12, 3)])
def test_expected_drops_match_a_brute_force_enumeration(free, busy, in_flight, waiting):
    inp = state(free=free, busy=busy, in_flight=in_flight, waiting=waiting, mean_ring_s=10.0, mean_handle_s=60.0)
    decision = decide(inp)
    q = pacing.soon_free_probability(10.0, 60.0)
    expected = _brute_force_drops(in_flight + decision.dials, 0.3, free - waiting, busy, q)
    assert decision.expected_drops == pytest.approx(expected, abs=1e-4)


# --- properties ---------------------------------------------------------------------------------------

states = st.builds(
    state,
    mode=st.sampled_from(["preview", "progressive", "predictive"]),
    free=st.integers(0, 30), busy=st.integers(0, 30), in_flight=st.integers(0, 60), waiting=st.integers(0, 5),
    answer_rate=st.none() | st.floats(0.0, 1.0), prior_answer_rate=st.floats(0.0, 1.0),
    samples=st.integers(0, 2000), connected_today=st.integers(0, 3000), dropped_today=st.integers(0, 150),
    mean_ring_s=st.floats(1.0, 30.0), mean_handle_s=st.floats(20.0, 900.0),
)


@settings(max_examples=300, deadline=None)
@given(states)
def test_dials_are_never_negative_and_preview_never_dials(inp):
    decision = decide(inp)
    assert decision.dials >= 0
    assert decision.dial_level >= 0
    assert decision.reason in pacing.REASON_LABELS
    if inp.mode == "preview":
        assert decision.dials == 0


@settings(max_examples=300, deadline=None)
@given(states)
def test_progressive_never_has_more_lines_than_free_agents(inp):
    decision = decide(replace(inp, mode="progressive"))
    assert decision.dials <= inp.free_agents
    if decision.dials:
        assert inp.in_flight + inp.waiting + decision.dials <= inp.free_agents


@settings(max_examples=300, deadline=None)
@given(states)
def test_predictive_dials_at_least_what_progressive_would(inp):
    assert decide(replace(inp, mode="predictive")).dials >= decide(replace(inp, mode="progressive")).dials


@settings(max_examples=300, deadline=None)
@given(states)
def test_the_cap_reached_means_no_dial_ahead(inp):
    assume(inp.connected_today > 0)
    at_cap = replace(inp, mode="predictive", dropped_today=math.ceil(inp.abandon_cap * inp.connected_today))
    progressive = decide(replace(at_cap, mode="progressive"))
    decision = decide(at_cap)
    assert decision.dials == progressive.dials
    if at_cap.free_agents + at_cap.busy_agents:
        assert decision.reason == "cap_reached"


@settings(max_examples=200, deadline=None)
@given(states)
def test_more_free_agents_never_mean_fewer_dials(inp):
    for mode in ("progressive", "predictive"):
        base = replace(inp, mode=mode)
        assert decide(replace(base, free_agents=base.free_agents + 1)).dials >= decide(base).dials


@settings(max_examples=200, deadline=None)
@given(states)
def test_more_drops_today_never_mean_more_dials(inp):
    base = replace(inp, mode="predictive")
    assert decide(replace(base, dropped_today=base.dropped_today + 1)).dials <= decide(base).dials


@settings(max_examples=200, deadline=None)
@given(states)
def test_lines_ahead_keep_their_expected_drops_within_the_allowed_share(inp):
    base = replace(inp, mode="predictive")
    decision = decide(base)
    if decision.dials <= decide(replace(base, mode="progressive")).dials:
        return  # no line ahead: nothing to bound
    p = pacing.blended_answer_rate(base)
    ratio = pacing.allowed_drop_ratio(base.abandon_cap, pacing.abandon_rate(base.connected_today, base.dropped_today),
                                      base.margin_power)
    assert decision.expected_drops <= ratio * (base.in_flight + decision.dials) * p + 1e-9
    assert ratio <= base.abandon_cap


def test_allowed_drop_ratio_goes_from_the_cap_to_zero():
    assert pacing.allowed_drop_ratio(0.03, 0.0, 4) == 0.03
    assert pacing.allowed_drop_ratio(0.03, 0.03, 4) == 0.0
    assert pacing.allowed_drop_ratio(0.03, 0.05, 4) == 0.0
    values = [pacing.allowed_drop_ratio(0.03, r / 1000, 4) for r in range(31)]
    assert values == sorted(values, reverse=True)
    assert pacing.allowed_drop_ratio(0.0, 0.0, 4) == 0.0
