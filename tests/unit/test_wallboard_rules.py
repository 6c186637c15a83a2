"""Wallboard alert rules: which thresholds a queue breaks, and the sentence that says so;
what a supervisor may do to a call or an agent."""

import pytest
from hypothesis import given, strategies as st

from plateau.domain.agents import AgentState
from plateau.domain.calls import TERMINAL, CallState
from plateau.domain.errors import DomainError, IllegalTransition
from plateau.domain.wallboard import (ALERT_CODES, QueueNow, Thresholds, check_forced_log_off, check_forced_pause,
                                      check_listen, check_take_over, queue_alerts)

DEFAULTS = Thresholds(waiting=5, longest_wait_s=60, abandon_rate=0.1, sl_target=0.8, sl_threshold_s=20)


def _codes(now: QueueNow, limits: Thresholds = DEFAULTS) -> list[str]:
    return [alert.code for alert in queue_alerts(now, limits)]


def test_a_quiet_queue_has_no_alert():
    assert queue_alerts(QueueNow(waiting=2, longest_wait_s=30, service_level=0.9, abandon_rate=0.05), DEFAULTS) == []


def test_waiting_calls_alert_from_the_threshold_on_with_the_reason_in_words():
    assert _codes(QueueNow(waiting=4)) == []
    assert _codes(QueueNow(waiting=5)) == ["waiting"]
    [alert] = queue_alerts(QueueNow(waiting=7), DEFAULTS)
    assert alert.render() == "Alerte : 7 appels en attente (seuil 5)"


def test_one_waiting_call_is_singular():
    [alert] = queue_alerts(QueueNow(waiting=1), Thresholds(waiting=1))
    assert alert.render() == "Alerte : 1 appel en attente (seuil 1)"


def test_longest_wait_alerts_only_while_a_call_waits():
    [alert] = queue_alerts(QueueNow(waiting=1, longest_wait_s=75.6), DEFAULTS)
    assert alert.code == "longest_wait"
    assert alert.render() == "Alerte : un appel attend depuis 75 s (seuil 60 s)"
    assert _codes(QueueNow(waiting=1, longest_wait_s=59.9)) == []
    assert _codes(QueueNow(waiting=0, longest_wait_s=600)) == []


def test_service_level_alerts_below_its_target_only():
    assert _codes(QueueNow(service_level=0.8)) == []
    [alert] = queue_alerts(QueueNow(service_level=0.62), DEFAULTS)
    assert alert.render() == "Alerte : niveau de service 62 % à 20 s, sous l'objectif de 80 %"


def test_abandon_rate_alerts_from_its_threshold_on():
    assert _codes(QueueNow(abandon_rate=0.099)) == []
    [alert] = queue_alerts(QueueNow(abandon_rate=0.1), DEFAULTS)
    assert alert.render() == "Alerte : taux d'abandon 10 % (seuil 10 %)"


def test_no_call_today_means_no_rate_alert():
    assert _codes(QueueNow(service_level=None, abandon_rate=None)) == []


def test_a_threshold_switched_off_never_alerts():
    off = Thresholds(waiting=0, longest_wait_s=None, abandon_rate=0, sl_target=None)
    assert _codes(QueueNow(waiting=50, longest_wait_s=900, service_level=0.0, abandon_rate=1.0), off) == []


def test_every_broken_threshold_is_listed_in_a_fixed_order():
    now = QueueNow(waiting=9, longest_wait_s=120, service_level=0.5, abandon_rate=0.3)
    assert _codes(now) == list(ALERT_CODES)


def test_the_reason_goes_through_the_translation():
    [alert] = queue_alerts(QueueNow(waiting=6), DEFAULTS)
    english = {"Alerte : %(count)s appels en attente (seuil %(threshold)s)": "Alert: %(count)s calls waiting (threshold %(threshold)s)"}
    assert alert.render(lambda msgid: english.get(msgid, msgid)) == "Alert: 6 calls waiting (threshold 5)"


