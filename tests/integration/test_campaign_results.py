"""A campaign's results from rows built directly with the models (attempts with their outcomes, calls
with qualifications and script answers, sales, appointments, promises, contacts in every state, blocked
contacts with their reasons, test calls): every figure, the test calls apart, the CSV, the report
draft, the page over HTTP, and who may see them."""

from __future__ import annotations

import csv
import html
import io
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from plateau.domain.errors import NotFoundError, PermissionDenied
from plateau.services import campaign_results as results
from plateau.services import scripts
from plateau.services.context import SYSTEM
from plateau.services.users import actor_for
from plateau.store.models import (Advisor, Appointment, Call, Campaign, CampaignContact, Contact, DialAttempt,
                                  Disposition, PaymentPlan, Sale, ScriptAnswer)
from plateau.web.campaign_results import csv_rows
from tests.helpers import login, make_user

PARIS = ZoneInfo("Europe/Paris")

SURVEY = """\
code: satisfaction
name: Enquête satisfaction
charter:
  company: Box Horizon
  greeting: "Box Horizon, {agent}, bonjour !"
  closing: "Merci, au revoir !"
steps:
  - id: questions
    title: Questions
    phase: decouverte
    questions:
      - {id: note, label: Note sur 10, type: number}
      - id: satisfait
        label: Êtes-vous satisfait
        type: yes_no
      - id: canal
        label: Canal préféré
        type: choice
        choices: [Téléphone, E-mail, Courrier]
      - {id: remarque, label: Remarque, type: text}
  - id: fin
    title: Fin
    phase: conclusion
"""

OBJECTIVES = {"calls": 20, "reached": 5, "argued": 0, "appointments": 2, "sales": 1, "sales_amount": 200,
              "surveys": 1, "promises": 4}
HOURS = {"fr.hours": ("Code de la consommation, art. D.223-9", "Appel hors des heures autorisées."),
         "fr.consent": ("Loi n° 2025-594, art. 13", "Pas de consentement prouvé."),
         "fr.opposition": ("Code de la consommation, L.223-1", "Numéro sur une liste d'opposition.")}


def _reason(rule: str) -> dict:
    reference, message = HOURS[rule]
    return {"rule": rule, "reference": reference, "message": message}


def at(hhmm: str, day: int = 23) -> datetime:
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return datetime(2026, 11, day, hours, minutes, tzinfo=PARIS).astimezone(timezone.utc)


