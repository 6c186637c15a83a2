"""The call state machine, exhaustively: every (state, action) pair is either
in the table or refused with a message; durations add up per phase."""

from datetime import datetime, timedelta, timezone

import pytest

from plateau.domain.calls import (TERMINAL, TRANSITIONS, CallAction, CallState, Transition, allowed_actions,
                                  durations, next_state)
from plateau.domain.errors import IllegalTransition

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("state", list(CallState))
@pytest.mark.parametrize("action", list(CallAction))
def test_every_pair_is_either_allowed_or_refused_with_a_message(state, action):
    if (state, action) in TRANSITIONS:
        assert next_state(state, action) == TRANSITIONS[(state, action)]
    else:
        with pytest.raises(IllegalTransition) as info:
            next_state(state, action)
        assert info.value.message  # a French sentence for the user


def test_terminal_states_allow_nothing():
    for state in TERMINAL:
        assert allowed_actions(state) == set()


def test_every_non_terminal_state_can_reach_closed_or_abandoned():
    for start in CallState:
        seen, frontier = {start}, [start]
        while frontier:
            state = frontier.pop()
            for action in allowed_actions(state):
                nxt = TRANSITIONS[(state, action)]
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        assert seen & TERMINAL, f"{start} can never end"


def test_wrap_up_only_closes():
    assert allowed_actions(CallState.WRAP_UP) == {CallAction.CLOSE}


def test_the_main_journey():
    state = CallState.OFFERED
    for action in (CallAction.RING, CallAction.ANSWER, CallAction.HOLD, CallAction.RESUME, CallAction.HANG_UP,
                   CallAction.CLOSE):
        state = next_state(state, action)
    assert state == CallState.CLOSED


def test_ring_timeout_puts_the_call_back_in_queue_and_transfer_rings_again():
    assert next_state(CallState.RINGING, CallAction.RING_TIMEOUT) == CallState.OFFERED
    assert next_state(CallState.ON_HOLD, CallAction.TRANSFER) == CallState.TRANSFERRED
    assert next_state(CallState.TRANSFERRED, CallAction.RING) == CallState.RINGING


def test_durations_sum_each_phase():
    steps = [
        Transition(CallAction.RING, T0 + timedelta(seconds=3), CallState.RINGING),
        Transition(CallAction.ANSWER, T0 + timedelta(seconds=8), CallState.CONNECTED),
        Transition(CallAction.HOLD, T0 + timedelta(seconds=68), CallState.ON_HOLD),
        Transition(CallAction.RESUME, T0 + timedelta(seconds=98), CallState.CONNECTED),
        Transition(CallAction.HANG_UP, T0 + timedelta(seconds=158), CallState.WRAP_UP),
        Transition(CallAction.CLOSE, T0 + timedelta(seconds=178), CallState.CLOSED),
    ]
    result = durations(T0, steps)
    assert (result.wait, result.ring, result.talk, result.hold, result.wrap_up) == (3, 5, 120, 30, 20)
    assert result.handling == 170


def test_live_durations_count_up_to_now():
    steps = [Transition(CallAction.RING, T0, CallState.RINGING),
             Transition(CallAction.ANSWER, T0 + timedelta(seconds=2), CallState.CONNECTED)]
    assert durations(T0, steps, now=T0 + timedelta(seconds=12)).talk == 10
