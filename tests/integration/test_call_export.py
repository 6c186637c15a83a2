"""A stored call exported to CALL.json (``plateau calls export``), on real databases, and read back
by the evaluator: an inbound call played through the services (transcript, hold, CRM changes, note,
hang-up, qualification with a callback) and outbound campaign calls (appointment, payment plan,
sale, survey answers)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from plateau.config import DATA_DIR, get_settings
from plateau.domain.assessment import AssessOptions, assess
from plateau.domain.assessment_call import parse_call
from plateau.domain.errors import NotFoundError
from plateau.domain.sales import TypedLine
from plateau.services import agents, calls, crm, frameworks
from plateau.services import campaign_work as work
from plateau.services import scripts
from plateau.services.assessment_settings import load_settings
from plateau.services.call_export import call_record, export_call
from plateau.services.calls import CallbackRequest
from plateau.services.users import actor_for
from plateau.store.models import (Advisor, Call, CallScript, Campaign, Contact, ContactPhone, Disposition, Product,
                                  Queue, QueueDisposition, QueueMember)
from tests.helpers import make_user

PARIS = ZoneInfo("Europe/Paris")
SCRIPTS = DATA_DIR / "demo" / "scripts"


def _script(session, name: str, now) -> CallScript:
    text = (SCRIPTS / f"{name}.yaml").read_text(encoding="utf-8")
    row = CallScript(code=name, name=name, content=text, version=1, updated_at=now)
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def inbound(ctx):
    """The « Service clients » queue with its script and two qualifications, a trainer playing the
    caller, the agent Julie Moreau, and the caller's record (Karim Benali)."""
    trainer = actor_for(make_user(ctx, "formateur", role="supervisor", name="Nadia Formatrice"))
    julie = actor_for(make_user(ctx, "julie", name="Julie Moreau"))
    with ctx.unit() as session:
        now = ctx.now()
        script = _script(session, "service-clients", now)
        queue = Queue(code="service-clients", name="Service clients", script_id=script.id)
        session.add(queue)
        session.flush()
        info = Disposition(code="info", label="Information donnée")
        callback = Disposition(code="rappel", label="Rappel à programmer", requires_callback=True)
        session.add_all([info, callback])
        session.flush()
        session.add_all([QueueDisposition(queue_id=queue.id, disposition_id=info.id, position=1),
                         QueueDisposition(queue_id=queue.id, disposition_id=callback.id, position=2),
                         QueueMember(queue_id=queue.id, user_id=julie.id)])
        karim = Contact(kind="person", civility="M.", first_name="Karim", last_name="Benali",
                        search_name="benali karim", created_at=now, updated_at=now, tags=[])
        session.add(karim)
        session.flush()
        session.add(ContactPhone(contact_id=karim.id, e164="+33612345678", label="mobile"))
    return {"trainer": trainer, "julie": julie, "queue": queue.id, "callback": callback.id, "karim": karim.id}


def _play(ctx, floor) -> int:
    """An inbound call through the real services, second by second on the test clock."""
    agents.set_state(ctx, floor["julie"], "available")
    ctx.clock.advance(seconds=2)
    call = calls.place_call(ctx, floor["trainer"], floor["queue"], "06 12 34 56 78", "FR")
    ctx.clock.advance(seconds=5)
    calls.answer(ctx, floor["julie"], call.id)
    say = [(2, "julie", "Énergie Horizon, Julie Moreau à votre écoute, bonjour !"),
           (4, "trainer", "Bonjour, je déménage le mois prochain et je voudrais savoir comment faire."),
           (5, "julie", "Bien sûr. Pouvez-vous me confirmer votre nom et votre numéro client ?"),
           (6, "trainer", "Karim Benali, client EH00012345."),
           (4, "julie", "Merci, Monsieur Benali. Je vérifie votre contrat, je vous mets en attente un instant.")]
    for pause, who, text in say:
        ctx.clock.advance(seconds=pause)
        calls.say(ctx, floor[who], call.id, text)
    ctx.clock.advance(seconds=2)
    calls.hold(ctx, floor["julie"], call.id)
    ctx.clock.advance(seconds=30)
    calls.resume(ctx, floor["julie"], call.id)
    ctx.clock.advance(seconds=1)
    calls.say(ctx, floor["julie"], call.id, "Merci de votre patience. Quelle est votre nouvelle adresse ?")
    ctx.clock.advance(seconds=6)
    calls.say(ctx, floor["trainer"], call.id, "Le 12 rue des Lilas, à Lyon.")
    ctx.clock.advance(seconds=5)
    contact = crm.get_contact(ctx, floor["karim"])
    crm.update_contact(ctx, floor["julie"], floor["karim"], contact.version,
                       {**contact.values(), "address_line": "12 rue des Lilas", "city": "Lyon", "postcode": "69003"},
                       contact.phone_inputs(), call_id=call.id)
    crm.add_note(ctx, floor["julie"], floor["karim"], "Déménagement à Lyon le mois prochain.", call_id=call.id)
    ctx.clock.advance(seconds=3)
    calls.say(ctx, floor["julie"], call.id, "C'est noté. Je vous remercie de votre appel, Monsieur Benali. Énergie "
                                            "Horizon vous souhaite une excellente journée, au revoir !")
    ctx.clock.advance(seconds=2)
    calls.hang_up(ctx, floor["julie"], call.id)
    ctx.clock.advance(seconds=20)
    calls.close(ctx, floor["julie"], call.id, floor["callback"],
                callback=CallbackRequest(date="2026-11-30", time="10:00", note="Confirmer le relevé"))
    return call.id


