"""The ACD's rules (domain/routing.py), by example and by property."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings, strategies as st

from plateau.domain.routing import (Candidate, QueueRule, Router, Strategy, WaitingCall, assign, choose_agent,
                                    estimated_wait, has_skills, is_eligible, position_in_queue, skill_score,
                                    waiting_action)

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
SKILLS = ("fr", "ar", "en", "gaz", "reclamations")


def agent(agent_id, idle_min=0, queues=(1,), skills=None, team=None):
    return Candidate(agent_id, T0 + timedelta(minutes=idle_min), frozenset(queues), skills or {}, team)


def call(call_id, queue_id=1, age_s=0, priority=0, **kw):
    return WaitingCall(call_id, queue_id, T0 - timedelta(seconds=age_s), priority, **kw)


# --- examples -------------------------------------------------------------------------------


def test_longest_idle_agent_gets_the_call():
    router = Router([agent(1, idle_min=5), agent(2, idle_min=1), agent(3, idle_min=3)], {})
    assert router.choose(call(10)) == 2


def test_only_members_of_the_queue_and_agents_who_did_not_let_it_ring_out():
    candidates = [agent(1, 0, queues=(2,)), agent(2, 1), agent(3, 2)]
    assert choose_agent(candidates, 1, excluded={2}) == 3
    assert choose_agent(candidates, 1, excluded={2, 3}) is None


def test_required_skills_and_levels():
    rule = QueueRule(1, required={"ar": 3})
    candidates = [agent(1, 0, skills={"ar": 2}), agent(2, 5, skills={"ar": 3, "fr": 5}), agent(3, 1, skills={"fr": 5})]
    assert Router(candidates, {1: rule}).choose(call(10)) == 2


def test_most_skilled_first_then_longest_idle():
    rule = QueueRule(1, Strategy.MOST_SKILLED, {"gaz": 1, "reclamations": 1})
    candidates = [agent(1, 0, skills={"gaz": 2, "reclamations": 2}), agent(2, 9, skills={"gaz": 5, "reclamations": 4}),
                  agent(3, 3, skills={"gaz": 5, "reclamations": 4})]
    assert Router(candidates, {1: rule}).choose(call(10)) == 3


def test_round_robin_resumes_after_the_last_agent_and_wraps():
    rule = QueueRule(1, Strategy.ROUND_ROBIN, last_agent_id=2)
    candidates = [agent(1), agent(2), agent(3)]
    assert Router(candidates, {1: rule}).choose(call(10)) == 3
    rule = QueueRule(1, Strategy.ROUND_ROBIN, last_agent_id=3)
    assert Router(candidates, {1: rule}).choose(call(10)) == 1


def test_round_robin_moves_on_within_a_pass():
    router = Router([agent(1), agent(2), agent(3)], {1: QueueRule(1, Strategy.ROUND_ROBIN, last_agent_id=1)})
    assert router.assign([call(10, age_s=3), call(11, age_s=2), call(12, age_s=1)]) == [(10, 2), (11, 3), (12, 1)]


def test_priority_before_age():
    rules = {1: QueueRule(1), 2: QueueRule(2)}
    pairs = assign([call(10, queue_id=1, age_s=300), call(11, queue_id=2, age_s=5, priority=5)],
                   [agent(1, queues=(1, 2))], rules)
    assert pairs == [(11, 1)]


def test_transfer_to_a_named_agent_rings_only_that_agent():
    candidates = [agent(1, 0), agent(2, 5, queues=())]
    assert Router(candidates, {}).choose(call(10, target_agent_id=2)) == 2
    assert Router(candidates, {}).choose(call(10, target_agent_id=7)) is None


def test_overflow_to_a_team_ignores_queue_membership_but_not_skills():
    rule = QueueRule(1, required={"fr": 1})
    candidates = [agent(1, 0, queues=(1,), skills={"fr": 5}, team=1), agent(2, 1, queues=(), skills={"fr": 3}, team=2),
                  agent(3, 0, queues=(), skills={}, team=2)]
    assert Router(candidates, {1: rule}).choose(call(10, target_team_id=2)) == 2


def test_waiting_caller_is_told_position_and_estimate():
    waiting = [call(1, age_s=90), call(2, age_s=60), call(3, age_s=30), call(4, queue_id=2, age_s=200),
               call(5, age_s=10, priority=1)]
    assert position_in_queue(waiting[2], waiting) == 4  # behind 1, 2 and the priority call 5
    assert position_in_queue(waiting[4], waiting) == 1
    assert estimated_wait(4, 2, 240) == 480
    assert estimated_wait(1, 0, 240) is None


def test_waiting_actions():
    assert waiting_action(30, 60, True, 300) is None
    assert waiting_action(60, 60, True, 300) == "overflow"
    assert waiting_action(60, 60, False, 300) is None
    assert waiting_action(300, 60, False, 300) == "max_wait"
    assert waiting_action(10_000, None, True, None) is None


# --- properties -----------------------------------------------------------------------------------

skill_maps = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=3)
candidates_st = st.lists(
    st.builds(lambda i, idle, queues, skills, team: Candidate(i, T0 + timedelta(seconds=idle), frozenset(queues), skills, team),
              st.integers(1, 40), st.integers(0, 3600), st.frozensets(st.integers(1, 4), max_size=3), skill_maps,
              st.one_of(st.none(), st.integers(1, 3))),
    max_size=25, unique_by=lambda c: c.agent_id)
rules_st = st.dictionaries(
    st.integers(1, 4),
    st.builds(lambda q, strategy, required, last: (q, strategy, required, last), st.just(0), st.sampled_from(list(Strategy)),
              st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 3), max_size=2), st.one_of(st.none(), st.integers(1, 40))),
    max_size=4).map(lambda d: {q: QueueRule(q, s, r, last) for q, (_, s, r, last) in d.items()})
calls_st = st.lists(
    st.builds(lambda i, q, age, prio, excl, target, team: WaitingCall(i, q, T0 - timedelta(seconds=age), prio, excl, target, team),
              st.integers(1, 500), st.integers(1, 4), st.integers(0, 900), st.integers(0, 2),
              st.frozensets(st.integers(1, 40), max_size=3),
              st.one_of(st.none(), st.none(), st.none(), st.integers(1, 40)),
              st.one_of(st.none(), st.none(), st.integers(1, 3))),
    max_size=30, unique_by=lambda c: c.call_id)


@settings(max_examples=300, deadline=None)
@given(calls_st, candidates_st, rules_st)
def test_no_call_lost_or_offered_twice_and_every_offer_is_eligible(calls, candidates, rules):
    pairs = assign(calls, candidates, rules)
    call_ids = [c for c, _ in pairs]
    agent_ids = [a for _, a in pairs]
    assert len(call_ids) == len(set(call_ids)), "a call rang two agents"
    assert len(agent_ids) == len(set(agent_ids)), "an agent was offered two calls"
    by_id = {c.call_id: c for c in calls}
    by_agent = {c.agent_id: c for c in candidates}
    for call_id, agent_id in pairs:
        waiting = by_id[call_id]
        rule = rules.get(waiting.queue_id) or QueueRule(waiting.queue_id)
        assert agent_id in by_agent
        assert is_eligible(by_agent[agent_id], waiting, rule)


@settings(max_examples=300, deadline=None)
@given(calls_st, candidates_st, rules_st)
def test_nobody_waits_while_an_eligible_agent_is_free_and_priorities_hold(calls, candidates, rules):
    pairs = assign(calls, candidates, rules)
    taken = {a for _, a in pairs}
    served = {c for c, _ in pairs}
    free = [c for c in candidates if c.agent_id not in taken]
    for waiting in calls:
        if waiting.call_id in served:
            continue
        rule = rules.get(waiting.queue_id) or QueueRule(waiting.queue_id)
        # a waiting call has no eligible agent left free ...
        assert not any(is_eligible(c, waiting, rule) for c in free)
        # ... and no agent who took a later call (lower priority or younger) could have taken it
        for other_id, agent_id in pairs:
            other = next(c for c in calls if c.call_id == other_id)
            if other.order > waiting.order:
                assert not is_eligible(next(c for c in candidates if c.agent_id == agent_id), waiting, rule)


@settings(max_examples=300, deadline=None)
@given(candidates_st, rules_st, st.integers(1, 4), st.frozensets(st.integers(1, 40), max_size=3))
def test_strategy_picks_the_best_eligible_agent(candidates, rules, queue_id, excluded):
    rule = rules.get(queue_id) or QueueRule(queue_id)
    waiting = WaitingCall(1, queue_id, T0, excluded=excluded)
    chosen = Router(candidates, {queue_id: rule}).choose(waiting)
    eligible = [c for c in candidates if is_eligible(c, waiting, rule)]
    if not eligible:
        assert chosen is None
        return
    best = {
        Strategy.LONGEST_IDLE: min(eligible, key=lambda c: (c.idle_since, c.agent_id)),
        Strategy.MOST_SKILLED: min(eligible, key=lambda c: (-skill_score(c, rule.required), c.idle_since, c.agent_id)),
        Strategy.ROUND_ROBIN: min(eligible, key=lambda c: (c.agent_id <= (rule.last_agent_id or 0), c.agent_id)),
    }[rule.strategy]
    assert chosen == best.agent_id
    assert has_skills(best, rule.required)


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 12), st.integers(1, 5), st.sampled_from([Strategy.LONGEST_IDLE, Strategy.ROUND_ROBIN]))
def test_fair_share_over_a_day(size, rounds, strategy):
    """Calls one after the other, each agent freed when done: everyone gets the same number."""
    idle = {i: T0 + timedelta(seconds=i) for i in range(1, size + 1)}
    last = None
    counts: Counter[int] = Counter()
    clock = T0 + timedelta(hours=1)
    for n in range(size * rounds):
        candidates = [Candidate(i, since, frozenset({1})) for i, since in idle.items()]
        chosen = Router(candidates, {1: QueueRule(1, strategy, last_agent_id=last)}).choose(WaitingCall(n, 1, clock))
        counts[chosen] += 1
        last = chosen
        clock += timedelta(minutes=1)
        idle[chosen] = clock  # freed again after the call
    assert set(counts.values()) == {rounds}
