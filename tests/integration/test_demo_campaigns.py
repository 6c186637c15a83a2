"""The demo's outbound floor (``campaigns.yaml``): campaigns, qualifications, advisors, calling-rules data."""

from __future__ import annotations

import shutil

import pytest
import yaml
from sqlalchemy import func, select

from plateau.domain.campaign_settings import AGENT_OUTCOMES
from plateau.domain.campaigns import Outcome
from plateau.domain.queue_hours import validate_hours
from plateau.services import campaigns as campaigns_service
from plateau.services import demo
from plateau.services.context import SYSTEM
from plateau.services.demo_data import DEMO_DIR, KIND_OUTCOME, DemoDataError, load_demo
from plateau.store.models import (Advisor, Campaign, CampaignAssignment, CampaignChange, CampaignContact,
                                  CampaignDisposition, CallScript, Contact, ContactConsent, ContactPhone, Disposition,
                                  OppositionEntry, OppositionList, QueueDisposition, Team, User)
from tests.conftest import wipe

SMALL = 400


def _seed(ctx):
    return demo.seed_demo(ctx, contacts=SMALL, seed=42, history_calls=5)


def _lists(ctx) -> dict[str, list[int]]:
    """Each campaign's target list: contact ids in list order."""
    with ctx.read() as session:
        rows = session.execute(select(Campaign.code, CampaignContact.contact_id)
                               .join(CampaignContact, CampaignContact.campaign_id == Campaign.id)
                               .order_by(Campaign.code, CampaignContact.position))
        lists: dict[str, list[int]] = {}
        for code, contact_id in rows:
            lists.setdefault(code, []).append(contact_id)
        return lists