def build(ctx) -> dict:
    """Campaign "Box Horizon": 10 attempts (1 still dialing), 2 blocked dials, 2 test attempts, 12 contacts."""
    boss = actor_for(make_user(ctx, "formateur", role="supervisor"))
    ana = actor_for(make_user(ctx, "ana", name="Ana Martin"))
    bilal = actor_for(make_user(ctx, "bilal", name="Bilal Haddad"))
    script = scripts.import_script(ctx, SYSTEM, SURVEY)
    with ctx.unit() as session:
        now = ctx.now()
        campaign = Campaign(code="box-horizon", name="Box Horizon", kind="prospecting", status="running",
                            objectives=OBJECTIVES, qualitative_objectives="Soigner la découverte.",
                            script_id=script.id, products=["box"], country="FR", created_at=now, updated_at=now,
                            description="Offre fibre aux clients ADSL.")
        dispositions = {code: Disposition(code=code, label=label, outcome=outcome) for code, label, outcome in (
            ("vente", "Vente conclue", "sale"), ("rdv", "Rendez-vous", "appointment"), ("refus", "Refus", "refused"),
            ("enquete", "Enquête faite", "survey_completed"), ("promesse", "Promesse", "promise_to_pay"))}
        session.add_all([campaign, *dispositions.values()])
        session.flush()
        contacts = []
        for n, (first, last) in enumerate([("Karim", "Benali"), ("Léa", "Roy"), ("Zoé", "Blanc"), ("Paul", "Noir"),
                                           ("Inès", "Vert"), ("Yanis", "Gris"), ("Marc", "Brun"), ("Nina", "Rose"),
                                           ("Omar", "Bleu"), ("Lina", "Jaune"), ("Théo", "Mauve"), ("Sara", "Ocre")]):
            contacts.append(Contact(kind="person", first_name=first, last_name=last, search_name=f"{last} {first}".lower(),
                                    created_at=now, updated_at=now, tags=[]))
        session.add_all(contacts)
        session.flush()
        states = ["done"] * 5 + ["scheduled"] * 2 + ["pending"] * 2 + ["blocked", "in_progress", "exhausted"]
        members = [CampaignContact(campaign_id=campaign.id, contact_id=contact.id, state=state, position=n,
                                   in_test=n in (0, 5), updated_at=now)
                   for n, (contact, state) in enumerate(zip(contacts, states))]
        session.add_all(members)
        session.flush()
        blocked_member = members[9]

        def call(agent, disposition=None, talk=0.0, state="closed", test=False):
            row = Call(direction="outbound", media="voice", state=state, caller_number="+33612345678",
                       agent_id=agent.id if agent else None, campaign_id=campaign.id, created_at=now, state_since=now,
                       talk_seconds=talk, disposition_id=dispositions[disposition].id if disposition else None,
                       answered_at=now)
            session.add(row)
            session.flush()
            return row.id

        def attempt(when, agent=None, outcome=None, call_id=None, connected=False, allowed=True, test=False,
                    member=None, reasons=()):
            session.add(DialAttempt(campaign_id=campaign.id, campaign_contact_id=member.id if member else None,
                                    call_id=call_id, number="+33612345678", at=when, mode="preview", test=test,
                                    agent_id=agent.id if agent else None, allowed=allowed, reasons=list(reasons),
                                    connected_at=when if connected else None, outcome=outcome))

        sale_call = call(ana, "vente", 120)
        rdv_call = call(bilal, "rdv", 60)
        survey_call = call(bilal, "enquete", 200)
        open_call = call(ana, talk=45, state="connected")
        promise_call = call(ana, "promesse", 90)
        test_sale_call = call(ana, "vente", 80)
        attempt(at("10:05"), ana, "busy")
        attempt(at("10:10"), ana, "no_answer")
        attempt(at("10:20"), ana, "sale", sale_call, connected=True)
        attempt(at("11:05"), bilal, None, rdv_call, connected=True)  # qualified, outcome not recorded yet
        attempt(at("11:10"), bilal, "refused", call(bilal, "refus", 30), connected=True)
        attempt(at("11:20"), bilal, "survey_completed", survey_call, connected=True)
        attempt(at("11:30"), ana, None, open_call, connected=True)  # on the line, not qualified yet
        attempt(at("11:40"), None, "dropped")
        attempt(at("11:00"), None, "blocked", allowed=False, member=blocked_member, reasons=[_reason("fr.opposition")])
        attempt(at("11:45"), None, "blocked", allowed=False, member=blocked_member,
                reasons=[_reason("fr.hours"), _reason("fr.consent")])
        attempt(at("11:50"), ana, "promise_to_pay", promise_call, connected=True)
        attempt(at("11:55"), ana)  # still ringing
        attempt(at("09:30", 20), ana, "answering_machine", test=True)
        attempt(at("09:40", 20), ana, "sale", test_sale_call, connected=True, test=True)
        advisor = Advisor(name="Mme Roy", hours={}, slot_minutes=30)
        session.add(advisor)
        session.flush()
        session.add_all([
            Appointment(advisor_id=advisor.id, call_id=rdv_call, campaign_id=campaign.id, starts_at=at("14:00", 24),
                        ends_at=at("14:30", 24), created_at=now),
            Appointment(advisor_id=advisor.id, call_id=rdv_call, campaign_id=campaign.id, starts_at=at("15:00", 24),
                        ends_at=at("15:30", 24), status="cancelled", created_at=now),
            Sale(call_id=sale_call, campaign_id=campaign.id, amount_cents=11000, additional_cents=1000, created_at=now,
                 lines=[{"product": "box", "quantity": 2, "unit_price_cents": 5000, "additional": False},
                        {"product": "box", "quantity": 1, "unit_price_cents": 1000, "additional": True}]),
            Sale(call_id=test_sale_call, campaign_id=campaign.id, amount_cents=2000, created_at=now, lines=[]),
            PaymentPlan(call_id=promise_call, campaign_id=campaign.id, kind="promise", total_cents=5000, created_at=now),
            PaymentPlan(call_id=None, campaign_id=campaign.id, kind="plan", total_cents=30000, debt_cents=30000,
                        created_at=now)])
        for call_id, answers in ((survey_call, {"note": "8", "satisfait": "oui", "canal": "Téléphone",
                                                "remarque": "Très bien"}),
                                 (open_call, {"note": "5", "satisfait": "non", "canal": "Téléphone"}),
                                 (test_sale_call, {"note": "10"})):
            for question_id, value in answers.items():
                session.add(ScriptAnswer(call_id=call_id, script_id=script.id, step_id="questions",
                                         question_id=question_id, value=value, at=now))
    return {"boss": boss, "ana": ana, "bilal": bilal, "campaign": campaign.id, "blocked_contact": contacts[9].id}


