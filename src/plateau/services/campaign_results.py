"""A campaign's results, live and at the end, and the report drafted from them ("rendre compte").

Reads only, in a fixed number of queries whatever the campaign's size (a
20 000-contact campaign is some 50 000 attempts: one query brings their few
columns, the counting is done here).

What counts (the same words on the page, in the CSV and in the report):

- an **attempt** is a dial the calling rules allowed (``DialAttempt.allowed``);
  dials they blocked are counted apart ("numérotations bloquées");
- an attempt's **outcome** is the one recorded on it (``DialAttempt.outcome``:
  the network's, the dialer's, or — once the call is qualified — the
  qualification's as ``services.dialer.on_close`` sets it, a callback
  promised at wrap-up included); while not recorded yet, the qualification's
  (``Disposition.outcome``, "joint" when it has none) if the call is
  qualified, "joint" if an agent got the call, else none (in progress);
- **reached**, **argued** are the outcome sets of ``domain.campaigns``
  (``REACHED``, ``ARGUED``); a **success** is an appointment, a sale, a
  completed survey or a promise to pay;
- rates: reached / attempts, argued / reached, successes / argued;
- appointments, sales and promises are the rows recorded on the campaign's
  calls (``services.campaign_work``): booked appointments, sales (amount and
  additional part), promises and payment plans; the "surveys" objective
  counts completed-survey outcomes;
- survey results come from the script answers of the campaign's calls,
  per question of the campaign's script: counts per choice (choice and
  yes/no questions), average of numbers, number of answers otherwise.

Test calls ("appels tests", ``DialAttempt.test``) are kept apart: the
``test`` scope shows only them (and the sample's contacts,
``CampaignContact.in_test``), the ``live`` scope everything else, so the
team reviews the test calls before launch and they do not blur the
campaign's figures afterwards.

The dialer's live figures (dial level, today's abandon rate, occupancy)
come from ``services.dialer.stats``; where it is not available the page
shows "—".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal, format_percent
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from ..domain import payment_plans as money
from ..domain.campaigns import (ARGUED, CONTACT_STATE_LABELS, MODE_LABELS, OUTCOME_LABELS, REACHED, STATUS_LABELS,
                                TYPE_LABELS, ContactState, Outcome)
from ..domain.compliance import reason_text
from ..domain.contacts import display_name
from ..domain.errors import N_, DomainError, NotFoundError, PermissionDenied
from ..domain.scripts import Question
from ..store.models import (Appointment, Call, CallScript, Campaign, CampaignContact, Contact, DialAttempt,
                            Disposition, PaymentPlan, Sale, ScriptAnswer, User)
from .context import Actor, Context

LIVE, TEST = "live", "test"
SCOPES = (LIVE, TEST)
SUCCESS = frozenset({Outcome.APPOINTMENT, Outcome.SALE, Outcome.SURVEY_DONE, Outcome.PROMISE_TO_PAY})
NETWORK = frozenset({Outcome.BUSY, Outcome.NO_ANSWER, Outcome.MACHINE, Outcome.INVALID})
DIALER = frozenset({Outcome.DROPPED, Outcome.BLOCKED, Outcome.CANCELLED})
GROUP_LABELS = {"network": N_("Réseau"), "dialer": N_("Numéroteur"), "agent": N_("Qualification de l'agent"),
                "pending": N_("En cours")}
PENDING = "pending"
OUTCOME_ORDER = list(Outcome)
#: contacts still to call: not called yet, a retry or callback planned, being dialed
REMAINING = (ContactState.PENDING, ContactState.SCHEDULED, ContactState.IN_PROGRESS)
#: blocked contacts listed by name on the page (all are counted, by rule)
MAX_BLOCKED_LISTED = 200

#: campaign.objectives keys, in the order the page lists them
OBJECTIVE_LABELS = {
    "calls": N_("Appels (tentatives)"), "reached": N_("Contacts joints"), "argued": N_("Contacts argumentés"),
    "appointments": N_("Rendez-vous"), "sales": N_("Ventes"), "sales_amount": N_("Chiffre d'affaires"),
    "surveys": N_("Enquêtes complétées"), "promises": N_("Promesses de paiement et échéanciers"),
}
DIALER_FIELDS = ("dial_level", "abandon_rate", "abandon_cap", "occupancy", "agents_logged_in", "agents_free", "in_flight",
                 "dials_today", "connected_today", "dropped_today", "reason_label")


@dataclass
class Row:
    """One line of a breakdown (an outcome, a qualification, an agent, an hour, a state, a choice).

    ``values`` holds its figures by name; ``label`` is a msgid when ``translate`` is set
    (outcomes, states), data otherwise (agent names, qualification labels, choices).
    """

    key: object
    label: str
    values: dict[str, float | None]
    translate: bool = False
    group: str = ""
    detail: str = ""


@dataclass
class Counts:
    attempts: int = 0
    reached: int = 0
    argued: int = 0
    successes: int = 0
    talk_s: float = 0.0

    def add(self, outcome: str | None, talk_s: float = 0.0) -> None:
        self.attempts += 1
        self.reached += outcome in REACHED
        self.argued += outcome in ARGUED
        self.successes += outcome in SUCCESS
        self.talk_s += talk_s or 0.0

    def values(self) -> dict[str, float | None]:
        return {"attempts": self.attempts, "reached": self.reached, "argued": self.argued,
                "successes": self.successes, "talk_s": self.talk_s, "reach_rate": ratio(self.reached, self.attempts),
                "argue_rate": ratio(self.argued, self.reached), "success_rate": ratio(self.successes, self.argued)}


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclass
class QuestionResult:
    id: str
    label: str
    type: str
    answered: int
    #: choice and yes/no questions: one row per choice (count, share of the answers)
    choices: list[Row] = field(default_factory=list)
    average: float | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass
class ObjectiveRow:
    key: str
    label: str
    target: float
    achieved: float
    share: float | None

    @property
    def met(self) -> bool:
        return self.achieved >= self.target


@dataclass
class BlockedContact:
    contact_id: int
    name: str
    at: datetime | None
    #: [{"rule", "reference", "message"}] of the latest blocked dial
    reasons: list[dict]


@dataclass
class RuleCount:
    """How many blocked contacts one calling rule holds back (a contact may be held by several)."""

    rule: str
    reference: str
    #: the first stored reason of this rule (msgid, params, French message): shown through reason_text
    reason: dict
    count: int


@dataclass
class DialerFigures:
    dial_level: float | None = None
    abandon_rate: float | None = None
    abandon_cap: float | None = None
    occupancy: float | None = None
    agents_logged_in: int | None = None
    agents_free: int | None = None
    in_flight: int | None = None
    dials_today: int | None = None
    connected_today: int | None = None
    dropped_today: int | None = None
    #: why the last pacing decision dialed what it did (a msgid: domain.pacing.REASON_LABELS)
    reason_label: str | None = None


@dataclass
class Results:
    campaign: Campaign
    scope: str
    at: datetime
    currency: str
    totals: Counts
    blocked_dials: int
    in_progress: int
    by_outcome: list[Row]
    by_qualification: list[Row]
    by_agent: list[Row]
    by_hour: list[Row]
    states: list[Row]
    contacts_total: int
    remaining: int
    blocked: list[BlockedContact]
    blocked_total: int
    blocked_by_rule: list[RuleCount]
    appointments: int
    sales: int
    sales_cents: int
    additional_sales: int
    additional_cents: int
    promises: int
    plans: int
    promised_cents: int
    survey: list[QuestionResult]
    objectives: list[ObjectiveRow]
    dialer: DialerFigures | None
    #: attempts of the other scope (the page links to them)
    other_scope_attempts: int

    @property
    def values(self) -> dict[str, float | None]:
        return self.totals.values()

    @property
    def outcome_counts(self) -> dict[str, int]:
        return {row.key: int(row.values["count"]) for row in self.by_outcome}


def outcome_of(attempt_outcome: str | None, connected: bool, disposition_id: int | None,
               disposition_outcome: str | None) -> str | None:
    """An attempt's outcome: as recorded on it, else the qualification's, else "joint" if an agent got it."""
    if attempt_outcome:
        return attempt_outcome
    if disposition_id is not None:
        return disposition_outcome or Outcome.CONNECTED.value
    return Outcome.CONNECTED.value if connected else None


def group_of(outcome: str | None) -> str:
    if outcome is None:
        return PENDING
    if outcome in NETWORK:
        return "network"
    if outcome in DIALER:
        return "dialer"
    return "agent"


def _require_supervisor(actor: Actor) -> None:
    if not actor.is_supervisor:
        raise PermissionDenied(N_("Les résultats des campagnes sont réservés aux superviseurs, formateurs et "
                                  "administrateurs."))


def results(ctx: Context, actor: Actor, campaign_id: int, scope: str = LIVE,
            blocked_limit: int | None = MAX_BLOCKED_LISTED) -> Results:
    """Every figure of the results page for one campaign, live calls or test calls.

    ``blocked_limit``: how many blocked contacts to list by name (None: all, for the export);
    all of them are counted, by rule, whatever the limit."""
    _require_supervisor(actor)
    scope = scope if scope in SCOPES else LIVE
    test = scope == TEST
    with ctx.read() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFoundError(N_("Campagne introuvable."))
        tz = ZoneInfo(campaign.timezone or ctx.settings.timezone)
        test_calls = select(DialAttempt.call_id).where(DialAttempt.campaign_id == campaign_id,
                                                       DialAttempt.test.is_(True), DialAttempt.call_id.is_not(None))

        def in_scope(call_column):
            """Rows recorded on this scope's calls (rows without a call belong to the live campaign)."""
            if test:
                return call_column.in_(test_calls)
            return or_(call_column.is_(None), call_column.not_in(test_calls))

        totals, by_outcome, qualifications, agents, hours, blocked_dials = _attempts(session, campaign_id, test, tz)
        other = session.scalar(select(func.count()).select_from(DialAttempt).where(
            DialAttempt.campaign_id == campaign_id, DialAttempt.test.is_(not test), DialAttempt.allowed.is_(True))) or 0
        names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(list(agents)))).all())
        states, contacts_total, remaining = _states(session, campaign_id, test)
        blocked, blocked_total, by_rule = _blocked(session, campaign_id, test, blocked_limit)
        appointments = session.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.campaign_id == campaign_id, Appointment.status == "booked",
            in_scope(Appointment.call_id))) or 0
        sales, sales_cents, additional_sales, additional_cents = session.execute(
            select(func.count(), func.coalesce(func.sum(Sale.amount_cents), 0),
                   func.coalesce(func.sum(case((Sale.additional_cents > 0, 1), else_=0)), 0),
                   func.coalesce(func.sum(Sale.additional_cents), 0))
            .where(Sale.campaign_id == campaign_id, in_scope(Sale.call_id))).one()
        plan_rows = dict((kind, (n, cents)) for kind, n, cents in session.execute(
            select(PaymentPlan.kind, func.count(), func.coalesce(func.sum(PaymentPlan.total_cents), 0))
            .where(PaymentPlan.campaign_id == campaign_id, in_scope(PaymentPlan.call_id))
            .group_by(PaymentPlan.kind)))
        survey = _survey(session, campaign, in_scope(Call.id))
    promises, promise_cents = plan_rows.get("promise", (0, 0))
    plans, plan_cents = plan_rows.get("plan", (0, 0))
    by_agent = sorted((Row(agent_id, names.get(agent_id, ""), counts.values()) for agent_id, counts in agents.items()),
                      key=lambda row: row.label.casefold())
    by_hour = [Row(hour, f"{hour:02d}:00", hours[hour].values()) for hour in sorted(hours)]
    outcome_counts = {row.key: row.values["count"] for row in by_outcome}
    achieved = {"calls": totals.attempts, "reached": totals.reached, "argued": totals.argued,
                "appointments": appointments, "sales": sales, "sales_amount": sales_cents / 100,
                "surveys": outcome_counts.get(Outcome.SURVEY_DONE.value, 0), "promises": promises + plans}
    objectives = []
    for key, label in OBJECTIVE_LABELS.items():
        target = _number((campaign.objectives or {}).get(key))
        if target:
            objectives.append(ObjectiveRow(key, label, target, achieved[key], ratio(achieved[key], target)))
    return Results(
        campaign=campaign, scope=scope, at=ctx.now(), currency=money.currency_of(campaign.country), totals=totals,
        blocked_dials=blocked_dials, in_progress=int(outcome_counts.get(PENDING, 0)), by_outcome=by_outcome,
        by_qualification=qualifications, by_agent=by_agent, by_hour=by_hour, states=states,
        contacts_total=contacts_total, remaining=remaining, blocked=blocked, blocked_total=blocked_total,
        blocked_by_rule=by_rule, appointments=appointments, sales=sales, sales_cents=int(sales_cents),
        additional_sales=additional_sales, additional_cents=int(additional_cents), promises=promises, plans=plans,
        promised_cents=int(promise_cents) + int(plan_cents), survey=survey, objectives=objectives,
        dialer=dialer_figures(ctx, campaign_id) if not test else None, other_scope_attempts=other)


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _attempts(session: Session, campaign_id: int, test: bool, tz: ZoneInfo):
    """Attempts counted by outcome, qualification, agent and local hour; blocked dials apart."""
    rows = session.execute(
        select(DialAttempt.at, DialAttempt.allowed, DialAttempt.outcome, DialAttempt.connected_at,
               DialAttempt.agent_id, Call.agent_id, Call.disposition_id, Call.talk_seconds, Disposition.outcome,
               Disposition.label)
        .outerjoin(Call, Call.id == DialAttempt.call_id)
        .outerjoin(Disposition, Disposition.id == Call.disposition_id)
        .where(DialAttempt.campaign_id == campaign_id, DialAttempt.test.is_(test)))
    totals = Counts()
    outcomes: Counter = Counter()
    qualifications: dict[int, list] = {}
    agents: dict[int, Counts] = defaultdict(Counts)
    hours: dict[int, Counts] = defaultdict(Counts)
    blocked = 0
    for at, allowed, attempt_outcome, connected_at, attempt_agent, call_agent, disposition_id, talk_s, \
            disposition_outcome, disposition_label in rows:
        if not allowed:
            blocked += 1
            continue
        outcome = outcome_of(attempt_outcome, connected_at is not None, disposition_id, disposition_outcome)
        totals.add(outcome, talk_s)
        outcomes[outcome or PENDING] += 1
        if disposition_id is not None:
            entry = qualifications.setdefault(disposition_id, [disposition_label or "", outcome, 0])
            entry[2] += 1
        agent_id = attempt_agent or call_agent
        if agent_id is not None:
            agents[agent_id].add(outcome, talk_s)
        hours[at.astimezone(tz).hour].add(outcome, talk_s)
    by_outcome = [Row(key, _outcome_label(key), {"count": count, "share": ratio(count, totals.attempts)},
                      translate=key == PENDING or key in OUTCOME_LABELS, group=group_of(None if key == PENDING else key))
                  for key, count in sorted(outcomes.items(), key=lambda item: _outcome_rank(item[0]))]
    by_qualification = sorted(
        (Row(disposition_id, label, {"count": count, "share": ratio(count, totals.reached)}, detail=outcome or "")
         for disposition_id, (label, outcome, count) in qualifications.items()),
        key=lambda row: (-row.values["count"], row.label.casefold()))
    return totals, by_outcome, by_qualification, dict(agents), dict(hours), blocked


