"""Small domain rules: phone parsing, routing choice, preferences, agent states."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from plateau.domain import phones, prefs
from plateau.domain.agents import AgentState, check_choice
from plateau.domain.errors import DomainError, ValidationError
from plateau.domain.routing import Candidate, choose_agent
from plateau.domain.text import fold

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("raw, region, expected", [
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("+33 6 12 34 56 78", "FR", "+33612345678"),
    ("0033612345678", "FR", "+33612345678"),
    ("+212 6 61 23 45 67", "FR", "+212661234567"),
    ("0661234567", "MA", "+212661234567"),
    ("0550 12 34 56", "DZ", "+213550123456"),
    ("01 44 55 66 77", "FR", "+33144556677"),
])
def test_phone_numbers_in_any_format(raw, region, expected):
    assert phones.parse(raw, region) == expected


@pytest.mark.parametrize("raw", ["", "abc", "12", "06 12 34", "+33 6 12 34 56 78 90 12"])
def test_malformed_phone_numbers_are_refused_with_the_value(raw):
    with pytest.raises(ValidationError) as info:
        phones.parse(raw, "FR")
    assert info.value.errors["phone"].render()


def test_a_national_number_can_read_in_several_countries():
    assert phones.candidates("06 12 34 56 78", ("FR", "MA", "DZ")) == ["+33612345678", "+212612345678", "+213612345678"]
    assert phones.candidates("+33 6 12 34 56 78", ("FR", "MA", "DZ")) == ["+33612345678"]


def test_display_is_national_at_home_and_international_abroad():
    assert phones.display("+33612345678", "FR") == "06 12 34 56 78"
    assert phones.display("+212661234567", "FR").startswith("+212")


def test_fold_ignores_accents_case_and_punctuation():
    assert fold("Lefèvre-Dupont") == "lefevre dupont"
    assert fold("  AÏT  Ouali ") == "ait ouali"


def test_longest_idle_agent_in_the_queue_is_chosen():
    agents = [Candidate(1, T0 + timedelta(seconds=30), frozenset({1})),
              Candidate(2, T0, frozenset({1})),
              Candidate(3, T0 - timedelta(seconds=60), frozenset({2}))]
    assert choose_agent(agents, 1) == 2
    assert choose_agent(agents, 1, excluded={2}) == 1
    assert choose_agent(agents, 3) is None
    assert choose_agent(agents, 1, target_agent_id=3) == 3
    assert choose_agent(agents, 1, target_agent_id=9) is None


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 3600), st.sets(st.integers(1, 3), max_size=3)),
                unique_by=lambda t: t[0], max_size=12), st.integers(1, 3))
def test_routing_only_picks_an_eligible_agent_idle_the_longest(rows, queue):
    agents = [Candidate(a, T0 + timedelta(seconds=s), frozenset(q)) for a, s, q in rows]
    chosen = choose_agent(agents, queue)
    eligible = [c for c in agents if queue in c.queue_ids]
    if not eligible:
        assert chosen is None
    else:
        best = min(c.idle_since for c in eligible)
        assert any(c.agent_id == chosen and c.idle_since == best for c in eligible)


def test_preferences_are_bounded_and_shortcuts_unique():
    assert prefs.validate({"ring_timeout_s": "30"}) == {"ring_timeout_s": 30}
    with pytest.raises(ValidationError) as info:
        prefs.validate({"ring_timeout_s": "2", "wrap_up_limit_s": "x", "shortcuts": {"answer": "H", "hold": "H"}})
    assert set(info.value.errors) == {"ring_timeout_s", "wrap_up_limit_s", "shortcut_hold"}
    assert prefs.effective({"shortcuts": {"answer": "D"}})["shortcuts"]["hold"] == "H"


def test_agent_picks_only_free_states_and_a_pause_needs_a_reason():
    assert check_choice(AgentState.OFFLINE, AgentState.PAUSED, "lunch") == "lunch"
    with pytest.raises(DomainError):
        check_choice(AgentState.AVAILABLE, AgentState.PAUSED, None)
    with pytest.raises(DomainError):
        check_choice(AgentState.ON_CALL, AgentState.AVAILABLE, None)
    with pytest.raises(DomainError):
        check_choice(AgentState.AVAILABLE, AgentState.ON_CALL, None)
    with pytest.raises(DomainError):
        check_choice(AgentState.AVAILABLE, AgentState.PAUSED, "no_answer")