@pytest.fixture
def built(ctx):
    return build(ctx)


def _by_key(rows) -> dict:
    return {row.key: row.values for row in rows}


def test_every_figure_of_the_live_campaign(ctx, built):
    res = results.results(ctx, built["boss"], built["campaign"])
    t = res.totals
    assert (t.attempts, t.reached, t.argued, t.successes) == (10, 6, 5, 4)
    assert (res.values["reach_rate"], res.values["argue_rate"], res.values["success_rate"]) == (0.6, 5 / 6, 0.8)
    assert (res.blocked_dials, res.in_progress, res.other_scope_attempts) == (2, 1, 2)
    assert {key: values["count"] for key, values in _by_key(res.by_outcome).items()} == {
        "busy": 1, "no_answer": 1, "dropped": 1, "connected": 1, "refused": 1, "appointment": 1, "sale": 1,
        "survey_completed": 1, "promise_to_pay": 1, "pending": 1}
    assert [row.key for row in res.by_outcome][:3] == ["busy", "no_answer", "dropped"]
    assert {row.key: row.group for row in res.by_outcome}["dropped"] == "dialer"
    assert [(row.label, row.detail, row.values["count"]) for row in res.by_qualification] == [
        ("Enquête faite", "survey_completed", 1), ("Promesse", "promise_to_pay", 1), ("Refus", "refused", 1),
        ("Rendez-vous", "appointment", 1), ("Vente conclue", "sale", 1)]
    agents = {row.label: row.values for row in res.by_agent}
    assert [row.label for row in res.by_agent] == ["Ana Martin", "Bilal Haddad"]
    assert {k: agents["Ana Martin"][k] for k in ("attempts", "reached", "argued", "successes", "talk_s")} == {
        "attempts": 6, "reached": 3, "argued": 2, "successes": 2, "talk_s": 255}
    assert {k: agents["Bilal Haddad"][k] for k in ("attempts", "reached", "argued", "successes", "talk_s")} == {
        "attempts": 3, "reached": 3, "argued": 3, "successes": 2, "talk_s": 290}
    hours = {row.label: row.values for row in res.by_hour}
    assert list(hours) == ["10:00", "11:00"]
    assert [hours["10:00"][k] for k in ("attempts", "reached", "argued", "successes")] == [3, 1, 1, 1]
    assert [hours["11:00"][k] for k in ("attempts", "reached", "argued", "successes")] == [7, 5, 4, 3]
    assert {key: values["count"] for key, values in _by_key(res.states).items()} == {
        "pending": 2, "scheduled": 2, "in_progress": 1, "done": 5, "exhausted": 1, "blocked": 1}
    assert (res.contacts_total, res.remaining) == (12, 5)
    assert (res.appointments, res.sales, res.sales_cents, res.additional_sales, res.additional_cents) == (
        1, 1, 11000, 1, 1000)
    assert (res.promises, res.plans, res.promised_cents) == (1, 1, 35000)


