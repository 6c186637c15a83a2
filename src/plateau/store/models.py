"""Tables. One module so Alembic sees the whole schema; repositories live beside it.

Conventions: UTC timestamps (``UtcDateTime`` puts the zone back on SQLite),
``version`` columns for optimistic locking where people edit concurrently,
phone numbers in E.164, folded (unaccented, lower-case) copies of searchable
text so that search is an index lookup on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# --- people -----------------------------------------------------------------


class Team(Base):
    """A team ("équipe") of agents under a supervisor: routing overflow, KPIs and objectives group by it."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # agent | supervisor | admin
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    #: accessibility and desktop preferences: shortcuts, ring_timeout_s,
    #: wrap_up_limit_s, session_timeout_min (WCAG 2.2.1 adjustable timings)
    prefs: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)


class Skill(Base):
    """A skill routing can require: a language (fr, ar, en), a product line, an activity."""

    __tablename__ = "skills"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="activity")  # language | product | activity


class AgentSkill(Base):
    """An agent's level in a skill, 1 (notions) to 5 (expert)."""

    __tablename__ = "agent_skills"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, default=1)


class AgentPresence(Base):
    """The current state of each agent; ``agent_state_changes`` keeps the log."""

    __tablename__ = "agent_presence"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="offline")
    pause_reason: Mapped[str | None] = mapped_column(String(32))
    since: Mapped[datetime] = mapped_column(UtcDateTime)
    #: when the agent last became free: "longest idle" routing orders by it
    idle_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: the outbound campaign the agent works ("se loguer sur une campagne");
    #: while set, the agent gets that campaign's calls, not inbound ones
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)


class AgentStateChange(Base):
    __tablename__ = "agent_state_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    pause_reason: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))


# --- queues, scripts, dispositions --------------------------------------------


class CallScript(Base):
    """A call script ("guide d'entretien"); ``content`` is validated YAML."""

    __tablename__ = "call_scripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Disposition(Base):
    """A call qualification code ("Information donnée", "Vente", …)."""

    __tablename__ = "dispositions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    #: suggests scheduling a callback when chosen ("Rappel à programmer")
    requires_callback: Mapped[bool] = mapped_column(Boolean, default=False)
    #: counts as a reached/argued contact in reports
    is_contact: Mapped[bool] = mapped_column(Boolean, default=True)
    #: what the qualification means for an outbound campaign (domain.campaigns.Outcome):
    #: refused, appointment, sale, survey_completed, … ; None: "connected"
    outcome: Mapped[str | None] = mapped_column(String(32))


class Queue(Base):
    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    script_id: Mapped[int | None] = mapped_column(ForeignKey("call_scripts.id"))
    ring_timeout_s: Mapped[int] = mapped_column(Integer, default=20)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: longest_idle | most_skilled | round_robin (domain.routing.Strategy)
    strategy: Mapped[str] = mapped_column(String(16), default="longest_idle")
    #: calls of a higher-priority queue are served first when an agent is free for several
    priority: Mapped[int] = mapped_column(Integer, default=0)
    #: opening hours, local time: {"mon": [["08:00", "20:00"]], …}; empty means always open
    hours: Mapped[dict] = mapped_column(JSON, default=dict)
    #: country (ISO 3166) whose public holidays close the queue; None: no holiday closure
    holiday_country: Mapped[str | None] = mapped_column(String(2))
    closed_message: Mapped[str] = mapped_column(Text, default="")
    #: past this wait the call overflows ("débordement") to another queue or a team
    overflow_after_s: Mapped[int | None] = mapped_column(Integer)
    overflow_queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    overflow_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    #: past this wait (and no overflow left) the caller is told and the call ends
    max_wait_s: Mapped[int | None] = mapped_column(Integer)
    #: past this wait the caller may ask to be called back
    callback_after_s: Mapped[int | None] = mapped_column(Integer)
    #: service level: ``sl_target`` of calls answered within ``sl_threshold_s``
    sl_threshold_s: Mapped[int] = mapped_column(Integer, default=20)
    sl_target: Mapped[float] = mapped_column(Float, default=0.8)
    #: wallboard alert thresholds
    alert_waiting: Mapped[int] = mapped_column(Integer, default=5)
    alert_longest_wait_s: Mapped[int] = mapped_column(Integer, default=60)
    alert_abandon_rate: Mapped[float] = mapped_column(Float, default=0.1)
    #: round robin: who was offered the last call
    last_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    script: Mapped[CallScript | None] = relationship()


