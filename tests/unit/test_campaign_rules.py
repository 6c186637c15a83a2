"""Campaign lifecycle, retry rules and the simulated network (domain only)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from plateau.domain.campaigns import (DIALING_STATUSES, FINAL, RETRIED, CampaignAction, CampaignStatus, ContactState, Next,
                                      Outcome, allowed_actions, next_status, reschedule)
from plateau.domain.errors import DomainError
from plateau.domain.phone_network import MIN_NO_ANSWER_RING_S, NetworkProfile, Response, draw

NOW = datetime(2026, 12, 1, 10, 30, tzinfo=timezone.utc)
S, A = CampaignStatus, CampaignAction


def test_a_campaign_goes_from_draft_through_test_to_running_and_finished():
    status = S.DRAFT
    for action, expected in [(A.TEST, S.TEST), (A.TEST, S.TEST), (A.LAUNCH, S.RUNNING), (A.PAUSE, S.PAUSED),
                             (A.RESUME, S.RUNNING), (A.FINISH, S.FINISHED)]:
        status = next_status(status, action)
        assert status is expected
    assert allowed_actions(S.FINISHED) == []


@pytest.mark.parametrize("status,action", [(S.DRAFT, A.PAUSE), (S.RUNNING, A.TEST), (S.PAUSED, A.LAUNCH),
                                           (S.FINISHED, A.RESUME), (S.DRAFT, A.RESUME)])
def test_impossible_steps_are_refused_with_a_message(status, action):
    with pytest.raises(DomainError, match="pas possible"):
        next_status(status, action)


def test_only_test_and_running_campaigns_dial():
    assert DIALING_STATUSES == {S.TEST, S.RUNNING}


def test_a_busy_number_is_retried_after_the_campaign_delay():
    assert reschedule(Outcome.BUSY, 1, 4, NOW, {"busy": 20}) == Next(ContactState.SCHEDULED, NOW + timedelta(minutes=20))


def test_default_delays_apply_when_the_campaign_says_nothing():
    assert reschedule(Outcome.NO_ANSWER, 1, 4, NOW).at == NOW + timedelta(hours=2)


def test_attempts_run_out():
    assert reschedule(Outcome.NO_ANSWER, 4, 4, NOW).state is ContactState.EXHAUSTED


def test_a_dropped_call_is_not_redialed_within_72_hours_whatever_the_delay():
    assert reschedule(Outcome.DROPPED, 1, 4, NOW, {"dropped": 5}).at == NOW + timedelta(hours=72)


def test_a_promised_callback_is_kept_even_after_the_last_attempt():
    at = NOW + timedelta(days=1)
    assert reschedule(Outcome.CALLBACK, 4, 4, NOW, callback_at=at) == Next(ContactState.SCHEDULED, at)


@given(st.sampled_from(list(Outcome)), st.integers(1, 30), st.integers(1, 20))
def test_every_outcome_ends_retries_or_schedules(outcome, attempts, max_attempts):
    nxt = reschedule(outcome, attempts, max_attempts, NOW)
    if outcome in FINAL:
        assert nxt.state is ContactState.DONE
    elif attempts >= max_attempts:
        assert nxt.state is ContactState.EXHAUSTED
    else:
        assert nxt.state is ContactState.SCHEDULED and nxt.at > NOW
    assert not (outcome in FINAL and outcome in RETRIED)


def test_the_network_answers_the_same_way_for_the_same_seed_and_key():
    profile = NetworkProfile()
    assert [draw(profile, 7, k) for k in range(50)] == [draw(profile, 7, k) for k in range(50)]
    assert [draw(profile, 7, k) for k in range(50)] != [draw(profile, 8, k) for k in range(50)]


def test_the_network_follows_its_probabilities():
    profile = NetworkProfile(answered=0.5, wrong_person=0, busy=0.1, no_answer=0.2, answering_machine=0.2,
                             invalid_number=0)
    counts = Counter(draw(profile, 1, k).response for k in range(20_000))
    assert counts[Response.ANSWERED] / 20_000 == pytest.approx(0.5, abs=0.02)
    assert counts[Response.MACHINE] / 20_000 == pytest.approx(0.2, abs=0.02)
    assert counts[Response.INVALID] == 0


def test_an_unanswered_call_rings_at_least_15_seconds():
    profile = NetworkProfile(answered=0, wrong_person=0, busy=0, no_answer=1, answering_machine=0, invalid_number=0,
                             no_answer_after_s=5)
    assert {draw(profile, 1, k).after_s for k in range(10)} == {MIN_NO_ANSWER_RING_S}


def test_bad_network_settings_are_refused_with_the_key():
    with pytest.raises(DomainError) as info:
        NetworkProfile.from_dict({"answred": 0.3})
    assert info.value.params == {"key": "answred"}
    with pytest.raises(DomainError):
        NetworkProfile.from_dict({"busy": -1})
    with pytest.raises(DomainError):
        NetworkProfile.from_dict({"busy": "beaucoup"})
    assert NetworkProfile.from_dict({"busy": "0.1"}).busy == 0.1
