"""Dialer pacing: how many numbers to dial now, per campaign, every second.

The dialer (``services/dialer.py``) and the campaign simulator
(``services/campaign_simulation.py``) describe the campaign's state in a
``PacingInput`` and place the ``PacingDecision.dials`` this module returns;
nothing here does I/O, so the same rule runs live, in the simulator and in the
tests. docs/pacing.md explains it at length.

Modes (``domain.campaigns.DialMode``):

``preview``
    The agent reads the record and the script, then dials: the dialer places
    nothing (0 dials).
``progressive``
    One line per free agent: ``dials = free − in_flight − waiting`` (never
    negative). Lines never outnumber free agents, so a person who answers
    always finds one: progressive never abandons. Its cost is the agents'
    idle time while each of their dials rings out, busy or unanswered.
``predictive``
    Dial ahead of free agents, as industry dialers do (the "dial level" or
    "lines per agent" of VICIdial's adaptive pacing; Erlang-style models of
    agents freeing up), under the Ofcom-style rule the issue adopts: at most
    3 % of the calls a person answers may find no agent within 2 s
    (abandoned, "dropped"), per campaign and per day.

The predictive method, every second:

1. *Answer rate* ``p``: the share of recent dials a person answered,
   blended with the network profile's prior as a Beta prior worth
   ``prior_weight`` dials, so that a few lucky dials early in the day do not
   make the dialer reckless. A call already ringing for ``a`` seconds is
   less likely to be answered than a fresh one (people answer within a few
   rings; unanswered calls ring on): given the ages of the calls in flight
   and the profile's ring times, ``answer_probability_after`` conditions
   each on having rung that long.
2. *Agents able to take a call* within one ring time (``mean_ring_s``,
   when a new dial is answered): ``S = free − waiting + K``, K the busy
   agents who finish by then. Given how long each has been busy,
   ``free_within`` gives ``P(H ≤ e + h | H > e)`` from the calls put
   through recently, finished or still going (a Kaplan–Meier step: the
   short calls finish first, and the finished ones alone would promise
   agents about to free up who are not); an agent who just picked up will
   not be free in ten seconds. Without elapsed times, the memoryless
   ``1 − exp(−mean_ring_s / mean_handle_s)`` of Erlang's models. K is taken
   as a binomial of the same mean.
3. *Drops*: with ``in_flight`` lines ringing and ``n`` new dials, the people
   who answer are ``D`` (binomials, computed exactly — floors are small and
   drops live in the tail, where a normal approximation is poor) and the
   calls dropped ``X = (D − S)⁺``.
4. The dialer places the largest ``n`` — at least the progressive count,
   at most ``max_dial_level`` lines per agent able to take a call — such that

   a. ``E[X] ≤ r · E[D]``, where the allowed ratio
      ``r = cap · (1 − (rate / cap)^margin_power)`` shrinks from the cap to
      0 as the day's abandon rate approaches the cap: model errors (answers
      bunching, agents freeing a little after an answer) correct themselves —
      the more the dialer drops, the more prudent it gets, and the day's rate
      settles under the cap (2 to 2.5 % in the simulator);
   b. ``P(X > room) ≤ tail_risk``, ``room = (cap · connected − dropped) /
      (1 − cap)``: the drops the day can still take — even if nothing else
      were answered, ``(dropped + X) / (connected + X) ≤ cap`` — so that a
      burst of answers rarely pushes the day over the cap when its rate
      sits just under it (a binomial tail bound).

   New lines are tried one at a time from the progressive count upwards and
   the first that fails a check stops the search: the answer is monotonic
   (more free agents never mean fewer dials). A line whose mean alone fails
   the first check (``E[D] − E[S] > r · E[D]``, and ``E[X] ≥ E[D] − E[S]``)
   is refused without weighing the tails.
5. When the day's rate has reached the cap, the dialer falls back to
   progressive (``cap_reached``); progressive cannot drop, so the rate then
   only falls. When no line goes ahead while a single drop would put the
   day over the cap (room < 1: early in the day, or just under the cap),
   the reason is ``cap_guard``.

Reasons (``PacingDecision.reason``): ``preview``, ``progressive``,
``no_agents`` (nobody logged into the campaign), ``ahead`` (predictive
pacing applied), ``cap_guard`` (predictive, no line ahead: one drop would
break the day's cap), ``cap_reached`` (the day's rate is at the cap: progressive).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from .campaigns import DialMode
from .errors import N_, DomainError
from .phone_network import MIN_NO_ANSWER_RING_S, NetworkProfile

#: what each ``PacingDecision.reason`` means, for the supervisor
REASON_LABELS = {
    "preview": N_("Aperçu : les agents composent eux-mêmes"),
    "progressive": N_("Progressif : une ligne par agent libre"),
    "no_agents": N_("Aucun agent connecté à la campagne"),
    "ahead": N_("Prédictif : numérotation en avance sur les agents"),
    "cap_guard": N_("Prédictif retenu : un seul abandon dépasserait le plafond du jour"),
    "cap_reached": N_("Plafond d'abandons du jour atteint : numérotation progressive"),
}

#: dials the prior answer rate counts for when blended with the measured one
PRIOR_WEIGHT = 100
#: answer rates are kept inside these bounds (a rate of 0 would dial without end, 1 never ahead)
MIN_ANSWER_RATE, MAX_ANSWER_RATE = 0.01, 0.99
#: probability mass below which the tail of a distribution is ignored
_EPSILON = 1e-12


@dataclass(frozen=True)
class PacingInput:
    """The campaign's state at the moment of the decision (counts are clamped at 0)."""

    mode: str  # domain.campaigns.DialMode value
    free_agents: int  # logged into the campaign, available, no call
    busy_agents: int  # on a call or in wrap-up
    in_flight: int  # dials ringing now (far end not answered yet)
    waiting: int  # answered by a person, waiting for an agent (≤ drop_after_s)
    #: share of recent dials answered by a person (None: no data yet), measured on dials placed at least
    #: one give-up time ago (all settled): counted as they settle, busy numbers (known in 2 s) come first
    #: and unanswered ones (25 s) last, so the rate reads low at first and the dialer would over-dial
    answer_rate: float | None
    prior_answer_rate: float  # the network profile's expectation, used until enough data
    connected_today: int  # calls answered by a person today (the denominator of the abandon rate)
    dropped_today: int  # of those, dropped (no agent within drop_after_s)
    abandon_cap: float = 0.03
    mean_ring_s: float = 10.0  # mean time from dial to answer
    mean_handle_s: float = 180.0  # mean talk + wrap-up (``handling_mean``: not the finished calls' mean)
    samples: int = 0  # dials the answer_rate is measured on
    #: how long each call in flight has rung, with ``network`` (the profile's ring times): a call
    #: ringing for 20 s is less likely to be answered than a fresh one (``answer_probability_after``);
    #: None: every call in flight is answered with the answer rate
    in_flight_ages_s: tuple[float, ...] | None = None
    network: NetworkProfile | None = None
    #: how long each busy agent has been busy (talk + wrap-up so far): one who just picked up will not
    #: be free in ten seconds (``free_within``); None: memoryless, ``1 − exp(−mean_ring_s / mean_handle_s)``
    busy_elapsed_s: tuple[float, ...] | None = None
    #: handling times (talk + wrap-up) of the calls put through recently (say the last half hour) and
    #: finished; with ``busy_elapsed_s``, the calls still going, the distribution ``free_within`` uses
    recent_handle_s: tuple[float, ...] = ()
    #: most lines per agent able to take a call (a guard against a wrong answer rate)
    max_dial_level: float = 5.0
    #: weight of the prior answer rate, in dials
    prior_weight: int = PRIOR_WEIGHT
    #: how fast the allowed drop ratio shrinks as the day's rate nears the cap (higher: later, steeper)
    margin_power: float = 4.0
    #: accepted probability that the lines ringing push the day's abandon rate over the cap
    tail_risk: float = 0.01