def test_seed_builds_the_outbound_floor(ctx):
    report = _seed(ctx)
    spec = load_demo().campaigns
    lists = _lists(ctx)
    assert report.campaigns == 3 and report.campaign_contacts == sum(len(ids) for ids in lists.values())
    # the campaigns service reads them like any campaign a supervisor made
    summaries = {s.code: s for s in campaigns_service.list_campaigns(ctx, SYSTEM)}
    assert {code: s.counts.total for code, s in summaries.items()} == {code: len(ids) for code, ids in lists.items()}
    with ctx.read() as session:
        campaigns = {c.code: c for c in session.scalars(select(Campaign))}
        assert {code: (c.kind, c.status, c.dial_mode) for code, c in campaigns.items()} == {
            "enquete-satisfaction-hiver": ("survey", "running", "progressive"),
            "rdv-pros-photovoltaique": ("appointment", "test", "preview"),
            "recouvrement-factures-echues": ("debt_collection", "draft", "predictive")}
        inbound = set(session.scalars(select(Disposition.code).join(QueueDisposition)))
        teams = dict(session.execute(select(Team.id, Team.code)).all())
        users = dict(session.execute(select(User.id, User.username)).all())
        karim = session.scalar(select(ContactPhone.contact_id).where(ContactPhone.e164 == "+33612345678"))
        for campaign_spec in spec.campaigns:
            campaign = campaigns[campaign_spec.code]
            script = session.get(CallScript, campaign.script_id)
            assert script.code == campaign_spec.script
            assert campaign.created_at == campaign.updated_at == ctx.now()
            assert campaign.starts_on <= campaign.ends_on
            assert campaign.presented_number.startswith("+33")
            if campaign.dial_mode in ("progressive", "predictive"):
                assert campaign.presented_number.startswith(("+33162", "+33270")), "an ARCEP number for automated calls"
            assert validate_hours(campaign.hours) == campaign.hours and campaign.hours

            # its qualifications, in order, each meaning an agent's outcome, none shared with inbound calls
            dispositions = session.execute(select(Disposition).join(CampaignDisposition).where(
                CampaignDisposition.campaign_id == campaign.id).order_by(CampaignDisposition.position)).scalars().all()
            assert [d.code for d in dispositions] == campaign_spec.dispositions
            assert all(d.outcome in AGENT_OUTCOMES and d.code not in inbound for d in dispositions)
            assert all(d.requires_callback for d in dispositions if d.outcome == Outcome.CALLBACK)
            assert all(d.is_contact == (d.outcome != Outcome.WRONG_NUMBER) for d in dispositions)
            if campaign_spec.kind in KIND_OUTCOME:
                assert KIND_OUTCOME[campaign_spec.kind] in {d.outcome for d in dispositions}

            assigned = session.execute(select(CampaignAssignment.team_id, CampaignAssignment.user_id).where(
                CampaignAssignment.campaign_id == campaign.id)).all()
            assert sorted(teams[t] for t, _ in assigned if t) == sorted(campaign_spec.assign.teams)
            assert sorted(users[u] for _, u in assigned if u) == sorted(campaign_spec.assign.users)

            # the target list: matching contacts with a French number, in id order, within its size
            ids = lists[campaign_spec.code]
            target = campaign_spec.target
            assert 0 < len(ids) <= target.size and ids == sorted(ids) and karim not in ids
            contacts = session.scalars(select(Contact).where(Contact.id.in_(ids))).all()
            assert all(c.kind == target.kind and c.country == "FR" for c in contacts)
            assert all(c.status == target.status for c in contacts) if target.status else True
            assert all(c.id % target.every == target.offset for c in contacts)
            dialable = set(session.scalars(select(ContactPhone.contact_id).where(
                ContactPhone.contact_id.in_(ids), ContactPhone.e164.like("+33%"))))
            assert dialable == set(ids)
            states = session.execute(select(CampaignContact.state, CampaignContact.attempts, CampaignContact.position,
                                            CampaignContact.in_test).where(CampaignContact.campaign_id == campaign.id)
                                     .order_by(CampaignContact.position)).all()
            assert {(s, a) for s, a, _, _ in states} == {("pending", 0)}
            assert [p for _, _, p, _ in states] == list(range(len(ids)))
            sample = [p for _, _, p, in_test in states if in_test]
            assert len(sample) == (campaign_spec.test_sample_size if campaign.status == "test" else 0)
            # created as a draft, then moved the way a supervisor does it: the log says so
            changes = session.execute(select(CampaignChange.field, CampaignChange.old_value, CampaignChange.new_value)
                                      .where(CampaignChange.campaign_id == campaign.id)
                                      .order_by(CampaignChange.id)).all()
            moves = {"draft": [], "running": [("status", "draft", "running")],
                     "test": [("test_sample", None, str(len(sample))), ("status", "draft", "test")]}
            assert changes == [(campaigns_service.CREATED, None, campaign.name), *moves[campaign.status]]
            assert campaign.selection == {"kind": target.kind, **({"status": target.status} if target.status else {})}

        # photovoltaic equipment: a sector banned for consumers, so companies only
        pros = campaigns["rdv-pros-photovoltaique"]
        assert pros.sector == "energy_renovation" and pros.products
        predictive = campaigns["recouvrement-factures-echues"]
        assert predictive.abandon_cap == 0.03 and "Énergie Horizon" in predictive.drop_message
        assert "01 84 88 00 00" in predictive.drop_message

        advisors = session.scalars(select(Advisor).order_by(Advisor.id)).all()
        assert [a.name for a in advisors] == [a.name for a in spec.advisors] and len(advisors) == 3
        assert all(a.hours and validate_hours(a.hours) == a.hours and a.slot_minutes in (30, 45) and a.location
                   for a in advisors)

        # the company's own opposition list: the numbers of contacts flagged "opposition"
        own = session.scalar(select(OppositionList).where(OppositionList.code == "own"))
        assert (own.kind, own.country, own.imported_at) == ("own", "FR", None)
        numbers = set(session.scalars(select(OppositionEntry.e164).where(OppositionEntry.list_id == own.id)))
        assert own.entries_count == len(numbers) > 0
        opposed = set(session.scalars(select(Contact.id).where(Contact.opposition.is_(True))))
        expected = set(session.scalars(select(ContactPhone.e164).where(ContactPhone.contact_id.in_(opposed))))
        assert numbers == expected  # fewer opposed contacts than the cap here: all of them
        assert session.scalar(select(func.max(OppositionEntry.added_at))) < ctx.now()

        # consent proofs: for contacts who agreed, the text word for word, dated before the seed
        consents = session.scalars(select(ContactConsent)).all()
        agreed = set(session.scalars(select(Contact.id).where(Contact.consent_call.is_(True))))
        assert len(consents) == min(spec.consents.max_contacts, len(agreed))
        assert {c.contact_id for c in consents} <= agreed and not {c.contact_id for c in consents} & opposed
        text = " ".join(spec.consents.text.split())
        assert text.startswith("J'accepte d'être appelé(e) par Énergie Horizon")
        assert {(c.kind, c.method, c.text, c.withdrawn_at) for c in consents} == {("call", "web_form", text, None)}
        assert all(c.given_at < ctx.now() and c.given_at == c.recorded_at and c.source for c in consents)


