"""Administration of the floor: queues' routing rules, skills, teams, agents' skills and teams.

Supervisors and administrators only. Forms come in as the strings people
typed (``QueueForm``, ``AgentInput``), like ``calls.CallbackRequest``: the
parsing and every rule live here, so the pages, the API and the tests see the
same refusals, each attached to the field it concerns.

Two supervisors may edit the same queue: there is no version column on
queues, so the edit form carries a fingerprint of what it was built from
(every setting, required skills, members and qualifications); a save whose
fingerprint no longer matches is refused with a ConflictError, and the page
offers to save again knowingly. The agents' grid does the same per agent,
and only writes the rows a person actually changed, so two supervisors
editing different agents never overwrite each other.

There is no audit table for these settings: each change is written to the
``plateau.audit`` logger (who, what, which fields) and announced on the
floor channel (``queue_settings``) so open wallboards can reload.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field

import holidays
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..domain import queue_hours
from ..domain.errors import N_, ConflictError, DomainError, NotFoundError, PermissionDenied, ValidationError
from ..domain.routing import Strategy
from ..store.models import (AgentSkill, Call, CallScript, Disposition, Objective, Queue, QueueDisposition, QueueMember,
                            QueueSkill, Skill, Team, User)
from . import calls
from .context import FLOOR, Actor, Context, emit

audit = logging.getLogger("plateau.audit")

#: the countries whose public holidays the queue form offers (any country ``holidays`` knows is accepted)
HOLIDAY_COUNTRIES = {"FR": N_("France"), "MA": N_("Maroc"), "DZ": N_("Algérie"), "BE": N_("Belgique"),
                     "CH": N_("Suisse"), "CA": N_("Canada"), "TN": N_("Tunisie"), "SN": N_("Sénégal")}
SKILL_KINDS = {"language": N_("Langue"), "product": N_("Produit"), "activity": N_("Activité")}
LEVEL_LABELS = {1: N_("1 – notions"), 2: N_("2 – débutant"), 3: N_("3 – autonome"), 4: N_("4 – confirmé"),
                5: N_("5 – expert")}
LEVELS = tuple(LEVEL_LABELS)
#: a delay longer than a day is a typing mistake, not a queue rule
MAX_DELAY_S = 86_400
MAX_PRIORITY = 100
MAX_CLOSED_MESSAGE = 1000
MAX_NAME = 200
MIN_RING_S, MAX_RING_S = 5, 300
#: blank "required skill" rows offered under the existing ones
BLANK_SKILL_ROWS = 2
_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")

#: the queue columns this module edits (``last_agent_id`` is routing's own state, never compared)
QUEUE_FIELDS = ("code", "name", "description", "active", "script_id", "ring_timeout_s", "strategy", "priority", "hours",
                "holiday_country", "closed_message", "overflow_after_s", "overflow_queue_id", "overflow_team_id",
                "max_wait_s", "callback_after_s", "sl_threshold_s", "sl_target", "alert_waiting",
                "alert_longest_wait_s", "alert_abandon_rate")

_ERR_INT = N_("Indiquez un nombre entier.")
_ERR_RANGE = N_("Indiquez un nombre entre %(min)s et %(max)s.")
_ERR_DELAY = N_("Indiquez un délai en secondes, supérieur à 0 et au plus %(max)s.")
_ERR_COUNT = N_("Indiquez un nombre positif ou nul.")
_ERR_PERCENT = N_("Indiquez un pourcentage entre 0 et 100.")
_ERR_CODE = N_("Le code s'écrit en minuscules sans accent, chiffres, tirets et soulignés (64 caractères au plus).")
_ERR_NAME = N_("Le nom est obligatoire (%(max)s caractères au plus).")


def require_supervisor(actor: Actor) -> None:
    if not actor.is_supervisor:
        raise PermissionDenied(N_("Réservé aux superviseurs, formateurs et administrateurs."))


# --- pure checks, shared with the demo data loader ----------------------------------------


def delay_problems(callback_after_s: int | None, overflow_after_s: int | None,
                   max_wait_s: int | None) -> dict[str, DomainError]:
    """The waiting delays must happen before the call is cut, or the caller never sees them.

    (``routing.waiting_action`` overflows first, then cuts at the maximum wait.)
    """
    errors: dict[str, DomainError] = {}
    if max_wait_s is None:
        return errors
    if callback_after_s is not None and callback_after_s >= max_wait_s:
        errors["callback_after_s"] = DomainError(
            N_("Le rappel doit être proposé avant l'attente maximale (%(max)s s) : sinon l'appelant n'en a jamais le choix."),
            "callback_after_s", max=max_wait_s)
    if overflow_after_s is not None and overflow_after_s >= max_wait_s:
        errors["overflow_after_s"] = DomainError(
            N_("Le débordement doit avoir lieu avant l'attente maximale (%(max)s s) : sinon l'appel est coupé avant de déborder."),
            "overflow_after_s", max=max_wait_s)
    return errors


def holiday_country_known(code: str) -> bool:
    return code in holidays.list_supported_countries()


#: the weekday as messages name it (a msgid: the web layer translates it, see ``queues_admin``)
DAY_PARAM = queue_hours.DAY_LABELS


def hours_problems(days: dict[str, str]) -> tuple[dict, dict[str, DomainError]]:
    """Opening hours typed per weekday ("08:30-12:30, 13:30-18:00") → the stored table, errors per day."""
    table: dict[str, list[list[str]]] = {}
    errors: dict[str, DomainError] = {}
    for day in queue_hours.DAYS:
        name = f"hours_{day}"
        try:
            spans = queue_hours.parse_ranges(DAY_PARAM[day], days.get(day, ""))
            table.update(queue_hours.validate_hours({day: spans}))
        except DomainError as exc:
            errors[name] = DomainError(exc.message, name, **{**exc.params, "day": DAY_PARAM[day]})
    return table, errors


# --- queues -----------------------------------------------------------------------------------


@dataclass
class SkillRequirement:
    """One "required skill" row of the form, as typed."""

    skill_id: str = ""
    min_level: str = "1"


@dataclass
class QueueForm:
    """The queue form as typed: strings, percentages for rates, one hours text per weekday."""

    code: str = ""
    name: str = ""
    description: str = ""
    active: bool = True
    script_id: str = ""
    ring_timeout_s: str = "20"
    strategy: str = Strategy.LONGEST_IDLE.value
    priority: str = "0"
    hours: dict[str, str] = field(default_factory=dict)
    holiday_country: str = ""
    closed_message: str = ""
    overflow_after_s: str = ""
    overflow_queue_id: str = ""
    overflow_team_id: str = ""
    max_wait_s: str = ""
    callback_after_s: str = ""
    sl_threshold_s: str = "20"
    sl_target: str = "80"
    alert_waiting: str = "5"
    alert_longest_wait_s: str = "60"
    alert_abandon_rate: str = "10"
    skills: list[SkillRequirement] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    dispositions: list[str] = field(default_factory=list)


@dataclass
class QueueChoices:
    """What the queue form's selects and checkboxes offer."""

    scripts: list[CallScript]
    queues: list[Queue]
    teams: list[Team]
    skills: list[Skill]
    users: list[User]
    dispositions: list[Disposition]


