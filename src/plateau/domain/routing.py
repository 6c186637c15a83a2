"""Which free agent gets which waiting call (the ACD), as pure functions.

Rules, in the order they apply:

1. A call for a named agent (a transfer) rings only that agent.
2. A call overflowed to a team rings any free agent of that team who has the
   queue's required skills; otherwise only the queue's members with those
   skills are eligible. An agent who let this call ring out is not offered it
   again.
3. Calls are served by priority (higher first), then by the time they entered
   their queue (oldest first), then by id: nobody jumps the line.
4. Among eligible agents, the queue's strategy picks one:
   - ``longest_idle``: the agent free for the longest time (fair share);
   - ``most_skilled``: the highest sum of levels in the required skills, then
     longest idle;
   - ``round_robin``: the next member after the last agent offered a call of
     this queue, in a fixed order (agent id), wrapping around.
5. An agent is offered at most one call per routing pass, and a call rings at
   most one agent.

``Router`` keeps, per queue, the eligible agents already ordered by the
strategy, so one decision costs a few dictionary look-ups: a floor of 500
agents and 20 queues routes well above 10 000 decisions a second (``make bench``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Iterable, Mapping

from .errors import N_


class Strategy(StrEnum):
    LONGEST_IDLE = "longest_idle"
    MOST_SKILLED = "most_skilled"
    ROUND_ROBIN = "round_robin"


STRATEGY_LABELS = {
    Strategy.LONGEST_IDLE: N_("Agent libre depuis le plus longtemps"),
    Strategy.MOST_SKILLED: N_("Agent le plus compétent d'abord"),
    Strategy.ROUND_ROBIN: N_("Chacun son tour (tourniquet)"),
}


@dataclass(frozen=True)
class Candidate:
    """A free agent: since when, in which queues, with which skills (code → level 1–5)."""

    agent_id: int
    idle_since: datetime
    queue_ids: frozenset[int]
    skills: Mapping[str, int] = field(default_factory=dict)
    team_id: int | None = None


@dataclass(frozen=True)
class QueueRule:
    queue_id: int
    strategy: Strategy = Strategy.LONGEST_IDLE
    #: skill code → minimum level
    required: Mapping[str, int] = field(default_factory=dict)
    #: round robin resumes after this agent
    last_agent_id: int | None = None


@dataclass(frozen=True)
class WaitingCall:
    call_id: int
    queue_id: int
    queued_at: datetime
    priority: int = 0
    excluded: frozenset[int] = frozenset()
    target_agent_id: int | None = None
    target_team_id: int | None = None

    @property
    def order(self) -> tuple:
        return (-self.priority, self.queued_at, self.call_id)


def has_skills(candidate: Candidate, required: Mapping[str, int]) -> bool:
    skills = candidate.skills  # a plain loop: routing asks this for every free agent (``make bench``)
    for code, level in required.items():
        if skills.get(code, 0) < level:
            return False
    return True


def skill_score(candidate: Candidate, required: Mapping[str, int]) -> int:
    skills = candidate.skills
    score = 0
    for code in required:
        score += skills.get(code, 0)
    return score


def is_eligible(candidate: Candidate, call: WaitingCall, rule: QueueRule) -> bool:
    """Rules 1 and 2: may this agent be offered this call at all?"""
    if call.target_agent_id is not None:
        return candidate.agent_id == call.target_agent_id
    if candidate.agent_id in call.excluded or not has_skills(candidate, rule.required):
        return False
    if call.target_team_id is not None:
        return candidate.team_id == call.target_team_id
    return call.queue_id in candidate.queue_ids


def _sort_key(rule: QueueRule):
    if rule.strategy == Strategy.MOST_SKILLED:
        return lambda c: (-skill_score(c, rule.required), c.idle_since, c.agent_id)
    if rule.strategy == Strategy.ROUND_ROBIN:
        return lambda c: c.agent_id
    return lambda c: (c.idle_since, c.agent_id)


class Router:
    """One routing pass over a snapshot of free agents."""

    def __init__(self, candidates: Iterable[Candidate], rules: Mapping[int, QueueRule]):
        self._candidates = {c.agent_id: c for c in candidates}
        self._rules = dict(rules)
        self._taken: set[int] = set()
        self._ordered: dict[tuple, list[Candidate]] = {}
        self._ids: dict[tuple, list[int]] = {}

    def rule(self, queue_id: int) -> QueueRule:
        return self._rules.get(queue_id) or QueueRule(queue_id)

    def _pool(self, call: WaitingCall, rule: QueueRule) -> list[Candidate]:
        """The agents eligible for the call's queue (or team), ordered by the strategy; cached."""
        key = (rule.queue_id, call.target_team_id)
        pool = self._ordered.get(key)
        if pool is None:
            # is_eligible() for a call of this queue (or overflow team) that names no agent and excludes
            # nobody, unrolled for speed (``make bench``): a member of the queue (or of the team) with the
            # required skills; membership, the cheap test, comes first
            team = call.target_team_id
            if team is None:
                members = (c for c in self._candidates.values() if rule.queue_id in c.queue_ids)
            else:
                members = (c for c in self._candidates.values() if c.team_id == team)
            required = rule.required
            pool = sorted((c for c in members if has_skills(c, required)), key=_sort_key(rule))
            self._ordered[key] = pool
            self._ids[key] = [c.agent_id for c in pool]
        return pool

    def choose(self, call: WaitingCall) -> int | None:
        """The agent to ring for this call, or None if it keeps waiting."""
        if call.target_agent_id is not None:
            target = call.target_agent_id
            return target if target in self._candidates and target not in self._taken else None
        rule = self.rule(call.queue_id)
        pool = self._pool(call, rule)
        if not pool:
            return None
        start = 0
        if rule.strategy == Strategy.ROUND_ROBIN and rule.last_agent_id is not None:
            start = bisect.bisect_right(self._ids[(rule.queue_id, call.target_team_id)], rule.last_agent_id)
        size = len(pool)
        for step in range(size):
            candidate = pool[(start + step) % size]
            if candidate.agent_id not in self._taken and candidate.agent_id not in call.excluded:
                return candidate.agent_id
        return None

    def take(self, agent_id: int, queue_id: int | None = None) -> None:
        """The agent was offered a call: not again in this pass; round robin moves on."""
        self._taken.add(agent_id)
        if queue_id is not None:
            rule = self.rule(queue_id)
            if rule.strategy == Strategy.ROUND_ROBIN:
                self._rules[queue_id] = QueueRule(rule.queue_id, rule.strategy, rule.required, agent_id)

    def assign(self, calls: Iterable[WaitingCall]) -> list[tuple[int, int]]:
        """Rules 3 and 5: ``(call_id, agent_id)`` pairs for as many waiting calls as possible."""
        pairs = []
        for call in sorted(calls, key=lambda c: c.order):
            if len(self._taken) >= len(self._candidates):
                break
            agent_id = self.choose(call)
            if agent_id is not None:
                self.take(agent_id, call.queue_id)
                pairs.append((call.call_id, agent_id))
        return pairs


