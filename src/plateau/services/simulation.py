"""Traffic for a realistic floor (``plateau simulate``): Poisson callers through the real queues.

Why: a trainee learns to work inside a busy floor, not alone with a trainer;
and a staffing figure from Erlang C is only believed once the floor, run by
the real routing, gives the same service level. The simulation therefore
drives the *real* services — ``calls.place_call``, ``answer``, ``hang_up``,
``close``, ``tick`` — so every call is a committed row with its events, and
the figures come from the KPI module like any other day's.

The model (what Erlang C assumes, unless told otherwise):

* arrivals are Poisson at ``calls_per_hour`` (exponential gaps drawn from a
  seeded ``random.Random``); each call goes to a queue drawn by weight;
* the handling time H of a call is exponential with mean ``aht_s``; it is
  split into talk ``(1 − wrap_share) × H`` and wrap-up ``wrap_share × H``, so
  talk + wrap-up — Erlang C's AHT — stays exactly exponential with mean
  ``aht_s`` (two independent draws would not be);
* a simulated agent answers ``ring_delay_s`` (uniform between two bounds)
  after the call starts ringing. The KPI module counts ringing as waiting,
  Erlang C has no ringing: the default is no delay on the scratch floor,
  where the figures are compared with Erlang C, and 1–3 s on the live floor,
  where people watch the desktops ring;
* callers are patient unless ``patience_s`` is set (then each hangs up after
  an exponential time with that mean if nobody answered): Erlang C assumes
  nobody abandons;
* the ticker (``calls.tick``: ring timeouts, overflow, maximum wait, the
  callback offer, routing) runs at every instant where it can have work — a
  queue's waiting rule falling due for a call, a caller hanging up — as the
  web server's ticker does every second; the idle ticks in between would
  change nothing.

Two modes. On a *scratch* floor (default) a temporary SQLite database is
migrated, given the demo company's queues (or those of another database),
and run on a virtual clock that jumps from one event to the next: two hours
of traffic take seconds to minutes, and the real floor's KPIs never see a
simulated call. The *live* mode runs on the configured database in real time
(``speed`` compresses it), so the simulated callers and agents share the
floor with real people: a logged-in, available member of a queue is rung
like any agent, and answers the simulated callers it gets.

After the arrivals stop, the simulation lets the queue drain (no new calls,
agents keep working) so that every measured call has an outcome; the
figures cover the calls that arrived after the warm-up (the floor starts
empty and idle, which is not a steady state) and before the end.
"""

from __future__ import annotations

import atexit
import heapq
import random
import secrets
import shutil
import sqlite3
import tempfile
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from ..bus.local import LocalBus
from ..config import Settings, get_settings
from ..domain import erlang, kpis as kpi_rules, phones, prefs as prefs_rules
from ..domain.agents import AgentState
from ..domain.calls import LIVE, TERMINAL, WAITING, CallState
from ..domain.clock import FixedClock, SystemClock, as_utc
from ..domain.errors import N_, DomainError, IllegalTransition, ValidationError
from ..store.db import Database
from ..store.migrate import upgrade
from ..store.models import (AgentPresence, AgentSkill, Call, CallEvent, Disposition, Queue, QueueDisposition,
                            QueueMember, QueueSkill, Skill, User)
from . import agents as agent_service, calls
from .context import Actor, Context
from .users import actor_for

SIM_CALLER = "sim-caller"
SIM_AGENT = "sim-agent-{:02d}"
#: the marker in a simulated user's preferences: never mistaken for a person
SIMULATED = "simulated"
#: where the virtual clock of a scratch floor starts: a Monday, 09:00 in Paris, no public holiday,
#: so queues with opening hours are open; fixed, so the same seed gives the same figures
SCRATCH_START = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
#: warm-up excluded from the figures: 15 minutes, at most a quarter of the run
WARMUP_S = 900.0
#: how often the live mode looks for calls that rang its agents from elsewhere (web ticker, a person's action)
LIVE_POLL_S = 0.5
#: the drain after the arrivals stops at this many times the run's length (a floor with no agent never drains)
DRAIN_FACTOR = 10
#: ring delay bounds by mode (seconds); see the module docstring
SCRATCH_RING_DELAY = (0.0, 0.0)
LIVE_RING_DELAY = (1.0, 3.0)
#: a simulated agent's ring timeout (their preferences are the defaults): they always answer before it
RING_TIMEOUT_S = prefs_rules.DEFAULTS["ring_timeout_s"]

#: what a simulated caller says when a person answers (the transcript is text)
OPENING_LINES = (
    N_("Bonjour, j'appelle au sujet de ma dernière facture."),
    N_("Bonjour, je voudrais changer d'offre."),
    N_("Bonjour, je déménage le mois prochain, que dois-je faire ?"),
    N_("Bonjour, je n'ai plus d'électricité depuis ce matin."),
    N_("Bonjour, je voudrais un échéancier pour mon paiement."),
)