rates = st.none() | st.floats(min_value=0, max_value=1)


@given(waiting=st.integers(0, 50), longest=st.floats(0, 3600), level=rates, abandon=rates,
       limit_waiting=st.none() | st.integers(-1, 20), limit_wait=st.none() | st.integers(-1, 600),
       limit_abandon=rates, target=rates)
def test_each_alert_is_exactly_its_broken_threshold(waiting, longest, level, abandon, limit_waiting, limit_wait,
                                                     limit_abandon, target):
    limits = Thresholds(limit_waiting, limit_wait, limit_abandon, target, 20)
    now = QueueNow(waiting, longest, level, abandon)
    codes = _codes(now, limits)
    assert codes == [code for code in ALERT_CODES if code in codes], "fixed order, no duplicate"
    assert ("waiting" in codes) == (bool(limit_waiting and limit_waiting > 0) and waiting >= limit_waiting)
    assert ("longest_wait" in codes) == (bool(limit_wait and limit_wait > 0) and waiting > 0 and longest >= limit_wait)
    assert ("service_level" in codes) == (bool(target) and level is not None and level < target)
    assert ("abandon_rate" in codes) == (bool(limit_abandon) and abandon is not None and abandon >= limit_abandon)
    for alert in queue_alerts(now, limits):
        assert alert.render().startswith("Alerte : ")


# --- supervision actions ----------------------------------------------------------------


@pytest.mark.parametrize("state", list(CallState))
def test_listening_is_refused_on_a_finished_call_only(state):
    if state in TERMINAL:
        with pytest.raises(IllegalTransition, match="terminé"):
            check_listen(state)
    else:
        check_listen(state)


@pytest.mark.parametrize("state", list(CallState))
def test_only_a_live_call_can_be_taken_over(state):
    if state in (CallState.CONNECTED, CallState.ON_HOLD):
        check_take_over(state, AgentState.AVAILABLE)
    else:
        with pytest.raises(IllegalTransition):
            check_take_over(state, AgentState.OFFLINE)


@pytest.mark.parametrize("busy", [AgentState.ON_CALL, AgentState.WRAP_UP])
def test_a_supervisor_with_a_call_of_their_own_cannot_take_another(busy):
    with pytest.raises(DomainError, match="votre propre appel"):
        check_take_over(CallState.CONNECTED, busy)


def test_a_forced_pause_needs_a_known_reason_and_never_the_systems_own():
    assert check_forced_pause(AgentState.AVAILABLE, "supervisor", "Alice") == "supervisor"
    assert check_forced_pause(AgentState.PAUSED, "coaching", "Alice") == "coaching"
    for reason in (None, "", "sieste", "no_answer"):
        with pytest.raises(DomainError, match="motif"):
            check_forced_pause(AgentState.AVAILABLE, reason, "Alice")


@pytest.mark.parametrize("busy", [AgentState.ON_CALL, AgentState.WRAP_UP])
def test_a_forced_pause_waits_for_the_call_to_close(busy):
    with pytest.raises(DomainError) as refused:
        check_forced_pause(busy, "supervisor", "Alice")
    assert refused.value.render() == "Alice a un appel sur son poste : la pause pourra être imposée une fois l'appel clôturé."


def test_an_offline_agent_cannot_be_paused():
    with pytest.raises(DomainError, match="hors ligne"):
        check_forced_pause(AgentState.OFFLINE, "supervisor", "Alice")


def test_log_off_is_refused_while_a_call_is_on_the_desktop():
    for free in (AgentState.AVAILABLE, AgentState.PAUSED, AgentState.OFFLINE):
        check_forced_log_off(free, "Alice")
    for busy in (AgentState.ON_CALL, AgentState.WRAP_UP):
        with pytest.raises(DomainError) as refused:
            check_forced_log_off(busy, "Alice")
        assert refused.value.render().startswith("Alice a un appel sur son poste : impossible de le déconnecter")