@dataclass(frozen=True)
class PacingDecision:
    dials: int  # new dials to place now (≥ 0)
    dial_level: float  # lines dialed per free-or-soon-free agent (shown to the supervisor)
    reason: str  # "preview", "progressive", "no_agents", "ahead", "cap_guard", "cap_reached"
    #: the answer rate the decision used (measured and prior blended); None in preview / without agents
    answer_rate: float | None = None
    #: expected calls dropped by the lines now ringing, this decision's included
    expected_drops: float = 0.0


def abandon_rate(connected: int, dropped: int) -> float:
    """Dropped calls as a share of the calls a person answered (0 when nobody answered yet)."""
    return dropped / connected if connected > 0 else 0.0


def blended_answer_rate(inp: PacingInput) -> float:
    """The measured answer rate weighed against the prior: ``(rate·samples + prior·w) / (samples + w)``.

    A Beta prior worth ``prior_weight`` dials: with 10 dials the prior still
    counts for 10/11, with 1 000 dials for 1/11. The result is clamped to
    [MIN_ANSWER_RATE, MAX_ANSWER_RATE].
    """
    prior = _clamp(inp.prior_answer_rate)
    samples = max(0, inp.samples)
    if inp.answer_rate is None or samples == 0:
        return prior
    weight = max(0, inp.prior_weight)
    return _clamp((_clamp(inp.answer_rate) * samples + prior * weight) / (samples + weight))