def _outcome_label(key: str) -> str:
    """The outcome's msgid; an outcome this version does not know shows as stored."""
    if key == PENDING:
        return GROUP_LABELS[PENDING]
    return OUTCOME_LABELS.get(key, key)


def _outcome_rank(key: str) -> int:
    try:
        return OUTCOME_ORDER.index(Outcome(key))
    except ValueError:
        return len(OUTCOME_ORDER)


def _states(session: Session, campaign_id: int, test: bool) -> tuple[list[Row], int, int]:
    query = select(CampaignContact.state, func.count()).where(CampaignContact.campaign_id == campaign_id)
    if test:
        query = query.where(CampaignContact.in_test.is_(True))
    counts = dict(session.execute(query.group_by(CampaignContact.state)).all())
    total = sum(counts.values())
    rows = [Row(state.value, CONTACT_STATE_LABELS[state], {"count": counts.get(state.value, 0),
                                                           "share": ratio(counts.get(state.value, 0), total)},
                translate=True) for state in ContactState]
    remaining = sum(counts.get(state.value, 0) for state in REMAINING)
    return rows, total, remaining


def _blocked(session: Session, campaign_id: int, test: bool,
             limit: int | None) -> tuple[list[BlockedContact], int, list[RuleCount]]:
    """Contacts the calling rules block now, with the reasons of their latest blocked dial; counts by rule."""
    condition = and_(CampaignContact.campaign_id == campaign_id, CampaignContact.state == ContactState.BLOCKED.value)
    if test:
        condition = and_(condition, CampaignContact.in_test.is_(True))
    latest = (select(func.max(DialAttempt.id)).join(CampaignContact, CampaignContact.id == DialAttempt.campaign_contact_id)
              .where(condition, DialAttempt.allowed.is_(False)).group_by(DialAttempt.campaign_contact_id))
    reasons = {cc_id: (at, list(found or [])) for cc_id, at, found in session.execute(
        select(DialAttempt.campaign_contact_id, DialAttempt.at, DialAttempt.reasons).where(DialAttempt.id.in_(latest)))}
    members = session.execute(select(CampaignContact.id, CampaignContact.contact_id).where(condition)
                              .order_by(CampaignContact.position, CampaignContact.id)).all()
    shown = members if limit is None else members[:limit]
    contacts = {c.id: c for c in session.scalars(select(Contact).where(
        Contact.id.in_([contact_id for _, contact_id in shown])))}
    by_rule: dict[str, RuleCount] = {}
    for cc_id, _ in members:
        for reason in reasons.get(cc_id, (None, []))[1]:
            rule = str(reason.get("rule", ""))
            entry = by_rule.setdefault(rule, RuleCount(rule, str(reason.get("reference", "")), dict(reason), 0))
            entry.count += 1
    listed = [BlockedContact(contact_id, display_name(contacts[contact_id]) if contact_id in contacts else "",
                             *reasons.get(cc_id, (None, []))) for cc_id, contact_id in shown]
    return listed, len(members), sorted(by_rule.values(), key=lambda entry: (-entry.count, entry.rule))