@dataclass(frozen=True)
class SimulationConfig:
    agents: int = 20
    calls_per_hour: float = 400.0
    aht_s: float = 240.0
    hours: float = 2.0
    seed: int = 1
    sl_time_s: int = 20
    #: mean caller patience (s); None: nobody abandons (Erlang C)
    patience_s: float | None = None
    #: share of the handling time spent in wrap-up
    wrap_share: float = 0.25
    #: (min, max) seconds a simulated agent lets a call ring; None: the mode's default
    ring_delay_s: tuple[float, float] | None = None
    #: seconds excluded at the start; None: 15 minutes, at most a quarter of the run
    warmup_s: float | None = None
    #: queue code → weight; empty: every active queue that has members, equal weights
    queues: Mapping[str, float] = field(default_factory=dict)
    #: live mode: how many times faster than real time
    speed: float = 1.0

    @property
    def horizon_s(self) -> float:
        return self.hours * 3600.0

    @property
    def warmup(self) -> float:
        if self.warmup_s is not None:
            return self.warmup_s
        return min(WARMUP_S, self.horizon_s / 4)

    def check(self) -> None:
        """Refuse inputs that cannot describe a floor, naming the option."""
        errors: dict[str, DomainError] = {}
        if self.agents < 1:
            errors["agents"] = DomainError(N_("Il faut au moins un agent simulé."), "agents")
        if self.agents > 999:
            errors["agents"] = DomainError(N_("999 agents simulés au plus."), "agents")
        if not self.calls_per_hour > 0:
            errors["calls_per_hour"] = DomainError(N_("Le nombre d'appels par heure doit être positif."), "calls_per_hour")
        if not self.aht_s > 0:
            errors["aht"] = DomainError(N_("La durée moyenne de traitement doit être positive."), "aht")
        if not self.hours > 0:
            errors["hours"] = DomainError(N_("La durée de la simulation doit être positive."), "hours")
        if self.sl_time_s < 0:
            errors["sl_time"] = DomainError(N_("Le seuil du niveau de service ne peut pas être négatif."), "sl_time")
        if self.patience_s is not None and not self.patience_s > 0:
            errors["patience"] = DomainError(N_("La patience moyenne doit être positive."), "patience")
        if not 0 <= self.wrap_share < 1:
            errors["wrap_share"] = DomainError(N_("La part de post-appel doit être comprise entre 0 et 1."), "wrap_share")
        if self.ring_delay_s is not None:
            low, high = self.ring_delay_s
            if low < 0 or high < low:
                errors["ring_delay"] = DomainError(N_("Délai de sonnerie invalide : « min-max » en secondes."), "ring_delay")
            elif high >= RING_TIMEOUT_S:
                errors["ring_delay"] = DomainError(N_("Les agents simulés décrochent avant la fin de la sonnerie : "
                                                      "délai inférieur à %(timeout)s s."), "ring_delay",
                                                   timeout=RING_TIMEOUT_S)
        if self.warmup_s is not None and not 0 <= self.warmup_s < self.horizon_s:
            errors["warmup"] = DomainError(N_("La période d'échauffement doit être plus courte que la simulation."), "warmup")
        if any(weight <= 0 for weight in self.queues.values()):
            errors["queue"] = DomainError(N_("Le poids d'une file doit être positif."), "queue")
        if not self.speed > 0:
            errors["speed"] = DomainError(N_("Le facteur de vitesse doit être positif."), "speed")
        if errors:
            raise ValidationError(errors)


