"""The dialer on real databases: preview, progressive and predictive campaigns on the
simulated network (profiles whose outcome is certain), the calling rules before every
dial, retries, callbacks, test mode, and the agent's calls while on a campaign."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from plateau.domain import pacing
from plateau.domain.compliance import reason_text
from plateau.domain.errors import ConflictError, DomainError, PermissionDenied, ValidationError
from plateau.services import agents, calls, dialer
from plateau.services.calls import CallbackRequest
from plateau.services.users import actor_for
from plateau.store.models import (AgentPresence, Call, Campaign, CampaignAssignment, CampaignContact,
                                  CampaignDisposition, Contact, ContactConsent, ContactPhone, DialAttempt, Disposition,
                                  Event, OppositionEntry, Queue, QueueDisposition, QueueMember, Team, User)

#: Monday 23 November 2026, 10:30 in Paris: inside the French prospecting hours
MONDAY = datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc)
ANSWERS = {"answered": 1, "wrong_person": 0, "busy": 0, "no_answer": 0, "answering_machine": 0, "invalid_number": 0}
BUSY = {**{k: 0 for k in ANSWERS}, "busy": 1}
#: longer than any ring the profiles above draw (answers ring at most 25 s)
RING = 30


def people(ctx, *names: str, role: str = "agent", team_id: int | None = None) -> list:
    """Users as rows (these never log in: no password to hash), each with an offline presence."""
    with ctx.unit() as session:
        now = ctx.now()
        rows = [User(username=name, display_name=name.title(), password_hash="-", role=role, prefs={},
                     created_at=now, team_id=team_id) for name in names]
        session.add_all(rows)
        session.flush()
        session.add_all([AgentPresence(user_id=row.id, state="offline", since=now) for row in rows])
    return [actor_for(row) for row in rows]


@pytest.fixture
def floor(ctx):
    """A supervisor, agents (alice and bruno assigned, chloe in the assigned team, david not), a queue."""
    ctx.clock.set(MONDAY)
    with ctx.unit() as session:
        team = Team(code="equipe-b", name="Équipe B")
        session.add(team)
    (boss,) = people(ctx, "formateur", role="supervisor")
    alice, bruno, david = people(ctx, "alice", "bruno", "david")
    (chloe,) = people(ctx, "chloe", team_id=team.id)
    with ctx.unit() as session:
        queue = Queue(code="service-clients", name="Service clients")
        session.add(queue)
        session.flush()
        info = Disposition(code="info", label="Information donnée")
        session.add(info)
        session.flush()
        session.add_all([QueueDisposition(queue_id=queue.id, disposition_id=info.id),
                         QueueMember(queue_id=queue.id, user_id=alice.id)])
    return {"boss": boss, "alice": alice, "bruno": bruno, "chloe": chloe, "david": david, "team": team.id,
            "queue": queue.id, "info": info.id}


def make_campaign(ctx, floor, *, mode="preview", status="running", network=ANSWERS, contacts=3, in_test=(),
                  **fields) -> dict:
    """A prospecting campaign assigned to alice, bruno and team B, its qualification list, and
    ``contacts`` consumers (with a recorded consent) on its list, in order."""
    now = ctx.now()
    with ctx.unit() as session:
        campaign = Campaign(code=f"c-{mode}-{status}", name="Offre fibre", kind="prospecting", status=status,
                            dial_mode=mode, presented_number="+33162000001", network=network, network_seed=1,
                            created_at=now, updated_at=now, **fields)
        session.add(campaign)
        session.flush()
        session.add_all([CampaignAssignment(campaign_id=campaign.id, user_id=floor["alice"].id),
                         CampaignAssignment(campaign_id=campaign.id, user_id=floor["bruno"].id),
                         CampaignAssignment(campaign_id=campaign.id, team_id=floor["team"])])
        codes = {}
        for position, (code, label, outcome, callback) in enumerate([
                ("rdv", "Rendez-vous pris", "appointment", False), ("refus", "Refus", "refused", False),
                ("rappel", "Rappel demandé", "callback", True), ("npa", "Ne plus appeler", "do_not_call", False),
                ("joint", "Joint sans suite", None, False)]):
            row = Disposition(code=code, label=label, outcome=outcome, requires_callback=callback)
            session.add(row)
            session.flush()
            session.add(CampaignDisposition(campaign_id=campaign.id, disposition_id=row.id, position=position))
            codes[code] = row.id
        ccs = []
        for index in range(contacts):
            contact = Contact(kind="person", civility="Mme", first_name=f"Nadia{index}", last_name="Martin",
                              search_name=f"martin nadia{index}", created_at=now, updated_at=now, tags=[])
            session.add(contact)
            session.flush()
            session.add(ContactPhone(contact_id=contact.id, e164=f"+3361234560{index}", label="mobile"))
            session.add(ContactConsent(contact_id=contact.id, kind="call", given_at=now - timedelta(days=10),
                                       method="web_form", text="J'accepte d'être appelée.", recorded_at=now))
            cc = CampaignContact(campaign_id=campaign.id, contact_id=contact.id, position=index,
                                 in_test=index in in_test, updated_at=now)
            session.add(cc)
            session.flush()
            ccs.append(cc.id)
    return {"id": campaign.id, "contacts": ccs, **codes}


def available(ctx, *actors):
    for actor in actors:
        agents.set_state(ctx, actor, "available")
        ctx.clock.advance(seconds=1)


def ring_out(ctx, seconds=RING):
    ctx.clock.advance(seconds=seconds)
    calls.tick(ctx)


def cc_of(ctx, cc_id) -> CampaignContact:
    with ctx.read() as session:
        return session.get(CampaignContact, cc_id)


def attempts(ctx, campaign_id) -> list[DialAttempt]:
    with ctx.read() as session:
        return list(session.scalars(select(DialAttempt).where(DialAttempt.campaign_id == campaign_id)
                                    .order_by(DialAttempt.id)))


def outbound_calls(ctx) -> list[Call]:
    with ctx.read() as session:
        return list(session.scalars(select(Call).where(Call.direction == "outbound").order_by(Call.id)))


def events(ctx, channel, type_="call") -> list[dict]:
    with ctx.read() as session:
        return [e.payload for e in session.scalars(select(Event).where(Event.channel == channel, Event.type == type_)
                                                   .order_by(Event.id))]


# --- joining -------------------------------------------------------------------------------


def test_join_only_an_assigned_campaign_that_calls(ctx, floor):
    c = make_campaign(ctx, floor)
    with pytest.raises(PermissionDenied) as refused:
        dialer.join(ctx, floor["david"], c["id"])
    assert "Offre fibre" in refused.value.render()
    with pytest.raises(ValidationError):
        dialer.join(ctx, floor["alice"], None)
    assert [x.id for x in dialer.campaigns_for(ctx, floor["chloe"])] == [c["id"]]  # through her team
    assert dialer.campaigns_for(ctx, floor["david"]) == []
    dialer.join(ctx, floor["chloe"], c["id"])
    assert dialer.joined_campaign(ctx, floor["chloe"].id).id == c["id"]
    with ctx.unit() as session:
        session.get(Campaign, c["id"]).status = "paused"
    with pytest.raises(DomainError) as paused:
        dialer.join(ctx, floor["alice"], c["id"])
    assert "ni en appels tests ni en cours" in paused.value.message
    with ctx.read() as session:
        assert dialer.assigned_agent_ids(session, c["id"]) == {floor["alice"].id, floor["bruno"].id, floor["chloe"].id}


def test_an_agent_on_a_campaign_gets_no_inbound_calls(ctx, floor):
    make_campaign(ctx, floor)
    c = dialer.campaigns_for(ctx, floor["alice"])[0]
    dialer.join(ctx, floor["alice"], c.id)
    available(ctx, floor["alice"])
    call = calls.place_call(ctx, floor["boss"], floor["queue"], "06 11 22 33 44", "FR")
    assert call.state == "offered"
    calls.tick(ctx)
    assert calls.view(ctx, call.id).call.state == "offered"
    assert floor["alice"].id not in [u.id for u in calls.available_agents(ctx)]
    dialer.leave(ctx, floor["alice"])
    view = calls.view(ctx, call.id)
    assert view.call.state == "ringing" and view.call.agent_id == floor["alice"].id


# --- preview ---------------------------------------------------------------------------------


def test_preview_dial_connect_hang_up_and_qualify_from_the_campaign_list(ctx, floor):
    c = make_campaign(ctx, floor, retry_minutes={"busy": 10})
    alice = floor["alice"]
    dialer.join(ctx, alice, c["id"])
    available(ctx, alice)
    shown = dialer.preview(ctx, alice)
    assert shown.campaign_contact.id == c["contacts"][0] and shown.allowed and shown.number == "+33612345600"
    assert dialer.preview(ctx, alice).campaign_contact.id == shown.campaign_contact.id  # the same until dialed or skipped
    assert dialer.current_preview(ctx, alice).campaign_contact.id == shown.campaign_contact.id
    dialer.join(ctx, floor["bruno"], c["id"])
    with pytest.raises(ConflictError):  # locked to alice
        dialer.dial(ctx, floor["bruno"], shown.campaign_contact.id)
    call = dialer.dial(ctx, alice, shown.campaign_contact.id)
    assert call.state == "dialing" and call.agent_id == alice.id and call.campaign_id == c["id"]
    assert call.caller_number == "+33612345600" and call.direction == "outbound"
    assert agents.get_presence(ctx, alice.id).state == "on_call"
    assert calls.current_call_of(ctx, alice.id).call.id == call.id
    assert [e["action"] for e in events(ctx, f"user:{alice.id}")] == ["dial"]
    (attempt,) = attempts(ctx, c["id"])
    assert attempt.allowed and attempt.mode == "preview" and attempt.network_response == "answered"
    assert attempt.call_id == call.id and not attempt.test and cc_of(ctx, c["contacts"][0]).state == "in_progress"
    ring_out(ctx)
    view = calls.view(ctx, call.id, alice)
    assert view.call.state == "connected" and view.campaign.id == c["id"] and view.contact.first_name == "Nadia0"
    assert [d.code for d in view.dispositions] == ["rdv", "refus", "rappel", "npa", "joint"]
    calls.say(ctx, alice, call.id, "Bonjour Madame Martin.")
    calls.hang_up(ctx, alice, call.id)
    with pytest.raises(ValidationError):  # the queue's qualification is not the campaign's
        calls.close(ctx, alice, call.id, floor["info"])
    calls.close(ctx, alice, call.id, c["rdv"], note="RDV mardi")
    assert calls.view(ctx, call.id).call.state == "closed"
    (attempt,) = attempts(ctx, c["id"])
    assert attempt.outcome == "appointment" and attempt.connected_at is not None
    cc = cc_of(ctx, c["contacts"][0])
    assert cc.state == "done" and cc.last_outcome == "appointment" and cc.attempts == 1 and cc.locked_by is None
    assert agents.get_presence(ctx, alice.id).state == "available"
    actions = [e["action"] for e in events(ctx, f"user:{alice.id}")]
    assert actions[:3] == ["dial", "connect", "hang_up"] and actions[-1] == "close"
    assert dialer.preview(ctx, alice).campaign_contact.id == c["contacts"][1]  # the next record


def test_a_double_click_on_appeler_dials_once(ctx, floor):
    c = make_campaign(ctx, floor)
    dialer.join(ctx, floor["alice"], c["id"])
    available(ctx, floor["alice"])
    cc_id = dialer.preview(ctx, floor["alice"]).campaign_contact.id
    first = dialer.dial(ctx, floor["alice"], cc_id)
    second = dialer.dial(ctx, floor["alice"], cc_id)
    assert first.id == second.id and len(attempts(ctx, c["id"])) == 1 and len(outbound_calls(ctx)) == 1


def test_skip_moves_on_and_hanging_up_while_it_rings_cancels(ctx, floor):
    c = make_campaign(ctx, floor)
    alice = floor["alice"]
    dialer.join(ctx, alice, c["id"])
    available(ctx, alice)
    first = dialer.preview(ctx, alice).campaign_contact.id
    nxt = dialer.skip(ctx, alice, first)
    assert nxt.campaign_contact.id == c["contacts"][1]
    assert dialer.skip(ctx, alice, first).campaign_contact.id == c["contacts"][1]  # a double click skips once
    skipped = cc_of(ctx, first)
    assert skipped.state == "pending" and skipped.locked_by is None and skipped.next_at is not None
    call = dialer.dial(ctx, alice, nxt.campaign_contact.id)
    calls.hang_up(ctx, alice, call.id)  # "Raccrocher" during "Numérotation…"
    assert calls.view(ctx, call.id).call.state == "unreached"
    assert attempts(ctx, c["id"])[0].outcome == "cancelled"
    assert cc_of(ctx, nxt.campaign_contact.id).state == "scheduled"
    assert agents.get_presence(ctx, alice.id).state == "available"
    assert dialer.cancel_dial(ctx, alice, call.id).state == "unreached"  # twice: cancelled once
    ring_out(ctx)
    assert calls.view(ctx, call.id).call.state == "unreached"  # the network's answer comes too late


def test_a_blocked_record_shows_its_reasons_and_cannot_be_dialed(ctx, floor):
    c = make_campaign(ctx, floor, contacts=2)
    ctx.clock.set(datetime(2026, 11, 29, 10, 0, tzinfo=timezone.utc))  # a Sunday
    alice = floor["alice"]
    dialer.join(ctx, alice, c["id"])
    available(ctx, alice)
    shown = dialer.preview(ctx, alice)
    assert not shown.allowed and "fr.hours" in [r.rule for r in shown.decision.reasons]
    assert all(r.reference for r in shown.decision.reasons)
    with pytest.raises(DomainError):
        dialer.dial(ctx, alice, shown.campaign_contact.id)
    assert outbound_calls(ctx) == []
    blocked = [a for a in attempts(ctx, c["id"]) if not a.allowed]
    assert blocked and blocked[0].outcome == "blocked" and blocked[0].reasons[0]["rule"] == "fr.hours"
    cc = cc_of(ctx, shown.campaign_contact.id)
    assert cc.state == "blocked" and cc.next_at is not None and cc.attempts == 0
    assert cc.next_at.replace(tzinfo=timezone.utc) > ctx.now()  # Monday's window
    assert events(ctx, "floor", "dial_blocked")[0]["reasons"][0]["rule"] == "fr.hours"
    assert dialer.current_preview(ctx, alice).decision.reasons[0].rule == "fr.hours"  # a reload shows them again
    # stored with what translates them: the profile's msgid and its parameters (JSON: strings, numbers)
    stored = blocked[0].reasons[0]
    assert stored["msgid"].startswith("Démarchage téléphonique interdit à ce moment") and "%(local_time)s" in stored["msgid"]
    assert stored["params"]["local_time"] == "29/11/2026 11:00" and json.loads(json.dumps(blocked[0].reasons)) == blocked[0].reasons
    english = {stored["msgid"]: "No prospecting calls now (it is %(local_time)s there)."}
    assert reason_text(stored, lambda m: english.get(m, m)) == "No prospecting calls now (it is 29/11/2026 11:00 there)."
    reloaded = dialer.current_preview(ctx, alice).decision.reasons[0]
    assert reason_text(reloaded, lambda m: english.get(m, m)) == "No prospecting calls now (it is 29/11/2026 11:00 there)."
    dialer.skip(ctx, alice, shown.campaign_contact.id)
    assert cc_of(ctx, shown.campaign_contact.id).state == "blocked"


# --- progressive ------------------------------------------------------------------------------


def test_progressive_dials_one_contact_per_free_agent(ctx, floor):
    c = make_campaign(ctx, floor, mode="progressive", contacts=5)
    for agent in (floor["alice"], floor["bruno"]):
        dialer.join(ctx, agent, c["id"])
    available(ctx, floor["alice"], floor["bruno"], floor["chloe"])  # chloe is not on the campaign
    calls.tick(ctx)
    placed = outbound_calls(ctx)
    assert sorted(call.agent_id for call in placed) == sorted([floor["alice"].id, floor["bruno"].id])
    assert all(call.state == "dialing" for call in placed)
    assert {a.mode for a in attempts(ctx, c["id"])} == {"progressive"}
    calls.tick(ctx)
    assert len(outbound_calls(ctx)) == 2  # both agents are on their call: nothing more
    dialer.join(ctx, floor["chloe"], c["id"])  # a third agent becomes free while the others' numbers ring
    calls.tick(ctx)
    assert [call.agent_id for call in outbound_calls(ctx)][-1] == floor["chloe"].id
    ring_out(ctx)
    assert {call.state for call in outbound_calls(ctx)} == {"connected"}
    stats = dialer.stats(ctx, c["id"])
    assert (stats.agents_busy, stats.agents_free, stats.dials_today, stats.connected_today) == (3, 0, 3, 3)
    assert stats.occupancy == 1.0 and stats.abandon_rate == 0.0
    assert events(ctx, "floor", "dialer")


def test_busy_is_unreached_then_retried_after_the_campaign_delay_until_exhausted(ctx, floor):
    c = make_campaign(ctx, floor, mode="progressive", network=BUSY, contacts=1, max_attempts=2,
                      retry_minutes={"busy": 10})
    dialer.join(ctx, floor["alice"], c["id"])
    available(ctx, floor["alice"])
    calls.tick(ctx)
    (call,) = outbound_calls(ctx)
    ring_out(ctx, 5)
    assert calls.view(ctx, call.id).call.state == "unreached"
    cc = cc_of(ctx, c["contacts"][0])
    assert cc.state == "scheduled" and cc.last_outcome == "busy" and cc.attempts == 1
    due = cc.next_at.replace(tzinfo=timezone.utc)
    assert due == ctx.now() + timedelta(minutes=10)
    assert agents.get_presence(ctx, floor["alice"].id).state == "available"
    assert [e.get("outcome") for e in events(ctx, f"user:{floor['alice'].id}")][-1] == "busy"
    ring_out(ctx, 60)
    assert len(outbound_calls(ctx)) == 1  # not before its delay
    ctx.clock.set(due)
    calls.tick(ctx)
    assert len(outbound_calls(ctx)) == 2
    ring_out(ctx, 5)
    cc = cc_of(ctx, c["contacts"][0])
    assert cc.state == "exhausted" and cc.attempts == 2 and [a.outcome for a in attempts(ctx, c["id"])] == ["busy", "busy"]


def test_a_contact_the_rules_refuse_is_not_dialed_and_the_reasons_are_kept(ctx, floor):
    c = make_campaign(ctx, floor, mode="progressive", contacts=2)
    with ctx.unit() as session:
        first = session.get(CampaignContact, c["contacts"][0])
        session.get(Contact, first.contact_id).opposition = True
    dialer.join(ctx, floor["alice"], c["id"])
    available(ctx, floor["alice"])
    calls.tick(ctx)
    (call,) = outbound_calls(ctx)
    assert call.contact_id != first.contact_id
    refused, dialed = attempts(ctx, c["id"])
    assert not refused.allowed and refused.call_id is None and refused.outcome == "blocked"
    assert "fr.opposition" in [r["rule"] for r in refused.reasons] and refused.reasons[0]["reference"]
    assert dialed.allowed and dialed.call_id == call.id
    cc = cc_of(ctx, c["contacts"][0])
    assert cc.state == "blocked" and cc.next_at is None  # never by waiting: stays blocked, with its reasons
    assert events(ctx, "floor", "dial_blocked")[0]["campaign_contact_id"] == cc.id


def test_test_mode_dials_only_the_sample(ctx, floor):
    c = make_campaign(ctx, floor, mode="progressive", status="test", contacts=3, in_test=(2,))
    for agent in (floor["alice"], floor["bruno"]):
        dialer.join(ctx, agent, c["id"])
    available(ctx, floor["alice"], floor["bruno"])
    calls.tick(ctx)
    (call,) = outbound_calls(ctx)
    (attempt,) = attempts(ctx, c["id"])
    assert attempt.test and attempt.campaign_contact_id == c["contacts"][2]


def test_a_callback_for_me_comes_back_to_that_agent(ctx, floor):
    c = make_campaign(ctx, floor, mode="progressive", contacts=1)
    alice, bruno = floor["alice"], floor["bruno"]
    dialer.join(ctx, alice, c["id"])
    available(ctx, alice)
    calls.tick(ctx)
    (call,) = outbound_calls(ctx)
    ring_out(ctx)
    calls.hang_up(ctx, alice, call.id)
    calls.close(ctx, alice, call.id, c["rappel"], callback=CallbackRequest(date="2026-11-24", time="15:00",
                                                                             assignee="me"))
    cc = cc_of(ctx, c["contacts"][0])
    due = datetime(2026, 11, 24, 14, 0, tzinfo=timezone.utc)
    assert (cc.state, cc.assigned_user_id, cc.last_outcome) == ("scheduled", alice.id, "callback")
    assert cc.next_at.replace(tzinfo=timezone.utc) == due
    assert attempts(ctx, c["id"])[0].outcome == "callback"
    agents.set_state(ctx, alice, "paused", "lunch")
    dialer.join(ctx, bruno, c["id"])
    available(ctx, bruno)
    ctx.clock.set(due + timedelta(minutes=1))
    calls.tick(ctx)
    assert len(outbound_calls(ctx)) == 1  # promised to alice: bruno does not get it
    available(ctx, alice)
    calls.tick(ctx)
    again = outbound_calls(ctx)[-1]
    assert len(outbound_calls(ctx)) == 2 and again.agent_id == alice.id and again.contact_id == call.contact_id


def test_do_not_call_puts_the_number_on_the_own_list(ctx, floor):
    c = make_campaign(ctx, floor, contacts=1)
    alice = floor["alice"]
    dialer.join(ctx, alice, c["id"])
    available(ctx, alice)
    call = dialer.dial(ctx, alice, dialer.preview(ctx, alice).campaign_contact.id)
    ring_out(ctx)
    calls.hang_up(ctx, alice, call.id)
    calls.close(ctx, alice, call.id, c["npa"])
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(OppositionEntry)
                              .where(OppositionEntry.e164 == "+33612345600")) == 1
    assert cc_of(ctx, c["contacts"][0]).state == "done"


# --- predictive --------------------------------------------------------------------------------


def test_predictive_dials_ahead_of_free_agents(ctx, floor):
    rare = {**{k: 0 for k in ANSWERS}, "answered": 0.1, "no_answer": 0.9}
    c = make_campaign(ctx, floor, mode="predictive", network=rare, contacts=10)
    for agent in (floor["alice"], floor["bruno"]):
        dialer.join(ctx, agent, c["id"])
    available(ctx, floor["alice"], floor["bruno"])
    calls.tick(ctx)
    placed = outbound_calls(ctx)
    assert len(placed) > 2 and all(call.agent_id is None for call in placed)
    assert dialer.stats(ctx, c["id"]).dial_level > 1


def test_predictive_hands_the_answer_to_a_free_agent(ctx, floor):
    c = make_campaign(ctx, floor, mode="predictive", contacts=1)
    dialer.join(ctx, floor["alice"], c["id"])
    available(ctx, floor["alice"])
    calls.tick(ctx)
    (call,) = outbound_calls(ctx)
    assert call.agent_id is None and agents.get_presence(ctx, floor["alice"].id).state == "available"
    ring_out(ctx)
    view = calls.view(ctx, call.id)
    assert view.call.state == "connected" and view.call.agent_id == floor["alice"].id
    assert agents.get_presence(ctx, floor["alice"].id).state == "on_call"
    assert attempts(ctx, c["id"])[0].agent_id == floor["alice"].id


def test_predictive_drops_an_answer_no_agent_takes_within_2_seconds(ctx, floor):
    c = make_campaign(ctx, floor, mode="predictive", contacts=2, drop_message="")
    alice = floor["alice"]
    dialer.join(ctx, alice, c["id"])
    available(ctx, alice)
    calls.tick(ctx)
    (call,) = outbound_calls(ctx)
    agents.set_state(ctx, alice, "paused", "short_break")  # nobody free when the person answers
    ring_out(ctx)
    assert calls.view(ctx, call.id).call.state == "dialing"  # answered, waiting for an agent
    ctx.clock.advance(seconds=1)
    calls.tick(ctx)
    assert calls.view(ctx, call.id).call.state == "dialing"
    ctx.clock.advance(seconds=1)
    calls.tick(ctx)
    view = calls.view(ctx, call.id)
    assert view.call.state == "dropped"
    (message,) = [u for u in view.transcript if u.speaker == "system"]
    assert "Offre fibre" in message.text and "01 62 00 00 01" in message.text
    (attempt,) = attempts(ctx, c["id"])
    assert attempt.outcome == "dropped" and attempt.connected_at is None
    cc = cc_of(ctx, c["contacts"][0])
    assert cc.state == "scheduled" and cc.next_at.replace(tzinfo=timezone.utc) >= ctx.now() + timedelta(hours=72)
    stats = dialer.stats(ctx, c["id"])
    assert stats.dropped_today == 1
    available(ctx, alice)
    for _ in range(3):  # the other contact is called, the dropped one is not, for 72 hours
        calls.tick(ctx)
        for placed in outbound_calls(ctx):
            if placed.state == "dialing":
                ring_out(ctx)
        for placed in outbound_calls(ctx):
            if placed.state == "connected":
                calls.hang_up(ctx, alice, placed.id)
                calls.close(ctx, alice, placed.id, c["joint"])
        ctx.clock.advance(hours=1)
    assert [a.campaign_contact_id for a in attempts(ctx, c["id"]) if a.allowed].count(c["contacts"][0]) == 1


# --- what the pacing weighs, what the supervisor sees -------------------------------------------------


def _set_network(ctx, campaign_id, network):
    with ctx.unit() as session:
        session.get(Campaign, campaign_id).network = network


def _close_all(ctx, agent, disposition_id):
    for call in outbound_calls(ctx):
        if call.state == "connected" and call.agent_id == agent.id:
            calls.hang_up(ctx, agent, call.id)
            calls.close(ctx, agent, call.id, disposition_id)


def test_the_measured_answer_rate_ignores_dials_too_young_to_have_their_answer(ctx, floor):
    """Busy numbers are known in 2 s, unanswered ones only after 25: the rate counts only the dials
    placed at least that long ago, so the first busy answers do not make it read low."""
    alice, bruno = floor["alice"], floor["bruno"]
    c = make_campaign(ctx, floor, mode="progressive", contacts=4)
    for agent in (alice, bruno):
        dialer.join(ctx, agent, c["id"])
    available(ctx, alice, bruno)
    calls.tick(ctx)  # two people who will answer
    assert dialer.pacing_input(ctx, c["id"]).answer_rate is None  # nothing known yet
    ring_out(ctx)
    for agent in (alice, bruno):
        _close_all(ctx, agent, c["joint"])
    _set_network(ctx, c["id"], BUSY)
    calls.tick(ctx)  # two busy numbers, known within 3 s
    ring_out(ctx, 3)
    assert {a.outcome for a in attempts(ctx, c["id"])[2:]} == {"busy"}
    seen = dialer.pacing_input(ctx, c["id"])
    assert (seen.answer_rate, seen.samples) == (1.0, 2)  # the young busy dials are not counted yet
    ring_out(ctx, 25)
    seen = dialer.pacing_input(ctx, c["id"])
    assert (seen.answer_rate, seen.samples) == (0.5, 4)


def test_the_pacing_weighs_each_line_and_agent_by_how_long_they_have_been_at_it(ctx, floor):
    alice, bruno = floor["alice"], floor["bruno"]
    c = make_campaign(ctx, floor, mode="progressive", contacts=3)
    for agent in (alice, bruno):
        dialer.join(ctx, agent, c["id"])
    available(ctx, alice, bruno)
    calls.tick(ctx)
    ring_out(ctx)
    ctx.clock.advance(seconds=40)
    seen = dialer.pacing_input(ctx, c["id"])
    assert seen.busy_elapsed_s == (40.0, 40.0) and seen.busy_agents == 2 and seen.recent_handle_s == ()
    assert seen.network is not None and seen.mean_handle_s == dialer.PRIOR_HANDLE_S  # too few calls finished
    _close_all(ctx, alice, c["joint"])
    seen = dialer.pacing_input(ctx, c["id"])
    assert len(seen.recent_handle_s) == 1 and seen.recent_handle_s[0] >= 40 and seen.busy_agents == 1
    # predictive: the lines ringing with no agent yet, each with its age
    _set_network(ctx, c["id"], {**{k: 0 for k in ANSWERS}, "no_answer": 1})
    with ctx.unit() as session:
        session.get(Campaign, c["id"]).dial_mode = "predictive"
    calls.tick(ctx)
    ringing = [call for call in outbound_calls(ctx) if call.state == "dialing"]
    assert ringing and all(call.agent_id is None for call in ringing)
    ctx.clock.advance(seconds=6)
    seen = dialer.pacing_input(ctx, c["id"])
    assert seen.in_flight == len(ringing) and seen.in_flight_ages_s == (6.0,) * len(ringing)


def test_stats_say_why_the_dialer_dials_as_it_does(ctx, floor):
    c = make_campaign(ctx, floor, mode="predictive", contacts=3)
    idle = dialer.stats(ctx, c["id"])
    assert (idle.reason, idle.reason_label) == ("no_agents", pacing.REASON_LABELS["no_agents"])
    dialer.join(ctx, floor["alice"], c["id"])
    available(ctx, floor["alice"])
    calls.tick(ctx)
    stats = dialer.stats(ctx, c["id"])
    assert stats.reason in ("ahead", "cap_guard") and stats.reason_label == pacing.REASON_LABELS[stats.reason]
    figures = stats.as_dict()
    assert {"dial_level", "reason", "reason_label", "abandon_rate", "abandon_cap", "occupancy",
            "agents_logged_in", "agents_free", "in_flight", "dials_today", "connected_today",
            "dropped_today"} <= set(figures)
    sent = events(ctx, "floor", "dialer")[-1]  # the same figures go to the floor
    assert sent["reason"] == stats.reason and sent["reason_label"] == stats.reason_label
    with ctx.unit() as session:
        session.get(Campaign, c["id"]).dial_mode = "progressive"
    assert dialer.stats(ctx, c["id"]).reason_label == pacing.REASON_LABELS["progressive"]


# --- the trainer plays the called party -----------------------------------------------------------


def test_the_trainer_plays_the_called_party(ctx, floor):
    c = make_campaign(ctx, floor, contacts=1)
    alice, boss = floor["alice"], floor["boss"]
    dialer.join(ctx, alice, c["id"])
    available(ctx, alice)
    call = dialer.dial(ctx, alice, dialer.preview(ctx, alice).campaign_contact.id)
    assert [v.call.id for v in dialer.calls_to_play(ctx)] == [call.id]
    with pytest.raises(PermissionDenied):
        dialer.play_callee(ctx, alice, call.id)
    dialer.play_callee(ctx, boss, call.id)
    dialer.play_callee(ctx, boss, call.id)  # twice: once
    assert dialer.calls_to_play(ctx) == []
    with pytest.raises(ConflictError):
        dialer.play_callee(ctx, people(ctx, "autre", role="supervisor")[0], call.id)
    assert [v.call.id for v in calls.console_calls(ctx, boss)] == [call.id]
    ring_out(ctx)
    calls.say(ctx, boss, call.id, "Allô ?")
    calls.say(ctx, alice, call.id, "Bonjour Madame.")
    assert [u.speaker for u in calls.view(ctx, call.id).transcript] == ["caller", "agent"]
    calls.hang_up(ctx, boss, call.id)
    assert calls.view(ctx, call.id).call.state == "wrap_up"


def test_dialers_running_at_once_never_dial_a_contact_twice(ctx, floor):
    """Four tickers at the same second (four instances): each contact dialed once, each agent on one call."""
    import threading

    c = make_campaign(ctx, floor, mode="progressive", contacts=6)
    team = people(ctx, "emma", "farid", team_id=floor["team"])
    workers = [floor["alice"], floor["bruno"], *team]
    for agent in workers:
        dialer.join(ctx, agent, c["id"])
    available(ctx, *workers)
    errors = []

    def run():
        try:
            dialer.tick(ctx)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    placed = outbound_calls(ctx)
    assert len(placed) == len(workers)
    assert len({call.agent_id for call in placed}) == len(workers)
    dialed = [a.campaign_contact_id for a in attempts(ctx, c["id"])]
    assert len(dialed) == len(set(dialed)) == len(workers)