def _survey(session: Session, campaign: Campaign, calls_in_scope) -> list[QuestionResult]:
    """The campaign script's questions with what the answers on the scope's calls add up to."""
    from . import scripts

    answers = session.execute(
        select(ScriptAnswer.question_id, ScriptAnswer.value, ScriptAnswer.script_id)
        .join(Call, Call.id == ScriptAnswer.call_id)
        .where(Call.campaign_id == campaign.id, calls_in_scope)).all()
    script_ids = {campaign.script_id} | {script_id for _, _, script_id in answers}
    questions: dict[str, Question] = {}
    for script_id in [campaign.script_id] + sorted(i for i in script_ids - {None, campaign.script_id}):
        row = session.get(CallScript, script_id) if script_id else None
        if row is None:
            continue
        try:
            parsed = scripts.parsed(row)
        except DomainError:  # a script that no longer parses: its answers show by question id
            continue
        for question_id, question in parsed.questions.items():
            questions.setdefault(question_id, question)
    values: dict[str, list[str]] = defaultdict(list)
    for question_id, value, _ in answers:
        if value not in (None, ""):
            values[question_id].append(value)
    ordered = list(questions) + sorted(set(values) - set(questions))
    return [_question(questions.get(qid) or Question(qid, qid, "text"), values.get(qid, [])) for qid in ordered]