def test_blocked_contacts_show_the_reasons_of_their_latest_blocked_dial(ctx, built):
    res = results.results(ctx, built["boss"], built["campaign"])
    assert res.blocked_total == 1
    [blocked] = res.blocked
    assert (blocked.contact_id, blocked.name, blocked.at) == (built["blocked_contact"], "Lina Jaune", at("11:45"))
    assert [r["rule"] for r in blocked.reasons] == ["fr.hours", "fr.consent"]
    assert [(e.rule, e.reference, e.count) for e in res.blocked_by_rule] == [
        ("fr.consent", "Loi n° 2025-594, art. 13", 1), ("fr.hours", "Code de la consommation, art. D.223-9", 1)]
    unlisted = results.results(ctx, built["boss"], built["campaign"], blocked_limit=0)
    assert (unlisted.blocked, unlisted.blocked_total, len(unlisted.blocked_by_rule)) == ([], 1, 2)


def test_objectives_against_what_was_achieved(ctx, built):
    res = results.results(ctx, built["boss"], built["campaign"])
    assert [(o.key, o.target, o.achieved, o.share, o.met) for o in res.objectives] == [
        ("calls", 20, 10, 0.5, False), ("reached", 5, 6, 1.2, True), ("appointments", 2, 1, 0.5, False),
        ("sales", 1, 1, 1.0, True), ("sales_amount", 200, 110.0, 0.55, False), ("surveys", 1, 1, 1.0, True),
        ("promises", 4, 2, 0.5, False)]


def test_survey_results_per_question(ctx, built):
    survey = {q.id: q for q in results.results(ctx, built["boss"], built["campaign"]).survey}
    assert list(survey) == ["note", "satisfait", "canal", "remarque"]
    note = survey["note"]
    assert (note.label, note.answered, note.average, note.minimum, note.maximum) == ("Note sur 10", 2, 6.5, 5, 8)
    assert [(row.label, row.values["count"], row.values["share"]) for row in survey["satisfait"].choices] == [
        ("oui", 1, 0.5), ("non", 1, 0.5)]
    assert [(row.label, row.values["count"]) for row in survey["canal"].choices] == [
        ("Téléphone", 2), ("E-mail", 0), ("Courrier", 0)]
    assert (survey["remarque"].answered, survey["remarque"].choices, survey["remarque"].average) == (1, [], None)


def test_test_calls_are_counted_apart(ctx, built):
    res = results.results(ctx, built["boss"], built["campaign"], "test")
    t = res.totals
    assert (res.scope, t.attempts, t.reached, t.argued, t.successes, res.blocked_dials) == ("test", 2, 1, 1, 1, 0)
    assert {key: values["count"] for key, values in _by_key(res.by_outcome).items()} == {
        "answering_machine": 1, "sale": 1}
    assert (res.sales, res.sales_cents, res.appointments, res.promises, res.plans) == (1, 2000, 0, 0, 0)
    assert (res.contacts_total, res.other_scope_attempts, res.dialer) == (2, 10, None)
    assert {key: values["count"] for key, values in _by_key(res.states).items() if values["count"]} == {
        "done": 1, "scheduled": 1}
    assert {q.id: q.answered for q in res.survey} == {"note": 1, "satisfait": 0, "canal": 0, "remarque": 0}
    assert [row.label for row in res.by_hour] == ["09:00"]


def test_the_dialers_figures_come_from_the_dialer_when_it_answers(ctx, built):
    res = results.results(ctx, built["boss"], built["campaign"])
    try:
        from plateau.services.dialer import stats
    except ImportError:
        assert res.dialer is None
        return
    figures = stats(ctx, built["campaign"])
    assert res.dialer is not None
    assert (res.dialer.dial_level, res.dialer.abandon_rate, res.dialer.occupancy) == (
        figures.dial_level, figures.abandon_rate, figures.occupancy)


def test_only_supervisors_see_results_and_an_unknown_campaign_is_not_found(ctx, built):
    with pytest.raises(PermissionDenied):
        results.results(ctx, built["ana"], built["campaign"])
    with pytest.raises(NotFoundError):
        results.results(ctx, built["boss"], 999)