class QueueSkill(Base):
    """A skill a queue requires, at a minimum level."""

    __tablename__ = "queue_skills"

    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True)
    min_level: Mapped[int] = mapped_column(Integer, default=1)


class IvrMenu(Base):
    """An interactive voice menu ("SVI"): validated YAML, entered by dialling ``number``."""

    __tablename__ = "ivr_menus"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: the number a caller dials to enter the menu (E.164), optional
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    content: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class QueueDisposition(Base):
    __tablename__ = "queue_dispositions"

    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"), primary_key=True)
    disposition_id: Mapped[int] = mapped_column(ForeignKey("dispositions.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class QueueMember(Base):
    __tablename__ = "queue_members"

    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)


# --- CRM ------------------------------------------------------------------------


class Contact(Base):
    """A person or a company of the customer file ("fichier client")."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="person")  # person | company
    company_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    customer_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="prospect")  # client | prospect
    civility: Mapped[str | None] = mapped_column(String(16))  # M. | Mme
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    company_name: Mapped[str | None] = mapped_column(String(200))
    #: folded "last first company" for accent/case-insensitive search
    search_name: Mapped[str] = mapped_column(String(400), index=True, default="")
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    address_line: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(16))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2), default="FR")
    birth_date: Mapped[date | None] = mapped_column(Date)
    socio_professional_category: Mapped[str | None] = mapped_column(String(64))
    segment: Mapped[str | None] = mapped_column(String(64))
    prospect_temperature: Mapped[str | None] = mapped_column(String(8))  # cold | warm | hot
    tags: Mapped[list] = mapped_column(JSON, default=list)
    consent_call: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_email: Mapped[bool] = mapped_column(Boolean, default=False)
    opposition: Mapped[bool] = mapped_column(Boolean, default=False)
    qualification: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    phones: Mapped[list["ContactPhone"]] = relationship(
        back_populates="contact", order_by="ContactPhone.position", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class ContactPhone(Base):
    __tablename__ = "contact_phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    e164: Mapped[str] = mapped_column(String(20), index=True)
    label: Mapped[str] = mapped_column(String(32), default="mobile")  # mobile | home | work | other
    position: Mapped[int] = mapped_column(Integer, default=0)

    contact: Mapped[Contact] = relationship(back_populates="phones")


class ContactChange(Base):
    """One field of one contact changed: the history ("historique") keeps all."""

    __tablename__ = "contact_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: a call's note stays with the call even when the caller has no record yet
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Callback(Base):
    """A callback promised to a contact: for one agent or for the queue's team."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    #: the number to call back (E.164): a waiting caller may have no record yet
    number: Mapped[str | None] = mapped_column(String(32))
    #: agent (promised at wrap-up) | caller (asked while waiting in a queue)
    source: Mapped[str] = mapped_column(String(16), default="agent")
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    done_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | done | cancelled
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    #: product sheet in Markdown-like plain text
    sheet: Mapped[str] = mapped_column(Text, default="")
    price_label: Mapped[str] = mapped_column(String(200), default="")


class KnowledgeArticle(Base):
    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64), default="")
    body: Mapped[str] = mapped_column(Text)
    #: folded title + body for accent-insensitive search
    search_text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


