"""The demo company's outbound floor: campaigns, advisors and calling-rules data (``campaigns.yaml``).

``plateau seed`` calls ``seed_campaigns`` once the customer file exists. The
target lists are picked in the database, by ``INSERT … SELECT`` over the
contacts with a ``LIMIT`` (the seed runs on a million contacts in the
benchmarks: no contact list is ever loaded in Python); the opposition list
and the consent proofs read the ids of a capped number of contacts. The same
seed gives the same lists.

A campaign is stored as the campaign form would store it (its settings
cleaned by ``domain.campaign_settings``, its creation logged), as a draft,
with everything else in one transaction; then it is moved to the status the
file asks for through the campaigns service, as a supervisor would do it:
the readiness checks run, the test sample is drawn, the change is logged.

What the file says is checked by ``demo_data.load_demo`` before the seed
writes anything; this module only turns it into rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import func, insert, literal, select

from ..domain.campaign_settings import DEFAULT_TIMEZONES, Selection
from ..domain.campaigns import CampaignAction, CampaignStatus
from ..store.models import (Advisor, Campaign, CampaignAssignment, CampaignChange, CampaignContact, CampaignDisposition,
                            Contact, ContactConsent, ContactPhone, Disposition, OppositionEntry, OppositionList, Team,
                            User)
from . import campaigns as campaign_service
from . import scripts
from .context import Actor, Context
from .demo_data import CampaignSpec, ConsentsSpec, DemoData, DemoDataError, OppositionListSpec

#: how a draft reaches the status the file asks for, as a supervisor would move it
TO_STATUS = {CampaignStatus.DRAFT: (), CampaignStatus.TEST: (CampaignAction.TEST,),
             CampaignStatus.RUNNING: (CampaignAction.LAUNCH,),
             CampaignStatus.PAUSED: (CampaignAction.LAUNCH, CampaignAction.PAUSE),
             CampaignStatus.FINISHED: (CampaignAction.LAUNCH, CampaignAction.FINISH)}


@dataclass
class CampaignSeed:
    """What ``seed_campaigns`` made."""

    campaigns: int = 0
    #: contacts on the target lists, all campaigns together
    targets: int = 0
    dispositions: int = 0
    advisors: int = 0
    opposition_numbers: int = 0
    consents: int = 0


def seed_campaigns(ctx: Context, data: DemoData, admin: Actor, seed: int = 42,
                   exclude_contact_ids: list[int] | tuple[int, ...] = ()) -> CampaignSeed:
    """Build the outbound floor of ``campaigns.yaml`` over the contacts already in the database.

    ``exclude_contact_ids`` keeps contacts off the target lists (the featured
    customers, whose hand-written history the journeys rely on).
    """
    spec = data.campaigns
    result = CampaignSeed(dispositions=len(spec.dispositions), advisors=len(spec.advisors))
    script_ids = {code: scripts.import_script(ctx, admin, data.script_path(code).read_text(encoding="utf-8")).id
                  for code in dict.fromkeys(c.script for c in spec.campaigns)}
    now = ctx.now()
    moves: list[tuple[int, CampaignSpec]] = []
    with ctx.unit() as session:
        dispositions = {d.code: Disposition(code=d.code, label=d.label, requires_callback=d.requires_callback,
                                            is_contact=d.is_contact, outcome=d.outcome) for d in spec.dispositions}
        session.add_all(dispositions.values())
        session.add_all([Advisor(name=a.name, user_id=_user_id(session, a.username), hours=_hours(a.hours),
                                 slot_minutes=a.slot_minutes, timezone=a.timezone, location=a.location, active=True)
                         for a in spec.advisors])
        session.flush()
        teams = dict(session.execute(select(Team.code, Team.id)).all())
        users = dict(session.execute(select(User.username, User.id)).all())
        for campaign_spec in spec.campaigns:
            campaign = _campaign(campaign_spec, script_ids[campaign_spec.script], admin, now)
            session.add(campaign)
            session.flush()
            session.add(CampaignChange(campaign_id=campaign.id, field=campaign_service.CREATED, old_value=None,
                                       new_value=campaign.name, user_id=admin.id, at=now))
            session.add_all([CampaignDisposition(campaign_id=campaign.id, disposition_id=dispositions[code].id,
                                                 position=position)
                             for position, code in enumerate(campaign_spec.dispositions)])
            session.add_all([CampaignAssignment(campaign_id=campaign.id, team_id=teams[code])
                             for code in campaign_spec.assign.teams])
            session.add_all([CampaignAssignment(campaign_id=campaign.id, user_id=users[name])
                             for name in campaign_spec.assign.users])
            listed = _fill_target_list(session, campaign, campaign_spec, exclude_contact_ids, now)
            result.targets += listed
            result.campaigns += 1
            if listed:  # an empty list (a tiny file without such contacts) cannot dial: it stays a draft
                moves.append((campaign.id, campaign_spec))
        if spec.opposition_list is not None:
            result.opposition_numbers = _seed_opposition(session, spec.opposition_list, now, seed)
        if spec.consents is not None:
            result.consents = _seed_consents(session, spec.consents, now, seed)
    for campaign_id, campaign_spec in moves:
        for action in TO_STATUS[campaign_spec.status]:
            campaign_service.act(ctx, admin, campaign_id, action.value)
    return result


def _campaign(spec: CampaignSpec, script_id: int, admin: Actor, now) -> Campaign:
    """The draft as the campaign form stores it (``load_demo`` saw these settings accepted)."""
    zone = ZoneInfo(spec.timezone or DEFAULT_TIMEZONES[spec.country])
    values, refused = spec.settings(script_id, now.astimezone(zone).date())
    if refused:  # load_demo refuses the file first; this only guards a DemoData built by hand
        raise DemoDataError(f"campaigns.yaml : {spec.code} : " + " ; ".join(refused))
    selection = Selection(kind=spec.target.kind, status=spec.target.status)
    return Campaign(**values, status=CampaignStatus.DRAFT.value, selection=selection.as_dict(), created_by=admin.id,
                    created_at=now, updated_at=now)


def _fill_target_list(session, campaign: Campaign, spec: CampaignSpec, exclude: list[int] | tuple[int, ...],
                      now) -> int:
    """One ``INSERT … SELECT``: the first ``size`` matching contacts by id, in that order.

    A contact qualifies when it lives in the campaign's country, is of the
    target's kind (and status), and has a number of that country to dial.
    """
    target = spec.target
    prefix = f"+{phonenumbers.country_code_for_region(spec.country)}%"
    dialable = (select(ContactPhone.id)
                .where(ContactPhone.contact_id == Contact.id, ContactPhone.e164.like(prefix)).exists())
    where = [Contact.kind == target.kind, Contact.country == spec.country, dialable]
    if target.status:
        where.append(Contact.status == target.status)
    if target.every > 1:
        where.append(Contact.id % target.every == target.offset)
    if exclude:
        where.append(Contact.id.not_in(list(exclude)))
    picked = select(Contact.id.label("contact_id")).where(*where).order_by(Contact.id).limit(target.size).subquery()
    rank = func.row_number().over(order_by=picked.c.contact_id)
    rows = select(literal(campaign.id), picked.c.contact_id, literal("pending"), literal(False), literal(0),
                  rank - 1, literal(now, CampaignContact.updated_at.type))
    columns = ["campaign_id", "contact_id", "state", "in_test", "attempts", "position", "updated_at"]
    statement = insert(CampaignContact.__table__).from_select(columns, rows)
    # an INSERT's row count is only kept when asked for (psycopg forgets it once the cursor closes)
    return session.connection().execute(statement.execution_options(preserve_rowcount=True)).rowcount


def _seed_opposition(session, spec: OppositionListSpec, now, seed: int) -> int:
    """The company's own list: every number of the first contacts whose record carries the opposition flag."""
    opposed = select(Contact.id).where(Contact.opposition.is_(True)).order_by(Contact.id).limit(spec.max_contacts)
    numbers = list(dict.fromkeys(session.scalars(
        select(ContactPhone.e164).where(ContactPhone.contact_id.in_(opposed.scalar_subquery()))
        .order_by(ContactPhone.contact_id, ContactPhone.position))))
    listing = OppositionList(code=spec.code, name=spec.name, kind="own", country="FR", imported_at=None,
                             entries_count=len(numbers))
    session.add(listing)
    session.flush()
    rng = random.Random(f"plateau-opposition:{seed}")
    if numbers:
        session.execute(insert(OppositionEntry), [
            {"list_id": listing.id, "e164": e164, "added_at": now - timedelta(days=rng.randint(1, 500),
                                                                              minutes=rng.randint(0, 600)),
             "added_by": None, "reason": spec.reason} for e164 in numbers])
    return len(numbers)


def _seed_consents(session, spec: ConsentsSpec, now, seed: int) -> int:
    """A proof (when, how, what text, where it is kept) for the first contacts whose record says they agreed."""
    ids = session.scalars(select(Contact.id).where(Contact.consent_call.is_(True)).order_by(Contact.id)
                          .limit(spec.max_contacts)).all()
    rng = random.Random(f"plateau-consents:{seed}")
    text = " ".join(spec.text.split())
    source = " ".join(spec.source.split())
    rows = []
    for contact_id in ids:
        given = now - timedelta(days=rng.randint(spec.newest_days, spec.oldest_days - 1),
                                minutes=rng.randint(1, 24 * 60 - 1))
        rows.append({"contact_id": contact_id, "kind": "call", "given_at": given, "method": spec.method,
                     "text": text, "source": source, "recorded_by": None, "recorded_at": given,
                     "withdrawn_at": None, "withdrawn_how": None})
    if rows:
        session.execute(insert(ContactConsent), rows)
    return len(rows)


def _user_id(session, username: str | None) -> int | None:
    if username is None:
        return None
    return session.scalar(select(User.id).where(User.username == username))


def _hours(hours: dict) -> dict:
    return {day: [list(span) for span in spans] for day, spans in hours.items()}