def test_an_empty_campaign_has_no_rate_and_no_division_by_zero(ctx, built):
    with ctx.unit() as session:
        now = ctx.now()
        empty = Campaign(code="vide", name="Vide", kind="survey", created_at=now, updated_at=now)
        session.add(empty)
        session.flush()
        empty_id = empty.id
    res = results.results(ctx, built["boss"], empty_id)
    assert (res.totals.attempts, res.values["reach_rate"], res.by_outcome, res.survey, res.objectives) == (
        0, None, [], [], [])
    text = results.report_text(res, results.Wording(lambda s: s))
    assert "Pas encore d'appel abouti" in text and "Aucun objectif chiffré" in text


def test_the_csv_has_every_table(ctx, built):
    rows = csv_rows(results.results(ctx, built["boss"], built["campaign"]))
    assert ["Synthèse", "", "Tentatives", "10"] in rows
    assert ["Synthèse", "", "Taux d'argumentation (%)", "83,3"] in rows
    assert ["Synthèse", "", "Montant des ventes (EUR)", "110,00"] in rows
    assert ["Objectifs", "Chiffre d'affaires", "Réalisé", "110,00"] in rows
    assert ["Issues des tentatives", "Abandonné (aucun agent libre)", "Nombre", "1"] in rows
    assert ["Qualifications", "Vente conclue", "Nombre", "1"] in rows
    assert ["Par agent", "Bilal Haddad", "Temps de communication (s)", "290"] in rows
    assert ["Par heure", "11:00", "Succès", "3"] in rows
    assert ["États des contacts", "Bloqué", "Nombre", "1"] in rows
    assert ["Contacts bloqués", "Lina Jaune", "fr.hours", "Appel hors des heures autorisées."] in rows
    assert ["Enquête : Note sur 10", "", "Moyenne", "6,50"] in rows
    assert ["Enquête : Canal préféré", "Téléphone", "Nombre", "2"] in rows


