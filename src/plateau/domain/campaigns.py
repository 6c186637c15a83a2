"""Outbound campaigns ("campagnes d'émission d'appels"): kinds, lifecycle, outcomes, retries.

A campaign moves through

    draft ──test──▶ test ──launch──▶ running ⇄ paused ──finish──▶ finished
      └──────────────launch─────────────▲          running ──finish──▶ finished

``test`` is the "appels tests" phase (MC, INFEP, OFPPT M06): a sample of N
contacts is called, the team reviews the results, adjusts the parameters,
then launches. Parameters may change in every state but ``finished``; each
change is logged. A finished campaign is read-only.

Every dial ends with an ``Outcome``: the network's (busy, no answer,
answering machine, invalid number), the dialer's (dropped: answered with no
agent free in time, blocked by the calling rules) or, once connected, the
one the agent's qualification maps to (refused, appointment, sale, …).
``reschedule`` turns an outcome into the contact's next state and time,
per the campaign's retry rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .errors import N_, DomainError


class CampaignType(StrEnum):
    PROSPECTING = "prospecting"
    APPOINTMENT = "appointment"
    SALE = "sale"
    LOYALTY = "loyalty"
    REACTIVATION = "reactivation"
    SURVEY = "survey"
    DEBT_COLLECTION = "debt_collection"
    FOLLOW_UP = "follow_up"
    FILE_QUALIFICATION = "file_qualification"


TYPE_LABELS = {
    CampaignType.PROSPECTING: N_("Prospection"),
    CampaignType.APPOINTMENT: N_("Prise de rendez-vous"),
    CampaignType.SALE: N_("Vente"),
    CampaignType.LOYALTY: N_("Fidélisation"),
    CampaignType.REACTIVATION: N_("Réactivation de comptes passifs"),
    CampaignType.SURVEY: N_("Enquête / sondage"),
    CampaignType.DEBT_COLLECTION: N_("Recouvrement"),
    CampaignType.FOLLOW_UP: N_("Relance"),
    CampaignType.FILE_QUALIFICATION: N_("Qualification de fichier"),
}

#: What a call of this kind is for, in the calling rules' terms
#: (``domain.compliance``: prospecting | contract | debt_collection | survey).
#: Loyalty and follow-up calls are made to customers under their contract;
#: reactivating a passive account is prospecting again.
PURPOSE = {
    CampaignType.PROSPECTING: "prospecting",
    CampaignType.APPOINTMENT: "prospecting",
    CampaignType.SALE: "prospecting",
    CampaignType.LOYALTY: "contract",
    CampaignType.REACTIVATION: "prospecting",
    CampaignType.SURVEY: "survey",
    CampaignType.DEBT_COLLECTION: "debt_collection",
    CampaignType.FOLLOW_UP: "contract",
    CampaignType.FILE_QUALIFICATION: "prospecting",
}


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    TEST = "test"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"


STATUS_LABELS = {
    CampaignStatus.DRAFT: N_("Brouillon"),
    CampaignStatus.TEST: N_("Appels tests"),
    CampaignStatus.RUNNING: N_("En cours"),
    CampaignStatus.PAUSED: N_("En pause"),
    CampaignStatus.FINISHED: N_("Terminée"),
}


class CampaignAction(StrEnum):
    TEST = "test"
    LAUNCH = "launch"
    PAUSE = "pause"
    RESUME = "resume"
    FINISH = "finish"


ACTION_LABELS = {
    CampaignAction.TEST: N_("Lancer les appels tests"),
    CampaignAction.LAUNCH: N_("Lancer la campagne"),
    CampaignAction.PAUSE: N_("Mettre en pause"),
    CampaignAction.RESUME: N_("Reprendre"),
    CampaignAction.FINISH: N_("Terminer la campagne"),
}

C, CA = CampaignStatus, CampaignAction

LIFECYCLE: dict[tuple[CampaignStatus, CampaignAction], CampaignStatus] = {
    (C.DRAFT, CA.TEST): C.TEST,
    (C.DRAFT, CA.LAUNCH): C.RUNNING,
    (C.TEST, CA.TEST): C.TEST,  # another sample after adjusting the parameters
    (C.TEST, CA.LAUNCH): C.RUNNING,
    (C.TEST, CA.FINISH): C.FINISHED,
    (C.RUNNING, CA.PAUSE): C.PAUSED,
    (C.PAUSED, CA.RESUME): C.RUNNING,
    (C.RUNNING, CA.FINISH): C.FINISHED,
    (C.PAUSED, CA.FINISH): C.FINISHED,
}

#: states in which the dialer calls the campaign's contacts
DIALING_STATUSES = frozenset({C.TEST, C.RUNNING})


def next_status(status: CampaignStatus, action: CampaignAction) -> CampaignStatus:
    try:
        return LIFECYCLE[(CampaignStatus(status), CampaignAction(action))]
    except (KeyError, ValueError):
        raise DomainError(N_("Cette étape n'est pas possible dans l'état actuel de la campagne."), "status") from None


def allowed_actions(status: CampaignStatus) -> list[CampaignAction]:
    return [action for (source, action) in LIFECYCLE if source == status]


class DialMode(StrEnum):
    """How the dialer pairs contacts with agents.

    ``preview``: the agent sees the record and the script, then dials (or skips);
    ``progressive``: one dial for each agent who becomes free, the agent on the line;
    ``predictive``: dials ahead of free agents, paced to keep abandons under the cap.
    """

    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"


MODE_LABELS = {
    DialMode.PREVIEW: N_("Aperçu (preview)"),
    DialMode.PROGRESSIVE: N_("Progressif"),
    DialMode.PREDICTIVE: N_("Prédictif"),
}

#: modes where a machine places the call: the presented number must be an
#: ARCEP number reserved for automated calling (France)
AUTOMATED_MODES = frozenset({DialMode.PROGRESSIVE, DialMode.PREDICTIVE})


class Outcome(StrEnum):
    """How one attempt ended."""

    # the network's
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    MACHINE = "answering_machine"
    INVALID = "invalid_number"
    # the dialer's
    DROPPED = "dropped"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"
    # the agent's qualification, once connected
    CONNECTED = "connected"  # reached, no more specific outcome
    ARGUED = "argued"
    REFUSED = "refused"
    CALLBACK = "callback"
    APPOINTMENT = "appointment"
    SALE = "sale"
    SURVEY_DONE = "survey_completed"
    PROMISE_TO_PAY = "promise_to_pay"
    WRONG_NUMBER = "wrong_number"
    DO_NOT_CALL = "do_not_call"


OUTCOME_LABELS = {
    Outcome.BUSY: N_("Occupé"),
    Outcome.NO_ANSWER: N_("Pas de réponse"),
    Outcome.MACHINE: N_("Répondeur"),
    Outcome.INVALID: N_("Numéro invalide"),
    Outcome.DROPPED: N_("Abandonné (aucun agent libre)"),
    Outcome.BLOCKED: N_("Bloqué par les règles d'appel"),
    Outcome.CANCELLED: N_("Numérotation annulée"),
    Outcome.CONNECTED: N_("Joint"),
    Outcome.ARGUED: N_("Argumenté"),
    Outcome.REFUSED: N_("Refus"),
    Outcome.CALLBACK: N_("Rappel programmé"),
    Outcome.APPOINTMENT: N_("Rendez-vous pris"),
    Outcome.SALE: N_("Vente"),
    Outcome.SURVEY_DONE: N_("Enquête complétée"),
    Outcome.PROMISE_TO_PAY: N_("Promesse de paiement / échéancier"),
    Outcome.WRONG_NUMBER: N_("Faux numéro"),
    Outcome.DO_NOT_CALL: N_("Ne plus appeler"),
}

#: the called party was on the line
REACHED = frozenset({Outcome.CONNECTED, Outcome.ARGUED, Outcome.REFUSED, Outcome.CALLBACK, Outcome.APPOINTMENT,
                     Outcome.SALE, Outcome.SURVEY_DONE, Outcome.PROMISE_TO_PAY, Outcome.DO_NOT_CALL})
#: the agent got to present the offer ("contact argumenté")
ARGUED = frozenset({Outcome.ARGUED, Outcome.REFUSED, Outcome.APPOINTMENT, Outcome.SALE, Outcome.PROMISE_TO_PAY,
                    Outcome.SURVEY_DONE})
#: outcomes retried after the campaign's delay for them
RETRIED = frozenset({Outcome.BUSY, Outcome.NO_ANSWER, Outcome.MACHINE, Outcome.DROPPED, Outcome.CANCELLED})
#: outcomes after which the contact is never called again by this campaign
FINAL = frozenset({Outcome.REFUSED, Outcome.APPOINTMENT, Outcome.SALE, Outcome.SURVEY_DONE, Outcome.PROMISE_TO_PAY,
                   Outcome.WRONG_NUMBER, Outcome.DO_NOT_CALL, Outcome.INVALID, Outcome.ARGUED, Outcome.CONNECTED})


class ContactState(StrEnum):
    """Where a contact of the target list stands in the campaign."""

    PENDING = "pending"  # not called yet
    SCHEDULED = "scheduled"  # to retry or call back at ``next_at``
    IN_PROGRESS = "in_progress"  # being dialed or on a call
    DONE = "done"  # a final outcome
    EXHAUSTED = "exhausted"  # maximum attempts reached
    BLOCKED = "blocked"  # the calling rules refuse it; retried when a rule may allow it again


CONTACT_STATE_LABELS = {
    ContactState.PENDING: N_("À appeler"),
    ContactState.SCHEDULED: N_("Rappel prévu"),
    ContactState.IN_PROGRESS: N_("En cours"),
    ContactState.DONE: N_("Traité"),
    ContactState.EXHAUSTED: N_("Tentatives épuisées"),
    ContactState.BLOCKED: N_("Bloqué"),
}

#: retry delays in minutes when a campaign does not say
DEFAULT_RETRY_MINUTES = {Outcome.BUSY: 15, Outcome.NO_ANSWER: 120, Outcome.MACHINE: 240, Outcome.DROPPED: 72 * 60,
                         Outcome.CANCELLED: 30}
#: Ofcom-style safeguard: a number whose call was dropped is not dialed again
#: within 72 hours unless an agent is reserved for it (preview)
DROPPED_QUIET_HOURS = 72


@dataclass(frozen=True)
class Next:
    state: ContactState
    at: datetime | None = None


def reschedule(outcome: Outcome, attempts: int, max_attempts: int, now: datetime,
               retry_minutes: dict[str, int] | None = None, callback_at: datetime | None = None) -> Next:
    """The contact's next state after an attempt ending in ``outcome``.

    ``attempts`` counts this one. A promised callback is honoured at its time
    whatever the attempt count (the person asked for it); a final outcome ends
    the contact; a retried one waits its delay unless attempts are exhausted.
    """
    outcome = Outcome(outcome)
    if outcome is Outcome.CALLBACK and callback_at is not None:
        return Next(ContactState.SCHEDULED, callback_at)
    if outcome in FINAL:
        return Next(ContactState.DONE)
    if attempts >= max_attempts:
        return Next(ContactState.EXHAUSTED)
    delays = {**{k.value: v for k, v in DEFAULT_RETRY_MINUTES.items()}, **(retry_minutes or {})}
    minutes = delays.get(outcome.value, DEFAULT_RETRY_MINUTES[Outcome.NO_ANSWER])
    if outcome is Outcome.DROPPED:
        minutes = max(minutes, DROPPED_QUIET_HOURS * 60)
    return Next(ContactState.SCHEDULED, now + timedelta(minutes=minutes))
