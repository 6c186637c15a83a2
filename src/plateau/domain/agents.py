"""Agent states (présence) and which ones an agent may choose.

"En appel" and "En post-appel" are set by the call itself; an agent picks
Disponible, En pause (with a reason) or Hors ligne, and cannot leave while a
call is on their desktop.
"""

from __future__ import annotations

from enum import StrEnum

from .errors import N_, DomainError


class AgentState(StrEnum):
    AVAILABLE = "available"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"
    OFFLINE = "offline"


STATE_LABELS = {
    AgentState.AVAILABLE: N_("Disponible"),
    AgentState.ON_CALL: N_("En appel"),
    AgentState.WRAP_UP: N_("En post-appel"),
    AgentState.PAUSED: N_("En pause"),
    AgentState.OFFLINE: N_("Hors ligne"),
}

#: Pause reasons (code → label). ``no_answer`` is set by the system when a
#: call rang out on the agent's desktop, so the next call doesn't ring an empty seat;
#: ``supervisor`` by a supervisor forcing a pause from the wallboard.
PAUSE_REASONS = {
    "lunch": N_("Déjeuner"),
    "training": N_("Formation"),
    "briefing": N_("Brief"),
    "short_break": N_("Pause courte"),
    "coaching": N_("Accompagnement / double écoute"),
    "admin": N_("Travail administratif"),
    "no_answer": N_("Appel non décroché"),
    "supervisor": N_("Pause imposée par le superviseur"),
}
#: reasons only the system or a supervisor sets: an agent never picks them
IMPOSED_PAUSE_REASONS = frozenset({"no_answer", "supervisor"})
CHOOSABLE_PAUSE_REASONS = [code for code in PAUSE_REASONS if code not in IMPOSED_PAUSE_REASONS]

CHOOSABLE = frozenset({AgentState.AVAILABLE, AgentState.PAUSED, AgentState.OFFLINE})
BUSY = frozenset({AgentState.ON_CALL, AgentState.WRAP_UP})


def check_choice(current: AgentState, wanted: AgentState, pause_reason: str | None) -> str | None:
    """Validate a state the agent picked; returns the pause reason to store."""
    if wanted not in CHOOSABLE:
        raise DomainError(N_("Cet état est fixé par l'appel en cours et ne se choisit pas."), "state")
    if current in BUSY:
        raise DomainError(N_("Terminez d'abord l'appel en cours (qualification comprise)."), "state")
    if wanted is AgentState.PAUSED:
        if pause_reason not in PAUSE_REASONS or pause_reason in IMPOSED_PAUSE_REASONS:
            raise DomainError(N_("Choisissez un motif de pause."), "pause_reason")
        return pause_reason
    return None
