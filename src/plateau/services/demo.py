"""The demo company, Énergie Horizon: what ``plateau seed`` puts in a new database.

Reference data (users, queues with their scripts and qualifications,
products, knowledge base, a featured customer) comes from ``data/demo``;
the customer file is generated (``contact_generator``) and inserted in
batches with Core ``INSERT`` statements, fast enough for the million rows
the benchmarks need; a few hundred past calls give the history pages
something to show (``demo_history``); three outbound campaigns, advisors'
calendars and the calling rules' data (an opposition list, consent proofs)
give the outbound floor its own (``demo_campaigns``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from sqlalchemy import func, insert, select

from ..domain.contacts import ALL_FIELDS, display_name
from ..domain.errors import DomainError
from ..store.bulk import insert_contacts
from ..store.models import (AgentSkill, CallScript, Contact, ContactChange, ContactPhone, Disposition, KnowledgeArticle,
                            Product, Queue, QueueDisposition, QueueMember, QueueSkill, Skill, Team, User)
from . import ivr, knowledge, objectives
from .context import Context
from .contact_generator import ContactGenerator
from .demo_campaigns import seed_campaigns
from .demo_data import DemoData, DemoDataError, UserSpec, load_demo
from .demo_history import seed_history
from .users import actor_for, create_user

Progress = Callable[[int, int], None]

BATCH = 5000
#: SQLite page cache while seeding (KiB): the default 2 MB makes a million-row
#: seed re-read index pages from the OS all the time
SQLITE_CACHE_KIB = 262_144
#: how long ago the featured customers' records were created
FEATURED_AGE_DAYS = 400


class SeedRefused(Exception):
    """The database already holds data: seeding it again would mix two companies."""


@dataclass
class SeedReport:
    logins: list[UserSpec] = field(default_factory=list)
    queues: int = 0
    products: int = 0
    articles: int = 0
    contacts: int = 0
    calls: int = 0
    campaigns: int = 0
    #: contacts on the campaigns' target lists, all campaigns together
    campaign_contacts: int = 0


def user_count(ctx: Context) -> int:
    with ctx.read() as session:
        return session.scalar(select(func.count()).select_from(User)) or 0


def seed_demo(ctx: Context, contacts: int = 10_000, seed: int = 42, history_calls: int = 300,
              progress: Progress | None = None, data: DemoData | None = None) -> SeedReport:
    """Build the whole demo company in an empty database.

    ``contacts`` counts every contact of the file, the featured ones included.
    Everything is checked before the first write: a missing call script
    stops the seed instead of leaving a queue without one.
    """
    data = data or load_demo()
    if user_count(ctx):
        raise SeedRefused("La base contient déjà des utilisateurs : « plateau seed » ne remplit qu'une base vide "
                          "(utilisez --if-empty pour ne rien faire, ou --contacts-only pour ajouter des contacts).")
    import_script = _script_importer(ctx, data)
    ivr_menus = ivr.demo_menus(data.directory, [q.code for q in data.queues.queues])  # checked before any write
    demo_objectives = objectives.demo_objectives(data.directory, [t.code for t in data.company.teams],
                                                 [u.username for u in data.company.users])  # checked before any write
    report = SeedReport(logins=list(data.company.users))
    users = {spec.username: create_user(ctx, spec.username, spec.password, spec.display_name, role=spec.role)
             for spec in data.company.users}
    admin_user = next(u for u in users.values() if u.role == "admin")
    admin = actor_for(admin_user)
    scripts = {}
    for queue in data.queues.queues:
        path = data.script_path(queue.code)
        try:
            scripts[queue.code] = import_script(ctx, admin, path.read_text(encoding="utf-8"))
        except DomainError as exc:
            raise DemoDataError(f"{path} : script refusé : {_reasons(exc)}") from None
    agents = [u for u in users.values() if u.role == "agent"]
    report.queues = _seed_queues(ctx, data, scripts, agents)
    _seed_floor(ctx, data, users)
    objectives.seed_objectives(ctx, admin, demo_objectives)  # DMT ≤ 4 min, 50 calls a day, 90 % qualified
    for menu in ivr_menus:  # the voice menus ("SVI") callers dial, over the queues just made
        ivr.import_menu(ctx, admin, menu.code, menu.name, menu.number, menu.content)
    report.products, report.articles = seed_catalogue(ctx, data)
    featured = _seed_featured(ctx, data, admin_user)
    report.contacts = len(featured) + seed_contacts(ctx, max(0, contacts - len(featured)), seed, progress, data)
    report.calls = seed_history(ctx, data, random.Random(f"plateau-history:{seed}"), history_calls,
                                agents=agents, trainer=next(u for u in users.values() if u.role == "supervisor"),
                                featured_ids=featured)
    outbound = seed_campaigns(ctx, data, admin, seed, exclude_contact_ids=featured)
    report.campaigns, report.campaign_contacts = outbound.campaigns, outbound.targets
    return report


def seed_contacts(ctx: Context, count: int, seed: int = 42, progress: Progress | None = None,
                  data: DemoData | None = None, batch: int = BATCH) -> int:
    """Add ``count`` generated contacts to the file; returns how many were added.

    The same seed on the same database gives the same contacts. Customer
    numbers continue after the highest existing one; the random stream also
    depends on how many contacts exist, so a second run adds new people
    instead of twins of the first run's.
    """
    if count <= 0:
        return 0
    data = data or load_demo()
    prefix = data.company.company.customer_number_prefix
    width = len(prefix) + data.company.company.customer_number_digits
    with ctx.read() as session:
        existing = session.scalar(select(func.count()).select_from(Contact)) or 0
        highest = session.scalar(select(func.max(Contact.customer_number)).where(
            Contact.customer_number.like(f"{prefix}%"), func.length(Contact.customer_number) == width))
    first_number = int(highest[len(prefix):]) + 1 if highest and highest[len(prefix):].isdigit() else 1
    generator = ContactGenerator(data, f"plateau-contacts:{seed}:{existing}", ctx.now(), first_number)
    phones = ContactPhone.__table__
    done = 0
    while done < count:
        size = min(batch, count - done)
        company_count, person_count = generator.split(size)
        with ctx.unit() as session:
            conn = session.connection()
            if conn.dialect.name == "sqlite":
                # index pages of a big file are touched at random: keep them in memory
                conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            phone_rows: list[dict] = []
            if company_count:
                rows, numbers = generator.companies(company_count)
                ids = insert_contacts(conn, rows)
                generator.add_companies(ids, rows)
                phone_rows += _phone_rows(ids, numbers)
            rows, numbers = generator.persons(person_count)
            ids = insert_contacts(conn, rows)
            phone_rows += _phone_rows(ids, numbers)
            if phone_rows:
                conn.execute(insert(phones), phone_rows)
        done += size
        if progress:
            progress(done, count)
    return done


def _phone_rows(ids: list[int], numbers: list[list[tuple[str, str]]]) -> list[dict]:
    return [{"contact_id": cid, "e164": e164, "label": label, "position": position}
            for cid, entries in zip(ids, numbers) for position, (e164, label) in enumerate(entries)]


def _script_importer(ctx: Context, data: DemoData):
    """The call-script importer, once every queue's script parses (``load_demo`` checked that the files exist).

    Checked before the first write, so a broken script stops the seed with
    its file name instead of leaving a queue without a script.
    """
    try:
        from . import scripts
    except ImportError as exc:
        raise DemoDataError(f"Import des scripts d'appel indisponible (plateau.services.scripts) : {exc}") from exc
    check = getattr(scripts, "check_script", None)
    for queue in data.queues.queues:
        path = data.script_path(queue.code)
        if check is not None:
            try:
                check(ctx, path.read_text(encoding="utf-8"))
            except DomainError as exc:
                raise DemoDataError(f"{path} : script refusé : {_reasons(exc)}") from None
    return scripts.import_script


def _reasons(exc: DomainError) -> str:
    details = getattr(exc, "errors", None) or {exc.field: exc}
    return "; ".join(f"{name or ''} {err.render()}".strip() for name, err in details.items())


def _seed_queues(ctx: Context, data: DemoData, scripts: dict[str, CallScript], agents: list[User]) -> int:
    with ctx.unit() as session:
        dispositions = {}
        for spec in data.queues.dispositions:
            disposition = Disposition(code=spec.code, label=spec.label, requires_callback=spec.requires_callback,
                                      is_contact=spec.is_contact)
            session.add(disposition)
            dispositions[spec.code] = disposition
        session.flush()
        for spec in data.queues.queues:
            queue = Queue(code=spec.code, name=spec.name, description=spec.description,
                          script_id=scripts[spec.code].id, ring_timeout_s=spec.ring_timeout_s, active=True)
            session.add(queue)
            session.flush()
            for position, code in enumerate(spec.dispositions):
                session.add(QueueDisposition(queue_id=queue.id, disposition_id=dispositions[code].id, position=position))
            for agent in agents:
                session.add(QueueMember(queue_id=queue.id, user_id=agent.id))
    return len(data.queues.queues)


def _seed_floor(ctx: Context, data: DemoData, users: dict[str, User]) -> None:
    """Teams, skills, the agents' teams and levels, and the queues' routing rules (checked by ``load_demo``)."""
    with ctx.unit() as session:
        teams = {spec.code: Team(code=spec.code, name=spec.name) for spec in data.company.teams}
        skills = {spec.code: Skill(code=spec.code, label=spec.label, kind=spec.kind) for spec in data.queues.skills}
        session.add_all([*teams.values(), *skills.values()])
        session.flush()
        for spec in data.company.users:
            user = session.get(User, users[spec.username].id)
            user.team_id = teams[spec.team].id if spec.team else None
            session.add_all([AgentSkill(user_id=user.id, skill_id=skills[code].id, level=level)
                             for code, level in spec.skills.items()])
        queues = {q.code: q for q in session.scalars(select(Queue))}
        for spec in data.queues.queues:
            queue = queues[spec.code]
            queue.priority, queue.strategy, queue.closed_message = spec.priority, spec.strategy, spec.closed_message
            queue.hours = {day: [list(span) for span in spans] for day, spans in spec.hours.items()}
            queue.holiday_country = spec.holiday_country
            queue.overflow_after_s, queue.max_wait_s = spec.overflow_after_s, spec.max_wait_s
            queue.callback_after_s = spec.callback_after_s
            queue.overflow_queue_id = queues[spec.overflow_queue].id if spec.overflow_queue else None
            queue.overflow_team_id = teams[spec.overflow_team].id if spec.overflow_team else None
            queue.sl_threshold_s, queue.sl_target = spec.sl_threshold_s, spec.sl_target
            session.add_all([QueueSkill(queue_id=queue.id, skill_id=skills[code].id, min_level=level)
                             for code, level in spec.skills.items()])


def seed_catalogue(ctx: Context, data: DemoData) -> tuple[int, int]:
    """Products and knowledge-base articles; returns how many of each."""
    now = ctx.now()
    with ctx.unit() as session:
        for spec in data.products.products:
            session.add(Product(code=spec.code, name=spec.name, category=spec.category, summary=spec.summary,
                                sheet=spec.sheet, price_label=spec.price_label))
        for spec in data.knowledge.articles:
            session.add(KnowledgeArticle(slug=spec.slug, title=spec.title, category=spec.category, body=spec.body,
                                         search_text=knowledge.search_text(spec.title, spec.category, spec.body),
                                         updated_at=now))
    return len(data.products.products), len(data.knowledge.articles)


def _seed_featured(ctx: Context, data: DemoData, creator: User) -> list[int]:
    """The hand-written customers (Karim Benali), validated like a form.

    They became customers long before the calls of the demo history, so
    their record and its "created" history line are dated back.
    """
    since = ctx.now() - timedelta(days=FEATURED_AGE_DAYS)
    ids = []
    with ctx.unit() as session:
        for featured in data.company.featured_contacts:
            clean = featured.cleaned()
            contact = Contact(**clean.values, search_name=clean.search_name, created_at=since, updated_at=since)
            contact.phones = [ContactPhone(e164=e164, label=label, position=position)
                              for position, (e164, label) in enumerate(clean.phones)]
            session.add(contact)
            session.flush()
            session.add(ContactChange(contact_id=contact.id, field=ALL_FIELDS, old_value=None,
                                      new_value=display_name(contact), user_id=creator.id, at=since))
            ids.append(contact.id)
    return ids


ROLE_NAMES = {"admin": "administrateur", "supervisor": "formateur", "agent": "stagiaire"}


def login_lines(report: SeedReport | None = None) -> list[str]:
    """The demo logins as printed at the end of the seed: login, password, role, name
    (without a report: those of the demo data, as a reminder on later runs)."""
    logins = report.logins if report is not None else load_demo().company.users
    rows = [(u.username, u.password, ROLE_NAMES[u.role], u.display_name) for u in logins]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return ["  " + "  ".join(f"{value:<{width}}" for value, width in zip(row, widths)) + "  " + row[3]
            for row in rows]

