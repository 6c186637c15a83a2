"""What every use case needs: the database, the clock, the bus, the settings.

Use cases are plain functions ``do_something(ctx, actor, ...)``: they open a
unit of work, apply domain rules, write rows and outbox events in the same
transaction, then wake the bus once the commit succeeded (Zulip's ``do_*``).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator

from sqlalchemy.orm import Session

from ..bus.local import LocalBus
from ..config import Settings, get_settings
from ..domain.clock import Clock, SystemClock
from ..store.db import Database
from ..store.models import Event

ROLES = ("agent", "supervisor", "admin")


@dataclass(frozen=True)
class Actor:
    """Who is acting: a logged-in user, or the system (id None)."""

    id: int | None
    role: str = "agent"
    name: str = ""

    @property
    def is_supervisor(self) -> bool:
        return self.role in ("supervisor", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


SYSTEM = Actor(id=None, role="admin", name="système")


@dataclass
class Context:
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    bus: LocalBus = field(default_factory=LocalBus)
    settings: Settings = field(default_factory=get_settings)

    def now(self) -> datetime:
        return self.clock.now()

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """A write transaction; wakes event readers after a successful commit."""
        with self.db.session() as session:
            yield session
        if session.info.pop("events", False):
            self.bus.notify()

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.db.read() as session:
            yield session


def emit(session: Session, channel: str, type_: str, payload: dict, at: datetime) -> None:
    """Queue an event in the outbox, in the caller's transaction."""
    session.add(Event(channel=channel, type=type_, payload=payload, created_at=at))
    session.info["events"] = True


def user_channel(user_id: int) -> str:
    return f"user:{user_id}"


FLOOR = "floor"