def test_an_inbound_call_exports_turns_events_and_records(ctx, inbound):
    call_id = _play(ctx, inbound)
    data = export_call(ctx, call_id)
    assert (data["id"], data["direction"], data["scenario"], data["media"]) == (call_id, "inbound", "service-clients",
                                                                                "text")
    assert data["company"] == {"name": "Énergie Horizon"} and data["agent"] == {"name": "Julie Moreau"}
    assert data["contact"] == {"id": inbound["karim"], "name": "Monsieur Karim Benali"}
    assert data["charter"]["greeting"] == "Énergie Horizon, {agent} à votre écoute, bonjour !"
    assert "normalement" in data["banned_words"]
    # seconds from the answer: the greeting 2 s after it, the hold 30 s long
    assert [(t["t"], t["speaker"]) for t in data["turns"]][:3] == [(2.0, "agent"), (6.0, "caller"), (11.0, "agent")]
    assert data["turns"][1]["text"] == "Bonjour, je déménage le mois prochain et je voudrais savoir comment faire."
    kinds = [(e["type"], e["t"]) for e in data["events"]]
    assert ("hold", 23.0) in kinds and ("resume", 53.0) in kinds
    changes = {e["field"]: (e["old"], e["value"]) for e in data["events"] if e["type"] == "crm_update"}
    assert changes["city"] == (None, "Lyon") and changes["address_line"] == (None, "12 rue des Lilas")
    assert [e["text"] for e in data["events"] if e["type"] == "note"] == ["Déménagement à Lyon le mois prochain."]
    hangup = next(e for e in data["events"] if e["type"] == "hangup")
    assert hangup["by"] == "agent" and hangup["t"] == 70.0
    callback = next(e for e in data["events"] if e["type"] == "callback")
    assert datetime.fromisoformat(callback["at"]) == datetime(2026, 11, 30, 10, 0, tzinfo=PARIS)
    assert callback["note"] == "Confirmer le relevé"
    assert data["events"][-1] == {"t": 90.0, "type": "disposition", "code": "rappel", "label": "Rappel à programmer"}
    assert [e["t"] for e in data["events"]] == sorted(e["t"] for e in data["events"])
    record = parse_call(json.loads(json.dumps(data)))  # the JSON text round-trips
    assert record == call_record(ctx, call_id)


def test_an_exported_call_goes_through_the_evaluator(ctx, inbound):
    record = call_record(ctx, _play(ctx, inbound))
    settings = load_settings()
    mc = assess(record, frameworks.get("mc-acvd"), AssessOptions(settings))
    assert mc.result_of("mc-acvd/C1.1/1").result == "met"  # presentation, charter and leave-taking
    assert mc.result_of("mc-acvd/C1.1/2").result == "met"  # identity checked
    evidence = mc.result_of("mc-acvd/C1.1/2").evidence
    assert evidence[0].quote == "Bien sûr. Pouvez-vous me confirmer votre nom et votre numéro client ?"
    handling = mc.result_of("mc-acvd/C2.2/2")  # the hold was announced, thanked and short
    assert handling.result == "met" and any(e.kind == "timing" and e.what == "hold" for e in handling.evidence)
    assert mc.result_of("mc-acvd/C2.3/2").result == "met"  # CRM changes made during the call
    filea = assess(record, frameworks.get("filea-appels-sortants"), AssessOptions(settings))
    assert filea.result_of("filea-appels-sortants/12").result == "met"