@dataclass
class QueueEdit:
    queue: Queue | None
    form: QueueForm
    #: what the form was built from; sent back with the form (optimistic concurrency)
    fingerprint: str
    choices: QueueChoices


@dataclass
class QueueSummary:
    """One line of the queues' table."""

    queue: Queue
    #: consecutive days with the same hours: (first day, last day, "08:30-12:30, 13:30-18:00")
    hours: list[tuple[str, str, str]]
    skills: list[tuple[Skill, int]]
    members: list[str]
    overflow_queue: str
    overflow_team: str
    #: False when no member has every required skill: nobody will ever be offered its calls
    served: bool


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:g}"


def _text(value) -> str:
    return "" if value is None else str(value)


def form_of(session: Session, queue: Queue) -> QueueForm:
    """A stored queue as its edit form shows it."""
    hours = queue.hours or {}
    return QueueForm(
        code=queue.code, name=queue.name, description=queue.description or "", active=bool(queue.active),
        script_id=_text(queue.script_id), ring_timeout_s=_text(queue.ring_timeout_s), strategy=queue.strategy,
        priority=_text(queue.priority), hours={day: queue_hours.format_ranges(hours.get(day, [])) for day in queue_hours.DAYS},
        holiday_country=queue.holiday_country or "", closed_message=queue.closed_message or "",
        overflow_after_s=_text(queue.overflow_after_s), overflow_queue_id=_text(queue.overflow_queue_id),
        overflow_team_id=_text(queue.overflow_team_id), max_wait_s=_text(queue.max_wait_s),
        callback_after_s=_text(queue.callback_after_s), sl_threshold_s=_text(queue.sl_threshold_s),
        sl_target=_percent(queue.sl_target), alert_waiting=_text(queue.alert_waiting),
        alert_longest_wait_s=_text(queue.alert_longest_wait_s), alert_abandon_rate=_percent(queue.alert_abandon_rate),
        skills=[SkillRequirement(str(skill_id), str(level)) for skill_id, level in _required(session, queue.id)],
        members=[str(user_id) for user_id in _members(session, queue.id)],
        dispositions=[str(d_id) for d_id in _dispositions(session, queue.id)],
    )