# --- calls ----------------------------------------------------------------------


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(8), default="inbound")
    media: Mapped[str] = mapped_column(String(8), default="text")
    state: Mapped[str] = mapped_column(String(16), index=True)
    #: None while the caller is still in a voice menu
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"), index=True)
    caller_number: Mapped[str] = mapped_column(String(32), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    #: the agent the call rings for or is with (None while waiting)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: the trainer (caller console) playing the caller, if any
    caller_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: agent a transfer is aimed at, and the note that follows the call
    target_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    transfer_note: Mapped[str | None] = mapped_column(Text)
    #: agents who let this call ring out (JSON list of ids)
    declined_by: Mapped[list] = mapped_column(JSON, default=list)
    #: overflow to a team: any available agent of it may take the call
    target_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    #: routing priority (the queue's at entry; higher first)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    #: when the call entered its current queue: overflow and max wait count from it
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: the voice menu the call is in, and where in it
    ivr_id: Mapped[int | None] = mapped_column(ForeignKey("ivr_menus.id"))
    ivr_node: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    state_since: Mapped[datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ring_seconds: Mapped[float] = mapped_column(Float, default=0)
    talk_seconds: Mapped[float] = mapped_column(Float, default=0)
    hold_seconds: Mapped[float] = mapped_column(Float, default=0)
    wrap_up_seconds: Mapped[float] = mapped_column(Float, default=0)
    wait_seconds: Mapped[float] = mapped_column(Float, default=0)
    disposition_id: Mapped[int | None] = mapped_column(ForeignKey("dispositions.id"))
    #: outbound: the campaign this call belongs to (its script, qualifications, rules)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class CallEvent(Base):
    """Every transition of every call, committed when it happens."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class Utterance(Base):
    """One turn of the conversation; typed today, transcribed speech later."""

    __tablename__ = "utterances"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    speaker: Mapped[str] = mapped_column(String(16))  # agent | caller | system
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    media: Mapped[str] = mapped_column(String(8), default="text")
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class ScriptAnswer(Base):
    __tablename__ = "script_answers"
    __table_args__ = (UniqueConstraint("call_id", "question_id", name="uq_script_answers_call_question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    script_id: Mapped[int | None] = mapped_column(ForeignKey("call_scripts.id"))
    script_version: Mapped[int] = mapped_column(Integer, default=1)
    step_id: Mapped[str] = mapped_column(String(64))
    question_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


# --- events, jobs -----------------------------------------------------------------


class Event(Base):
    """The outbox: what browsers and other parts are told, in order, never lost.

    A service writes its events in the same transaction as the change; the
    bus only wakes the readers, which fetch rows after their last seen id
    (that id is the SSE ``Last-Event-ID``).
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_channel_id", "channel", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))  # "user:12", "floor"
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ImportJob(Base):
    """A CSV import: its progress, then its report of rejected rows."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|running|done|failed
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    imported_rows: Mapped[int] = mapped_column(Integer, default=0)
    rejected_rows: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# --- supervision, objectives ---------------------------------------------------------


class CallMonitor(Base):
    """A supervisor following a call: silent listening ("écoute discrète") or taking it over."""

    __tablename__ = "call_monitors"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    mode: Mapped[str] = mapped_column(String(16), default="listen")  # listen | take_over
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Whisper(Base):
    """A private message from a supervisor to an agent ("chuchotement"); the caller never sees it."""

    __tablename__ = "whispers"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    from_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    to_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class Objective(Base):
    """A performance objective: one KPI, a comparison and a target, for an agent, a team or everyone."""

    __tablename__ = "objectives"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))  # agent | team | all
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    kpi: Mapped[str] = mapped_column(String(32))  # a domain.kpis code
    comparator: Mapped[str] = mapped_column(String(2))  # <= | >=
    target: Mapped[float] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


# --- outbound campaigns ------------------------------------------------------------


class Campaign(Base):
    """An outbound campaign ("campagne d'émission d'appels"); see ``domain.campaigns``."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))  # domain.campaigns.CampaignType
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    #: quantitative objectives: {"calls", "reached", "argued", "appointments",
    #: "sales", "sales_amount", "surveys", "promises"} → number
    objectives: Mapped[dict] = mapped_column(JSON, default=dict)
    qualitative_objectives: Mapped[str] = mapped_column(Text, default="")
    script_id: Mapped[int | None] = mapped_column(ForeignKey("call_scripts.id"))
    #: product codes offered (sales, additional sale)
    products: Mapped[list] = mapped_column(JSON, default=list)
    #: how the target list was built: {"query": …, "tag": …} (a CRM selection) or {"import_job": id}
    selection: Mapped[dict] = mapped_column(JSON, default=dict)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    #: daily calling hours, campaign-local: {"mon": [["09:00", "12:30"], …], …}; empty: the rules' hours only
    hours: Mapped[dict] = mapped_column(JSON, default=dict)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    dial_mode: Mapped[str] = mapped_column(String(16), default="preview")  # domain.campaigns.DialMode
    max_attempts: Mapped[int] = mapped_column(Integer, default=4)
    #: minutes before retrying, per outcome: {"busy": 15, "no_answer": 120, "answering_machine": 240}
    retry_minutes: Mapped[dict] = mapped_column(JSON, default=dict)
    #: the number shown to the called party (E.164)
    presented_number: Mapped[str | None] = mapped_column(String(32))
    #: calling-rules profile (country of the called parties) and the campaign's sector
    country: Mapped[str] = mapped_column(String(2), default="FR")
    sector: Mapped[str | None] = mapped_column(String(64))
    #: predictive pacing: abandoned calls allowed, share of connected calls per day
    abandon_cap: Mapped[float] = mapped_column(Float, default=0.03)
    #: seconds a connected call may wait for an agent before it is dropped
    drop_after_s: Mapped[float] = mapped_column(Float, default=2.0)
    #: the informational message a dropped call hears (who called, a number to call back)
    drop_message: Mapped[str] = mapped_column(Text, default="")
    test_sample_size: Mapped[int] = mapped_column(Integer, default=5)
    #: simulated network: seed and domain.phone_network.NetworkProfile fields
    network_seed: Mapped[int] = mapped_column(Integer, default=1)
    network: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class CampaignAssignment(Base):
    """An agent or a whole team assigned to a campaign (exactly one of the two)."""

    __tablename__ = "campaign_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))


class CampaignDisposition(Base):
    """The qualification list of a campaign, in order."""

    __tablename__ = "campaign_dispositions"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    disposition_id: Mapped[int] = mapped_column(ForeignKey("dispositions.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class CampaignContact(Base):
    """One contact of a campaign's target list, and where it stands (domain.campaigns.ContactState)."""

    __tablename__ = "campaign_contacts"
    __table_args__ = (UniqueConstraint("campaign_id", "contact_id", name="uq_campaign_contacts_campaign_contact"),
                      Index("ix_campaign_contacts_due", "campaign_id", "state", "next_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    #: drawn for the test sample ("appels tests")
    in_test: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_outcome: Mapped[str | None] = mapped_column(String(32))
    #: a callback promised by this agent comes back to them
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: an agent previewing it (preview mode) or the call in progress
    locked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DialAttempt(Base):
    """One dial or dial refused by the calling rules: what was decided, why, and how it ended.

    Every outbound dial is one row, blocked ones included (``allowed`` false,
    with the reasons, shown to the agent and the supervisor). The calling
    rules count the allowed ones as calls or attempts ("4 appels en 30 jours").
    """

    __tablename__ = "dial_attempts"
    __table_args__ = (Index("ix_dial_attempts_contact_at", "contact_id", "at"),
                      Index("ix_dial_attempts_campaign_at", "campaign_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    campaign_contact_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_contacts.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    number: Mapped[str] = mapped_column(String(32), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    mode: Mapped[str] = mapped_column(String(16))  # manual | preview | progressive | predictive
    test: Mapped[bool] = mapped_column(Boolean, default=False)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    #: [{"rule", "reference", "message", "msgid", "params"}]: domain.compliance.Decision.stored_reasons()
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    #: what the simulated network will do: domain.phone_network.Response and after how long
    network_response: Mapped[str | None] = mapped_column(String(32))
    network_after_s: Mapped[float | None] = mapped_column(Float)
    #: when the far end answered (a person or a machine)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: when an agent got the call (connected)
    connected_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(32))  # domain.campaigns.Outcome


class CampaignChange(Base):
    """One parameter of one campaign changed (append-only log)."""

    __tablename__ = "campaign_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class Advisor(Base):
    """Someone appointments are booked with (a sales advisor, a technician): a simple calendar."""

    __tablename__ = "advisors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: weekly availability, local time: {"mon": [["09:00", "12:00"], …]}
    hours: Mapped[dict] = mapped_column(JSON, default=dict)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    location: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (UniqueConstraint("advisor_id", "starts_at", name="uq_appointments_advisor_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    advisor_id: Mapped[int] = mapped_column(ForeignKey("advisors.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    mode: Mapped[str] = mapped_column(String(16), default="visit")  # visit | phone | video
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="booked")  # booked | cancelled
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PaymentPlan(Base):
    """Debt collection: a promise to pay or a payment plan ("échéancier") agreed on a call."""

    __tablename__ = "payment_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="plan")  # plan | promise
    #: amounts in cents, to avoid float money
    debt_cents: Mapped[int] = mapped_column(Integer, default=0)
    total_cents: Mapped[int] = mapped_column(Integer, default=0)
    #: [{"due": "YYYY-MM-DD", "amount_cents": int}]
    instalments: Mapped[list] = mapped_column(JSON, default=list)
    payment_method: Mapped[str] = mapped_column(String(32), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Sale(Base):
    """A sale recorded on a call: lines, amount, payment and delivery terms, and the additional sale."""

    __tablename__ = "sales"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    #: [{"product": code, "quantity": int, "unit_price_cents": int, "additional": bool}]
    lines: Mapped[list] = mapped_column(JSON, default=list)
    amount_cents: Mapped[int] = mapped_column(Integer, default=0)
    #: part of the amount from additional sales ("vente additionnelle")
    additional_cents: Mapped[int] = mapped_column(Integer, default=0)
    payment_terms: Mapped[str] = mapped_column(String(200), default="")
    delivery_terms: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


# --- calling rules (compliance) ---------------------------------------------------------


class ContactConsent(Base):
    """Consent to telephone prospecting, with its proof, and its withdrawal (loi n° 2025-594).

    ``kind`` "call": prior consent to prospecting calls; "call_hours": express
    agreement to be called outside the legal hours.
    """

    __tablename__ = "contact_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="call")
    given_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: how it was collected: web_form | paper | call_recording | email | other
    method: Mapped[str] = mapped_column(String(32))
    #: the text the person agreed to, word for word
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200), default="")  # where the proof is kept
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    withdrawn_how: Mapped[str | None] = mapped_column(String(200))


class OppositionList(Base):
    """A do-not-call list: the company's own ("liste repoussoir") or an imported one (Bloctel, …)."""

    __tablename__ = "opposition_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="own")  # own | imported
    country: Mapped[str] = mapped_column(String(2), default="FR")
    #: last import of an imported list: a warning shows when it is older than 30 days
    imported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    entries_count: Mapped[int] = mapped_column(Integer, default=0)


class OppositionEntry(Base):
    __tablename__ = "opposition_entries"
    __table_args__ = (UniqueConstraint("list_id", "e164", name="uq_opposition_entries_list_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("opposition_lists.id", ondelete="CASCADE"))
    e164: Mapped[str] = mapped_column(String(20), index=True)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(200), default="")


class ComplianceSwitch(Base):
    """An administrator switching one calling rule of a profile on or off (append-only: the audit trail).

    The rule's current state is its latest row; no row means the profile's default.
    """

    __tablename__ = "compliance_switches"

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    rule: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


# --- role plays and evaluation -------------------------------------------------------------


class ScenarioAssignment(Base):
    """A trainer assigning a role-play scenario to a trainee or to a whole team."""

    __tablename__ = "scenario_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario: Mapped[str] = mapped_column(String(64))  # data/scenarios code
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PracticeAttempt(Base):
    """One role play ("mise en situation"): a trainee, a scenario, the call it made, its seed."""

    __tablename__ = "practice_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario: Mapped[str] = mapped_column(String(64), index=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), unique=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("scenario_assignments.id"))
    #: the simulated caller is deterministic for this seed
    seed: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: how the simulated caller ended: agreed | refused | hung_up | asked_supervisor | …
    outcome: Mapped[str | None] = mapped_column(String(32))
    #: the trainee filled the self-assessment grid (results are shown only after)
    self_assessed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Rating(Base):
    """One judgement of one criterion on one call: append-only evidence ("preuve").

    Who or what rated (``source``: auto, self, trainer, llm — an LLM only
    proposes), when, why, and against which version of the grid: a framework
    edited later does not change past ratings. A trainer's override is a new
    row; the automatic one stays.
    """

    __tablename__ = "ratings"
    __table_args__ = (Index("ix_ratings_call_framework", "call_id", "framework", "criterion_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    framework: Mapped[str] = mapped_column(String(64))
    #: a digest of the framework file the rating used
    grid_version: Mapped[str] = mapped_column(String(64))
    criterion_id: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(16))  # auto | self | trainer | llm
    result: Mapped[str] = mapped_column(String(16))  # met | not_met | not_assessable
    evidence: Mapped[list] = mapped_column(JSON, default=list)
    rationale: Mapped[str] = mapped_column(Text, default="")
    rated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class CallFeedback(Base):
    """A trainer's written feedback on a call (append-only, like ratings)."""

    __tablename__ = "call_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
