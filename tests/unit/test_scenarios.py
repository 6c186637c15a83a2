"""Role-play scenarios as data: the twelve files load and cover the issue's list; a wrong file is
refused with the file, the line and the field; ``plateau scenarios check`` says so with its exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from plateau.commands.scenarios import app as scenarios_cli
from plateau.domain.errors import NotFoundError, ValidationError
from plateau.domain.scenarios import REPLY_KEYS, parse_replies, parse_scenario
from plateau.services import frameworks
from plateau.services import scenarios as service

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "scenarios"

#: the issue's list, each kind with the scenario that covers it
COVERAGE = {
    "information request": "information-option-verte",
    "technical assistance, step by step": "assistance-coupure-disjoncteur",
    "angry customer's complaint (MC C1.4)": "reclamation-facture-colere",
    "sale with an additional sale (C1.6)": "vente-emmenagement-thermostat",
    "satisfaction survey (C1.7)": "enquete-satisfaction-hiver",
    "debt collection with a payment plan (C1.8)": "recouvrement-echeancier",
    "outbound prospecting with an appointment (FILEA)": "prospection-rdv-photovoltaique",
    "reactivation of a passive account": "reactivation-ancien-client",
    "file qualification of business prospects": "qualification-prospects-pros",
    "a call that must be transferred": "transfert-difficulte-paiement",
    "a caller speaking English (S5)": "anglais-emmenagement",
    "a caller who prefers Arabic": "arabophone-mensualisation",
}


@pytest.fixture(scope="module")
def scenarios():
    return service.load_scenarios()


@pytest.fixture(scope="module")
def refs():
    return service.references()


@pytest.fixture(scope="module")
def good_text() -> str:
    return (DATA / "reclamation-facture-colere.yaml").read_text(encoding="utf-8")


def errors_of(text: str, refs=None, name: str = "reclamation-facture-colere.yaml") -> list:
    with pytest.raises(ValidationError) as caught:
        parse_scenario(text, name, refs)
    return list(caught.value.errors.values())


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


# --- the scenarios of data/scenarios ---------------------------------------------------------------


def test_every_scenario_file_passes_the_checks_and_the_issue_list_is_covered(scenarios):
    checks = service.check_files()
    assert all(c.ok for c in checks), [e.render() for c in checks for e in c.errors]
    assert len(scenarios) >= 12
    assert set(COVERAGE.values()) <= set(scenarios)
    assert [c.path.name for c in checks] == sorted(f"{code}.yaml" for code in scenarios)


def test_scenarios_are_in_french_on_the_demo_company_with_the_expected_languages(scenarios):
    for scenario in scenarios.values():
        assert scenario.company.name == "Énergie Horizon"
        assert scenario.title and scenario.summary and scenario.brief
    assert scenarios["anglais-emmenagement"].persona.language == "en"
    assert scenarios["arabophone-mensualisation"].persona.language == "ar"
    assert {s.persona.language for code, s in scenarios.items()
            if code not in ("anglais-emmenagement", "arabophone-mensualisation")} == {"fr"}
    assert {s.direction for s in scenarios.values()} == {"inbound", "outbound"}


def test_assessed_criteria_exist_in_their_framework_and_fit_the_scenario(scenarios):
    for scenario in scenarios.values():
        framework = frameworks.get(scenario.framework.code)
        assert scenario.framework.criteria
        for criterion_id in scenario.framework.criteria:
            assert framework.criterion(criterion_id).id == criterion_id
        for node_id in scenario.framework.related:
            assert framework.has(node_id)
    assert "mc-acvd/C1.4/2" in scenarios["reclamation-facture-colere"].framework.criteria
    assert "mc-acvd/C1.6/5" in scenarios["vente-emmenagement-thermostat"].framework.criteria
    assert "mc-acvd/C1.7/3" in scenarios["enquete-satisfaction-hiver"].framework.criteria
    assert "mc-acvd/C1.8/3" in scenarios["recouvrement-echeancier"].framework.criteria
    assert scenarios["prospection-rdv-photovoltaique"].framework.code == "filea-appels-sortants"
    assert "mc-acvd/S5" in scenarios["anglais-emmenagement"].framework.related


def test_contact_records_are_clean_crm_records_with_e164_phones(scenarios):
    for scenario in scenarios.values():
        contact = scenario.contact
        assert contact.phones and all(e164.startswith("+") for e164, _label in contact.phones)
        assert contact.get("status") in ("client", "prospect")
    karim = scenarios["assistance-coupure-disjoncteur"].contact
    assert karim.phones[0] == ("+33612345678", "mobile") and karim.get("customer_number") == "EH00000001"
    assert scenarios["qualification-prospects-pros"].contact.get("kind") == "company"


def test_the_ideal_outcome_names_qualifications_of_the_queue_or_campaign(scenarios, refs):
    for scenario in scenarios.values():
        ideal = scenario.ideal
        assert ideal.outcome == "agreed" and ideal.disposition and ideal.summary
        if scenario.queue:
            assert ideal.disposition in refs.queues[scenario.queue]
        elif scenario.campaign:
            assert ideal.disposition in refs.campaigns[scenario.campaign][1]
    events = {s.code: [e.type for e in s.ideal.events] for s in scenarios.values()}
    assert "appointment" in events["prospection-rdv-photovoltaique"]
    assert "payment_plan" in events["recouvrement-echeancier"]
    assert events["enquete-satisfaction-hiver"].count("survey_answer") == 8
    assert "complaint_forwarded" in events["reclamation-facture-colere"]
    assert "transfer" in events["transfert-difficulte-paiement"]
    assert events["vente-emmenagement-thermostat"].count("sale") == 2


def test_survey_facts_point_at_the_script_questions_and_the_script_banned_words_are_merged(scenarios):
    survey = scenarios["enquete-satisfaction-hiver"]
    questions = {fact.script_question for fact in survey.persona.facts}
    assert {"est_titulaire", "satisfaction_globale", "note_recommandation", "commentaire"} <= questions
    collection = scenarios["recouvrement-echeancier"].persona
    assert "impayé" in collection.banned_words and "coupure" in collection.banned_words


def test_every_persona_has_every_reply_situation_in_its_language(scenarios):
    for scenario in scenarios.values():
        assert set(scenario.persona.replies) == set(REPLY_KEYS), scenario.code
    assert scenarios["anglais-emmenagement"].persona.replies["silence"][0].startswith("Hello?")
    assert any("Wakha" in text or "wakha" in text for text in scenarios["arabophone-mensualisation"].persona.replies["ack"])


def test_get_and_list(scenarios):
    assert service.get("recouvrement-echeancier").campaign == "recouvrement-factures-echues"
    assert [s.title for s in service.list_scenarios()] == sorted((s.title for s in scenarios.values()), key=str.casefold)
    with pytest.raises(NotFoundError):
        service.get("inconnu")
    state = service.start("information-option-verte", seed=4, agent_name="Julie Roche")
    assert state.first_words is None and state.mood == 0.0


def test_a_scenario_is_parsed_once_per_version_of_the_file(tmp_path, good_text):
    path = tmp_path / "reclamation-facture-colere.yaml"
    path.write_text(good_text, encoding="utf-8")
    first = service.read_scenario(path)
    assert service.read_scenario(path) is first
    path.write_text(good_text.replace("time_target_s: 480", "time_target_s: 500"), encoding="utf-8")
    assert service.read_scenario(path).time_target_s == 500


# --- wrong files: file, line, field ----------------------------------------------------------------


def test_yaml_syntax_error_names_the_line(good_text):
    text = good_text.replace("  age: 61\n", "  age: 61\n  style: [formal\n", 1)
    [error] = errors_of(text)
    assert error.line == line_of(text, "  style: [formal") + 1 or error.line == line_of(text, "  style: [formal")
    assert error.render().startswith("reclamation-facture-colere.yaml, ligne ")


def test_unknown_and_missing_keys_name_their_line_and_field(good_text):
    text = good_text.replace("  age: 61\n", "  age: 61\n  humeur: furieux\n").replace("time_target_s: 480\n", "")
    errors = errors_of(text)
    unknown = next(e for e in errors if e.field == "humeur")
    assert unknown.line == line_of(text, "  humeur: furieux")
    assert "clé inconnue « humeur »" in unknown.render() and "personnage" in unknown.render()
    missing = next(e for e in errors if e.field == "time_target_s")
    assert "clé obligatoire « time_target_s » absente" in missing.render()


def test_a_criterion_that_is_not_in_the_framework_is_refused_with_its_line(good_text, refs):
    text = good_text.replace("mc-acvd/C1.4/4]", "mc-acvd/C1.4/9]")
    [error] = errors_of(text, refs)
    assert (error.file, error.field) == ("reclamation-facture-colere.yaml", "criteria")
    assert error.line == line_of(text, "  criteria: [")
    assert "« mc-acvd/C1.4/9 » n'est pas un critère du référentiel « mc-acvd »" in error.render()
    [error] = errors_of(good_text.replace("  code: mc-acvd\n", "  code: mc-acdv\n"), refs)
    assert error.field == "code" and "référentiel « mc-acdv » inconnu" in error.render()


def test_references_to_scripts_queues_qualifications_and_products_are_checked(good_text, refs):
    text = (good_text.replace("queue: facturation", "queue: facturations")
            .replace("disposition: complaint_logged\n  summary", "disposition: sale\n  summary")
            .replace("products: [horizon-essentiel-elec]", "products: [horizon-essentiel]")
            .replace("script_objection: relance", "script_objection: relancer"))
    fields = {e.field: e for e in errors_of(text, refs)}
    assert {"queue", "products", "script_objection"} <= set(fields)
    assert "file « facturations » inconnue" in fields["queue"].render()
    assert fields["script_objection"].line == line_of(text, "script_objection: relancer")
    [error] = errors_of(good_text.replace("disposition: complaint_logged\n  summary", "disposition: sale\n  summary"),
                        refs)
    assert error.field == "disposition" and "« facturation »" in error.render()


def test_persona_cross_references_cues_and_placeholders_are_checked(good_text):
    text = (good_text.replace("    facts: [montant, index, prelevement]", "    facts: [montant, index, prelevements]")
            .replace('cues: ["index", "releve|relever"', 'cues: ["index", "releve|"')
            .replace("Lemoine, Gérard Lemoine. Mon numéro client", "{nom}, Gérard Lemoine. Mon numéro client")
            .replace("      when: {cue: proposal}", "      when: {cue: proposition}")
            .replace("    - id: prelevement\n", "    - id: montant\n"))
    errors = errors_of(text)
    rendered = " | ".join(e.render() for e in errors)
    assert "fait « prelevements » inconnu(e)" in rendered
    assert "repère « releve| » illisible" in rendered
    assert "« {nom} » inconnu" in rendered
    assert "« when » / cue : « proposition » inconnu" in rendered
    duplicate = next(e for e in errors if "en double" in e.render())
    assert duplicate.field == "id" and duplicate.line == text[:text.rindex("    - id: montant\n")].count("\n") + 1


def test_contact_fields_are_checked_by_the_crm_rules(good_text):
    text = good_text.replace('{number: "+33478623410", label: home}', '{number: "04 78 62 34 10", label: home}')
    text = text.replace("  postcode: \"69003\"", "  postcode: \"6900\"")
    errors = errors_of(text)
    phone = next(e for e in errors if e.field == "number")
    assert "E.164" in phone.render() and phone.line == line_of(text, '{number: "04 78')
    postcode = next(e for e in errors if e.field == "postcode")
    assert "code postal" in postcode.render() and postcode.line == line_of(text, '  postcode: "6900"')


def test_direction_queue_and_campaign_must_agree(good_text):
    text = good_text.replace("direction: inbound\nqueue: facturation\n", "direction: outbound\nqueue: facturation\n")
    assert any(e.field == "queue" and "appel sortant" in e.render() for e in errors_of(text))


def test_file_name_and_code_must_agree_and_codes_are_unique(tmp_path, good_text):
    [error] = errors_of(good_text, name="autre-nom.yaml")
    assert error.field == "code" and "reclamation-facture-colere.yaml" in error.render()
    (tmp_path / "reclamation-facture-colere.yaml").write_text(good_text, encoding="utf-8")
    copy = tmp_path / "copie"
    copy.mkdir()
    (copy / "reclamation-facture-colere.yaml").write_text(good_text, encoding="utf-8")
    checks = service.check_files([tmp_path / "reclamation-facture-colere.yaml", copy / "reclamation-facture-colere.yaml"])
    assert checks[0].ok and not checks[1].ok and "déjà celui de" in checks[1].errors[0].render()


def test_a_reply_file_must_give_every_situation(tmp_path):
    text = (DATA / "replies" / "fr.yaml").read_text(encoding="utf-8")
    assert set(parse_replies(text, "fr.yaml")) == set(REPLY_KEYS)
    broken = text.replace("  hurry:\n", "  presse:\n")
    with pytest.raises(ValidationError) as caught:
        parse_replies(broken, "fr.yaml")
    rendered = [e.render() for e in caught.value.errors.values()]
    assert any("situation « presse » inconnue" in r and f"ligne {line_of(broken, '  presse:')}" in r for r in rendered)
    assert any("« hurry » doit avoir des réponses « default »" in r for r in rendered)


def test_a_broken_shared_reply_file_is_reported_by_the_check(tmp_path):
    replies = tmp_path / "replies"
    replies.mkdir()
    (replies / "fr.yaml").write_text("language: fr\nreplies: {}\n", encoding="utf-8")
    (replies / "en.yaml").write_text((DATA / "replies" / "en.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    checks = service.check_files([DATA / "information-option-verte.yaml"], replies_dir=replies)
    assert checks[0].path.name == "fr.yaml" and not checks[0].ok
    assert not checks[-1].ok and "aucune réponse pour" in checks[-1].errors[0].render()


# --- the command ---------------------------------------------------------------------------------------


def test_check_command_exits_0_on_the_data_and_1_on_a_wrong_file(tmp_path, good_text):
    result = CliRunner().invoke(scenarios_cli, ["check"])
    assert result.exit_code == 0, result.output
    assert "scénario(s) valide(s)" in result.stdout and "reclamation-facture-colere" in result.stdout
    bad = tmp_path / "reclamation-facture-colere.yaml"
    bad.write_text(good_text.replace("  mood: angry", "  mood: furious"), encoding="utf-8")
    result = CliRunner().invoke(scenarios_cli, ["check", str(bad)])
    assert result.exit_code == 1
    line = line_of(good_text, "  mood: angry")
    assert f"Erreur : reclamation-facture-colere.yaml, ligne {line} — personnage : « mood » vaut « furious »" in result.stderr
    assert "1 fichier(s) à corriger." in result.stderr


def test_play_command_plays_a_script_file_and_writes_the_call_as_json(tmp_path):
    import json

    lines = tmp_path / "agent.txt"
    lines.write_text("# un agent pressé\nÉnergie Horizon, Julie à votre écoute, bonjour !\n/attente\n/silence 60\n"
                     "/reprise\n", encoding="utf-8")
    result = CliRunner().invoke(scenarios_cli, ["play", "reclamation-facture-colere", "--seed", "3", "--script",
                                                str(lines)])
    assert result.exit_code == 0, result.output
    assert "Conseiller : Énergie Horizon, Julie à votre écoute, bonjour !" in result.stdout
    assert "attente trop longue" in result.stdout and "Issue :" in result.stdout
    data = ROOT / "tests" / "data" / "scenarios" / "recouvrement-echeancier.yaml"
    result = CliRunner().invoke(scenarios_cli, ["play", "recouvrement-echeancier", "--seed", "21", "--script", str(data),
                                                "--agent", "Thomas Lefèvre", "--json"])
    call = json.loads(result.stdout)
    assert call["direction"] == "outbound" and call["agent"] == {"name": "Thomas Lefèvre"}
    assert call["turns"][0]["speaker"] == "caller" and call["events"][-1]["type"] == "hangup"
    assert any(event["type"] == "payment_plan" for event in call["events"])
    result = CliRunner().invoke(scenarios_cli, ["play", "inconnu"])
    assert result.exit_code == 1 and "scénario inconnu « inconnu »" in result.stderr


def test_play_command_interactive_role_play(tmp_path):
    typed = "\n".join(["/aide", "Énergie Horizon, Julie à votre écoute, bonjour !", "/etat", "/bidule",
                       "Calmez-vous, monsieur, c'est pas mon problème."]) + "\n"
    result = CliRunner().invoke(scenarios_cli, ["play", "reclamation-facture-colere", "--seed", "2"], input=typed)
    assert result.exit_code == 0, result.output
    assert "/attente" in result.stdout and "Commande inconnue : /bidule" in result.stdout
    assert "Correspondant : " in result.stdout and "Issue : en cours" in result.stdout
    assert "a demandé un responsable" in result.stdout
