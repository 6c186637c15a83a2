"""Wallboard rules: which alert thresholds a queue breaks, each with its reason in words,
and what a supervisor may do to a call or an agent from it.

A queue's row on the supervisor's wallboard turns to alert when one of its
thresholds is reached, and says why in a sentence ("Alerte : 7 appels en
attente (seuil 5)"): an alert is never a colour alone, and a screen reader
can read it. The rules are pure so that the service, the page and the tests
agree on them; the service hands in the numbers it measured.

A threshold that is ``None`` or not positive is switched off. "Reached" means
equal or beyond (a queue whose threshold is 5 waiting calls is in alert with 5
waiting), except the service level, which is in alert when it falls *below*
its target. Today's rates only count once there is a call to count:
``None`` (nothing offered yet today) never alerts.

Supervision actions follow what ACDs do: a supervisor listens to any call
not yet finished; takes over a live call (connected or on hold) only when
free of a call of their own; forces a pause or a log-off on an agent with no
call on the desktop. A pause asked while the agent is busy is refused with
the reason rather than kept pending: the agent's state stays the one truth
the routing reads, and the supervisor asks again after the wrap-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .agents import BUSY, PAUSE_REASONS, AgentState
from .calls import LIVE, TERMINAL, CallState
from .errors import N_, DomainError, IllegalTransition


@dataclass(frozen=True)
class Thresholds:
    """A queue's alert thresholds (``Queue.alert_*``) and its service-level objective."""

    waiting: int | None = None
    longest_wait_s: int | None = None
    abandon_rate: float | None = None
    sl_target: float | None = None
    sl_threshold_s: int = 20


@dataclass(frozen=True)
class QueueNow:
    """What the wallboard measured for one queue: now (waiting calls) and today (rates)."""

    waiting: int = 0
    longest_wait_s: float = 0.0
    service_level: float | None = None
    abandon_rate: float | None = None


@dataclass(frozen=True)
class Alert:
    """One broken threshold: a stable ``code`` for scripts, a French msgid and its parameters."""

    code: str
    message: str
    params: dict = field(default_factory=dict)

    def render(self, gettext=lambda s: s) -> str:
        return gettext(self.message) % self.params


#: the order alerts are listed in: what needs staff now first, then today's results
ALERT_CODES = ("waiting", "longest_wait", "service_level", "abandon_rate")


def _on(value) -> bool:
    return value is not None and value > 0


def percent(rate: float) -> int:
    """A share as a whole percentage, the way the wallboard prints it."""
    return int(round(rate * 100))


def queue_alerts(now: QueueNow, limits: Thresholds) -> list[Alert]:
    """The thresholds ``now`` breaks, in ``ALERT_CODES`` order (empty: no alert)."""
    alerts = []
    if _on(limits.waiting) and now.waiting >= limits.waiting:
        message = (N_("Alerte : %(count)s appel en attente (seuil %(threshold)s)") if now.waiting == 1
                   else N_("Alerte : %(count)s appels en attente (seuil %(threshold)s)"))
        alerts.append(Alert("waiting", message, {"count": now.waiting, "threshold": limits.waiting}))
    if _on(limits.longest_wait_s) and now.waiting and now.longest_wait_s >= limits.longest_wait_s:
        alerts.append(Alert("longest_wait", N_("Alerte : un appel attend depuis %(wait)s s (seuil %(threshold)s s)"),
                            {"wait": int(now.longest_wait_s), "threshold": limits.longest_wait_s}))
    if _on(limits.sl_target) and now.service_level is not None and now.service_level < limits.sl_target:
        alerts.append(Alert("service_level",
                            N_("Alerte : niveau de service %(level)s %% à %(seconds)s s, sous l'objectif de %(target)s %%"),
                            {"level": percent(now.service_level), "seconds": limits.sl_threshold_s,
                             "target": percent(limits.sl_target)}))
    if _on(limits.abandon_rate) and now.abandon_rate is not None and now.abandon_rate >= limits.abandon_rate:
        alerts.append(Alert("abandon_rate", N_("Alerte : taux d'abandon %(rate)s %% (seuil %(threshold)s %%)"),
                            {"rate": percent(now.abandon_rate), "threshold": percent(limits.abandon_rate)}))
    return alerts



# --- supervision actions ---------------------------------------------------------


def check_listen(call_state: str) -> None:
    """Silent listening ("écoute discrète") follows a call that is not over."""
    if CallState(call_state) in TERMINAL:
        raise IllegalTransition(N_("Cet appel est terminé : il n'y a plus rien à écouter."), "call_id")


def check_take_over(call_state: str, supervisor_state: str) -> None:
    """Taking over needs a live call and a supervisor free of any call of their own."""
    if CallState(call_state) not in LIVE:
        raise IllegalTransition(N_("Seul un appel en communication ou en attente peut être pris."), "call_id")
    if AgentState(supervisor_state) in BUSY:
        raise DomainError(N_("Terminez d'abord votre propre appel (qualification comprise)."), "call_id")


def check_forced_pause(agent_state: str, reason: str | None, name: str) -> str:
    """The pause reason to impose on an agent; refused while a call is on their desktop or when offline."""
    if reason not in PAUSE_REASONS or reason == "no_answer":
        raise DomainError(N_("Choisissez un motif de pause."), "reason")
    state = AgentState(agent_state)
    if state in BUSY:
        raise DomainError(N_("%(name)s a un appel sur son poste : la pause pourra être imposée une fois l'appel "
                             "clôturé."), "agent_id", name=name)
    if state is AgentState.OFFLINE:
        raise DomainError(N_("%(name)s est hors ligne : il n'y a pas de pause à imposer."), "agent_id", name=name)
    return reason


def check_forced_log_off(agent_state: str, name: str) -> None:
    """Logging an agent off is refused while a call is on their desktop: the call would be orphaned."""
    if AgentState(agent_state) in BUSY:
        raise DomainError(N_("%(name)s a un appel sur son poste : impossible de le déconnecter avant la clôture de "
                             "l'appel."), "agent_id", name=name)
