"""A campaign dialed on the simulated network by simulated agents (``plateau simulate-campaign``, ``make bench``).

Why: predictive pacing is only believed once it has been seen, on a day of
calls, to keep the abandon rate under the cap while keeping agents busier
than progressive dialing does. This is a discrete-event simulation in
memory (no database): hours of calling take a second or two, and the same
seed gives the same figures on every machine.

The model:

* ``agents`` agents are logged into the campaign for ``hours`` hours; a
  contact list of ``contacts`` numbers is dialed in order, due retries first;
* every second (the live dialer's rhythm) the dialer asks
  ``domain.pacing.decide`` how many numbers to dial, with what it knows:
  free and busy agents, lines ringing, answered calls waiting, the answer
  rate measured on the last ``ANSWER_WINDOW`` dials placed long enough ago
  to be settled, the mean ring and handling times measured so far (the network profile's and the options'
  until then), today's connected and dropped calls — and, in predictive
  mode, how long each line has rung, how long each busy agent has been
  busy and the handling times of the calls put through in the last
  ``HANDLE_WINDOW_S`` seconds and finished, as the live dialer
  can know them (nothing the dialer could not see: not the fate drawn for
  a line still ringing, nor when a conversation will end);
* each dial's fate comes from ``domain.phone_network.draw(profile, seed,
  "contact:attempt")`` — the same dial answers the same way in every mode,
  so modes are compared on the same "people";
* answering machines are detected and never passed to an agent; a person
  who answers is put through to a free agent at once, or waits; with no
  agent within ``drop_after_s`` the call is dropped (abandoned: the
  recorded message plays) — abandon rate = dropped / connects;
* a conversation lasts a log-normal talk time (mean ``mean_talk_s``, a
  wrong person much less) plus a wrap-up (mean ``mean_wrap_s``); the agent
  is then free for the next call. ``callback_share`` of the conversations
  end with a callback in an hour, the others with a final outcome;
* every non-final outcome goes through ``domain.campaigns.reschedule`` with
  the campaign's ``max_attempts`` and ``retry_minutes`` (a dropped call is
  not redialed for 72 hours: beyond any simulated day);
* ``preview`` is simulated too: a free agent reads the next record for
  ``preview_s`` seconds, dials it and stays reserved to it while it rings —
  never a drop, and much idle time.

Occupancy is the share of the agents' logged time spent talking or in
wrap-up (previewing and waiting for a line to answer are not occupied);
contacts per agent-hour are the conversations agents had (``agent_connects``)
per agent-hour logged. Calls still ringing or waiting at the end are left
out; conversations running past the end count for their part inside it.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

from ..domain import pacing
from ..domain.campaigns import ContactState, DialMode, Outcome, reschedule
from ..domain.errors import N_, DomainError, ValidationError
from ..domain.phone_network import HUMAN, MIN_NO_ANSWER_RING_S, NetworkProfile, Response, draw

#: the answer rate the dialer sees is measured on this many most recent dials whose fate is known
ANSWER_WINDOW = 500
#: the handling times the dialer weighs are those of the calls put through in this many last seconds
HANDLE_WINDOW_S = 1800.0
#: the simulated day starts at this instant (only for ``reschedule``, which works on datetimes)
DAY_START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
#: a conversation with the wrong person lasts about this long
WRONG_PERSON_TALK_S = 20.0
#: spread of talk times (sigma of the underlying normal of the log-normal)
TALK_SIGMA = 0.6
#: a callback asked for by the person is scheduled this far ahead
CALLBACK_AFTER = timedelta(hours=1)
#: at most this much simulated time (24 h: one calling day, the abandon rate's period)
MAX_HOURS = 24.0
#: at most this many agents and contacts (200 agents for an hour already take seconds of CPU; beyond, minutes)
MAX_AGENTS, MAX_CONTACTS = 500, 2_000_000

NETWORK_OUTCOME = {Response.BUSY: Outcome.BUSY, Response.NO_ANSWER: Outcome.NO_ANSWER,
                   Response.MACHINE: Outcome.MACHINE, Response.INVALID: Outcome.INVALID}


@dataclass
class Interval:
    """The figures of one slice of the run (``interval_s`` long)."""

    start_s: float
    dials: int = 0
    connects: int = 0
    agent_connects: int = 0
    dropped: int = 0
    #: agent-seconds talking or in wrap-up, sampled every second
    busy_agent_s: float = 0.0
    #: sum of the dial levels shown, sampled every second an agent was free, and those seconds
    dial_level_sum: float = 0.0
    free_seconds: int = 0
    seconds: int = 0

    def as_dict(self, agents: int) -> dict:
        return {"start_s": self.start_s, "dials": self.dials, "connects": self.connects,
                "agent_connects": self.agent_connects, "dropped": self.dropped,
                "abandon_rate": round(pacing.abandon_rate(self.connects, self.dropped), 4),
                "occupancy": round(self.busy_agent_s / (agents * self.seconds), 4) if self.seconds else 0.0,
                "dial_level": round(self.dial_level_sum / self.free_seconds, 2) if self.free_seconds else 0.0}


@dataclass
class CampaignRun:
    """The result of one simulated campaign."""

    mode: str
    agents: int
    contacts: int
    hours: float
    seed: int
    abandon_cap: float
    dials: int = 0
    #: answered by a person (the denominator of the abandon rate)
    connects: int = 0
    #: put through to an agent
    agent_connects: int = 0
    dropped: int = 0
    machines: int = 0
    busy: int = 0
    no_answers: int = 0
    invalid: int = 0
    wrong_person: int = 0
    #: dials of a contact already dialed before (second attempt and after)
    retries: int = 0
    callbacks: int = 0
    #: left unfinished by the end: lines still ringing, answered calls waiting for an agent
    ringing_at_end: int = 0
    waiting_at_end: int = 0
    #: contacts dialed at least once, and where the list stands at the end
    contacts_dialed: int = 0
    contact_states: dict = field(default_factory=dict)
    #: agent-seconds talking or in wrap-up within the run
    busy_agent_s: float = 0.0
    #: the dialer's decisions by reason (seconds spent in each), and the mean dial level shown while an
    #: agent was free (lines ringing per agent able to take a call)
    reasons: dict = field(default_factory=dict)
    mean_dial_level: float = 0.0
    #: the highest abandon rate of the day once 100 calls were connected (what the supervisor saw at worst)
    peak_abandon_rate: float = 0.0
    series: list[Interval] = field(default_factory=list)

    @property
    def abandon_rate(self) -> float:
        return pacing.abandon_rate(self.connects, self.dropped)

    @property
    def occupancy(self) -> float:
        return self.busy_agent_s / (self.agents * self.hours * 3600)

    @property
    def contacts_per_agent_hour(self) -> float:
        return self.agent_connects / (self.agents * self.hours)

    def as_dict(self) -> dict:
        """The run as plain data: the inputs, the headline figures, then the details and the series."""
        data = asdict(self)
        headline = {key: data.pop(key) for key in ("mode", "agents", "contacts", "hours", "seed", "abandon_cap",
                                                   "dials", "connects", "agent_connects", "dropped")}
        headline.update(abandon_rate=round(self.abandon_rate, 4), occupancy=round(self.occupancy, 4),
                        contacts_per_agent_hour=round(self.contacts_per_agent_hour, 2))
        data.update(busy_agent_s=round(self.busy_agent_s, 1), peak_abandon_rate=round(self.peak_abandon_rate, 4),
                    series=[interval.as_dict(self.agents) for interval in self.series])
        return {**headline, **data}


def check_options(agents: int, contacts: int, mode: str, hours: float, abandon_cap: float, drop_after_s: float,
                  mean_talk_s: float, mean_wrap_s: float, max_attempts: int, preview_s: float,
                  callback_share: float) -> None:
    """Refuse impossible options, one precise message per field (``ValidationError``)."""
    errors: dict[str, DomainError] = {}

    def refuse(name: str, message: str, **params) -> None:
        errors.setdefault(name, DomainError(message, name, **params))

    if not 1 <= agents <= MAX_AGENTS:
        refuse("agents", N_("Le nombre d'agents doit être compris entre 1 et %(max)s."), max=MAX_AGENTS)
    if not 1 <= contacts <= MAX_CONTACTS:
        refuse("contacts", N_("Le nombre de contacts doit être compris entre 1 et %(max)s."), max=MAX_CONTACTS)
    if mode not in {m.value for m in DialMode}:
        refuse("mode", N_("Mode de numérotation inconnu : %(mode)s (preview, progressive ou predictive)."),
               mode=mode)
    if not (0 < hours <= MAX_HOURS) or math.isnan(hours):
        refuse("hours", N_("La durée doit être comprise entre 0 exclu et %(max)s heures."), max=int(MAX_HOURS))
    if not (0 <= abandon_cap < 1):
        refuse("abandon_cap", N_("Le taux d'abandon maximal doit être compris entre 0 inclus et 1 exclu."))
    if not (0 <= drop_after_s <= 60):
        refuse("drop_after_s", N_("Le délai avant abandon doit être compris entre 0 et 60 secondes."))
    if not (0 < mean_talk_s <= 7200):
        refuse("mean_talk_s", N_("La durée moyenne de conversation doit être comprise entre 0 exclu et 7200 secondes."))
    if not (0 <= mean_wrap_s <= 3600):
        refuse("mean_wrap_s", N_("La durée moyenne de post-appel doit être comprise entre 0 et 3600 secondes."))
    if not 1 <= max_attempts <= 100:
        refuse("max_attempts", N_("Le nombre maximal de tentatives doit être compris entre 1 et 100."))
    if not (0 <= preview_s <= 600):
        refuse("preview_s", N_("La durée de lecture de la fiche doit être comprise entre 0 et 600 secondes."))
    if not (0 <= callback_share <= 1):
        refuse("callback_share", N_("La part de rappels doit être comprise entre 0 et 1."))
    if errors:
        raise ValidationError(errors)


def simulate_campaign(agents: int, contacts: int, mode: str, hours: float, seed: int,
                      network: NetworkProfile | None = None, abandon_cap: float = 0.03, drop_after_s: float = 2.0,
                      mean_talk_s: float = 120.0, mean_wrap_s: float = 30.0, max_attempts: int = 4,
                      retry_minutes: dict[str, int] | None = None, preview_s: float = 15.0,
                      callback_share: float = 0.1, interval_s: float = 900.0) -> CampaignRun:
    """Dial ``contacts`` numbers for ``hours`` with ``agents`` agents in ``mode``; the figures of the day."""
    mode = str(getattr(mode, "value", mode))
    check_options(agents, contacts, mode, hours, abandon_cap, drop_after_s, mean_talk_s, mean_wrap_s, max_attempts,
                  preview_s, callback_share)
    profile = network or NetworkProfile()
    profile.check()
    return _Simulation(agents, contacts, DialMode(mode), hours, seed, profile, abandon_cap, drop_after_s,
                       mean_talk_s, mean_wrap_s, max_attempts, retry_minutes, preview_s, callback_share,
                       interval_s).run()


# --- the simulation --------------------------------------------------------------------------

# event kinds, in the order they are handled at the same instant
_RESOLVE, _AGENT_FREE, _DROP, _PREVIEWED = range(4)


class _Call:
    """One dial: ``reserved`` when an agent waits on it (preview), ``wrong`` when the wrong person answered."""

    __slots__ = ("contact", "attempt", "dialed_at", "reserved", "waiting", "wrong", "human", "record")

    def __init__(self, contact: int, attempt: int, dialed_at: float, reserved: bool):
        self.contact, self.attempt, self.dialed_at, self.reserved = contact, attempt, dialed_at, reserved
        self.waiting = False
        self.wrong = False
        self.human: bool | None = None  # known once the far end responded
        self.record: list | None = None  # [put through at, handling time], once an agent takes it


class _Simulation:
    def __init__(self, agents, contacts, mode, hours, seed, profile, cap, drop_after_s, mean_talk_s, mean_wrap_s,
                 max_attempts, retry_minutes, preview_s, callback_share, interval_s):
        self.mode, self.seed, self.profile = mode, seed, profile
        self.predictive = mode is DialMode.PREDICTIVE
        self.cap, self.drop_after_s = cap, drop_after_s
        self.mean_talk_s, self.mean_wrap_s = mean_talk_s, mean_wrap_s
        self.max_attempts, self.retry_minutes = max_attempts, dict(retry_minutes or {})
        self.preview_s, self.callback_share = preview_s, callback_share
        self.horizon = hours * 3600.0
        self.interval_s = max(1.0, interval_s)
        self.agents, self.contacts = agents, contacts
        self.run_ = CampaignRun(mode.value, agents, contacts, hours, seed, cap)
        self.free, self.busy = agents, 0
        self.in_flight = 0
        self.ringing: dict[int, float] = {}  # id of a call ringing (not reserved) → when it was dialed
        self.waiting: deque[_Call] = deque()
        self.waiting_count = 0
        self.events: list = []
        self.sequence = 0
        self.attempts = [0] * contacts
        self.next_fresh = 0
        self.retry_heap: list[tuple[float, int]] = []
        self.states: dict[int, ContactState] = {}
        # the answer rate: dials in the order they were placed, counted once every dial placed as early is
        # settled — counted as they settle, busy lines (known in 2 s) would come first and unanswered ones
        # (25 s) last, and the rate would read low at first, then high
        self.placed: deque[_Call] = deque()
        self.recent: deque[bool] = deque(maxlen=ANSWER_WINDOW)
        self.recent_humans = 0
        self.give_up_s = max(MIN_NO_ANSWER_RING_S, profile.no_answer_after_s)
        self.ring_sum, self.ring_n = 0.0, 0
        self.talking: dict[int, float] = {}  # id of a call an agent handles → when it was put through
        # calls put through in the last HANDLE_WINDOW_S, in that order: [when, handling time once finished]
        self.put_through: deque[list] = deque()
        self.finished: tuple[float, ...] | None = ()  # their handling times, of those finished
        self.changed = True
        self.now = 0.0
        self.reasons: Counter[str] = Counter()
        self.level_sum, self.level_n = 0.0, 0
        sigma2 = profile.answer_sigma ** 2
        self.prior_ring_s = min(profile.answer_median_s * math.exp(sigma2 / 2),
                                max(MIN_NO_ANSWER_RING_S, profile.no_answer_after_s))
        self.prior_handle_s = mean_talk_s + mean_wrap_s

    # the event queue

    def _at(self, t: float, kind: int, item) -> None:
        self.sequence += 1
        heapq.heappush(self.events, (t, kind, self.sequence, item))

    def _interval(self, t: float) -> Interval:
        index = min(int(t // self.interval_s), len(self.run_.series) - 1)
        return self.run_.series[index]

    def run(self) -> CampaignRun:
        run = self.run_
        count = max(1, math.ceil(self.horizon / self.interval_s))
        run.series = [Interval(i * self.interval_s) for i in range(count)]
        second = 0
        decision = pacing.PacingDecision(0, 0.0, "no_agents")
        while second < self.horizon:
            t = float(second)
            while self.events and self.events[0][0] <= t:
                at, kind, _, item = heapq.heappop(self.events)
                self._handle(at, kind, item)
            self.now = t
            # predictive pacing weighs how long each line has rung: it changes every second
            if self.changed or decision.dials or (self.predictive and self.ringing):
                decision = self._decide()
                self.changed = False
                for _ in range(decision.dials):
                    if not self._dial(t, reserved=False):
                        break
            if self.mode is DialMode.PREVIEW:
                self._start_previews(t)
            self.reasons[decision.reason] += 1
            slot = self._interval(t)
            slot.seconds += 1
            slot.busy_agent_s += self.busy
            if self.free:  # the dial level is lines per free agent: shown while one is free
                self.level_sum += decision.dial_level
                self.level_n += 1
                slot.dial_level_sum += decision.dial_level
                slot.free_seconds += 1
            if run.connects >= 100:
                run.peak_abandon_rate = max(run.peak_abandon_rate, run.abandon_rate)
            second += 1
        run.ringing_at_end = self.in_flight + sum(1 for e in self.events if e[1] == _RESOLVE and e[3][0].reserved)
        run.waiting_at_end = self.waiting_count
        run.reasons = dict(sorted(self.reasons.items()))
        run.mean_dial_level = round(self.level_sum / max(1, self.level_n), 2)
        run.contacts_dialed = sum(1 for a in self.attempts if a)
        states = Counter(state.value for state in self.states.values())
        states[ContactState.PENDING.value] = self.contacts - self.next_fresh
        in_progress = self.contacts - sum(states.values())
        states[ContactState.IN_PROGRESS.value] = in_progress
        run.contact_states = {state.value: states.get(state.value, 0) for state in ContactState
                              if states.get(state.value, 0)}
        return run

    def _settle(self) -> None:
        """Move the dials placed at least one give-up time ago (all answered or not by now) into the window."""
        cutoff = self.now - self.give_up_s
        while self.placed and self.placed[0].dialed_at <= cutoff and self.placed[0].human is not None:
            human = self.placed.popleft().human
            if len(self.recent) == self.recent.maxlen:
                self.recent_humans -= self.recent[0]
            self.recent.append(human)
            self.recent_humans += human

    def _decide(self) -> pacing.PacingDecision:
        self._settle()
        mean_ring = self.ring_sum / self.ring_n if self.ring_n >= 20 else self.prior_ring_s
        run, t = self.run_, self.now
        while self.put_through and self.put_through[0][0] < t - HANDLE_WINDOW_S:
            self.put_through.popleft()
            self.finished = None
        if self.finished is None:  # rebuilt when a call finished or left the window
            self.finished = tuple(record[1] for record in self.put_through if record[1] is not None)
        finished = self.finished
        going = tuple(t - at for at in self.talking.values())
        mean_handle = pacing.handling_mean(finished, going, self.prior_handle_s)
        ages = dict(in_flight_ages_s=tuple(t - at for at in self.ringing.values()), network=self.profile,
                    busy_elapsed_s=going, recent_handle_s=finished) if self.predictive else {}
        return pacing.decide(pacing.PacingInput(
            mode=self.mode.value, free_agents=self.free, busy_agents=self.busy, in_flight=self.in_flight,
            waiting=self.waiting_count,
            answer_rate=self.recent_humans / len(self.recent) if self.recent else None,
            prior_answer_rate=self.profile.human_rate, connected_today=run.connects, dropped_today=run.dropped,
            abandon_cap=self.cap, mean_ring_s=mean_ring, mean_handle_s=mean_handle, samples=len(self.recent),
            **ages))

    # dialing

    def _next_contact(self, t: float) -> int | None:
        if self.retry_heap and self.retry_heap[0][0] <= t:
            return heapq.heappop(self.retry_heap)[1]
        if self.next_fresh < self.contacts:
            self.next_fresh += 1
            return self.next_fresh - 1
        return None

    def _dial(self, t: float, reserved: bool, contact: int | None = None) -> bool:
        """Dial ``contact`` (default: the next one due); False when the list has nobody to call now."""
        if contact is None:
            contact = self._next_contact(t)
        if contact is None:
            return False
        self.attempts[contact] += 1
        attempt = self.attempts[contact]
        self.states.pop(contact, None)
        run = self.run_
        run.dials += 1
        self._interval(t).dials += 1
        if attempt > 1:
            run.retries += 1
        fate = draw(self.profile, self.seed, f"{contact}:{attempt}")
        call = _Call(contact, attempt, t, reserved)
        self.placed.append(call)
        if not reserved:
            self.in_flight += 1
            self.ringing[id(call)] = t
        self._at(t + fate.after_s, _RESOLVE, (call, fate.response))
        self.changed = True
        return True

    def _start_previews(self, t: float) -> None:
        """Preview: each free agent takes the next record, reads it, then dials it (reserved)."""
        while self.free > 0:
            contact = self._next_contact(t)
            if contact is None:
                return
            self.free -= 1
            self._at(t + self.preview_s, _PREVIEWED, contact)

    # events

    def _handle(self, t: float, kind: int, item) -> None:
        self.changed = True
        if kind == _RESOLVE:
            self._resolve(t, *item)
        elif kind == _AGENT_FREE:
            self._agent_free(t, item)
        elif kind == _DROP:
            self._drop(t, item)
        else:
            self._previewed(t, item)

    def _previewed(self, t: float, contact: int) -> None:
        # the record was read: dial it, the agent reserved to it
        self._dial(t, reserved=True, contact=contact)

    def _resolve(self, t: float, call: _Call, response: Response) -> None:
        run = self.run_
        if not call.reserved:
            self.in_flight -= 1
            del self.ringing[id(call)]
        human = call.human = response in HUMAN
        if not human:
            if response is Response.MACHINE:
                run.machines += 1
            elif response is Response.BUSY:
                run.busy += 1
            elif response is Response.NO_ANSWER:
                run.no_answers += 1
            else:
                run.invalid += 1
            if call.reserved:
                self.free += 1
            self._after(t, call, NETWORK_OUTCOME[response])
            return
        run.connects += 1
        self._interval(t).connects += 1
        self.ring_sum += t - call.dialed_at
        self.ring_n += 1
        if response is Response.WRONG_PERSON:
            call.wrong = True
            run.wrong_person += 1
        if call.reserved:
            self._talk(t, call)
        elif self.free > 0:
            self.free -= 1
            self._talk(t, call)
        else:
            call.waiting = True
            self.waiting.append(call)
            self.waiting_count += 1
            self._at(t + self.drop_after_s, _DROP, call)

    def _talk(self, t: float, call: _Call) -> None:
        """An agent takes the call: conversation then wrap-up, then free again."""
        run = self.run_
        self.busy += 1
        run.agent_connects += 1
        self._interval(t).agent_connects += 1
        rng = random.Random(f"{self.seed}:talk:{call.contact}:{call.attempt}")
        if call.wrong:
            talk = WRONG_PERSON_TALK_S * rng.uniform(0.5, 1.5)
            outcome = Outcome.WRONG_NUMBER
        else:
            mu = math.log(self.mean_talk_s) - TALK_SIGMA ** 2 / 2
            talk = rng.lognormvariate(mu, TALK_SIGMA)
            outcome = Outcome.CALLBACK if rng.random() < self.callback_share else Outcome.ARGUED
        handle = talk + self.mean_wrap_s * rng.uniform(0.5, 1.5)
        self.talking[id(call)] = t
        call.record = [t, None]
        self.put_through.append(call.record)
        run.busy_agent_s += max(0.0, min(handle, self.horizon - t))
        self._at(t + handle, _AGENT_FREE, (call, outcome))

    def _agent_free(self, t: float, item) -> None:
        call, outcome = item
        self.busy -= 1
        call.record[1] = t - self.talking.pop(id(call))
        self.finished = None
        if outcome is Outcome.CALLBACK:
            self.run_.callbacks += 1
        self._after(t, call, outcome)
        while self.waiting:
            waiting = self.waiting.popleft()
            if waiting.waiting:
                waiting.waiting = False
                self.waiting_count -= 1
                self._talk(t, waiting)
                return
        self.free += 1

    def _drop(self, t: float, call: _Call) -> None:
        if not call.waiting:
            return
        call.waiting = False
        self.waiting_count -= 1
        self.run_.dropped += 1
        self._interval(t).dropped += 1
        self._after(t, call, Outcome.DROPPED)

    def _after(self, t: float, call: _Call, outcome: Outcome) -> None:
        """The contact's next step per the campaign's rules."""
        now = DAY_START + timedelta(seconds=t)
        callback_at = now + CALLBACK_AFTER if outcome is Outcome.CALLBACK else None
        nxt = reschedule(outcome, call.attempt, self.max_attempts, now, self.retry_minutes, callback_at)
        self.states[call.contact] = nxt.state
        if nxt.state is ContactState.SCHEDULED and nxt.at is not None:
            due = (nxt.at - DAY_START).total_seconds()
            if due < self.horizon:
                heapq.heappush(self.retry_heap, (due, call.contact))