def _question(question: Question, values: list[str]) -> QuestionResult:
    result = QuestionResult(question.id, question.label, question.type, len(values))
    if question.type in ("choice", "yes_no"):
        options = list(question.choices) if question.type == "choice" else ["oui", "non"]
        counts = Counter(values)
        options += sorted(set(counts) - set(options))  # answers to a choice removed since
        result.choices = [Row(option, option, {"count": counts.get(option, 0),
                                               "share": ratio(counts.get(option, 0), len(values))})
                          for option in options]
    elif question.type == "number":
        numbers = []
        for value in values:
            try:
                numbers.append(float(Decimal(value.replace(",", "."))))
            except InvalidOperation:
                continue
        if numbers:
            result.average = sum(numbers) / len(numbers)
            result.minimum, result.maximum = min(numbers), max(numbers)
    return result


def dialer_figures(ctx: Context, campaign_id: int) -> DialerFigures | None:
    """The dialer's live figures for the campaign, or None where the dialer cannot give them."""
    try:
        from .dialer import stats
    except ImportError:
        return None
    try:
        figures = stats(ctx, campaign_id)
    except (DomainError, AttributeError, TypeError):
        return None
    if figures is None:
        return None
    return DialerFigures(**{name: getattr(figures, name, None) for name in DIALER_FIELDS})