@dataclass(frozen=True)
class SimulationResult:
    """What a run measured, and what Erlang C predicts for the same inputs."""

    config: SimulationConfig
    live: bool
    #: the measured window: calls that arrived in [since, until)
    since: datetime
    until: datetime
    warmup_s: float
    ring_delay_s: tuple[float, float]
    placed: int
    figures: kpi_rules.Figures
    occupancy: float | None
    #: share of the measured calls that waited at all (Erlang C's P(wait)); None when agents let calls ring,
    #: since every call then waits a little
    waited_share: float | None
    #: most calls waiting at once in the measured window, and how many waited when the arrivals stopped
    max_waiting: int
    waiting_at_end: int
    #: calls of the run still not ended (waiting, or on a person's desktop in live mode)
    unfinished: int
    erlang: erlang.Staffing
    #: Erlang C for what the run actually drew: the arrival rate measured in the window and the
    #: realised AHT. Sampling noise in the inputs (one run's AHT is often 5 % off its mean)
    #: moves a single run's service level by several points; this column keeps the queueing and
    #: removes that noise, so the model and the floor can be compared run by run
    erlang_realised: erlang.Staffing | None
    #: the fewest agents for 80 % within ``sl_time_s`` (None if no floor could staff it)
    needed_for_80: int | None
    queues: tuple[str, ...]
    wall_s: float

    @property
    def measured(self) -> int:
        return self.figures.offered

    @property
    def load_erlangs(self) -> float:
        return self.erlang.load_erlangs

    @property
    def overloaded(self) -> bool:
        return self.config.agents <= self.erlang.load_erlangs

    def as_dict(self) -> dict:
        f = self.figures
        return {
            "mode": "live" if self.live else "scratch",
            "inputs": {"agents": self.config.agents, "calls_per_hour": self.config.calls_per_hour,
                       "aht_s": self.config.aht_s, "hours": self.config.hours, "seed": self.config.seed,
                       "sl_time_s": self.config.sl_time_s, "patience_s": self.config.patience_s,
                       "wrap_share": self.config.wrap_share, "ring_delay_s": list(self.ring_delay_s),
                       "queues": list(self.queues), "speed": self.config.speed if self.live else None},
            "window": {"since": self.since.isoformat(), "until": self.until.isoformat(), "warmup_s": self.warmup_s},
            "placed": self.placed,
            "measured_calls": self.measured,
            "simulated": {"offered": f.offered, "handled": f.handled, "abandoned": f.abandoned,
                          "short_abandoned": f.short_abandoned, "deflected": f.deflected, "service_level": _round(f.service_level, 4),
                          "asa_s": _round(f.asa_s, 2), "aht_s": _round(f.aht_s, 2),
                          "occupancy": _round(self.occupancy, 4), "probability_wait": _round(self.waited_share, 4),
                          "max_waiting": self.max_waiting,
                          "waiting_at_end": self.waiting_at_end, "unfinished": self.unfinished},
            "erlang_c": self.erlang.as_dict(),
            "erlang_c_realised": self.erlang_realised.as_dict() if self.erlang_realised else None,
            "overloaded": self.overloaded,
            "agents_needed_80": self.needed_for_80,
            "wall_s": round(self.wall_s, 2),
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


# --- the floor: simulated users and the queues they serve ---------------------------------


@dataclass
class Floor:
    caller: Actor
    agents: list[Actor]
    #: simulated queue ids and their weights, in a fixed order
    queue_ids: list[int]
    weights: list[float]
    queue_codes: list[str]
    #: queue id → qualifications a simulated agent may close with (none asks for a callback)
    dispositions: dict[int, list[int]]


#: a simulated user's password hash: no password matches it (argon2 refuses it), so nobody logs in as one
NO_LOGIN = "!"


def _simulated_users(ctx: Context, specs: list[tuple[str, str, str]]) -> list[Actor]:
    """The simulated users (username, display name, role), created on first use, in one transaction.

    They are real users — they show on the wallboard, in the KPIs, in the call history — marked
    ``{"simulated": true}`` in their preferences and unable to log in. A real person who happens to
    have one of these usernames is never taken over.
    """
    names = [username for username, _, _ in specs]
    with ctx.unit() as session:
        now = ctx.now()
        existing = {user.username: user for user in session.scalars(select(User).where(User.username.in_(names)))}
        taken = [name for name, user in existing.items() if not (user.prefs or {}).get(SIMULATED)]
        if taken:
            raise DomainError(N_("L'utilisateur %(username)s existe déjà et n'est pas un utilisateur simulé."),
                              "agents", username=", ".join(sorted(taken)))
        users = []
        for username, display_name, role in specs:
            user = existing.get(username)
            if user is None:
                user = User(username=username, display_name=display_name, password_hash=NO_LOGIN, role=role,
                            locale=ctx.settings.default_locale, prefs={SIMULATED: True}, active=True, created_at=now)
                session.add(user)
                session.flush()
                session.add(AgentPresence(user_id=user.id, state=AgentState.OFFLINE, since=now, idle_since=None))
            else:
                user.role, user.active = role, True
            users.append(user)
        return [actor_for(user) for user in users]


def _resolve_queues(session, wanted: Mapping[str, float]) -> list[tuple[Queue, float]]:
    active = {queue.code: queue for queue in session.scalars(select(Queue).where(Queue.active.is_(True)).order_by(Queue.id))}
    if wanted:
        unknown = [code for code in wanted if code not in active]
        if unknown:
            raise DomainError(N_("File d'attente inconnue ou inactive : %(code)s."), "queue", code=", ".join(unknown))
        return [(active[code], float(weight)) for code, weight in wanted.items()]
    with_members = set(session.scalars(select(QueueMember.queue_id).distinct()))
    chosen = [(queue, 1.0) for queue in active.values() if queue.id in with_members]
    if not chosen:
        raise DomainError(N_("Aucune file active n'a de membres : précisez --queue CODE."), "queue")
    return chosen


def prepare_floor(ctx: Context, config: SimulationConfig) -> Floor:
    """The simulated caller and agents, members of the simulated queues with the skills these require."""
    with ctx.read() as session:
        chosen = _resolve_queues(session, config.queues)
        queue_ids = [queue.id for queue, _ in chosen]
        dispositions: dict[int, list[int]] = {}
        for queue_id in queue_ids:
            dispositions[queue_id] = list(session.scalars(
                select(Disposition.id).join(QueueDisposition, QueueDisposition.disposition_id == Disposition.id)
                .where(QueueDisposition.queue_id == queue_id, Disposition.requires_callback.is_(False))
                .order_by(QueueDisposition.position, Disposition.id)))
        bare = [queue.code for queue, _ in chosen if not dispositions[queue.id]]
        if bare:
            raise DomainError(N_("La file %(code)s n'a pas de qualification sans rappel : les agents simulés ne "
                                 "pourraient pas clôturer ses appels."), "queue", code=", ".join(bare))
        skills: dict[int, int] = {}
        for skill_id, level in session.execute(select(QueueSkill.skill_id, QueueSkill.min_level)
                                               .where(QueueSkill.queue_id.in_(queue_ids))):
            skills[skill_id] = max(skills.get(skill_id, 0), level or 1)
    caller, *agents = _simulated_users(ctx, [(SIM_CALLER, "Appelants simulés", "supervisor")] + [
        (SIM_AGENT.format(index), f"Agent simulé {index:02d}", "agent") for index in range(1, config.agents + 1)])
    with ctx.unit() as session:
        for agent in agents:
            have = set(session.scalars(select(QueueMember.queue_id).where(QueueMember.user_id == agent.id)))
            session.add_all([QueueMember(queue_id=q, user_id=agent.id) for q in queue_ids if q not in have])
            levels = {row.skill_id: row for row in session.scalars(select(AgentSkill).where(AgentSkill.user_id == agent.id))}
            for skill_id, level in skills.items():
                if skill_id in levels:
                    levels[skill_id].level = max(levels[skill_id].level, level)
                else:
                    session.add(AgentSkill(user_id=agent.id, skill_id=skill_id, level=level))
    return Floor(caller=caller, agents=agents, queue_ids=queue_ids, weights=[w for _, w in chosen],
                 queue_codes=[queue.code for queue, _ in chosen], dispositions=dispositions)


# --- the scratch floor ---------------------------------------------------------------------


@contextmanager
def scratch_context(settings: Settings | None = None, source_url: str | None = None,
                    path: Path | None = None) -> Iterator[Context]:
    """A migrated SQLite file on a virtual clock, with the demo queues or those of ``source_url``.

    Removed afterwards unless ``path`` is given (then kept, for a look at the calls).
    """
    base = settings or get_settings()
    folder = None
    if path is None:
        folder = Path(tempfile.mkdtemp(prefix="plateau-simulation-"))
        path = folder / "simulation.db"
    elif path.exists():
        raise DomainError(N_("Le fichier %(path)s existe déjà : choisissez un nouveau fichier."), "keep", path=str(path))
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{path}"
    ctx = None
    try:
        if source_url:
            upgrade(url)
        else:
            _copy_database(_demo_template(), path)
        ctx = Context(db=Database(url), clock=FixedClock(SCRATCH_START), bus=LocalBus(),
                      settings=_scratch_settings(url, base))
        if source_url:
            copy_queues(source_url, ctx)
        yield ctx
    finally:
        if ctx is not None:
            ctx.db.dispose()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _scratch_settings(url: str, base: Settings) -> Settings:
    return Settings(database_url=url, secret_key=secrets.token_urlsafe(16), timezone=base.timezone,
                    default_region=base.default_region, phone_regions=base.phone_regions,
                    default_locale=base.default_locale)


#: the migrated demo floor, built once per process and copied for each scratch run (tests and
#: ``make bench`` run several: migrating and seeding costs a second each time)
_template: Path | None = None


def _demo_template() -> Path:
    from . import demo

    global _template
    if _template is None or not _template.exists():
        folder = Path(tempfile.mkdtemp(prefix="plateau-simulation-template-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "demo.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        ctx = Context(db=Database(url), clock=FixedClock(SCRATCH_START), bus=LocalBus(),
                      settings=Settings(database_url=url, secret_key="template"))
        try:
            demo.seed_demo(ctx, contacts=0, history_calls=0)
        finally:
            ctx.db.dispose()
        _template = path
    return _template


def _copy_database(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy, whatever is still in the source's write-ahead log."""
    with closing(sqlite3.connect(source)) as origin, closing(sqlite3.connect(target)) as copy:
        origin.backup(copy)


def copy_queues(source_url: str, ctx: Context) -> int:
    """The active queues of another database, with their qualifications, required skills and routing
    rules, into the scratch floor (not their scripts, members or teams: simulated agents serve them).

    Queues that have members in the source are marked by one member (an inactive placeholder user)
    so that the default choice, "the queues that have members", is the same as on the source.
    """
    source = Database(source_url)
    try:
        with source.read() as session:
            queues = list(session.scalars(select(Queue).where(Queue.active.is_(True)).order_by(Queue.id)))
            ids = [queue.id for queue in queues]
            links = list(session.scalars(select(QueueDisposition).where(QueueDisposition.queue_id.in_(ids))))
            used = {link.disposition_id for link in links}
            dispositions = list(session.scalars(select(Disposition).where(Disposition.id.in_(used))))
            needs = list(session.scalars(select(QueueSkill).where(QueueSkill.queue_id.in_(ids))))
            skills = list(session.scalars(select(Skill).where(Skill.id.in_({n.skill_id for n in needs}))))
            staffed = set(session.scalars(select(QueueMember.queue_id).where(QueueMember.queue_id.in_(ids)).distinct()))
    finally:
        source.dispose()
    if not queues:
        raise DomainError(N_("La base %(url)s n'a aucune file active."), "database", url=source_url)
    with ctx.unit() as session:
        new_disposition = {}
        for row in dispositions:
            copy = Disposition(code=row.code, label=row.label, requires_callback=row.requires_callback,
                               is_contact=row.is_contact)
            session.add(copy)
            new_disposition[row.id] = copy
        new_skill = {}
        for row in skills:
            copy = Skill(code=row.code, label=row.label, kind=row.kind)
            session.add(copy)
            new_skill[row.id] = copy
        new_queue = {}
        for row in queues:
            copy = Queue(code=row.code, name=row.name, description=row.description, ring_timeout_s=row.ring_timeout_s,
                         active=True, strategy=row.strategy, priority=row.priority, hours=row.hours or {},
                         holiday_country=row.holiday_country, closed_message=row.closed_message,
                         overflow_after_s=row.overflow_after_s, max_wait_s=row.max_wait_s,
                         callback_after_s=row.callback_after_s, sl_threshold_s=row.sl_threshold_s,
                         sl_target=row.sl_target)
            session.add(copy)
            new_queue[row.id] = copy
        session.flush()
        for row in queues:
            if row.overflow_queue_id in new_queue:
                new_queue[row.id].overflow_queue_id = new_queue[row.overflow_queue_id].id
        session.add_all([QueueDisposition(queue_id=new_queue[link.queue_id].id,
                                          disposition_id=new_disposition[link.disposition_id].id,
                                          position=link.position) for link in links])
        session.add_all([QueueSkill(queue_id=new_queue[n.queue_id].id, skill_id=new_skill[n.skill_id].id,
                                    min_level=n.min_level) for n in needs])
        if staffed:
            placeholder = User(username="source-members", display_name="Membres de la base source",
                               password_hash="!", role="agent", prefs={SIMULATED: True}, active=False,
                               created_at=ctx.now())
            session.add(placeholder)
            session.flush()
            session.add_all([QueueMember(queue_id=new_queue[q].id, user_id=placeholder.id) for q in staffed])
    return len(queues)


# --- the run -----------------------------------------------------------------------------


ARRIVAL, PLACE, ANSWER, AGENT_HANG_UP, CLOSE, GIVE_UP, CALLER_HANG_UP, TICK, POLL = range(9)
#: a write that lost a race with another transaction (optimistic locking, a busy database)
CONFLICTS = (StaleDataError, OperationalError)
MAX_RETRIES = 5
#: after these the ticker may have work: a caller hanging up frees the agent their call rang (without a
#: routing pass), a timed tick is a queue's waiting rule (overflow, maximum wait, callback offer) falling
#: due. Elsewhere it would find nothing to do: placing a call and closing one route at once, and simulated
#: agents answer before their ring timeout. Skipping those idle ticks is what makes hours run in seconds.
TICK_AFTER = frozenset({GIVE_UP, CALLER_HANG_UP, TICK})
#: after these a call may have started ringing a simulated agent (or connected a person to a simulated caller)
DISCOVER_AFTER = frozenset({ARRIVAL, PLACE, CLOSE, GIVE_UP, CALLER_HANG_UP, TICK})


class Simulation:
    """One run: a heap of timed events, the real services at each of them.

    Times in the heap are simulated seconds since the start. On a scratch
    floor the context's clock (a ``FixedClock``) is set to each event's time;
    in live mode the loop sleeps until the event's wall-clock time (divided
    by ``speed``) and the services read the system clock.
    """

    def __init__(self, ctx: Context, config: SimulationConfig, live: bool = False,
                 progress: Callable[[float], None] | None = None):
        config.check()
        self.ctx = ctx
        self.config = config
        self.live = live
        self.progress = progress
        self.ring_delay = config.ring_delay_s or (LIVE_RING_DELAY if live else SCRATCH_RING_DELAY)
        # one stream per purpose: the arrivals (and each call's own draws) stay the same whatever the staffing
        self._arrivals = random.Random(f"plateau-simulation:{config.seed}:arrivals")
        self._calls = random.Random(f"plateau-simulation:{config.seed}:calls")
        self._rings = random.Random(f"plateau-simulation:{config.seed}:rings")
        self._heap: list[tuple[float, int, int, tuple]] = []
        self._seq = 0
        self._now = 0.0
        self.floor: Floor | None = None
        self.start: datetime | None = None
        self.placed: list[int] = []
        self._handling: dict[int, float] = {}
        self._rung: set[tuple[int, int]] = set()  # (call, agent) rings already answered or scheduled
        self._greeted: set[int] = set()
        self._delays: dict[int, list[float]] = {}
        self._retries: dict[tuple, int] = {}
        self._agent_by_id: dict[int, Actor] = {}
        self._t0 = 0.0

    # -- the agenda

    def _at(self, t: float, kind: int, *args) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, kind, args))

    def _wall(self, t: float) -> datetime:
        return self.start + timedelta(seconds=t / (self.config.speed if self.live else 1.0))

    def _advance(self, t: float) -> None:
        self._now = t
        if self.live:
            delay = self._t0 + t / self.config.speed - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        else:
            self.ctx.clock.set(self._wall(t))

    # -- the run

    def run(self) -> SimulationResult:
        started = time.perf_counter()
        config = self.config
        self.floor = prepare_floor(self.ctx, config)
        self._agent_by_id = {agent.id: agent for agent in self.floor.agents}
        self.start = as_utc(self.ctx.now())
        self._t0 = time.monotonic()
        if self.live:
            self._release_leftovers()
        for agent in self.floor.agents:
            agent_service.set_state(self.ctx, agent, AgentState.AVAILABLE)
        horizon = config.horizon_s
        self._at(self._arrivals.expovariate(config.calls_per_hour / 3600.0), ARRIVAL)
        if self.live:
            self._at(LIVE_POLL_S * config.speed, POLL)
        stop_at = horizon * (1 + DRAIN_FACTOR)
        waiting_at_end = None
        need_tick = need_discover = False
        try:
            while self._heap:
                t, _seq, kind, args = heapq.heappop(self._heap)
                if t > stop_at:
                    break
                if waiting_at_end is None and t >= horizon:
                    waiting_at_end = self._waiting_now()
                self._advance(t)
                self._handle(kind, args, horizon)
                if kind == POLL:
                    if self._drained(horizon):
                        break
                    self._at(t + LIVE_POLL_S * config.speed, POLL)
                    continue
                need_tick |= kind in TICK_AFTER
                need_discover |= kind in DISCOVER_AFTER
                if self._heap and self._heap[0][0] == t:
                    continue  # the ticker runs once the events of this instant are done
                if need_tick:
                    self._tick()
                if need_discover or need_tick:
                    self._discover()
                need_tick = need_discover = False
                if self.progress:
                    self.progress(min(1.0, t / horizon))
        finally:
            if self.live:
                self._release_leftovers()
                for agent in self.floor.agents:
                    try:
                        agent_service.set_state(self.ctx, agent, AgentState.OFFLINE)
                    except DomainError:
                        pass  # still holding a call someone else moved meanwhile: the desktop shows it
        if waiting_at_end is None:
            waiting_at_end = self._waiting_now()
        return self._result(waiting_at_end, time.perf_counter() - started)

    def _drained(self, horizon: float) -> bool:
        """Live mode: arrivals over, no simulated agent or caller about to act, no simulated call waiting
        or ringing. (Pending waiting-rule ticks and patience deadlines only matter for a waiting call.)"""
        if self._now < horizon or any(kind not in (POLL, TICK, GIVE_UP) for _t, _s, kind, _a in self._heap):
            return False
        with self.ctx.read() as session:
            pending = session.scalar(select(Call.id).where(
                *self._mine(), Call.state.in_([s.value for s in WAITING] + [CallState.RINGING.value])).limit(1))
        return pending is None

    def _mine(self) -> list:
        """The calls of this run: placed by the simulated caller since it started."""
        return [Call.caller_user_id == self.floor.caller.id, Call.created_at >= self.start]

    def _handle(self, kind: int, args: tuple, horizon: float) -> None:
        """One event; a write that lost a race with another actor (a person, the web server's ticker,
        on the live floor) is tried again a second later: every action is idempotent."""
        try:
            self._act(kind, args, horizon)
        except CONFLICTS:
            if kind == POLL:
                return  # the next poll comes anyway
            tries = self._retries.get((kind, args), 0) + 1
            if tries > MAX_RETRIES:
                raise
            self._retries[(kind, args)] = tries
            self._at(self._now + (self.config.speed if self.live else 1.0), kind, *args)

    def _act(self, kind: int, args: tuple, horizon: float) -> None:
        if kind == ARRIVAL:
            self._arrival(horizon)
        elif kind == PLACE:
            self._place(*args)
        elif kind == ANSWER:
            self._answer(*args)
        elif kind == AGENT_HANG_UP:
            self._agent_hang_up(*args)
        elif kind == CLOSE:
            self._close(*args)
        elif kind in (GIVE_UP, CALLER_HANG_UP):
            self._caller_hang_up(*args, give_up=kind == GIVE_UP)
        elif kind == POLL:
            self._tick()
            self._discover()

    def _tick(self) -> None:
        """The ticker; on the live floor a race lost to another ticker is simply left to the next one."""
        try:
            calls.tick(self.ctx)
        except CONFLICTS:
            if not self.live:
                raise

    def _arrival(self, horizon: float) -> None:
        config, floor = self.config, self.floor
        # every draw of a call is made here, in arrival order: the same seed gives the same callers
        queue_id = self._calls.choices(floor.queue_ids, floor.weights)[0]
        handling = self._calls.expovariate(1.0 / config.aht_s)
        patience = self._calls.expovariate(1.0 / config.patience_s) if config.patience_s else None
        number = self._number()
        following = self._now + self._arrivals.expovariate(config.calls_per_hour / 3600.0)
        if following < horizon:
            self._at(following, ARRIVAL)
        self._handle(PLACE, (queue_id, number, handling, patience), horizon)

    def _place(self, queue_id: int, number: str, handling: float, patience: float | None) -> None:
        call = calls.place_call(self.ctx, self.floor.caller, queue_id, number)
        self.placed.append(call.id)
        self._handling[call.id] = handling
        if patience is not None:
            self._at(self._now + patience, GIVE_UP, call.id)
        for delay in self._queue_delays(queue_id):
            self._at(self._now + delay * (self.config.speed if self.live else 1.0), TICK)

    def _number(self) -> str:
        """A French mobile number the numbering plan accepts."""
        while True:
            number = f"+336{self._calls.randrange(10 ** 8):08d}"
            try:
                return phones.parse(number, "FR")
            except ValidationError:
                continue

    def _queue_delays(self, queue_id: int) -> list[float]:
        """When this queue's waiting rules (overflow, maximum wait, callback offer) may act on a new call:
        the ticker must run then, even if nothing else happens."""
        if queue_id not in self._delays:
            with self.ctx.read() as session:
                queue = session.get(Queue, queue_id)
                self._delays[queue_id] = [d for d in (queue.overflow_after_s, queue.max_wait_s, queue.callback_after_s)
                                          if d is not None]
        return self._delays[queue_id]

    def _discover(self) -> None:
        """Calls that now ring a simulated agent get an answer; a simulated call a person answered gets
        its opening line and, later, the caller's hang-up."""
        floor = self.floor
        with self.ctx.read() as session:
            rows = session.execute(select(Call.id, Call.agent_id, Call.state).where(
                Call.caller_user_id == floor.caller.id,
                Call.state.in_([CallState.RINGING.value, CallState.CONNECTED.value, CallState.ON_HOLD.value]))
                .order_by(Call.id)).all()
        for call_id, agent_id, state in rows:
            if agent_id in self._agent_by_id:
                if state == CallState.RINGING and (call_id, agent_id) not in self._rung:
                    self._rung.add((call_id, agent_id))
                    low, high = self.ring_delay
                    delay = self._rings.uniform(low, high) if high > low else low
                    self._at(self._now + delay, ANSWER, call_id, agent_id)
            elif state in (CallState.CONNECTED, CallState.ON_HOLD) and call_id not in self._greeted:
                self._greeted.add(call_id)
                self._greet(call_id)

    def _greet(self, call_id: int) -> None:
        """A person answered a simulated caller: one opening line, and a hang-up after the call's talk time."""
        line = self._rings.choice(OPENING_LINES)
        try:
            calls.say(self.ctx, self.floor.caller, call_id, line)
        except DomainError:
            pass  # already on hold or hung up: the caller keeps quiet
        talk = self._handling.get(call_id, self.config.aht_s) * (1 - self.config.wrap_share)
        self._at(self._now + talk, CALLER_HANG_UP, call_id)

    def _answer(self, call_id: int, agent_id: int) -> None:
        try:
            calls.answer(self.ctx, self._agent_by_id[agent_id], call_id)
        except IllegalTransition:
            return  # the caller hung up, or the ring timed out, while it rang
        talk = self._handling[call_id] * (1 - self.config.wrap_share) if call_id in self._handling else 0.0
        self._at(self._now + talk, AGENT_HANG_UP, call_id, agent_id)

    def _agent_hang_up(self, call_id: int, agent_id: int) -> None:
        calls.hang_up(self.ctx, self._agent_by_id[agent_id], call_id)
        wrap = self._handling.get(call_id, 0.0) * self.config.wrap_share
        self._at(self._now + wrap, CLOSE, call_id, agent_id)

    def _close(self, call_id: int, agent_id: int) -> None:
        with self.ctx.read() as session:
            queue_id = session.scalar(select(Call.queue_id).where(Call.id == call_id))
        choices = self.floor.dispositions.get(queue_id)
        if not choices:  # overflowed or transferred to a queue outside the simulated ones
            with self.ctx.read() as session:
                choices = list(session.scalars(
                    select(QueueDisposition.disposition_id).join(Disposition, Disposition.id == QueueDisposition.disposition_id)
                    .where(QueueDisposition.queue_id == queue_id, Disposition.requires_callback.is_(False))
                    .order_by(QueueDisposition.position)))
        calls.close(self.ctx, self._agent_by_id[agent_id], call_id, self._rings.choice(choices))

    def _caller_hang_up(self, call_id: int, give_up: bool) -> None:
        """Patience ran out (only before an answer), or the caller ends a call a person answered."""
        with self.ctx.read() as session:
            state = CallState(session.scalar(select(Call.state).where(Call.id == call_id)))
        if state in TERMINAL or state == CallState.WRAP_UP:
            return
        if give_up and state in LIVE:
            return
        calls.hang_up(self.ctx, self.floor.caller, call_id)

    def _waiting_now(self) -> int:
        with self.ctx.read() as session:
            return session.scalar(select(func.count()).select_from(Call).where(
                *self._mine(), Call.state.in_([s.value for s in WAITING]))) or 0

    def _release_leftovers(self) -> None:
        """Live mode: end what simulated users still hold (a run stopped by Ctrl-C, or one that crashed),
        so no call waits for a caller or an agent who is gone. Calls on a person's desktop stay theirs."""
        floor, ctx = self.floor, self.ctx
        with ctx.read() as session:
            rows = session.execute(select(Call.id, Call.agent_id, Call.state).where(
                (Call.caller_user_id == floor.caller.id) | Call.agent_id.in_(list(self._agent_by_id)),
                Call.state.not_in([s.value for s in TERMINAL])).order_by(Call.id)).all()
        for call_id, agent_id, state in rows:
            agent = self._agent_by_id.get(agent_id)
            state = CallState(state)
            try:
                if agent is None:
                    if state in WAITING or state == CallState.RINGING:
                        calls.hang_up(ctx, floor.caller, call_id)
                    continue
                if state == CallState.RINGING:
                    calls.answer(ctx, agent, call_id)
                    state = CallState.CONNECTED
                if state in LIVE:
                    calls.hang_up(ctx, agent, call_id)
                    state = CallState.WRAP_UP
                if state == CallState.WRAP_UP:
                    self._close(call_id, agent_id)
            except DomainError:
                continue  # someone else moved it meanwhile: theirs now

    # -- the figures

    def _figures(self, facts: list) -> kpi_rules.Figures:
        """The KPI module's figures of the measured calls. A live run sped up X times lives in real time
        (that is what the floor's KPI page shows): the threshold is divided by X and the durations
        multiplied back, so that they compare with the inputs and Erlang C."""
        config = self.config
        if not self.live or config.speed == 1:
            return kpi_rules.figures(facts, sl_threshold_s=config.sl_time_s)
        return _in_simulated_time(kpi_rules.figures(facts, sl_threshold_s=config.sl_time_s / config.speed),
                                  config.speed, config.sl_time_s)

    def _result(self, waiting_at_end: int, wall_s: float) -> SimulationResult:
        from . import kpis as kpi_service

        config = self.config
        since = self._wall(config.warmup)
        until = self._wall(config.horizon_s)
        placed = set(self.placed)
        now = self.ctx.now()
        with self.ctx.read() as session:
            facts = [f for f in kpi_service.call_facts(session, since, until, now=now, repeats=False)
                     if f.call_id in placed]
            times = kpi_service.agent_times(session, since, until, ZoneInfo(self.ctx.settings.timezone), now,
                                            user_ids=list(self._agent_by_id))
            max_waiting = _max_waiting(session, since, until, self._mine())
            unfinished = session.scalar(select(func.count()).select_from(Call).where(
                *self._mine(), Call.state.not_in([s.value for s in TERMINAL]))) or 0
        occupancy = kpi_rules.total_time(times.values()).occupancy
        waited = None
        if max(self.ring_delay) == 0:
            at_once = kpi_rules.figures(facts, sl_threshold_s=0).service_level
            waited = None if at_once is None else 1 - at_once
        needed = None
        try:
            needed = erlang.required(config.calls_per_hour, 3600, config.aht_s, 0.8, config.sl_time_s).agents
        except ValueError:
            pass
        figures = self._figures(facts)
        realised = None
        window_s = (until - since).total_seconds()
        if figures.offered and figures.aht_s and window_s > 0:
            realised = erlang.evaluate(figures.offered * 3600 / window_s, 3600, figures.aht_s, config.agents,
                                       config.sl_time_s)
        return SimulationResult(
            config=config, live=self.live, since=since, until=until, warmup_s=config.warmup,
            ring_delay_s=tuple(self.ring_delay), placed=len(self.placed),
            figures=figures, occupancy=occupancy, erlang_realised=realised,
            waited_share=waited,
            max_waiting=max_waiting, waiting_at_end=waiting_at_end, unfinished=unfinished,
            erlang=erlang.evaluate(config.calls_per_hour, 3600, config.aht_s, config.agents, config.sl_time_s),
            needed_for_80=needed, queues=tuple(self.floor.queue_codes), wall_s=wall_s)


def _in_simulated_time(figures: kpi_rules.Figures, speed: float, sl_time_s: int) -> kpi_rules.Figures:
    """A sped-up live run's figures with their durations back in simulated seconds (real × speed)."""
    def scaled(value):
        return None if value is None else value * speed

    return replace(figures, sl_threshold_s=sl_time_s, asa_s=scaled(figures.asa_s), aht_s=scaled(figures.aht_s),
                   talk_s=figures.talk_s * speed, hold_s=figures.hold_s * speed, wrap_up_s=figures.wrap_up_s * speed,
                   longest_wait_s=scaled(figures.longest_wait_s))


def _max_waiting(session, since: datetime, until: datetime, calls_of_run: list) -> int:
    """The most calls of the run waiting in a queue at once within [since, until], from the call events."""
    waiting_states = {s.value for s in WAITING}
    count = peak = 0
    for at, before, after in session.execute(select(CallEvent.at, CallEvent.from_state, CallEvent.to_state)
                                             .where(CallEvent.call_id.in_(select(Call.id).where(*calls_of_run)))
                                             .order_by(CallEvent.at, CallEvent.id)):
        at = as_utc(at)
        if at > until:
            break
        count += (after in waiting_states) - (before in waiting_states)
        if at >= since:
            peak = max(peak, count)
    return peak


def simulate(config: SimulationConfig, live: bool = False, settings: Settings | None = None,
             source_url: str | None = None, keep: Path | None = None,
             progress: Callable[[float], None] | None = None) -> SimulationResult:
    """Run ``config`` on a scratch floor (default) or, with ``live``, on the configured database in real time."""
    config.check()
    if live:
        settings = settings or get_settings()
        ctx = Context(db=Database(settings.database_url), clock=SystemClock(), bus=LocalBus(), settings=settings)
        try:
            return Simulation(ctx, config, live=True, progress=progress).run()
        finally:
            ctx.db.dispose()
    with scratch_context(settings, source_url, keep) as ctx:
        return Simulation(ctx, config, progress=progress).run()