def _required(session: Session, queue_id: int) -> list[tuple[int, int]]:
    return [tuple(row) for row in session.execute(select(QueueSkill.skill_id, QueueSkill.min_level)
                                                  .where(QueueSkill.queue_id == queue_id).order_by(QueueSkill.skill_id))]


def _members(session: Session, queue_id: int) -> list[int]:
    return list(session.scalars(select(QueueMember.user_id).where(QueueMember.queue_id == queue_id)
                                .order_by(QueueMember.user_id)))


def _dispositions(session: Session, queue_id: int) -> list[int]:
    return list(session.scalars(select(QueueDisposition.disposition_id).where(QueueDisposition.queue_id == queue_id)
                                .order_by(QueueDisposition.position, QueueDisposition.disposition_id)))


def _snapshot(session: Session, queue: Queue) -> dict:
    values = {name: getattr(queue, name) for name in QUEUE_FIELDS}
    values.update(skills=_required(session, queue.id), members=_members(session, queue.id),
                  dispositions=_dispositions(session, queue.id))
    return values


def _fingerprint(snapshot: dict) -> str:
    text = json.dumps(snapshot, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _choices(session: Session, queue_id: int | None) -> QueueChoices:
    return QueueChoices(
        scripts=list(session.scalars(select(CallScript).order_by(CallScript.name))),
        queues=list(session.scalars(select(Queue).where(Queue.active.is_(True), Queue.id != (queue_id or 0))
                                    .order_by(Queue.name))),
        teams=list(session.scalars(select(Team).order_by(Team.name))),
        skills=list(session.scalars(select(Skill).order_by(Skill.kind, Skill.label))),
        users=list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.display_name))),
        dispositions=list(session.scalars(select(Disposition).order_by(Disposition.label))),
    )


def edit_queue(ctx: Context, actor: Actor, queue_id: int | None = None, form: QueueForm | None = None) -> QueueEdit:
    """The edit form of a queue (a blank one when ``queue_id`` is None), or ``form`` kept as typed."""
    require_supervisor(actor)
    with ctx.read() as session:
        queue = None
        fingerprint = ""
        if queue_id is not None:
            queue = session.get(Queue, queue_id)
            if queue is None:
                raise NotFoundError(N_("File d'attente introuvable."))
            fingerprint = _fingerprint(_snapshot(session, queue))
        if form is None:
            form = form_of(session, queue) if queue is not None else QueueForm()
        return QueueEdit(queue, form, fingerprint, _choices(session, queue_id))


def list_queues(ctx: Context, actor: Actor) -> list[QueueSummary]:
    """Every queue (active ones first) with what routes its calls."""
    require_supervisor(actor)
    with ctx.read() as session:
        queues = list(session.scalars(select(Queue).order_by(Queue.active.desc(), Queue.priority.desc(), Queue.name)))
        names = {q.id: q.name for q in queues}
        teams = dict(session.execute(select(Team.id, Team.name)).all())
        skills = {s.id: s for s in session.scalars(select(Skill))}
        users = dict(session.execute(select(User.id, User.display_name)).all())
        levels: dict[int, dict[int, int]] = {}
        for user_id, skill_id, level in session.execute(select(AgentSkill.user_id, AgentSkill.skill_id, AgentSkill.level)):
            levels.setdefault(user_id, {})[skill_id] = level
        result = []
        for queue in queues:
            required = _required(session, queue.id)
            members = _members(session, queue.id)
            served = any(all(levels.get(m, {}).get(s, 0) >= lvl for s, lvl in required) for m in members)
            result.append(QueueSummary(
                queue=queue, hours=_hours_summary(queue.hours or {}),
                skills=[(skills[s], lvl) for s, lvl in required if s in skills],
                members=sorted(users.get(m, "") for m in members),
                overflow_queue=names.get(queue.overflow_queue_id, "") if queue.overflow_queue_id else "",
                overflow_team=teams.get(queue.overflow_team_id, "") if queue.overflow_team_id else "",
                served=served))
        return result


def _hours_summary(hours: dict) -> list[tuple[str, str, str]]:
    """Consecutive weekdays with the same ranges grouped: Monday–Friday 08:30-18:00."""
    groups: list[list] = []
    for day in queue_hours.DAYS:
        text = queue_hours.format_ranges(hours.get(day, []))
        if not text:
            continue
        previous = groups[-1] if groups else None
        if previous and previous[2] == text and queue_hours.DAYS.index(previous[1]) + 1 == queue_hours.DAYS.index(day):
            previous[1] = day
        else:
            groups.append([day, day, text])
    return [tuple(g) for g in groups]