def answer_probability_after(age_s: float, profile: NetworkProfile, answer_rate: float | None = None) -> float:
    """Chance that a dial still ringing after ``age_s`` seconds is answered by a person.

    A fresh dial is answered with the answer rate; one that has rung 20 s
    much less, since most people answer within a few rings while an
    unanswered call rings on to ``no_answer_after_s`` (and a busy or invalid
    number is known within 3 s). Bayes on the profile's ring times: the
    person-answer weight times P(ring > age), over every response's weight
    times its P(ring > age). ``answer_rate`` (the measured one) replaces the
    profile's share of person answers, the other responses keeping their
    proportions.
    """
    return _RingModel(profile, answer_rate).chance(age_s)


class _RingModel:
    """``answer_probability_after`` with its constants worked out once per decision."""

    def __init__(self, profile: NetworkProfile, answer_rate: float | None):
        person, machine, self.no_answer, self.quick, self.give_up, self.log_median, self.median, \
            self.scale = _ring_constants(profile)
        others = machine + self.no_answer + self.quick
        if answer_rate is not None and others > 0:
            rate = _clamp(answer_rate)
            person = rate / (1.0 - rate) * others
        self.person = person
        self.picks_up = person + machine

    def chance(self, age_s: float) -> float:
        if age_s >= self.give_up:
            return 0.0
        if age_s <= 0 or self.scale == 0:
            ringing = 1.0 if age_s < self.median else 0.0
        else:
            ringing = 0.5 * math.erfc((math.log(age_s) - self.log_median) / self.scale)  # P(ring time > age)
        quick = min(1.0, max(0.0, (3.0 - age_s) / 2.0))  # busy and invalid: known within 1 to 3 s
        alive = self.picks_up * ringing + self.no_answer + self.quick * quick
        return self.person * ringing / alive if alive > 0 else 0.0


@lru_cache(maxsize=32)
def _ring_constants(profile: NetworkProfile) -> tuple[float, ...]:
    """(person, machine, no answer, busy or invalid weights; give-up time; log median, median, scale)."""
    weights = {response.value: weight for response, weight in profile.weights()}
    median = max(profile.answer_median_s, 1e-9)
    return (weights["answered"] + weights["wrong_person"], weights["answering_machine"], weights["no_answer"],
            weights["busy"] + weights["invalid_number"], max(MIN_NO_ANSWER_RING_S, profile.no_answer_after_s),
            math.log(median), median, max(0.0, profile.answer_sigma) * math.sqrt(2.0))


def soon_free_probability(mean_ring_s: float, mean_handle_s: float) -> float:
    """Chance a busy agent is free again within one ring time (exponential handling times)."""
    if mean_handle_s <= 0:
        return 1.0
    return 1.0 - math.exp(-max(0.0, mean_ring_s) / mean_handle_s)


#: completed handling times needed before their own distribution replaces the log-normal prior
MIN_HANDLE_SAMPLES = 50
#: spread of the prior log-normal handling time (sigma of the underlying normal)
HANDLE_SIGMA = 0.6
#: the prior counts for this many handling times where the recent ones are few (long calls)
HANDLE_PRIOR_WEIGHT = 5.0


