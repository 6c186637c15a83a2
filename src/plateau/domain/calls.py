"""The call lifecycle as a state machine.

    offered ──ring──▶ ringing ──answer──▶ connected ◀──resume── on_hold
       ▲                │  │                 │ │  └────hold────▶ │
       └──ring_timeout──┘  │                 │ └─transfer─▶ transferred ──ring──▶ ringing
                           │                 └─hang_up─▶ wrap_up ──close──▶ closed
    offered / ringing / transferred ──abandon──▶ abandoned
    ivr ──enqueue──▶ offered        ivr / offered / transferred ──deflect──▶ deflected
    offered ──overflow──▶ offered   connected / on_hold ──take_over──▶ (same state)

``ivr`` is a call in a voice menu, before any queue; ``deflected`` is a call
that ended without an agent by the system's doing (queue closed, maximum wait
reached, an information message or an outside transfer in the menu, a
callback requested while waiting), as opposed to ``abandoned`` where the
caller hung up. ``overflow`` moves a waiting call to another queue or team,
``take_over`` hands a live call to the supervisor: both keep the state.
Outbound calls start in ``dialing`` (the far end rings; the agent, in
preview or progressive mode, already sits on the call):

    dialing ──connect──▶ connected       the called party answered and an agent is on it
    dialing ──fail──▶ unreached          busy, no answer, answering machine, invalid number,
                                         or the agent cancelled the dial
    dialing ──drop──▶ dropped            answered, but no agent within 2 s (predictive):
                                         the informational message was played

``offered`` is a call waiting in its queue; ``transferred`` is a call waiting in
the queue (or for the agent) it was transferred to, carrying the transfer note.
A caller who hangs up before an answer abandons the call; once connected, a
hang-up from either side leads to wrap-up, which only a qualification closes.

The table below is the whole truth: services call ``next_state`` and persist
one event per transition; nothing else changes a call's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .errors import N_, IllegalTransition


class CallState(StrEnum):
    OFFERED = "offered"
    RINGING = "ringing"
    CONNECTED = "connected"
    ON_HOLD = "on_hold"
    TRANSFERRED = "transferred"
    WRAP_UP = "wrap_up"
    CLOSED = "closed"
    ABANDONED = "abandoned"
    IVR = "ivr"
    DEFLECTED = "deflected"
    DIALING = "dialing"
    UNREACHED = "unreached"
    DROPPED = "dropped"


class CallAction(StrEnum):
    RING = "ring"
    RING_TIMEOUT = "ring_timeout"
    ANSWER = "answer"
    HOLD = "hold"
    RESUME = "resume"
    TRANSFER = "transfer"
    HANG_UP = "hang_up"
    ABANDON = "abandon"
    CLOSE = "close"
    ENQUEUE = "enqueue"
    DEFLECT = "deflect"
    OVERFLOW = "overflow"
    TAKE_OVER = "take_over"
    CONNECT = "connect"
    FAIL = "fail"
    DROP = "drop"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Media(StrEnum):
    """How the parties hear each other; utterances are the same in both."""

    TEXT = "text"
    VOICE = "voice"


S, A = CallState, CallAction

STATE_LABELS = {
    S.OFFERED: N_("En file d'attente"),
    S.RINGING: N_("Appel entrant"),
    S.CONNECTED: N_("En communication"),
    S.ON_HOLD: N_("En attente"),
    S.TRANSFERRED: N_("Transfert en cours"),
    S.WRAP_UP: N_("Post-appel"),
    S.CLOSED: N_("Clôturé"),
    S.ABANDONED: N_("Raccroché avant réponse"),
    S.IVR: N_("Dans le serveur vocal"),
    S.DEFLECTED: N_("Terminé sans agent"),
    S.DIALING: N_("Numérotation"),
    S.UNREACHED: N_("Non joint"),
    S.DROPPED: N_("Abandonné par le numéroteur"),
}

TRANSITIONS: dict[tuple[CallState, CallAction], CallState] = {
    (S.OFFERED, A.RING): S.RINGING,
    (S.OFFERED, A.ABANDON): S.ABANDONED,
    (S.TRANSFERRED, A.RING): S.RINGING,
    (S.TRANSFERRED, A.ABANDON): S.ABANDONED,
    (S.RINGING, A.ANSWER): S.CONNECTED,
    (S.RINGING, A.RING_TIMEOUT): S.OFFERED,
    (S.RINGING, A.ABANDON): S.ABANDONED,
    (S.CONNECTED, A.HOLD): S.ON_HOLD,
    (S.ON_HOLD, A.RESUME): S.CONNECTED,
    (S.CONNECTED, A.TRANSFER): S.TRANSFERRED,
    (S.ON_HOLD, A.TRANSFER): S.TRANSFERRED,
    (S.CONNECTED, A.HANG_UP): S.WRAP_UP,
    (S.ON_HOLD, A.HANG_UP): S.WRAP_UP,
    (S.WRAP_UP, A.CLOSE): S.CLOSED,
    (S.IVR, A.ENQUEUE): S.OFFERED,
    (S.IVR, A.ABANDON): S.ABANDONED,
    (S.IVR, A.DEFLECT): S.DEFLECTED,
    (S.OFFERED, A.DEFLECT): S.DEFLECTED,
    (S.TRANSFERRED, A.DEFLECT): S.DEFLECTED,
    (S.OFFERED, A.OVERFLOW): S.OFFERED,
    (S.TRANSFERRED, A.OVERFLOW): S.TRANSFERRED,
    (S.CONNECTED, A.TAKE_OVER): S.CONNECTED,
    (S.ON_HOLD, A.TAKE_OVER): S.ON_HOLD,
    (S.DIALING, A.CONNECT): S.CONNECTED,
    (S.DIALING, A.FAIL): S.UNREACHED,
    (S.DIALING, A.DROP): S.DROPPED,
}

TERMINAL = frozenset({S.CLOSED, S.ABANDONED, S.DEFLECTED, S.UNREACHED, S.DROPPED})
WAITING = frozenset({S.OFFERED, S.TRANSFERRED})
LIVE = frozenset({S.CONNECTED, S.ON_HOLD})
#: States in which the call occupies an agent's desktop.
WITH_AGENT = frozenset({S.RINGING, S.CONNECTED, S.ON_HOLD, S.WRAP_UP, S.DIALING})

_REFUSALS = {
    A.ANSWER: N_("Cet appel ne sonne plus : il ne peut pas être décroché."),
    A.HOLD: N_("Seul un appel en cours peut être mis en attente."),
    A.RESUME: N_("Cet appel n'est pas en attente."),
    A.TRANSFER: N_("Seul un appel en cours ou en attente peut être transféré."),
    A.HANG_UP: N_("Cet appel n'est pas en cours : il ne peut pas être raccroché."),
    A.CLOSE: N_("Seul un appel en post-appel peut être clôturé."),
}


def next_state(state: CallState, action: CallAction) -> CallState:
    """The state after ``action``, or IllegalTransition with a user-facing reason."""
    try:
        return TRANSITIONS[(CallState(state), CallAction(action))]
    except KeyError:
        message = _REFUSALS.get(CallAction(action), N_("Action impossible dans l'état actuel de l'appel."))
        raise IllegalTransition(message, state=str(state), action=str(action)) from None


def allowed_actions(state: CallState) -> set[CallAction]:
    return {action for (source, action) in TRANSITIONS if source == state}


@dataclass(frozen=True)
class Transition:
    """One persisted step of a call: what happened, when."""

    action: CallAction
    at: datetime
    to_state: CallState


@dataclass(frozen=True)
class Durations:
    ring: float = 0.0
    talk: float = 0.0
    hold: float = 0.0
    wrap_up: float = 0.0
    wait: float = 0.0
    ivr: float = 0.0

    @property
    def handling(self) -> float:
        """Talk + hold + wrap-up: what the DMT (AHT) averages."""
        return self.talk + self.hold + self.wrap_up


def durations(created_at: datetime, transitions: list[Transition], now: datetime | None = None,
              initial: CallState = S.OFFERED) -> Durations:
    """Time spent in each phase, summed over the call's history.

    A call still in a phase counts up to ``now`` (for the live timer); a
    closed call's figures are final.
    """
    buckets = {S.DIALING: 0.0, S.RINGING: 0.0, S.CONNECTED: 0.0, S.ON_HOLD: 0.0, S.WRAP_UP: 0.0, S.OFFERED: 0.0, S.TRANSFERRED: 0.0,
               S.IVR: 0.0}
    state, since = initial, created_at
    for step in transitions:
        if state in buckets:
            buckets[state] += max(0.0, (step.at - since).total_seconds())
        state, since = step.to_state, step.at
    if now is not None and state in buckets:
        buckets[state] += max(0.0, (now - since).total_seconds())
    return Durations(
        ring=buckets[S.RINGING] + buckets[S.DIALING],
        talk=buckets[S.CONNECTED],
        hold=buckets[S.ON_HOLD],
        wrap_up=buckets[S.WRAP_UP],
        wait=buckets[S.OFFERED] + buckets[S.TRANSFERRED],
        ivr=buckets[S.IVR],
    )