def save_queue(ctx: Context, actor: Actor, queue_id: int | None, form: QueueForm, fingerprint: str | None = None) -> Queue:
    """Create (``queue_id`` None) or update a queue with its required skills, members and qualifications.

    Every field is checked and every refusal reported at once (ValidationError);
    an update built from an older state of the queue raises ConflictError.
    Waiting calls are routed again afterwards: a new member or a lowered
    requirement may serve them now.
    """
    require_supervisor(actor)
    with ctx.unit() as session:
        now = ctx.now()
        queue = None
        if queue_id is not None:
            query = select(Queue).where(Queue.id == queue_id)
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update()
            queue = session.scalars(query).first()
            if queue is None:
                raise NotFoundError(N_("File d'attente introuvable."))
            before = _snapshot(session, queue)
            if fingerprint is not None and fingerprint != _fingerprint(before):
                raise ConflictError(N_("Un autre superviseur a modifié cette file pendant que vous l'éditiez. Votre saisie "
                                       "est conservée : relisez-la, puis enregistrez à nouveau pour remplacer sa version."))
        else:
            before = None
        values, required, members, dispositions = _parse_queue(session, queue, form)
        if queue is None:
            queue = Queue(**values)
            session.add(queue)
            session.flush()
        else:
            for name, value in values.items():
                setattr(queue, name, value)
        session.execute(delete(QueueSkill).where(QueueSkill.queue_id == queue.id))
        session.add_all([QueueSkill(queue_id=queue.id, skill_id=s, min_level=lvl) for s, lvl in required])
        session.execute(delete(QueueMember).where(QueueMember.queue_id == queue.id))
        session.add_all([QueueMember(queue_id=queue.id, user_id=u) for u in members])
        session.execute(delete(QueueDisposition).where(QueueDisposition.queue_id == queue.id))
        session.add_all([QueueDisposition(queue_id=queue.id, disposition_id=d, position=i)
                         for i, d in enumerate(dispositions)])
        session.flush()
        after = _snapshot(session, queue)
        changed = sorted(name for name in after if before is None or before[name] != after[name])
        audit.info("queue %s (%s) %s by %s (%s): %s", queue.code, queue.id, "created" if before is None else "updated",
                   actor.name, actor.id, ", ".join(changed) or "nothing")
        if changed:
            emit(session, FLOOR, "queue_settings", {"queue_id": queue.id, "changed": changed, "at": now.isoformat()}, now)
    calls.route_waiting(ctx)
    return queue