def assign(calls: Iterable[WaitingCall], candidates: Iterable[Candidate],
           rules: Mapping[int, QueueRule]) -> list[tuple[int, int]]:
    return Router(candidates, rules).assign(calls)


def choose_agent(candidates: list[Candidate], queue_id: int, excluded: set[int] | frozenset[int] = frozenset(),
                 target_agent_id: int | None = None, rule: QueueRule | None = None,
                 target_team_id: int | None = None) -> int | None:
    """One call's agent (kept for callers that route a single call)."""
    if not candidates:
        return None
    call = WaitingCall(0, queue_id, min(c.idle_since for c in candidates), excluded=frozenset(excluded),
                       target_agent_id=target_agent_id, target_team_id=target_team_id)
    return Router(candidates, {queue_id: rule or QueueRule(queue_id)}).choose(call)


# --- what a waiting caller is told ------------------------------------------------------


def position_in_queue(call: WaitingCall, waiting: Iterable[WaitingCall]) -> int:
    """1 for the next call to be served in its queue (higher priorities count first)."""
    return 1 + sum(1 for other in waiting
                   if other.queue_id == call.queue_id and other.call_id != call.call_id and other.order < call.order)


def estimated_wait(position: int, agents_serving: int, aht_s: float) -> float | None:
    """Seconds before an answer: ``position × AHT / agents`` (agents logged in the queue, busy or free).

    None when nobody serves the queue: no honest estimate exists.
    """
    if agents_serving <= 0:
        return None
    return position * aht_s / agents_serving


def waiting_action(waited_s: float, overflow_after_s: int | None, has_overflow: bool, max_wait_s: int | None) -> str | None:
    """What the queue does with a call that has waited ``waited_s``: "overflow", "max_wait" or nothing."""
    if has_overflow and overflow_after_s is not None and waited_s >= overflow_after_s:
        return "overflow"
    if max_wait_s is not None and waited_s >= max_wait_s:
        return "max_wait"
    return None