def test_target_lists_are_the_same_for_the_same_seed_and_do_not_overlap(sqlite_ctx):
    _seed(sqlite_ctx)
    first = _lists(sqlite_ctx)
    with sqlite_ctx.read() as session:
        proofs = session.execute(select(ContactConsent.contact_id, ContactConsent.given_at)
                                 .order_by(ContactConsent.id)).all()
    assert not set(first["enquete-satisfaction-hiver"]) & set(first["recouvrement-factures-echues"])
    wipe(sqlite_ctx.db)
    _seed(sqlite_ctx)
    assert _lists(sqlite_ctx) == first
    with sqlite_ctx.read() as session:
        assert session.execute(select(ContactConsent.contact_id, ContactConsent.given_at)
                               .order_by(ContactConsent.id)).all() == proofs


def test_target_list_never_exceeds_its_size(sqlite_ctx, tmp_path):
    """A list is capped by ``size``: the seed picks with LIMIT, whatever the file's size."""
    folder = _copy_demo(tmp_path)
    path = folder / "campaigns.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["campaigns"][0]["target"]["size"] = 7
    data["campaigns"][0]["objectives"] = {"calls": 20}
    data["campaigns"][0]["test_sample_size"] = 3
    data["campaigns"][0]["status"] = "test"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    demo.seed_demo(sqlite_ctx, contacts=SMALL, seed=42, history_calls=0, data=load_demo(folder))
    with sqlite_ctx.read() as session:
        survey = session.scalar(select(Campaign).where(Campaign.code == "enquete-satisfaction-hiver"))
        rows = session.execute(select(CampaignContact.position, CampaignContact.in_test).where(
            CampaignContact.campaign_id == survey.id).order_by(CampaignContact.position)).all()
    assert [p for p, _ in rows] == list(range(7)) and sum(bool(t) for _, t in rows) == 3


def _copy_demo(tmp_path):
    folder = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, folder)
    return folder


def _set(path: str, value):
    """A change to campaigns.yaml: set the value at a dotted path ("campaigns.0.kind")."""
    def change(data):
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return change