def test_outbound_campaign_records_become_events(ctx):
    ana = actor_for(make_user(ctx, "ana", name="Ana Martin"))
    with ctx.unit() as session:
        now = ctx.now()
        survey_script = _script(session, "campagne-enquete-hiver", now)
        karim = Contact(kind="person", civility="M.", first_name="Karim", last_name="Benali",
                        search_name="benali karim", created_at=now, updated_at=now, tags=[])
        session.add_all([karim, Product(code="box", name="Box Fibre"), Product(code="tv", name="Option TV")])
        advisor = Advisor(name="Mme Roy", hours={d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
                          slot_minutes=30)
        session.add(advisor)
        session.flush()
        ids = {}
        for code, kind, products, script_id in (("rdv", "appointment", [], None), ("dette", "debt_collection", [], None),
                                                ("vente", "sale", ["box", "tv"], None),
                                                ("enquete", "survey", [], survey_script.id)):
            campaign = Campaign(code=code, name=f"Campagne {code}", kind=kind, status="running", products=products,
                                country="FR", script_id=script_id, created_at=now, updated_at=now)
            session.add(campaign)
            session.flush()
            call = Call(direction="outbound", media="voice", state="connected", caller_number="+33612345678",
                        contact_id=karim.id, agent_id=ana.id, campaign_id=campaign.id, created_at=now,
                        state_since=now, answered_at=now)
            session.add(call)
            session.flush()
            ids[code] = call.id
    ctx.clock.advance(seconds=40)
    starts = datetime(2026, 11, 24, 14, 30, tzinfo=PARIS).astimezone(timezone.utc)
    work.book_appointment(ctx, ana, ids["rdv"], advisor.id, starts, "phone")
    work.record_payment_plan(ctx, ana, ids["dette"], "300", [("2026-12-05", "100"), ("2027-01-05", "200")],
                             method="direct_debit")
    work.record_sale(ctx, ana, ids["vente"], [TypedLine("box", "1", "29,99"), TypedLine("tv", "1", "5", True)],
                     "Carte bancaire")
    scripts.save_answer(ctx, ana, ids["enquete"], "satisfaction_globale", "Plutôt satisfait")

    appointment = next(e for e in export_call(ctx, ids["rdv"])["events"] if e["type"] == "appointment")
    assert appointment["t"] == 40.0 and appointment["with"] == "Mme Roy" and appointment["mode"] == "phone"
    assert datetime.fromisoformat(appointment["at"]) == starts
    plan = next(e for e in export_call(ctx, ids["dette"])["events"] if e["type"] == "payment_plan")
    assert (plan["total"], plan["instalments"]) == (300.0, [{"due": "2026-12-05", "amount": 100.0},
                                                           {"due": "2027-01-05", "amount": 200.0}])
    sale = next(e for e in export_call(ctx, ids["vente"])["events"] if e["type"] == "sale")
    assert (sale["amount"], sale["additional"], sale["products"]) == (34.99, 5.0, ["box", "tv"])
    survey = export_call(ctx, ids["enquete"])
    answer = next(e for e in survey["events"] if e["type"] == "survey_answer")
    assert (answer["question"], answer["value"], answer["label"]) == ("satisfaction_globale", "Plutôt satisfait",
                                                                      "Satisfaction générale")
    assert survey["company"] == {"name": "Énergie Horizon"} and survey["scenario"] == "enquete"
    for call_id in ids.values():  # every export is a valid CALL.json the evaluator reads
        call_record(ctx, call_id)


def test_an_unknown_call_is_refused(ctx):
    with pytest.raises(NotFoundError) as info:
        export_call(ctx, 999)
    assert info.value.render() == "Appel introuvable : n° 999."


@pytest.fixture
def cli_database(sqlite_ctx, sqlite_url, monkeypatch, tmp_path):
    """``plateau`` commands on the test's SQLite database."""
    monkeypatch.setenv("PLATEAU_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PLATEAU_SECRET_KEY", "test-secret-key")
    monkeypatch.setenv("PLATEAU_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield sqlite_ctx
    get_settings.cache_clear()


def test_plateau_calls_export_writes_the_file(cli_database, tmp_path):
    import typer

    from plateau.commands import assess as assess_command
    from plateau.commands import calls as calls_command

    ctx = cli_database
    floor = {
        "trainer": actor_for(make_user(ctx, "formateur", role="supervisor")),
        "julie": actor_for(make_user(ctx, "julie", name="Julie Moreau")),
    }
    with ctx.unit() as session:
        now = ctx.now()
        queue = Queue(code="service-clients", name="Service clients",
                      script_id=_script(session, "service-clients", now).id)
        session.add(queue)
        session.flush()
        done = Disposition(code="info", label="Information donnée")
        session.add(done)
        session.flush()
        session.add_all([QueueDisposition(queue_id=queue.id, disposition_id=done.id),
                         QueueMember(queue_id=queue.id, user_id=floor["julie"].id)])
    agents.set_state(ctx, floor["julie"], "available")
    call = calls.place_call(ctx, floor["trainer"], queue.id, "06 12 34 56 78", "FR")
    calls.answer(ctx, floor["julie"], call.id)
    calls.say(ctx, floor["julie"], call.id, "Énergie Horizon, Julie Moreau à votre écoute, bonjour !")
    calls.hang_up(ctx, floor["julie"], call.id)
    calls.close(ctx, floor["julie"], call.id, done.id)

    app = typer.Typer()
    app.add_typer(calls_command.app, name="calls")
    assess_command.register(app)
    runner = CliRunner()
    target = tmp_path / "appel.json"
    written = runner.invoke(app, ["calls", "export", str(call.id), "--output", str(target)])
    assert written.exit_code == 0, written.output
    assert written.stderr == f"Appel n° {call.id} exporté dans {target} (1 répliques, 2 événements).\n"
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data == json.loads(runner.invoke(app, ["calls", "export", str(call.id)]).stdout) | {
        "exported_at": data["exported_at"]}
    assessed = runner.invoke(app, ["assess", str(target), "--framework", "mc-acvd"])
    assert assessed.exit_code == 0, assessed.output
    assert json.loads(assessed.stdout)["framework"] == "mc-acvd"
    missing = runner.invoke(app, ["calls", "export", "4242"])
    assert missing.exit_code == 2 and missing.stderr == "Erreur : Appel introuvable : n° 4242.\n"