def _parse_queue(session: Session, queue: Queue | None, form: QueueForm):
    errors: dict[str, DomainError] = {}
    values: dict = {}
    own_id = queue.id if queue is not None else None

    values["code"] = _code(session, Queue, form.code, own_id, errors,
                           N_("Le code « %(code)s » est déjà pris par une autre file."))
    values["name"] = _name(form.name, "name", errors)
    values["description"] = (form.description or "").strip()
    values["active"] = bool(form.active)
    values["script_id"] = _reference(session, CallScript, form.script_id, "script_id", errors, N_("Script d'appel inconnu."))
    values["ring_timeout_s"] = _integer(form.ring_timeout_s, "ring_timeout_s", errors, MIN_RING_S, MAX_RING_S)

    if form.strategy not in Strategy.__members__.values():
        errors["strategy"] = DomainError(N_("Choisissez une stratégie de distribution de la liste."), "strategy")
    values["strategy"] = form.strategy
    values["priority"] = _integer(form.priority, "priority", errors, 0, MAX_PRIORITY)

    hours, hour_errors = hours_problems(form.hours or {})
    errors.update(hour_errors)
    values["hours"] = hours
    country = (form.holiday_country or "").strip().upper()
    if country and not holiday_country_known(country):
        errors["holiday_country"] = DomainError(N_("Pays inconnu du calendrier des jours fériés : %(country)s."),
                                                "holiday_country", country=country)
    values["holiday_country"] = country or None
    message = (form.closed_message or "").strip()
    if len(message) > MAX_CLOSED_MESSAGE:
        errors["closed_message"] = DomainError(N_("Le message dépasse %(max)s caractères."), "closed_message",
                                               max=MAX_CLOSED_MESSAGE)
    values["closed_message"] = message

    overflow_after = _delay(form.overflow_after_s, "overflow_after_s", errors)
    max_wait = _delay(form.max_wait_s, "max_wait_s", errors)
    callback_after = _delay(form.callback_after_s, "callback_after_s", errors)
    raw_queue, raw_team = (form.overflow_queue_id or "").strip(), (form.overflow_team_id or "").strip()
    target_queue = _int_or_none(raw_queue) if raw_queue else None
    target_team = _int_or_none(raw_team) if raw_team else None
    if raw_queue and raw_team:
        errors["overflow_queue_id"] = DomainError(
            N_("Choisissez une file ou une équipe de débordement, pas les deux."), "overflow_queue_id")
    elif raw_queue:
        target = session.get(Queue, target_queue) if target_queue is not None else None
        if own_id is not None and target_queue == own_id:
            errors["overflow_queue_id"] = DomainError(N_("Une file ne peut pas déborder vers elle-même."), "overflow_queue_id")
        elif target is None or not target.active:
            errors["overflow_queue_id"] = DomainError(N_("Choisissez une file de débordement active."), "overflow_queue_id")
    elif raw_team and (target_team is None or session.get(Team, target_team) is None):
        errors["overflow_team_id"] = DomainError(N_("Équipe de débordement inconnue."), "overflow_team_id")
    has_target = bool(raw_queue or raw_team)
    if overflow_after is not None and not has_target:
        errors["overflow_queue_id"] = DomainError(
            N_("Choisissez la file ou l'équipe vers laquelle l'appel déborde."), "overflow_queue_id")
    if has_target and overflow_after is None and "overflow_after_s" not in errors:
        errors["overflow_after_s"] = DomainError(
            N_("Indiquez après combien de secondes d'attente l'appel déborde."), "overflow_after_s")
    for name, error in delay_problems(callback_after, overflow_after, max_wait).items():
        errors.setdefault(name, error)
    values.update(overflow_after_s=overflow_after, overflow_queue_id=target_queue, overflow_team_id=target_team,
                  max_wait_s=max_wait, callback_after_s=callback_after)

    values["sl_threshold_s"] = _delay(form.sl_threshold_s, "sl_threshold_s", errors, required=True)
    target = _number(form.sl_target, "sl_target", errors)
    if target is not None and not 0 < target <= 100:
        errors["sl_target"] = DomainError(N_("L'objectif est un pourcentage supérieur à 0 et au plus 100."), "sl_target")
    values["sl_target"] = None if target is None else target / 100
    values["alert_waiting"] = _integer(form.alert_waiting, "alert_waiting", errors, 0, None)
    values["alert_longest_wait_s"] = _integer(form.alert_longest_wait_s, "alert_longest_wait_s", errors, 0, None)
    rate = _number(form.alert_abandon_rate, "alert_abandon_rate", errors)
    if rate is not None and not 0 <= rate <= 100:
        errors["alert_abandon_rate"] = DomainError(_ERR_PERCENT, "alert_abandon_rate")
    values["alert_abandon_rate"] = None if rate is None else rate / 100

    if own_id is not None and not values["active"]:
        feeding = session.scalars(select(Queue.name).where(Queue.overflow_queue_id == own_id, Queue.active.is_(True),
                                                           Queue.id != own_id).order_by(Queue.name)).all()
        if feeding:
            errors["active"] = DomainError(N_("Ces files débordent vers celle-ci : %(names)s. Changez d'abord leur débordement."),
                                           "active", names=", ".join(feeding))

    required = _parse_requirements(session, form.skills, errors)
    members = _ids_of(session, User, form.members, "members", errors, N_("Utilisateur inconnu dans les membres."))
    dispositions = _ids_of(session, Disposition, form.dispositions, "dispositions", errors,
                           N_("Qualification inconnue."))
    if not dispositions and "dispositions" not in errors:
        errors["dispositions"] = DomainError(
            N_("Cochez au moins une qualification : sans elle, les agents ne peuvent pas clôturer leurs appels."),
            "dispositions")
    if errors:
        raise ValidationError(errors)
    if queue is not None:
        # keep the qualifications' order the queue already had; new ones go after, by label
        order = {d: i for i, d in enumerate(_dispositions(session, queue.id))}
        dispositions.sort(key=lambda d: (order.get(d, len(order)), d))
    return values, required, members, dispositions


def _parse_requirements(session: Session, rows: list[SkillRequirement], errors: dict) -> list[tuple[int, int]]:
    known = {s.id: s for s in session.scalars(select(Skill))}
    seen: dict[int, int] = {}
    result = []
    for index, row in enumerate(rows):
        if not (row.skill_id or "").strip():
            continue
        name = f"skill_{index}"
        skill_id = _int_or_none(row.skill_id)
        if skill_id not in known:
            errors[name] = DomainError(N_("Compétence inconnue."), name)
            continue
        if skill_id in seen:
            errors[name] = DomainError(N_("La compétence « %(label)s » est demandée deux fois."), name,
                                       label=known[skill_id].label)
            continue
        level = _int_or_none(row.min_level)
        if level not in LEVELS:
            errors[f"{name}_level"] = DomainError(N_("Le niveau minimum va de 1 à 5."), f"{name}_level")
            continue
        seen[skill_id] = level
        result.append((skill_id, level))
    return result