@pytest.mark.parametrize("change, message", [
    (_set("dispositions.0.outcome", "teleported"), r"dispositions\.0 : .*outcome : « teleported » inconnu"),
    (_set("dispositions.3.requires_callback", False), r"dispositions\.3 : .*requires_callback"),
    (_set("dispositions.14.is_contact", True), r"dispositions\.14 : .*is_contact"),
    (_set("dispositions.0.code", "sale"), r"dispositions\.0 : code « sale » déjà pris .*queues\.yaml"),
    (lambda d: d["campaigns"][0]["dispositions"].append("out_teleport"),
     r"campaigns\.0 \(enquete-satisfaction-hiver\) : dispositions : qualification inconnue « out_teleport »"),
    (_set("campaigns.0.dispositions", ["out_refused", "out_callback"]),
     r"campaigns\.0 .*« survey » doit offrir une qualification de résultat « survey_completed »"),
    (_set("campaigns.0.kind", "telepathy"), r"campaigns\.0\.kind"),
    (_set("campaigns.0.script", "campagne-absente"),
     r"campaigns\.0 \(enquete-satisfaction-hiver\) : script « campagne-absente » : fichier .*introuvable"),
    (_set("campaigns.1.products", ["panneaux-magiques"]),
     r"campaigns\.1 \(rdv-pros-photovoltaique\) : products : produit inconnu « panneaux-magiques »"),
    (_set("campaigns.0.assign.teams", ["commando"]), r"campaigns\.0 .*assign\.teams : équipe inconnue « commando »"),
    (_set("campaigns.2.assign.users", ["formateur"]),
     r"campaigns\.2 .*assign\.users : « formateur » n'est pas un agent"),
    (_set("campaigns.2.presented_number", "+33472104500"),
     r"campaigns\.2 \(recouvrement-factures-echues\) : presented_number : les règles d'appel refuseraient chaque "
     r"appel de la campagne \(fr\.automated_number, ARCEP"),
    (_set("campaigns.0.presented_number", "01 62"), r"campaigns\.0 .*presented_number : .*« 01 62 »"),
    (_set("campaigns.1.target.kind", "person"),
     r"campaigns\.1 .*sector : les règles d'appel refuseraient .*fr\.energy_renovation.*L\.223-1"),
    (_set("campaigns.1.sector", "astrologie"), r"campaigns\.1 .*sector : Secteur d'activité inconnu"),
    (_set("campaigns.2.drop_message", ""), r"campaigns\.2 .*drop_message : Le mode prédictif exige"),
    (_set("campaigns.2.drop_message", "Bonjour, rappelez-nous au 01 84 88 00 00."),
     r"campaigns\.2 .*drop_message : le message doit nommer l'entreprise « Énergie Horizon »"),
    (_set("campaigns.2.drop_message", "Bonjour, ici Énergie Horizon. Merci."),
     r"campaigns\.2 .*drop_message : le message doit donner un numéro"),
    (_set("campaigns.2.abandon_cap", 0.05), r"campaigns\.2 .*abandon_cap : .*plafond légal"),
    (_set("campaigns.2.retry_minutes.dropped", 4320), r"campaigns\.2 .*retry_minutes : .*« dropped »"),
    (_set("campaigns.0.hours.mon", [["13:00", "10:00"]]), r"campaigns\.0 .*hours_mon : .*finit avant de commencer"),
    (_set("campaigns.0.objectives.surveys", 1000), r"campaigns\.0 .*objectives\.surveys : 1000 .*target\.size"),
    (_set("campaigns.1.test_sample_size", 99), r"campaigns\.1 .*test_sample_size : 99 .*target\.size"),
    (_set("campaigns.0.network", {"answred": 0.5}), r"campaigns\.0 .*network : .*answred"),
    (_set("advisors.0.hours", {}), r"advisors\.0 : .*hours : au moins une plage"),
    (_set("consents.newest_days", 900), r"consents : .*newest_days"),
])
def test_a_bad_campaigns_file_is_refused_naming_the_file_and_the_field(tmp_path, change, message):
    folder = _copy_demo(tmp_path)
    path = folder / "campaigns.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DemoDataError, match=r"campaigns\.yaml") as caught:
        load_demo(folder)
    assert caught.match(message), str(caught.value)


def test_a_broken_campaign_script_is_refused_with_its_line(tmp_path):
    folder = _copy_demo(tmp_path)
    script = folder / "scripts" / "campagne-recouvrement.yaml"
    script.write_text(script.read_text(encoding="utf-8").replace(
        "Je comprends, et je vous remercie de me le dire franchement.",
        "Je comprends, mais vous devez payer."), encoding="utf-8")
    with pytest.raises(DemoDataError, match=r"campaigns\.yaml : campaigns\.2 \(recouvrement-factures-echues\) : "
                                            r"script « campagne-recouvrement » : .*refusé : .*vous devez payer"):
        load_demo(folder)


def test_a_campaign_script_is_named_after_its_code(tmp_path):
    folder = _copy_demo(tmp_path)
    shutil.copy(folder / "scripts" / "campagne-recouvrement.yaml", folder / "scripts" / "campagne-copie.yaml")
    path = folder / "campaigns.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["campaigns"][2]["script"] = "campagne-copie"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DemoDataError, match=r"campaigns\.yaml : campaigns\.2 .*script « campagne-copie » : "
                                            r"le fichier .*a le code « campagne-recouvrement »"):
        load_demo(folder)
