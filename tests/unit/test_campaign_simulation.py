"""The campaign simulator (``services.campaign_simulation``): in memory, deterministic, conservative of calls.

Short runs (a fraction of a second of CPU each): the same seed gives the
same figures; every dial and every answered call is accounted for once;
machines never reach an agent; progressive and preview never drop a call;
retries follow the campaign's rules; and on a moderate day predictive keeps
its abandon rate under the cap while keeping agents busier than progressive.
"""

from __future__ import annotations

import pytest

from plateau.domain.errors import ValidationError
from plateau.domain.phone_network import NetworkProfile
from plateau.services.campaign_simulation import simulate_campaign

SMALL = dict(agents=5, contacts=600, hours=0.5)


@pytest.fixture(scope="module")
def moderate():
    """The issue's comparison on a moderate day: 10 agents, 3 000 contacts, 1 hour, seed 1."""
    return {mode: simulate_campaign(10, 3000, mode, 1.0, seed=1) for mode in ("preview", "progressive", "predictive")}


def test_the_same_seed_gives_the_same_figures():
    for mode in ("preview", "progressive", "predictive"):
        assert simulate_campaign(mode=mode, seed=4, **SMALL).as_dict() == \
            simulate_campaign(mode=mode, seed=4, **SMALL).as_dict()


def test_another_seed_gives_other_calls():
    assert simulate_campaign(mode="predictive", seed=1, **SMALL).as_dict() != \
        simulate_campaign(mode="predictive", seed=2, **SMALL).as_dict()


def test_every_dial_and_every_answer_is_counted_once(moderate):
    for run in moderate.values():
        assert run.dials == (run.connects + run.machines + run.busy + run.no_answers + run.invalid
                             + run.ringing_at_end)
        # answering machines are detected and never passed to an agent: agents only get people
        assert run.connects == run.agent_connects + run.dropped + run.waiting_at_end
        assert run.machines > 0
        assert run.wrong_person <= run.connects
        assert sum(i.dials for i in run.series) == run.dials
        assert sum(i.connects for i in run.series) == run.connects
        assert sum(i.dropped for i in run.series) == run.dropped
        assert sum(run.contact_states.values()) == run.contacts
        assert 0 < run.occupancy < 1


def test_progressive_and_preview_never_drop(moderate):
    assert moderate["progressive"].dropped == 0
    assert moderate["preview"].dropped == 0
    assert set(moderate["progressive"].reasons) == {"progressive"}


def test_predictive_stays_under_the_cap_and_keeps_agents_busier(moderate):
    progressive, predictive = moderate["progressive"], moderate["predictive"]
    assert predictive.abandon_rate <= predictive.abandon_cap
    assert predictive.dropped > 0  # it does dial ahead
    assert predictive.occupancy > progressive.occupancy + 0.04
    assert predictive.contacts_per_agent_hour > progressive.contacts_per_agent_hour
    assert predictive.mean_dial_level > 1
    # preview, with its reading time and the agent waiting on each line, is the least busy
    assert moderate["preview"].occupancy < progressive.occupancy


def test_a_whole_floor_starting_at_once_stays_under_the_cap():
    """100 agents free at the same second: the first lines are paced on the prior, not on the busy numbers
    that answer first, and the first short calls do not pass for the usual length of a call."""
    run = simulate_campaign(100, 10_000, "predictive", 0.25, seed=1)
    assert run.abandon_rate <= run.abandon_cap
    assert run.occupancy > 0.85


def test_predictive_respects_a_stricter_cap():
    strict = simulate_campaign(10, 3000, "predictive", 1.0, seed=1, abandon_cap=0.01)
    assert strict.abandon_rate <= 0.01
    assert strict.abandon_cap == 0.01


def test_retries_follow_the_campaign_rules():
    once = simulate_campaign(mode="progressive", seed=1, max_attempts=1, **SMALL)
    assert once.retries == 0
    assert once.contact_states.get("exhausted", 0) > 0
    quick = simulate_campaign(mode="progressive", seed=1, max_attempts=3,
                              retry_minutes={"busy": 1, "no_answer": 1, "answering_machine": 1}, **SMALL)
    assert quick.retries > 0
    default = simulate_campaign(mode="progressive", seed=1, max_attempts=3, **SMALL)
    assert default.retries < quick.retries  # 15 min to 4 h by default: fewer retries within half an hour


def test_a_network_where_nobody_answers_reaches_nobody():
    silent = NetworkProfile(answered=0, wrong_person=0)
    run = simulate_campaign(5, 600, "predictive", 0.25, seed=1, network=silent)
    assert (run.connects, run.agent_connects, run.dropped, run.occupancy) == (0, 0, 0, 0.0)
    assert run.dials > 0


def test_a_short_list_runs_out():
    run = simulate_campaign(5, 20, "predictive", 0.25, seed=1, max_attempts=1)
    assert run.contacts_dialed == 20
    assert run.dials == 20
    assert run.contact_states.get("pending", 0) == 0


def test_impossible_options_are_refused_by_name():
    with pytest.raises(ValidationError) as refused:
        simulate_campaign(0, 0, "robot", 0, seed=1, abandon_cap=1.5, mean_talk_s=0)
    assert set(refused.value.errors) == {"agents", "contacts", "mode", "hours", "abandon_cap", "mean_talk_s"}
    assert "robot" in refused.value.errors["mode"].render()


def test_as_dict_puts_the_headline_figures_first():
    data = simulate_campaign(mode="predictive", seed=1, **SMALL).as_dict()
    assert list(data)[:13] == ["mode", "agents", "contacts", "hours", "seed", "abandon_cap", "dials", "connects",
                               "agent_connects", "dropped", "abandon_rate", "occupancy", "contacts_per_agent_hour"]
    assert len(data["series"]) == 2  # two quarters of an hour
    assert data["mean_dial_level"] > 1