def _ids_of(session: Session, model, raw: list[str], name: str, errors: dict, message: str) -> list[int]:
    ids = []
    for value in raw or []:
        number = _int_or_none(value)
        if number is None or session.get(model, number) is None:
            errors[name] = DomainError(message, name)
            return []
        if number not in ids:
            ids.append(number)
    return ids


def _int_or_none(raw) -> int | None:
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        return None


def _number(raw: str, name: str, errors: dict) -> float | None:
    text = (raw or "").strip().replace(",", ".").rstrip("%").strip()
    try:
        return float(text)
    except ValueError:
        errors[name] = DomainError(_ERR_PERCENT, name)
        return None


def _integer(raw: str, name: str, errors: dict, minimum: int, maximum: int | None) -> int | None:
    value = _int_or_none(raw)
    if value is None:
        errors[name] = DomainError(_ERR_INT, name)
    elif value < minimum or (maximum is not None and value > maximum):
        errors[name] = (DomainError(_ERR_RANGE, name, min=minimum, max=maximum) if maximum is not None
                        else DomainError(_ERR_COUNT, name))
    return value


def _delay(raw: str, name: str, errors: dict, required: bool = False) -> int | None:
    """A delay in seconds: empty means "none" (unless required), else 1 to a day."""
    if not (raw or "").strip() and not required:
        return None
    value = _int_or_none(raw)
    if value is None or not 0 < value <= MAX_DELAY_S:
        errors[name] = DomainError(_ERR_DELAY, name, max=MAX_DELAY_S)
        return None
    return value


def _name(raw: str, name: str, errors: dict) -> str:
    text = (raw or "").strip()
    if not text or len(text) > MAX_NAME:
        errors[name] = DomainError(_ERR_NAME, name, max=MAX_NAME)
    return text


def _reference(session: Session, model, raw: str, name: str, errors: dict, message: str) -> int | None:
    if not (raw or "").strip():
        return None
    value = _int_or_none(raw)
    if value is None or session.get(model, value) is None:
        errors[name] = DomainError(message, name)
        return None
    return value


def _code(session: Session, model, raw: str, own_id: int | None, errors: dict, taken: str) -> str:
    code = (raw or "").strip().lower()
    if not _CODE.fullmatch(code):
        errors["code"] = DomainError(_ERR_CODE, "code")
    elif session.scalar(select(model.id).where(model.code == code, model.id != (own_id or 0))):
        errors["code"] = DomainError(taken, "code", code=code)
    return code


# --- teams -----------------------------------------------------------------------------------


@dataclass
class TeamRow:
    team: Team
    members: list[str]
    #: queues that overflow to this team
    overflow_from: list[str]


def list_teams(ctx: Context, actor: Actor) -> list[TeamRow]:
    require_supervisor(actor)
    with ctx.read() as session:
        members: dict[int, list[str]] = {}
        for team_id, name in session.execute(select(User.team_id, User.display_name)
                                             .where(User.team_id.is_not(None), User.active.is_(True))
                                             .order_by(User.display_name)):
            members.setdefault(team_id, []).append(name)
        feeding: dict[int, list[str]] = {}
        for team_id, name in session.execute(select(Queue.overflow_team_id, Queue.name)
                                             .where(Queue.overflow_team_id.is_not(None)).order_by(Queue.name)):
            feeding.setdefault(team_id, []).append(name)
        return [TeamRow(team, members.get(team.id, []), feeding.get(team.id, []))
                for team in session.scalars(select(Team).order_by(Team.name))]


def save_team(ctx: Context, actor: Actor, team_id: int | None, code: str, name: str) -> Team:
    """Create (``team_id`` None) or rename a team."""
    require_supervisor(actor)
    errors: dict[str, DomainError] = {}
    with ctx.unit() as session:
        team = _load(session, Team, team_id, N_("Équipe introuvable.")) if team_id is not None else None
        code = _code(session, Team, code, team_id, errors, N_("Le code « %(code)s » est déjà pris par une autre équipe."))
        name = _name(name, "name", errors)
        if errors:
            raise ValidationError(errors)
        if team is None:
            team = Team(code=code, name=name)
            session.add(team)
        else:
            team.code, team.name = code, name
        session.flush()
        audit.info("team %s (%s) saved by %s (%s)", team.code, team.id, actor.name, actor.id)
        return team