# --- the report draft ("rendre compte") ---------------------------------------------------------------------


@dataclass
class Wording:
    """How the report speaks: the reader's translations and number formats."""

    gettext: Callable[[str], str]
    locale: str = "fr"

    def percent(self, value: float | None) -> str:
        return "—" if value is None else format_percent(value, "#,##0.# %", locale=self.locale)

    def number(self, value: float) -> str:
        return format_decimal(value, "#,##0.##", locale=self.locale)

    def money(self, cents: int, currency: str) -> str:
        return money.format_money(cents, currency, self.locale)


def report_text(res: Results, w: Wording) -> str:
    """A written report drafted from the figures, in Markdown, for the supervisor to complete.

    Sections: context, objectives against results, the results themselves,
    what worked (outcomes, best hour, agents), the survey, remarks. Every
    sentence is one message with its figures as placeholders.
    """
    _, c = w.gettext, res.campaign
    t = res.totals
    lines = [_("# Compte rendu de la campagne « %(name)s »") % {"name": c.name}, ""]
    if res.scope == TEST:
        lines += [_("Ce compte rendu porte sur les appels tests uniquement."), ""]
    lines += [_("## Contexte"), ""]
    lines.append(_("- Type de campagne : %(kind)s ; statut : %(status)s ; mode de numérotation : %(mode)s.") % {
        "kind": _(TYPE_LABELS.get(c.kind, c.kind)), "status": _(STATUS_LABELS.get(c.status, c.status)),
        "mode": _(MODE_LABELS.get(c.dial_mode, c.dial_mode))})
    if c.starts_on and c.ends_on:
        lines.append(_("- Période : du %(start)s au %(end)s.") % {"start": c.starts_on.strftime("%d/%m/%Y"),
                                                                  "end": c.ends_on.strftime("%d/%m/%Y")})
    lines.append(_("- Contacts du fichier : %(total)s ; restant à appeler : %(remaining)s.") % {
        "total": w.number(res.contacts_total), "remaining": w.number(res.remaining)})
    local = res.at.astimezone(ZoneInfo(c.timezone or "Europe/Paris"))
    lines.append(_("- Chiffres arrêtés le %(date)s à %(time)s.") % {"date": local.strftime("%d/%m/%Y"),
                                                                     "time": local.strftime("%H:%M")})
    if c.description:
        lines += ["", c.description.strip()]
    lines += ["", _("## Objectifs et résultats"), ""]
    if res.objectives:
        for objective in res.objectives:
            achieved, target = objective.achieved, objective.target
            if objective.key == "sales_amount":
                achieved_text = w.money(int(round(achieved * 100)), res.currency)
                target_text = w.money(int(round(target * 100)), res.currency)
            else:
                achieved_text, target_text = w.number(achieved), w.number(target)
            message = (_("- %(objective)s : %(achieved)s pour un objectif de %(target)s (%(share)s), objectif atteint.")
                       if objective.met else
                       _("- %(objective)s : %(achieved)s pour un objectif de %(target)s (%(share)s), objectif non atteint."))
            lines.append(message % {"objective": _(objective.label), "achieved": achieved_text,
                                    "target": target_text, "share": w.percent(objective.share)})
    else:
        lines.append(_("Aucun objectif chiffré n'a été fixé pour cette campagne."))
    if c.qualitative_objectives:
        lines += ["", _("Objectifs qualitatifs :"), "", c.qualitative_objectives.strip()]
    lines += ["", _("## Résultats"), ""]
    lines.append(_("- Tentatives d'appel : %(attempts)s ; contacts joints : %(reached)s (%(reach_rate)s des "
                   "tentatives).") % {
        "attempts": w.number(t.attempts), "reached": w.number(t.reached), "reach_rate": w.percent(res.values["reach_rate"])})
    lines.append(_("- Contacts argumentés : %(argued)s (%(argue_rate)s des contacts joints) ; succès : "
                   "%(successes)s (%(success_rate)s des contacts argumentés).") % {
        "argued": w.number(t.argued), "argue_rate": w.percent(res.values["argue_rate"]),
        "successes": w.number(t.successes), "success_rate": w.percent(res.values["success_rate"])})
    if res.blocked_dials:
        lines.append(_("- Numérotations refusées par les règles d'appel : %(count)s.") % {
            "count": w.number(res.blocked_dials)})
    if res.appointments:
        lines.append(_("- Rendez-vous pris : %(count)s.") % {"count": w.number(res.appointments)})
    if res.sales:
        lines.append(_("- Ventes : %(count)s, pour %(amount)s, dont %(additional)s de ventes additionnelles.") % {
            "count": w.number(res.sales), "amount": w.money(res.sales_cents, res.currency),
            "additional": w.money(res.additional_cents, res.currency)})
    if res.promises or res.plans:
        lines.append(_("- Recouvrement : promesses de paiement : %(promises)s ; échéanciers : %(plans)s ; montant "
                       "total : %(amount)s.") % {"promises": w.number(res.promises), "plans": w.number(res.plans),
                        "amount": w.money(res.promised_cents, res.currency)})
    lines += ["", _("## Ce qui a fonctionné"), ""]
    reached_rows = [row for row in res.by_outcome if row.key in REACHED]
    if reached_rows:
        lines.append(_("Issues des contacts joints :"))
        lines.append("")
        for row in sorted(reached_rows, key=lambda r: -r.values["count"]):
            lines.append(_("- %(outcome)s : %(count)s (%(share)s des contacts joints).") % {
                "outcome": _(row.label), "count": w.number(row.values["count"]),
                "share": w.percent(ratio(row.values["count"], t.reached))})
        lines.append("")
    if res.by_qualification:
        top = res.by_qualification[0]
        lines.append(_("- Qualification la plus fréquente : « %(label)s » (appels : %(count)s).") % {
            "label": top.label, "count": w.number(top.values["count"])})
    best_hour = _best(res.by_hour, "reach_rate", "attempts")
    if best_hour is not None:
        lines.append(_("- Meilleure tranche horaire pour joindre : %(hour)s (taux de joignabilité : %(rate)s ; "
                       "tentatives : %(attempts)s).") % {"hour": best_hour.label,
                                                       "rate": w.percent(best_hour.values["reach_rate"]),
                                                       "attempts": w.number(best_hour.values["attempts"])})
    best_agent = _best(res.by_agent, "successes", "success_rate")
    if best_agent is not None and best_agent.values["successes"]:
        lines.append(_("- Agent ayant obtenu le plus de succès : %(name)s (succès : %(successes)s ; contacts "
                       "argumentés : %(argued)s).") % {"name": best_agent.label,
                                                   "successes": w.number(best_agent.values["successes"]),
                                                   "argued": w.number(best_agent.values["argued"])})
    if not (reached_rows or res.by_qualification or best_hour):
        lines.append(_("Pas encore d'appel abouti : rien à analyser pour l'instant."))
    if any(q.answered for q in res.survey):
        lines += ["", _("## Enquête"), ""]
        for question in res.survey:
            if not question.answered:
                continue
            if question.choices:
                lines.append(_("- %(question)s (réponses : %(answers)s) :") % {
                    "question": question.label, "answers": w.number(question.answered)})
                for row in question.choices:
                    lines.append(_("  - %(choice)s : %(count)s (%(share)s)") % {
                        "choice": row.label, "count": w.number(row.values["count"]),
                        "share": w.percent(row.values["share"])})
            elif question.average is not None:
                lines.append(_("- %(question)s (réponses : %(answers)s) : moyenne %(average)s.") % {
                    "question": question.label, "answers": w.number(question.answered),
                    "average": w.number(round(question.average, 2))})
            else:
                lines.append(_("- %(question)s (réponses : %(answers)s).") % {
                    "question": question.label, "answers": w.number(question.answered)})
    lines += ["", _("## Remarques"), ""]
    if res.blocked_total:
        lines.append(_("- Contacts bloqués par les règles d'appel : %(count)s.") % {
            "count": w.number(res.blocked_total)})
        for entry in res.blocked_by_rule[:3]:
            lines.append(_("  - %(rule)s (%(reference)s) : %(count)s.") % {
                "rule": reason_text(entry.reason, _) or entry.rule, "reference": entry.reference, "count": w.number(entry.count)})
    dropped = res.outcome_counts.get(Outcome.DROPPED.value, 0)
    if dropped:
        lines.append(_("- Appels abandonnés faute d'agent libre : %(count)s (%(share)s des tentatives).") % {
            "count": w.number(dropped), "share": w.percent(ratio(dropped, t.attempts))})
    if res.dialer is not None and res.dialer.abandon_rate is not None:
        lines.append(_("- Taux d'abandon du jour selon le numéroteur : %(rate)s.") % {
            "rate": w.percent(res.dialer.abandon_rate)})
    lines.append(_("- À compléter : points forts, difficultés rencontrées, objections fréquentes, suites à donner."))
    return "\n".join(lines) + "\n"


def _best(rows: list[Row], key: str, then: str) -> Row | None:
    """The row with the highest ``key``, ties broken by ``then``, then by order (first wins)."""
    candidates = [row for row in rows if row.values.get(key) is not None]
    return max(reversed(candidates), key=lambda row: (row.values[key], row.values.get(then) or 0), default=None)