def free_within(elapsed_s: float, horizon_s: float, mean_handle_s: float,
                recent_handle_s: Sequence[float] = (), busy_elapsed_s: Sequence[float] = ()) -> float:
    """Chance an agent busy for ``elapsed_s`` (talk + wrap-up so far) is free within ``horizon_s``.

    ``P(H ≤ e + h | H > e)`` for the handling time H. An agent who has just
    picked up will not be free in ten seconds; one ten minutes into a
    three-minute-average call may well be.

    From data, as a Kaplan–Meier step: the calls finished in ``(e, e + h]``
    over the calls "at risk" at ``e`` — finished after ``e`` or still going
    and past ``e``. ``recent_handle_s`` are the handling times of the calls
    put through recently (say the last half hour) and finished;
    ``busy_elapsed_s`` the calls still going (the busy agents). Counting the
    calls still going matters: early in the day only the short calls have
    finished, and their durations alone would promise agents about to free
    up who are not. With fewer than MIN_HANDLE_SAMPLES finished calls, or
    where few calls are at risk, the estimate leans on a prior: a log-normal
    of mean ``mean_handle_s`` — call durations are close to log-normal
    (Brown et al., "Statistical analysis of a telephone call center", JASA
    2005).
    """
    model = _HandleModel(mean_handle_s, _ordered(tuple(recent_handle_s)), tuple(sorted(busy_elapsed_s)))
    return model.all_within([elapsed_s], horizon_s)[0]


def handling_mean(recent_handle_s: Sequence[float], busy_elapsed_s: Sequence[float], prior_s: float,
                  min_samples: int = 20) -> float:
    """Mean handling time from calls finished and still going: (their time so far) / (calls finished).

    The mean of the finished calls alone is too short early in the day (the
    short calls finish first); time over completions counts the calls still
    going — it is the exact estimate for exponential durations and errs long
    (prudent) otherwise until the day has run a few call lengths. ``prior_s``
    until ``min_samples`` calls have finished.
    """
    if len(recent_handle_s) < min_samples:
        return prior_s
    return (sum(recent_handle_s) + sum(max(0.0, e) for e in busy_elapsed_s)) / len(recent_handle_s)