def delete_team(ctx: Context, actor: Actor, team_id: int) -> None:
    """Delete a team nothing depends on any more (agents, overflow, objectives, past calls)."""
    require_supervisor(actor)
    with ctx.unit() as session:
        team = _load(session, Team, team_id, N_("Équipe introuvable."))
        if session.scalar(select(User.id).where(User.team_id == team_id).limit(1)):
            raise DomainError(N_("L'équipe « %(name)s » a encore des agents : changez d'abord leur équipe."), "team",
                              name=team.name)
        queues = session.scalars(select(Queue.name).where(Queue.overflow_team_id == team_id).order_by(Queue.name)).all()
        if queues:
            raise DomainError(N_("Ces files débordent vers l'équipe « %(name)s » : %(queues)s."), "team", name=team.name,
                              queues=", ".join(queues))
        if session.scalar(select(Objective.id).where(Objective.team_id == team_id).limit(1)) \
                or session.scalar(select(Call.id).where(Call.target_team_id == team_id).limit(1)):
            raise DomainError(N_("L'équipe « %(name)s » a des objectifs ou des appels dans l'historique : elle est conservée."),
                              "team", name=team.name)
        session.delete(team)
        audit.info("team %s (%s) deleted by %s (%s)", team.code, team_id, actor.name, actor.id)


# --- skills ----------------------------------------------------------------------------------


@dataclass
class SkillRow:
    skill: Skill
    agents: int
    #: queues requiring it: (name, minimum level)
    queues: list[tuple[str, int]]


def list_skills(ctx: Context, actor: Actor) -> list[SkillRow]:
    require_supervisor(actor)
    with ctx.read() as session:
        counts = dict(session.execute(select(AgentSkill.skill_id, func.count()).group_by(AgentSkill.skill_id)).all())
        queues: dict[int, list[tuple[str, int]]] = {}
        for skill_id, name, level in session.execute(select(QueueSkill.skill_id, Queue.name, QueueSkill.min_level)
                                                     .join(Queue, Queue.id == QueueSkill.queue_id).order_by(Queue.name)):
            queues.setdefault(skill_id, []).append((name, level))
        return [SkillRow(skill, counts.get(skill.id, 0), queues.get(skill.id, []))
                for skill in session.scalars(select(Skill).order_by(Skill.kind, Skill.label))]


def save_skill(ctx: Context, actor: Actor, skill_id: int | None, code: str, label: str, kind: str) -> Skill:
    """Create (``skill_id`` None) or change a skill: a code routing rules name, a label, a kind."""
    require_supervisor(actor)
    errors: dict[str, DomainError] = {}
    with ctx.unit() as session:
        skill = _load(session, Skill, skill_id, N_("Compétence introuvable.")) if skill_id is not None else None
        code = _code(session, Skill, code, skill_id, errors, N_("Le code « %(code)s » est déjà pris par une autre compétence."))
        label = _name(label, "label", errors)
        if kind not in SKILL_KINDS:
            errors["kind"] = DomainError(N_("Choisissez le type : langue, produit ou activité."), "kind")
        if errors:
            raise ValidationError(errors)
        if skill is None:
            skill = Skill(code=code, label=label, kind=kind)
            session.add(skill)
        else:
            skill.code, skill.label, skill.kind = code, label, kind
        session.flush()
        audit.info("skill %s (%s) saved by %s (%s)", skill.code, skill.id, actor.name, actor.id)
        return skill


def delete_skill(ctx: Context, actor: Actor, skill_id: int) -> None:
    """Delete a skill no queue requires; the agents' levels in it go with it."""
    require_supervisor(actor)
    with ctx.unit() as session:
        skill = _load(session, Skill, skill_id, N_("Compétence introuvable."))
        queues = session.scalars(select(Queue.name).join(QueueSkill, QueueSkill.queue_id == Queue.id)
                                 .where(QueueSkill.skill_id == skill_id).order_by(Queue.name)).all()
        if queues:
            raise DomainError(N_("Ces files exigent la compétence « %(label)s » : %(queues)s. Retirez-la d'abord de leurs règles."),
                              "skill", label=skill.label, queues=", ".join(queues))
        session.execute(delete(AgentSkill).where(AgentSkill.skill_id == skill_id))
        session.delete(skill)
        audit.info("skill %s (%s) deleted by %s (%s)", skill.code, skill_id, actor.name, actor.id)


def _load(session: Session, model, row_id: int, message: str):
    row = session.get(model, row_id)
    if row is None:
        raise NotFoundError(message)
    return row


# --- agents: team and skill levels -------------------------------------------------------------


@dataclass
class AgentRow:
    user: User
    team_id: str
    #: skill id → level as shown ("0" for none)
    levels: dict[int, str]
    fingerprint: str


@dataclass
class AgentsGrid:
    skills: list[Skill]
    teams: list[Team]
    rows: list[AgentRow]