def _spaces(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def test_the_report_draft_says_the_figures(ctx, built):
    res = results.results(ctx, built["boss"], built["campaign"])
    text = _spaces(results.report_text(res, results.Wording(lambda s: s)))
    assert text.startswith("# Compte rendu de la campagne « Box Horizon »")
    for expected in (
            "- Type de campagne : Prospection ; statut : En cours ; mode de numérotation : Aperçu (preview).",
            "- Contacts du fichier : 12 ; restant à appeler : 5.",
            "- Appels (tentatives) : 10 pour un objectif de 20 (50 %), objectif non atteint.",
            "- Contacts joints : 6 pour un objectif de 5 (120 %), objectif atteint.",
            "- Chiffre d'affaires : 110,00 € pour un objectif de 200,00 € (55 %), objectif non atteint.",
            "- Tentatives d'appel : 10 ; contacts joints : 6 (60 % des tentatives).",
            "- Contacts argumentés : 5 (83,3 % des contacts joints) ; succès : 4 (80 % des contacts argumentés).",
            "- Numérotations refusées par les règles d'appel : 2.",
            "- Ventes : 1, pour 110,00 €, dont 10,00 € de ventes additionnelles.",
            "- Recouvrement : promesses de paiement : 1 ; échéanciers : 1 ; montant total : 350,00 €.",
            "- Rendez-vous pris : 1.",
            "- Refus : 1 (16,7 % des contacts joints).",
            "- Qualification la plus fréquente : « Enquête faite » (appels : 1).",
            "- Meilleure tranche horaire pour joindre : 11:00 (taux de joignabilité : 71,4 % ; tentatives : 7).",
            "- Agent ayant obtenu le plus de succès : Ana Martin (succès : 2 ; contacts argumentés : 2).",
            "- Note sur 10 (réponses : 2) : moyenne 6,5.",
            "- Canal préféré (réponses : 2) :\n  - Téléphone : 2 (100 %)\n  - E-mail : 0 (0 %)\n  - Courrier : 0 (0 %)",
            "- Remarque (réponses : 1).",
            "- Contacts bloqués par les règles d'appel : 1.",
            "  - Pas de consentement prouvé. (Loi n° 2025-594, art. 13) : 1.",
            "- Appels abandonnés faute d'agent libre : 1 (10 % des tentatives).",
            "Soigner la découverte.", "Offre fibre aux clients ADSL."):
        assert expected in text, expected


# --- over HTTP ------------------------------------------------------------------------------------------------

HX = {"HX-Request": "true"}


@pytest.fixture
def web(client, sqlite_ctx):
    return client, build(sqlite_ctx)


def test_the_results_page_with_charts_tables_and_refresh(web):
    client, f = web
    token = login(client, "formateur")
    page = client.get(f"/campaigns/{f['campaign']}/results")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert page.text.count("<h1") == 1
    assert 'id="results-live" checked' in page.text
    assert 'hx-trigger="every 5s [document.getElementById(\'results-live\')?.checked]"' in text
    for chart_id, table_id in (("chart-outcomes", "results-outcomes"), ("chart-agents", "results-agents"),
                               ("chart-hours", "results-hours"), ("chart-states", "results-states")):
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in page.text
        assert f'href="#{table_id}"' in page.text and f'<table id="{table_id}">' in page.text
    assert "Taux de joignabilité</th><td class=\"num\">60 %" in _spaces(text)
    assert "Lina Jaune" in text and "Appel hors des heures autorisées." in text
    assert "Dernière mise à jour : 10:00:00" in text
    assert "2 tentatives d'appels tests ne sont pas comptées ici" in text
    figures = client.get(f"/campaigns/{f['campaign']}/results", params={"part": "figures"}, headers=HX)
    assert figures.status_code == 200 and figures.text.lstrip().startswith("{#") is False
    assert figures.text.lstrip().startswith('<div id="results-figures"') and "<h1" not in figures.text
    tests_page = client.get(f"/campaigns/{f['campaign']}/results", params={"scope": "test"})
    assert "Seuls les appels tests" in html.unescape(tests_page.text)
    assert "part=figures&amp;scope=test" in tests_page.text
    client.post("/logout", data={"csrf_token": token})
    login(client, "ana")
    for url in ("results", "results.csv", "report"):
        assert client.get(f"/campaigns/{f['campaign']}/{url}").status_code == 403


def test_the_csv_download(web):
    client, f = web
    login(client, "formateur")
    response = client.get(f"/campaigns/{f['campaign']}/results.csv")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="resultats-box-horizon.csv"'
    assert response.content.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Section", "Élément", "Mesure", "Valeur"]
    assert ["Synthèse", "", "Contacts joints", "6"] in rows
    tests = client.get(f"/campaigns/{f['campaign']}/results.csv", params={"scope": "test"})
    rows = list(csv.reader(io.StringIO(tests.content.decode("utf-8-sig")), delimiter=";"))
    assert ["Synthèse", "", "Tentatives", "2"] in rows
    assert 'filename="resultats-box-horizon-tests.csv"' in tests.headers["content-disposition"]


def test_the_report_page_and_its_download(web):
    client, f = web
    token = login(client, "formateur")
    page = client.get(f"/campaigns/{f['campaign']}/report")
    assert page.status_code == 200
    text = _spaces(html.unescape(page.text))
    assert "- Tentatives d'appel : 10 ; contacts joints : 6 (60 % des tentatives)." in text
    assert '<textarea id="report-text" name="text"' in page.text and page.text.count("<h1") == 1
    edited = "# Compte rendu\n\nTrès bonne campagne.\n"
    download = client.post(f"/campaigns/{f['campaign']}/report/download",
                           data={"csrf_token": token, "text": edited, "format": "txt", "scope": "live"})
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="compte-rendu-box-horizon.txt"'
    assert download.content.decode("utf-8") == edited
    markdown = client.post(f"/campaigns/{f['campaign']}/report/download",
                           data={"csrf_token": token, "text": edited, "format": "md"})
    assert markdown.headers["content-type"].startswith("text/markdown")
    empty = client.post(f"/campaigns/{f['campaign']}/report/download",
                        data={"csrf_token": token, "text": "  ", "format": "md"})
    assert empty.status_code == 422
    assert "Le compte rendu est vide" in html.unescape(empty.text)
    assert client.post(f"/campaigns/{f['campaign']}/report/download",
                       data={"text": edited, "format": "md"}).status_code == 403  # no CSRF token
