"""Which available agent gets a waiting call (ACD, first version).

Longest idle first: among agents who are available, belong to the call's queue
and have not already let this call ring out, the one idle the longest. The
richer strategies (skills, round robin) extend this function.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Candidate:
    agent_id: int
    idle_since: datetime
    queue_ids: frozenset[int]


def choose_agent(candidates: list[Candidate], queue_id: int, excluded: set[int] | frozenset[int] = frozenset(),
                 target_agent_id: int | None = None) -> int | None:
    """The agent to ring, or None if the call must keep waiting.

    ``target_agent_id`` is set for a transfer to a named agent: only that
    agent may take it, whatever their queues.
    """
    if target_agent_id is not None:
        return target_agent_id if any(c.agent_id == target_agent_id for c in candidates) else None
    eligible = [c for c in candidates if queue_id in c.queue_ids and c.agent_id not in excluded]
    if not eligible:
        return None
    return min(eligible, key=lambda c: (c.idle_since, c.agent_id)).agent_id