@dataclass
class AgentInput:
    """One agent's row as submitted: team id ("" for none), level per skill id ("0" for none)."""

    user_id: int
    team_id: str = ""
    levels: dict[int, str] = field(default_factory=dict)
    fingerprint: str = ""


def _agent_state(team_id: int | None, levels: dict[int, int]) -> dict:
    """What an agent's fingerprint covers: their team and their levels."""
    return {"team_id": team_id, "levels": sorted(levels.items())}


def agents_grid(ctx: Context, actor: Actor) -> AgentsGrid:
    """Every active user with their team and a level per skill (what routing reads)."""
    require_supervisor(actor)
    with ctx.read() as session:
        skills = list(session.scalars(select(Skill).order_by(Skill.kind, Skill.label)))
        users = list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.display_name)))
        levels = _levels(session)
        rows = [AgentRow(user, _text(user.team_id), {s.id: str(levels.get(user.id, {}).get(s.id, 0)) for s in skills},
                         _fingerprint(_agent_state(user.team_id, levels.get(user.id, {})))) for user in users]
        return AgentsGrid(skills, list(session.scalars(select(Team).order_by(Team.name))), rows)


def _levels(session: Session) -> dict[int, dict[int, int]]:
    levels: dict[int, dict[int, int]] = {}
    for user_id, skill_id, level in session.execute(select(AgentSkill.user_id, AgentSkill.skill_id, AgentSkill.level)):
        levels.setdefault(user_id, {})[skill_id] = level
    return levels


def save_agents(ctx: Context, actor: Actor, rows: list[AgentInput]) -> list[int]:
    """Save the agents' grid: only the rows this person changed are written.

    A row still as the page showed it (same fingerprint) is left alone, so
    two supervisors saving the grid never undo each other's rows; a row
    changed here AND saved by someone else since the page was shown is
    refused, as is any bad value. Either every change is written or none.
    Returns the ids of the agents changed.
    """
    require_supervisor(actor)
    errors: dict[str, DomainError] = {}
    with ctx.unit() as session:
        now = ctx.now()
        skills = {s.id: s for s in session.scalars(select(Skill))}
        teams = set(session.scalars(select(Team.id)))
        levels = _levels(session)
        changes = []
        for row in rows:
            user = session.get(User, row.user_id)
            if user is None:
                raise NotFoundError(N_("Utilisateur introuvable."))
            team_id = _int_or_none(row.team_id) if (row.team_id or "").strip() else None
            if (row.team_id or "").strip() and team_id not in teams:
                errors[f"team_{user.id}"] = DomainError(N_("Équipe inconnue."), f"team_{user.id}")
            wanted: dict[int, int] = {}
            for skill_id, raw in row.levels.items():
                name = f"level_{user.id}_{skill_id}"
                level = _int_or_none(raw)
                if skill_id not in skills:
                    errors[name] = DomainError(N_("Compétence inconnue."), name)
                elif level is None or not 0 <= level <= 5:
                    errors[name] = DomainError(N_("Le niveau va de 0 (aucun) à 5."), name)
                elif level:
                    wanted[skill_id] = level
            if row.fingerprint and row.fingerprint == _fingerprint(_agent_state(team_id, wanted)):
                continue  # the row as the page showed it: this person changed nothing there
            current = levels.get(user.id, {})
            # skills the form did not show (created since) keep their level
            wanted.update({s: lvl for s, lvl in current.items() if s not in row.levels})
            if team_id == user.team_id and wanted == current:
                continue
            if row.fingerprint and row.fingerprint != _fingerprint(_agent_state(user.team_id, current)):
                errors[f"agent_{user.id}"] = DomainError(
                    N_("%(name)s a été modifié par quelqu'un d'autre depuis l'affichage de la page : vérifiez sa ligne, "
                       "puis enregistrez à nouveau pour remplacer."), f"agent_{user.id}", name=user.display_name)
            changes.append((user, team_id, wanted))
        if errors:
            raise ValidationError(errors)
        for user, team_id, wanted in changes:
            user.team_id = team_id
            session.execute(delete(AgentSkill).where(AgentSkill.user_id == user.id))
            session.add_all([AgentSkill(user_id=user.id, skill_id=s, level=lvl) for s, lvl in sorted(wanted.items())])
            audit.info("agent %s (%s) team/skills set by %s (%s): team=%s skills=%s", user.username, user.id, actor.name,
                       actor.id, team_id, {skills[s].code: lvl for s, lvl in wanted.items()})
        if changes:
            emit(session, FLOOR, "agent_skills", {"user_ids": [u.id for u, _, _ in changes], "at": now.isoformat()}, now)
    if changes:
        calls.route_waiting(ctx)
    return [user.id for user, _, _ in changes]

