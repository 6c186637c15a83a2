"""The compliance service on real databases (SQLite and PostgreSQL), its command line and its pages.

The clock starts on Monday 23 November 2026, 09:00 UTC (10:00 in Paris): inside the legal hours.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from plateau.cli import app as cli
from plateau.domain.errors import NotFoundError, PermissionDenied, ValidationError
from plateau.services import compliance
from plateau.services.context import Actor
from plateau.store.models import (Campaign, ComplianceSwitch, Contact, ContactChange, ContactConsent, ContactPhone,
                                  DialAttempt, OppositionEntry, OppositionList, User)
from tests.helpers import csrf_of, login, make_user

NUMBER = "+33612345678"
ARCEP = "+33162000000"


def add_contact(ctx, number=NUMBER, **fields) -> int:
    now = ctx.now()
    with ctx.unit() as session:
        contact = Contact(kind=fields.pop("kind", "person"), status=fields.pop("status", "prospect"), last_name="Martin",
                          first_name="Léa", created_at=now, updated_at=now, **fields)
        contact.phones = [ContactPhone(e164=number, label="mobile", position=0)]
        session.add(contact)
        session.flush()
        return contact.id


def add_campaign(ctx, code="prospect", kind="prospecting", **fields) -> int:
    now = ctx.now()
    with ctx.unit() as session:
        campaign = Campaign(code=code, name=code.title(), kind=kind, created_at=now, updated_at=now,
                            presented_number=fields.pop("presented_number", ARCEP), **fields)
        session.add(campaign)
        session.flush()
        return campaign.id


def give_consent(ctx, contact_id, kind="call", when=None):
    with ctx.unit() as session:
        session.add(ContactConsent(contact_id=contact_id, kind=kind, given_at=when or ctx.now() - timedelta(days=10),
                                   method="web_form", text="J'accepte d'être appelé.", recorded_at=ctx.now()))


def attempt(ctx, contact_id, at, outcome="no_answer", allowed=True, campaign_id=None, number=NUMBER):
    with ctx.unit() as session:
        session.add(DialAttempt(contact_id=contact_id, campaign_id=campaign_id, number=number, at=at, mode="progressive",
                                allowed=allowed, outcome=outcome))


def check(ctx, contact_id=None, campaign_id=None, mode="progressive", number=NUMBER, at=None, **kw):
    with ctx.read() as session:
        contact = session.get(Contact, contact_id) if contact_id else None
        campaign = session.get(Campaign, campaign_id) if campaign_id else None
        return compliance.check_dial(session, number=number, contact=contact, campaign=campaign, mode=mode,
                                     now=at or ctx.now(), **kw)


def rules(decision) -> list[str]:
    return [r["rule"] for r in decision.to_dict()["reasons"]]


@pytest.fixture
def people(ctx):
    """Users as rows (no password hashing: these tests never log in)."""
    with ctx.unit() as session:
        rows = [User(username=u, display_name=n, password_hash="-", role=r, created_at=ctx.now())
                for u, n, r in (("admin", "Alice Admin", "admin"), ("chef", "Chef Plateau", "supervisor"),
                                ("agent", "Ana Agent", "agent"))]
        session.add_all(rows)
        session.flush()
        return {key: Actor(row.id, row.role, row.display_name) for key, row in zip(("admin", "boss", "agent"), rows)}


# --- check_dial ----------------------------------------------------------------------------------


def test_check_dial_reads_the_database(ctx):
    contact = add_contact(ctx)
    campaign = add_campaign(ctx)
    assert rules(check(ctx, contact, campaign)) == ["fr.consent"]  # no proof recorded: refused since 11/08/2026
    give_consent(ctx, contact)
    assert check(ctx, contact, campaign).allowed
    sunday = datetime(2026, 11, 29, 10, tzinfo=timezone.utc)
    blocked = check(ctx, contact, campaign, at=sunday)
    assert rules(blocked) == ["fr.hours"]
    assert blocked.retry_at == datetime(2026, 11, 30, 9, tzinfo=timezone.utc)
    assert check(ctx, contact, campaign, presented_number="+33612000000").to_dict()["reasons"][0]["reference"] \
        == "ARCEP, décision n° 2022-1583"


def test_four_attempts_in_thirty_days_counted_from_the_attempt_rows(ctx):
    contact = add_contact(ctx)
    give_consent(ctx, contact)
    campaign = add_campaign(ctx)
    debt = add_campaign(ctx, code="recouvrement", kind="debt_collection")
    now = ctx.now()
    for days in (20, 10, 3):
        attempt(ctx, contact, now - timedelta(days=days), campaign_id=campaign)
    attempt(ctx, contact, now - timedelta(days=2), allowed=False, outcome="blocked", campaign_id=campaign)  # never rang
    attempt(ctx, contact, now - timedelta(days=1), campaign_id=debt)  # not prospecting
    attempt(ctx, contact, now - timedelta(days=40), campaign_id=campaign)  # out of the window
    assert check(ctx, contact, campaign).allowed
    attempt(ctx, contact, now - timedelta(minutes=5), outcome=None, campaign_id=campaign)  # still in progress: counts
    decision = check(ctx, contact, campaign)
    assert rules(decision) == ["fr.frequency"]
    # the oldest counted call (3 November) leaves the window on 3 December: 10:00 there is the first legal moment
    assert decision.retry_at == datetime(2026, 12, 3, 9, tzinfo=timezone.utc)


def test_refusal_opposition_contract_and_business(ctx, people):
    contact = add_contact(ctx)
    give_consent(ctx, contact)
    campaign = add_campaign(ctx)
    attempt(ctx, contact, ctx.now() - timedelta(days=5), outcome="refused", campaign_id=campaign)
    assert rules(check(ctx, contact, campaign)) == ["fr.refusal_quiet"]
    other = add_contact(ctx, number="+33698765432")
    give_consent(ctx, other)
    with ctx.unit() as session:
        compliance.add_to_own_list(session, "+33698765432", None, "demande", ctx.now())
    assert rules(check(ctx, other, campaign, number="+33698765432")) == ["fr.opposition"]
    with ctx.unit() as session:
        session.get(Contact, other).status = "client"
    assert check(ctx, other, campaign, number="+33698765432").allowed  # contract in progress
    company = add_contact(ctx, number="+33142000000", kind="company", company_name="ACME")
    sunday = datetime(2026, 11, 29, 10, tzinfo=timezone.utc)
    assert check(ctx, company, campaign, number="+33142000000", at=sunday).allowed  # B2B, no consent: fine


def test_purposes_from_the_campaign_or_the_contact(ctx):
    client = add_contact(ctx, status="client")
    sunday = datetime(2026, 11, 29, 10, tzinfo=timezone.utc)
    debt = add_campaign(ctx, code="recouvrement", kind="debt_collection")
    survey = add_campaign(ctx, code="enquete", kind="survey")
    energy = add_campaign(ctx, code="isolation", kind="prospecting", sector="energy_renovation")
    assert check(ctx, client, debt, at=sunday).allowed
    assert check(ctx, client, survey, at=sunday).allowed
    assert check(ctx, client, None, mode="manual", presented_number="+33142000000", at=sunday).allowed  # contract
    prospect = add_contact(ctx, number="+33611111111")
    give_consent(ctx, prospect)
    assert "fr.energy_renovation" in rules(check(ctx, prospect, energy, number="+33611111111"))
    assert check(ctx, client, energy).allowed  # contract in progress


def test_withdrawn_consent_other_hours_and_a_bare_number(ctx):
    contact = add_contact(ctx)
    campaign = add_campaign(ctx)
    give_consent(ctx, contact, when=ctx.now() - timedelta(days=30))
    with ctx.unit() as session:
        row = session.scalars(select(ContactConsent)).one()
        row.withdrawn_at, row.withdrawn_how = ctx.now() - timedelta(days=1), "par courriel"
    assert rules(check(ctx, contact, campaign)) == ["fr.consent"]
    give_consent(ctx, contact, when=ctx.now() - timedelta(hours=1))  # given again, later
    give_consent(ctx, contact, kind="call_hours")
    assert check(ctx, contact, campaign, at=datetime(2026, 11, 29, 20, tzinfo=timezone.utc)).allowed
    # a number without a contact: its own attempts count
    for days in (1, 2, 3, 4):
        attempt(ctx, None, ctx.now() - timedelta(days=days), number="+33600000001")
    with ctx.unit() as session:
        session.add(OppositionList(code="x", name="x", kind="imported", country="FR", entries_count=0))
    assert set(rules(check(ctx, None, campaign, number="+33600000001"))) == {"fr.consent", "fr.frequency"}


def test_dropped_call_and_overseas_zone(ctx):
    contact = add_contact(ctx, number="+590590123456")
    give_consent(ctx, contact)
    campaign = add_campaign(ctx, dial_mode="predictive")
    # 09:00 UTC is 05:00 in Guadeloupe: too early there
    early = check(ctx, contact, campaign, number="+590590123456")
    assert rules(early) == ["fr.hours"]
    assert "America/Guadeloupe" in early.reasons[0].message
    later = datetime(2026, 11, 23, 15, tzinfo=timezone.utc)
    attempt(ctx, contact, later - timedelta(hours=1), outcome="dropped", number="+590590123456", campaign_id=campaign)
    assert rules(check(ctx, contact, campaign, number="+590590123456", at=later)) == ["fr.dropped_quiet"]
    assert check(ctx, contact, campaign, number="+590590123456", at=later, agent_reserved=True).allowed


def test_switched_off_rules_are_skipped_and_unknown_countries_refused(ctx, people):
    contact = add_contact(ctx)
    campaign = add_campaign(ctx)
    compliance.switch_rule(ctx, people["admin"], "FR", "fr.consent", False, "Formation : consentement simulé")
    assert check(ctx, contact, campaign).allowed
    belgian = add_campaign(ctx, code="be", country="BE")
    decision = check(ctx, contact, belgian)
    assert rules(decision) == ["profile.missing"] and decision.retry_at is None


# --- switches and their audit trail ----------------------------------------------------------------


def test_switch_rule_admin_only_with_reason_and_audit_trail(ctx, people):
    with pytest.raises(PermissionDenied):
        compliance.switch_rule(ctx, people["boss"], "FR", "fr.hours", False, "essai")
    with pytest.raises(ValidationError) as caught:
        compliance.switch_rule(ctx, people["admin"], "FR", "fr.hours", False, "   ")
    assert "raison" in caught.value.errors["reason"].render()
    with pytest.raises(NotFoundError):
        compliance.switch_rule(ctx, people["admin"], "FR", "fr.nothing", False, "essai")
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(ComplianceSwitch)) == 0
    compliance.switch_rule(ctx, people["admin"], "FR", "fr.hours", False, "Exercice du dimanche")
    ctx.clock.advance(minutes=5)
    assert compliance.switch_rule(ctx, people["admin"], "FR", "fr.hours", False, "encore") is None  # same state
    compliance.switch_rule(ctx, people["admin"], "FR", "fr.hours", True, "Fin de l'exercice")
    view = compliance.profile_view(ctx, "FR")
    hours = next(r for r in view.rules if r.rule.id == "fr.hours")
    assert hours.enabled and hours.default
    assert [(s.row.enabled, s.row.reason, s.user_name) for s in hours.trail] == [
        (True, "Fin de l'exercice", "Alice Admin"), (False, "Exercice du dimanche", "Alice Admin")]
    assert compliance.profile_view(ctx, "MA").trail == []


# --- opposition lists --------------------------------------------------------------------------------


def test_own_list_keeps_the_contact_flag_in_sync(ctx, people):
    contact = add_contact(ctx)
    with pytest.raises(PermissionDenied):
        compliance.own_list_add(ctx, people["agent"], NUMBER, "x")
    with pytest.raises(ValidationError) as caught:
        compliance.own_list_add(ctx, people["boss"], "pas un numéro", "x")
    assert "number" in caught.value.errors
    compliance.own_list_add(ctx, people["boss"], "06 12 34 56 78", "Ne plus appeler")
    compliance.own_list_add(ctx, people["boss"], NUMBER, "double clic")  # harmless
    with ctx.read() as session:
        assert session.get(Contact, contact).opposition is True
        assert session.scalar(select(OppositionList.entries_count).where(OppositionList.code == "own")) == 1
        change = session.scalars(select(ContactChange).where(ContactChange.field == "opposition")).one()
        assert (change.old_value, change.new_value, change.user_id) == ("false", "true", people["boss"].id)
    with pytest.raises(PermissionDenied):
        compliance.own_list_remove(ctx, people["boss"], NUMBER, "erreur")
    with pytest.raises(ValidationError):
        compliance.own_list_remove(ctx, people["admin"], NUMBER, "")
    compliance.own_list_remove(ctx, people["admin"], NUMBER, "Ajouté par erreur")
    with pytest.raises(NotFoundError):
        compliance.own_list_remove(ctx, people["admin"], NUMBER, "encore")
    with ctx.read() as session:
        assert session.get(Contact, contact).opposition is False


def test_import_is_all_or_nothing_and_reports_every_bad_line(ctx, people):
    good = "telephone;nom\n06 11 11 11 11;A\n+33 6 22 22 22 22;B\n0611111111;doublon\n".encode()
    result = compliance.import_list(ctx, people["boss"], "bloctel", "Bloctel", "FR", good)
    assert (result.count, result.duplicates) == (2, 1)
    bad = "0633333333\nabc\n\n0644444444\n12\n".encode()
    with pytest.raises(ValidationError) as caught:
        compliance.import_list(ctx, people["boss"], "bloctel", "Bloctel", "FR", bad)
    assert sorted(caught.value.errors) == ["line 2", "line 5"]
    assert "Ligne 2 : « abc »" in caught.value.errors["line 2"].render()
    with ctx.read() as session:
        numbers = set(session.scalars(select(OppositionEntry.e164)))
        listing = session.scalars(select(OppositionList).where(OppositionList.code == "bloctel")).one()
    assert numbers == {"+33611111111", "+33622222222"} and listing.entries_count == 2
    with pytest.raises(ValidationError) as caught:
        compliance.import_list(ctx, people["boss"], "own", "", "F", b"0611111111\n")
    assert set(caught.value.errors) == {"code", "name", "country"}
    with pytest.raises(ValidationError):
        compliance.import_list(ctx, people["boss"], "vide", "Vide", "FR", b"\n\n")
    with pytest.raises(ValidationError):
        compliance.import_list(ctx, people["boss"], "deux", "Deux", "FR", b"a,b\n0611111111,x\n")
    with pytest.raises(PermissionDenied):
        compliance.import_list(ctx, people["agent"], "bloctel", "Bloctel", "FR", good)
    # a replacing import, then staleness after 30 days
    compliance.import_list(ctx, people["boss"], "bloctel", "Bloctel", "FR", b"0655555555\n")
    with ctx.read() as session:
        assert set(session.scalars(select(OppositionEntry.e164))) == {"+33655555555"}
    assert compliance.stale_lists(ctx) == []
    later = ctx.now() + timedelta(days=31)
    assert [l.code for l in compliance.stale_lists(ctx, later)] == ["bloctel"]
    contact = add_contact(ctx, number="+33655555555")
    give_consent(ctx, contact)
    assert rules(check(ctx, contact, add_campaign(ctx), number="+33655555555")) == ["fr.opposition"]
    with ctx.read() as session:
        assert session.get(Contact, contact).opposition is False  # Bloctel is not an objection to us


# --- consents -----------------------------------------------------------------------------------------


def test_consents_with_proof_and_withdrawal(ctx, people):
    contact = add_contact(ctx)
    with pytest.raises(ValidationError) as caught:
        compliance.record_consent(ctx, people["agent"], contact, "call", "2030-01-01T10:00", "paper", "", "")
    assert set(caught.value.errors) == {"given_at", "text"}
    with pytest.raises(ValidationError) as caught:
        compliance.record_consent(ctx, people["agent"], contact, "sms", "hier", "pigeon", "oui")
    assert set(caught.value.errors) == {"kind", "method", "given_at"}
    with pytest.raises(NotFoundError):
        compliance.record_consent(ctx, people["agent"], 999, "call", "2026-11-20T10:00", "paper", "oui")
    row = compliance.record_consent(ctx, people["agent"], contact, "call", "2026-11-20T10:00", "call_recording",
                                    "J'accepte d'être appelé par Plateau pour ses offres.", "enregistrement 42")
    assert row.given_at == datetime(2026, 11, 20, 9, tzinfo=timezone.utc)  # Paris time → UTC
    with ctx.read() as session:
        assert session.get(Contact, contact).consent_call is True
    items = compliance.consents_of(ctx, contact)
    assert [(i.active, i.recorded_by_name) for i in items] == [(True, "Ana Agent")]
    assert check(ctx, contact, add_campaign(ctx)).allowed
    with pytest.raises(ValidationError):
        compliance.withdraw_consent(ctx, people["agent"], row.id, " ")
    compliance.withdraw_consent(ctx, people["agent"], row.id, "au téléphone")
    compliance.withdraw_consent(ctx, people["agent"], row.id, "double clic")  # harmless
    with ctx.read() as session:
        assert session.get(Contact, contact).consent_call is False
        assert session.get(ContactConsent, row.id).withdrawn_how == "au téléphone"
        changes = session.scalars(select(ContactChange.new_value).where(ContactChange.field == "consent_call")
                                  .order_by(ContactChange.id)).all()
    assert changes == ["true", "false"]
    assert rules(check(ctx, contact, add_campaign(ctx, code="p2"))) == ["fr.consent"]


# --- the command line -------------------------------------------------------------------------------


def run_cli(*args):
    return CliRunner().invoke(cli, ["compliance", *args])


def test_cli_check_prints_the_decision(tmp_path):
    path = tmp_path / "situation.json"
    path.write_text(json.dumps({
        "country": "FR", "at": "2026-12-24T11:30:00+01:00", "party": "consumer", "purpose": "prospecting",
        "sector": None, "existing_contract": False, "opposition_listed": True, "consent": True,
        "previous_attempts": [{"at": "2026-12-20T10:00:00+01:00", "outcome": "no_answer"}],
        "presented_number": "+33612345678"}), encoding="utf-8")
    result = run_cli("check", str(path))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out == {"allowed": False, "reasons": [{
        "rule": "fr.opposition", "reference": "Code de la consommation, art. L.223-1",
        "message": out["reasons"][0]["message"]}]}
    assert "liste d'opposition" in out["reasons"][0]["message"]
    # 09:30 in New York is 15:30 in Paris: inside the hours; on Christmas day: closed
    path.write_text(json.dumps({"country": "FR", "at": "2026-12-23T09:30:00-05:00", "consent": True,
                                "presented_number": "+33612345678"}))
    assert json.loads(run_cli("check", str(path)).stdout) == {"allowed": True, "reasons": []}
    path.write_text(json.dumps({"country": "FR", "at": "2026-12-25T11:00:00+01:00", "consent": True,
                                "dialer": "predictive", "presented_number": "+33948123456"}))
    assert [r["rule"] for r in json.loads(run_cli("check", str(path)).stdout)["reasons"]] == ["fr.hours"]


@pytest.mark.parametrize(("content", "expected"), [
    ('{"country": "FR", "at": "2026-12-24T11:30:00"}', "at : La date et heure « 2026-12-24T11:30:00 » n'indique pas"),
    ('{"country": "FR", "at": "2026-12-24T11:30:00Z", "dialer": "robot"}', "dialer : Valeur « robot » inconnue"),
    ('{"country": "ZZ", "at": "2026-12-24T11:30:00Z"}', "country : Aucun profil de règles d'appel pour « ZZ »"),
    ('{"country": "FR", "at": "2026-12-24T11:30:00Z", "previous_attempts": [{"at": "x", "outcome": "busy"}]}',
     "previous_attempts[0].at : "),
    ('{"country": "FR",', "JSON invalide, ligne 1"),
    ("[]", "Attendu un objet JSON"),
])
def test_cli_check_refuses_a_bad_file_precisely(tmp_path, content, expected):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    result = run_cli("check", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert expected in result.stderr


def test_cli_check_missing_file_and_profiles(tmp_path):
    result = run_cli("check", str(tmp_path / "absent.json"))
    assert result.exit_code == 2 and "fichier introuvable" in result.stderr
    result = run_cli("profiles")
    assert result.exit_code == 0, result.output
    for text in ("FR — France", "MA — Maroc", "DZ — Algérie", "fr.hours", "ARCEP, décision n° 2022-1583",
                 "Aucune règle de jours ou d'heures d'appel n'est connue au Maroc", "Profils valides."):
        assert text in result.stdout


def test_cli_profiles_names_a_wrong_file(tmp_path, monkeypatch):
    (tmp_path / "fr.yaml").write_text("country: FR\nname: France\ntimezone: Europe/Paris\nrules:\n  - id: fr.x\n"
                                      "    kind: hours\n    label: H\n    reference: R\n    message: M\n",
                                      encoding="utf-8")
    monkeypatch.setattr(compliance, "PROFILE_DIR", tmp_path)
    result = run_cli("profiles")
    assert result.exit_code == 2
    assert "fr.yaml : rules[0] (fr.x) : params : windows : paramètre obligatoire pour hours" in result.stderr


# --- the pages ----------------------------------------------------------------------------------------


USERS = {"admin": ("admin", "Alice Admin"), "chef": ("supervisor", "Chef Plateau"), "agent": ("agent", "Ana Agent")}


@pytest.fixture
def web(client, sqlite_ctx):
    """The client, and ``web.user(name)`` logging in as one of USERS (created on first use)."""
    made = set()

    def user(name):
        if name not in made:
            role, display = USERS[name]
            make_user(sqlite_ctx, name, role=role, name=display)
            made.add(name)
        return login(client, name)

    client.user = user
    return client


def test_page_is_for_supervisors_and_shows_the_profiles(web):
    web.user("agent")
    assert web.get("/compliance").status_code == 403
    web.user("chef")
    page = web.get("/compliance")
    assert page.status_code == 200
    for text in ("<h1 id=\"compliance-title\">", "Profil France (FR)", "Profil Maroc (MA)", "Profil Algérie (DZ)",
                 "Code de la consommation, art. D.223-9 ; décret n° 2022-1313", "Loi n° 09-08, art. 10",
                 "Aucune règle de jours ou d&#39;heures d&#39;appel n&#39;est connue en Algérie",
                 "Tester une situation", 'id="own-list-title"'):
        assert text in page.text, text
    assert 'action="/compliance/switch"' not in page.text  # supervisors see, administrators switch
    token = csrf_of(page.text)
    refused = web.post("/compliance/switch", data={"csrf_token": token, "country": "FR", "rule": "fr.hours",
                                                    "enabled": "0", "reason": "essai"})
    assert refused.status_code == 403


def test_admin_switches_a_rule_with_a_reason(web, sqlite_ctx):
    web.user("admin")
    page = web.get("/compliance")
    assert 'id="switch-fr-hours"' in page.text
    token = csrf_of(page.text)
    missing = web.post("/compliance/switch", data={"csrf_token": token, "country": "FR", "rule": "fr.hours",
                                                    "enabled": "0", "reason": ""})
    assert missing.status_code == 422
    assert "Indiquez pourquoi la règle est changée" in missing.text and 'aria-invalid="true"' in missing.text
    with sqlite_ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(ComplianceSwitch)) == 0
    done = web.post("/compliance/switch", data={"csrf_token": token, "country": "FR", "rule": "fr.hours",
                                                 "enabled": "0", "reason": "Exercice du samedi"},
                    follow_redirects=False)
    assert done.status_code == 303
    page = web.get(done.headers["location"])
    assert "Règle modifiée" in page.text and "Exercice du samedi" in page.text and "Alice Admin" in page.text
    assert "Par défaut : activée" in page.text


def test_test_form_shows_the_verdict_and_refuses_bad_input(web):
    web.user("chef")
    token = csrf_of(web.get("/compliance").text)
    form = {"csrf_token": token, "country": "FR", "date": "2026-12-25", "time": "11:00", "party": "consumer",
            "purpose": "prospecting", "consent": "yes", "dialer": "predictive", "presented_number": "06 12 34 56 78",
            "attempts": "2026-12-20 10:30 refused"}
    verdict = web.post("/compliance/test", data=form)
    assert verdict.status_code == 200
    assert "Verdict : appel bloqué" in verdict.text
    for rule in ("fr.hours", "fr.refusal_quiet", "fr.automated_number"):
        assert rule in verdict.text
    assert "Attendre ne suffit pas" in verdict.text
    allowed = web.post("/compliance/test", data={**form, "date": "2026-12-23", "attempts": "",
                                                  "presented_number": "01 62 00 00 00"})
    assert "Verdict : appel permis" in allowed.text
    bad = web.post("/compliance/test", data={**form, "date": "", "attempts": "hier refused"})
    assert bad.status_code == 422
    assert "Indiquez la date de l&#39;appel" in bad.text and "Ligne 1 :" in bad.text
    assert 'href="#test-date"' in bad.text


def test_own_list_and_import_through_the_page(web, sqlite_ctx):
    web.user("admin")
    token = csrf_of(web.get("/compliance").text)
    bad = web.post("/compliance/own-list/add", data={"csrf_token": token, "number": "abc", "reason": ""})
    assert bad.status_code == 422 and "« abc »" in bad.text
    added = web.post("/compliance/own-list/add", data={"csrf_token": token, "number": "06 12 34 56 78",
                                                        "reason": "Demande au téléphone"})
    assert added.status_code == 200 and "Numéro ajouté à la liste repoussoir" in added.text
    assert "Demande au téléphone" in added.text
    refused = web.post("/compliance/lists/import", data={"csrf_token": token, "code": "bloctel", "name": "Bloctel",
                                                          "country": "FR"},
                       files={"file": ("bloctel.csv", b"numero\n0611111111\nxyz\n", "text/csv")})
    assert refused.status_code == 422 and "Ligne 3 : « xyz »" in refused.text
    imported = web.post("/compliance/lists/import", data={"csrf_token": token, "code": "bloctel", "name": "Bloctel",
                                                           "country": "FR"},
                        files={"file": ("bloctel.csv", b"numero\n0611111111\n0622222222\n", "text/csv")})
    assert imported.status_code == 200 and "Liste importée" in imported.text
    sqlite_ctx.clock.advance(days=31)
    assert "il y a plus de 30 jours" in web.get("/compliance").text
    removed = web.post("/compliance/own-list/remove", data={"csrf_token": token, "number": NUMBER, "reason": ""})
    assert removed.status_code == 422
    removed = web.post("/compliance/own-list/remove", data={"csrf_token": token, "number": NUMBER,
                                                             "reason": "Erreur de saisie"})
    assert removed.status_code == 200 and "Numéro retiré" in removed.text


def test_consents_partial_page_record_and_withdraw(web, sqlite_ctx):
    contact = add_contact(sqlite_ctx)
    web.user("agent")
    detail = web.get(f"/contacts/{contact}")
    assert f'hx-get="/contacts/{contact}/consents"' in detail.text
    partial = web.get(f"/contacts/{contact}/consents", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<h1" not in partial.text and "Aucun consentement enregistré" in partial.text
    full = web.get(f"/contacts/{contact}/consents")
    assert "<h1>Consentements de" in full.text
    token = csrf_of(full.text)
    bad = web.post(f"/contacts/{contact}/consents", data={"csrf_token": token, "kind": "call", "method": "paper",
                                                           "given_at": "2026-11-20T10:00", "text": ""},
                   headers={"HX-Request": "true"})
    assert bad.status_code == 422 and "Recopiez le texte exact" in bad.text
    ok = web.post(f"/contacts/{contact}/consents", data={"csrf_token": token, "kind": "call", "method": "paper",
                                                          "given_at": "2026-11-20T10:00", "text": "J'accepte.",
                                                          "source": "classeur 3"},
                  headers={"HX-Request": "true"})
    assert ok.status_code == 200 and "Consentement enregistré" in ok.text and "classeur 3" in ok.text
    consent_id = compliance.consents_of(sqlite_ctx, contact)[0].consent.id
    withdrawn = web.post(f"/contacts/{contact}/consents/{consent_id}/withdraw",
                         data={"csrf_token": token, "how": "par courriel"}, follow_redirects=False)
    assert withdrawn.status_code == 303
    assert "par courriel" in web.get(withdrawn.headers["location"]).text
    assert web.post(f"/contacts/{contact}/consents/999/withdraw", data={"csrf_token": token, "how": "x"}
                    ).status_code == 404