@lru_cache(maxsize=16)
def _ordered(handles: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(sorted(handles))


class _HandleModel:
    """``free_within`` with its constants worked out once per decision."""

    def __init__(self, mean_handle_s: float, finished: tuple[float, ...], going: tuple[float, ...]):
        self.mean = mean_handle_s
        self.mu = math.log(mean_handle_s) - HANDLE_SIGMA ** 2 / 2 if mean_handle_s > 0 else 0.0
        self.scale = HANDLE_SIGMA * math.sqrt(2.0)
        self.finished = finished if len(finished) >= MIN_HANDLE_SAMPLES else ()
        self.going = going  # sorted

    def all_within(self, elapsed: Sequence[float], horizon_s: float) -> list[float]:
        """``free_within`` for many agents (one loop: the dialer asks every second)."""
        h = max(0.0, horizon_s)
        if self.mean <= 0:
            return [1.0] * len(elapsed)
        finished, going, weight = self.finished, self.going, HANDLE_PRIOR_WEIGHT
        n_finished, n_going = len(finished), len(going)
        mu, scale, log, erfc = self.mu, self.scale, math.log, math.erfc
        tail = 1.0 - math.exp(-h / self.mean)
        result = []
        for e in elapsed:
            if e < 0:
                e = 0.0
            if finished:
                past = bisect_right(finished, e)
                ended = bisect_right(finished, e + h) - past  # finished within (e, e + h]
                at_risk = n_finished - past + n_going - bisect_left(going, e)
                if at_risk >= MIN_HANDLE_SAMPLES:  # enough calls got this far: their own figures
                    result.append(ended / at_risk)
                    continue
            alive = 1.0 if e <= 0 else 0.5 * erfc((log(e) - mu) / scale)
            if alive < 1e-9:
                prior = tail  # beyond every expectation: an exponential tail
            else:
                prior = (alive - (0.5 * erfc((log(e + h) - mu) / scale) if e + h > 0 else 1.0)) / alive
            if finished:
                prior = (ended + prior * weight) / (at_risk + weight)
            result.append(prior)
        return result


def allowed_drop_ratio(cap: float, rate: float, power: float) -> float:
    """Share of this batch's answers that may be dropped: the cap, shrinking as the day's rate nears it."""
    if cap <= 0:
        return 0.0
    used = min(1.0, max(0.0, rate / cap))
    return cap * (1.0 - used ** max(power, 0.1))


def decide(inp: PacingInput) -> PacingDecision:
    """How many numbers to dial now (see the module's docstring for the method)."""
    try:
        mode = DialMode(inp.mode)
    except ValueError:
        raise DomainError(N_("Mode de numérotation inconnu : %(mode)s."), "mode", mode=inp.mode) from None
    free, busy = max(0, inp.free_agents), max(0, inp.busy_agents)
    in_flight, waiting = max(0, inp.in_flight), max(0, inp.waiting)
    if mode is DialMode.PREVIEW:
        return PacingDecision(0, 0.0, "preview")
    if free + busy == 0:
        return PacingDecision(0, 0.0, "no_agents")
    progressive = max(0, free - in_flight - waiting)
    if mode is DialMode.PROGRESSIVE:
        return PacingDecision(progressive, _level(in_flight + progressive, free), "progressive")

    p = blended_answer_rate(inp)
    soon = _soon_free(inp, busy)
    able = free - waiting  # agents free now that no waiting call will take
    capacity = able + sum(soon)
    # K, the busy agents freeing up, is a sum of one Bernoulli per agent; a binomial of the same mean
    # spreads a little more, which can only overstate the drops (E[(D − S)⁺] is convex in S)
    k_pmf = _binomial(busy, sum(soon) / busy if busy else 0.0)
    cap = max(0.0, inp.abandon_cap)
    connected, dropped = max(0, inp.connected_today), max(0, inp.dropped_today)
    rate = abandon_rate(connected, dropped)
    flight_p = _in_flight_rate(inp, in_flight, p)

    # the lines ringing if only the progressive count is dialed, then one more line at a time
    pmf = _convolve(_binomial(in_flight, flight_p), _binomial(progressive, p))
    answers = in_flight * flight_p + progressive * p

    # drops the day can still take: even if every other answer were dropped too (X more drops are X more
    # connects), (dropped + X) / (connected + X) ≤ cap  ⇔  X ≤ (cap·connected − dropped) / (1 − cap)
    room = (cap * connected - dropped) / (1.0 - cap) if cap < 1 else math.inf

    def outlook() -> _Outlook:
        return _outlook(pmf, answers, able, k_pmf, room)

    if connected > 0 and rate >= cap:
        return _decision(progressive, in_flight, capacity, "cap_reached", p, outlook().drops)
    ratio = allowed_drop_ratio(cap, rate, inp.margin_power)
    limit = max(0, math.floor(inp.max_dial_level * max(0.0, capacity)) - in_flight)
    dials, best = progressive, None
    ringing = (pmf, answers)  # the lines ringing with the progressive count dialed
    for n in range(progressive + 1, limit + 1):
        pmf = _add_line(pmf, p)
        answers += p
        # E[X] ≥ E[D] − E[S] (Jensen): when that alone exceeds the allowed share, no need to weigh the tails
        if answers - capacity > ratio * answers:
            break
        candidate = outlook()
        if candidate.over_cap > inp.tail_risk or candidate.drops > ratio * candidate.answers:
            break
        dials, best = n, candidate
    if best is None:  # no line ahead: the drops of the lines ringing as they are
        pmf, answers = ringing
        best = outlook()
    # no line ahead while a single drop would put the day over the cap: the cap guards
    reason = "cap_guard" if dials == progressive and room < 1 else "ahead"
    return _decision(dials, in_flight, capacity, reason, p, best.drops)


def _soon_free(inp: PacingInput, busy: int) -> list[float]:
    """For each busy agent, the chance of being free within one ring time."""
    if inp.busy_elapsed_s is None:
        return [soon_free_probability(inp.mean_ring_s, inp.mean_handle_s)] * busy
    elapsed = tuple(inp.busy_elapsed_s[:busy])
    model = _HandleModel(inp.mean_handle_s, _ordered(tuple(inp.recent_handle_s)), tuple(sorted(elapsed)))
    chances = model.all_within(elapsed, inp.mean_ring_s)
    # agents the dialer gave no time for: the memoryless estimate
    return chances + [soon_free_probability(inp.mean_ring_s, inp.mean_handle_s)] * (busy - len(chances))


def _in_flight_rate(inp: PacingInput, in_flight: int, p: float) -> float:
    """The mean chance that a call now ringing is answered by a person."""
    if not in_flight or inp.in_flight_ages_s is None or inp.network is None:
        return p
    ages = inp.in_flight_ages_s[:in_flight]
    model = _RingModel(inp.network, p)
    total = sum(model.chance(age) for age in ages) + p * (in_flight - len(ages))
    return total / in_flight


# --- the distributions -----------------------------------------------------------------------


def _clamp(rate: float) -> float:
    if rate != rate:  # NaN
        return MIN_ANSWER_RATE
    return min(MAX_ANSWER_RATE, max(MIN_ANSWER_RATE, rate))


def _level(lines: int, agents: float) -> float:
    """Lines per agent able to take a call; below one such agent, per agent (not an absurd 500 lines per 0.1)."""
    return round(lines / max(1.0, agents), 2) if lines else 0.0


def _decision(dials: int, in_flight: int, capacity: float, reason: str, p: float, drops: float) -> PacingDecision:
    return PacingDecision(dials, _level(in_flight + dials, capacity), reason, round(p, 4), round(drops, 4))


def _binomial(n: int, p: float) -> list[float]:
    """pmf of Binomial(n, p), as a list indexed by the count, its negligible upper tail cut off."""
    if n <= 0 or p <= 0.0:
        return [1.0]
    if p >= 1.0:
        return [0.0] * n + [1.0]
    first = (1.0 - p) ** n
    if first < 1e-250:  # a large floor: (1 − p)^n underflows, work in logarithms
        log_p, log_q, top = math.log(p), math.log(1.0 - p), math.lgamma(n + 1)
        pmf = [math.exp(top - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_p + (n - k) * log_q)
               for k in range(n + 1)]
        while len(pmf) > 1 and pmf[-1] < _EPSILON:
            pmf.pop()
        return pmf
    pmf = [first]
    odds = p / (1.0 - p)
    mean = n * p
    for k in range(n):
        nxt = pmf[-1] * (n - k) / (k + 1) * odds
        if nxt < _EPSILON and k + 1 > mean:
            break
        pmf.append(nxt)
    return pmf


def _convolve(a: list[float], b: list[float]) -> list[float]:
    out = [0.0] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        if x:
            for j, y in enumerate(b):
                out[i + j] += x * y
    return out


def _add_line(pmf: list[float], p: float) -> list[float]:
    """The answers' pmf with one more line answered with probability ``p``."""
    out = [x * (1.0 - p) for x in pmf]
    out.append(0.0)
    for i, x in enumerate(pmf):
        out[i + 1] += x * p
    while len(out) > 1 and out[-1] < _EPSILON:
        out.pop()
    return out


@dataclass(frozen=True)
class _Outlook:
    """What the lines ringing promise: E[D] answers, E[(D − S)⁺] drops, P(X > allowed) for the day's cap."""

    answers: float
    drops: float
    over_cap: float


def _outlook(pmf: list[float], answers: float, able: int, k_pmf: list[float], allowed: float) -> _Outlook:
    """Drops ``X = (D − able − K)⁺`` for answers D (``pmf``) and agents freeing up K (``k_pmf``)."""
    # survival[t] = P(D > t); E[(D − s)⁺] = Σ_{t ≥ s} P(D > t) for s ≥ 0, E[D] − s for s < 0
    size = len(pmf)
    survival = [0.0] * size
    tail_sums = [0.0] * (size + 1)
    above = summed = 0.0
    for t in range(size - 1, -1, -1):
        survival[t] = above
        summed += above
        tail_sums[t] = summed
        above += pmf[t]
    drops = over = 0.0
    limit = math.floor(allowed) if allowed >= 0 else None
    for k, pk in enumerate(k_pmf):
        s = able + k
        if s < 0:
            drops += pk * (answers - s)
        elif s < size:
            drops += pk * tail_sums[s]
        # X > allowed  ⇔  D > s + allowed
        if limit is None:
            over += pk
        else:
            threshold = s + limit
            if threshold < 0:
                over += pk
            elif threshold < size:
                over += pk * survival[threshold]
    return _Outlook(answers, drops, over)
