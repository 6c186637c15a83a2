"""The simulated telephone network outbound calls go through until real telephony exists.

Each dial draws how the far end responds — answered, busy, no answer,
answering machine, invalid number, or answered by the wrong person — and
after how many seconds of ringing, from a ``NetworkProfile``. The draw is a
pure function of (seed, key): the same campaign seed and attempt key give
the same outcome on every run, in the dialer and in ``plateau
simulate-campaign`` alike, so tests and benchmarks are reproducible.

Ring times are log-normal (most people answer within a few rings, a few take
long); an unanswered call rings ``no_answer_after_s`` — never less than the
15 s the Ofcom-style safeguard requires — before the network gives up.
Busy and invalid numbers are known within a couple of seconds.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from enum import StrEnum

from .errors import N_, DomainError

#: an unanswered call rings at least this long before the dialer gives up (Ofcom)
MIN_NO_ANSWER_RING_S = 15.0


class Response(StrEnum):
    ANSWERED = "answered"
    WRONG_PERSON = "wrong_person"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    MACHINE = "answering_machine"
    INVALID = "invalid_number"


#: the responses where a person is on the line
HUMAN = frozenset({Response.ANSWERED, Response.WRONG_PERSON})


@dataclass(frozen=True)
class NetworkProfile:
    """Probabilities of each response (they need not sum to 1: they are weights) and ring times."""

    answered: float = 0.30
    wrong_person: float = 0.02
    busy: float = 0.08
    no_answer: float = 0.40
    answering_machine: float = 0.15
    invalid_number: float = 0.05
    #: median seconds of ringing before a person or a machine picks up
    answer_median_s: float = 9.0
    #: spread of the log-normal ring time (sigma of the underlying normal)
    answer_sigma: float = 0.45
    no_answer_after_s: float = 25.0

    @classmethod
    def from_dict(cls, data: dict | None) -> "NetworkProfile":
        """Read a campaign's stored settings; unknown keys are an error naming the key."""
        data = dict(data or {})
        known = set(cls.__dataclass_fields__)
        for key in data:
            if key not in known:
                raise DomainError(N_("Paramètre du réseau simulé inconnu : %(key)s."), "network", key=key)
        try:
            profile = cls(**{k: float(v) for k, v in data.items()})
        except (TypeError, ValueError):
            raise DomainError(N_("Les paramètres du réseau simulé doivent être des nombres."), "network") from None
        profile.check()
        return profile

    def to_dict(self) -> dict:
        return asdict(self)

    def weights(self) -> list[tuple[Response, float]]:
        return [(Response.ANSWERED, self.answered), (Response.WRONG_PERSON, self.wrong_person),
                (Response.BUSY, self.busy), (Response.NO_ANSWER, self.no_answer),
                (Response.MACHINE, self.answering_machine), (Response.INVALID, self.invalid_number)]

    def check(self) -> None:
        weights = [w for _, w in self.weights()]
        if any(w < 0 or math.isnan(w) for w in weights) or sum(weights) <= 0:
            raise DomainError(N_("Les probabilités du réseau simulé doivent être positives, et pas toutes nulles."),
                              "network")
        if self.answer_median_s <= 0 or self.answer_sigma < 0:
            raise DomainError(N_("Le temps de sonnerie médian doit être positif."), "network")

    @property
    def human_rate(self) -> float:
        """Share of dials a person answers: what predictive pacing expects before it has data."""
        total = sum(w for _, w in self.weights())
        return (self.answered + self.wrong_person) / total


@dataclass(frozen=True)
class Draw:
    response: Response
    #: seconds from the dial until the response is known (ringing time)
    after_s: float


def draw(profile: NetworkProfile, seed: int | str, key: int | str) -> Draw:
    """How the far end of dial ``key`` responds, the same for the same seed and key."""
    rng = random.Random(f"{seed}:{key}")
    total = sum(w for _, w in profile.weights())
    point, response = rng.random() * total, Response.NO_ANSWER
    for candidate, weight in profile.weights():
        if point < weight:
            response = candidate
            break
        point -= weight
    if response is Response.NO_ANSWER:
        after = max(MIN_NO_ANSWER_RING_S, profile.no_answer_after_s)
    elif response in (Response.BUSY, Response.INVALID):
        after = 1.0 + rng.random() * 2.0
    else:
        after = min(profile.answer_median_s * math.exp(profile.answer_sigma * rng.gauss(0.0, 1.0)),
                    max(MIN_NO_ANSWER_RING_S, profile.no_answer_after_s))
    return Draw(response, round(after, 3))
