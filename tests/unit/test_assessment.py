"""The evaluator on small calls: the CALL.json format and its errors, each check met and not met,
how checks make a criterion, the overall rule, the settings files, and ``plateau assess``."""

from __future__ import annotations

import json
import math

import pytest
import typer
from typer.testing import CliRunner

from plateau.commands import assess as assess_command
from plateau.domain.assessment import NO_CHECK, AssessOptions, assess
from plateau.domain.assessment_call import Targets, parse_call, speaking_time
from plateau.domain.assessment_checks import CHECKS, CUE_NAMES, CallView
from plateau.domain.assessment_settings import mapping_problems, parse_settings
from plateau.domain.errors import NotFoundError, ValidationError
from plateau.services import frameworks
from plateau.services.assessment_settings import ASSESSMENT_DIR, load_settings

FILEA = "filea-appels-sortants"


@pytest.fixture(scope="module")
def settings():
    return load_settings()


def make(*lines: str, events=(), **extra) -> dict:
    """A CALL.json dict from « A: … » / « C: … » lines; « ~12 » adds a 12 s silence before the next one."""
    turns, t, pause = [], 0.0, 0.0
    for line in lines:
        if line.startswith("~"):
            pause += float(line[1:])
            continue
        speaker = {"A": "agent", "C": "caller"}[line[0]]
        text = line[2:].strip()
        if turns:
            t = round(turns[-1]["t"] + speaking_time(turns[-1]["text"]) + 1 + pause, 1)
        pause = 0.0
        turns.append({"t": t, "speaker": speaker, "text": text})
    data = {"direction": "outbound", "company": {"name": "Énergie Horizon"}, "agent": {"name": "Julie Moreau"},
            "scenario": "test", "turns": turns, "events": list(events)}
    data.update(extra)
    return data


def check(settings, check_id: str, data: dict, targets: Targets | None = None):
    return CHECKS[check_id].run(CallView(parse_call(data), settings, targets))


def result(settings, check_id: str, data: dict) -> str:
    return check(settings, check_id, data).result


#: a conversation that got going (four caller turns), to put the line under test in
OPENING = ("A: Bonjour Monsieur Perrin, Julie Moreau, d'Énergie Horizon. Je vous appelle au sujet de votre facture "
           "d'électricité : avez-vous deux minutes ?",
           "C: Oui, allez-y.")


# --- the format ------------------------------------------------------------------------------------


def test_a_minimal_call_parses_and_round_trips():
    data = make("A: Bonjour.", "C: Bonjour.", events=[{"t": 3, "type": "hangup", "by": "caller"}])
    call = parse_call(data)
    assert [(t.index, t.speaker, t.text) for t in call.turns] == [(0, "agent", "Bonjour."), (1, "caller", "Bonjour.")]
    assert call.events[0].type == "hangup" and call.events[0].get("by") == "caller"
    assert parse_call(call.as_dict()) == call


def test_unknown_event_types_are_kept_and_ignored(settings):
    framework = frameworks.get(FILEA)
    lines = (*OPENING, "A: Qu'est-ce qui compte le plus pour vous dans un contrat d'énergie ?",
             "C: Le prix avant tout, et un service client qui répond vite quand il y a une panne.")
    plain = parse_call(make(*lines))
    odd = parse_call(make(*lines, events=[{"t": 2, "type": "coaching_tip", "text": "souriez", "score": [1, 2]},
                                          {"t": 4, "type": "screen_share"}]))
    assert [e.type for e in odd.events] == ["coaching_tip", "screen_share"]
    assert odd.events[0].data == {"text": "souriez", "score": [1, 2]} and not odd.events[0].known
    assert assess(odd, framework, AssessOptions(settings)) == assess(plain, framework, AssessOptions(settings))
    assert odd.as_dict()["events"][0] == {"t": 2.0, "type": "coaching_tip", "text": "souriez", "score": [1, 2]}


def _errors(data) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        parse_call(data)
    return {path: error.render() for path, error in info.value.errors.items()}


def test_every_problem_is_reported_with_the_path_of_the_field():
    data = {"direction": "sortant", "company": {"name": ""}, "agent": {"nom": "Julie"},
            "turns": [{"t": "3", "speaker": "client", "text": ""}, {"t": -1, "speaker": "agent", "text": "Oui"}],
            "events": [{"t": 1, "type": "crm_update"}, {"t": 2, "type": "callback", "at": "demain"},
                       {"type": "hold"}, 5, {"t": 1, "type": "appointment", "at": "2026-11-24T10:00:00+01:00",
                                             "wiht": "Marc"}]}
    errors = _errors(data)
    assert errors["direction"] == ("direction : valeur « sortant » refusée ; valeurs possibles : « inbound », "
                                   "« outbound ».")
    assert errors["company.name"] == "company.name : ne doit pas être vide."
    assert errors["agent.nom"].startswith("agent.nom : champ inconnu (champs possibles : name)")
    assert errors["agent.name"] == "agent.name : champ obligatoire absent."
    assert errors["turns[0].t"] == "turns[0].t : nombre attendu."
    assert "« client » refusée" in errors["turns[0].speaker"]
    assert errors["turns[0].text"] == "turns[0].text : ne doit pas être vide."
    assert errors["turns[1].t"] == "turns[1].t : doit être positif ou nul."
    assert errors["events[0].field"] == "events[0].field : champ obligatoire absent."
    assert errors["events[1].at"].startswith("events[1].at : date et heure ISO 8601 attendues")
    assert errors["events[2].t"] == "events[2].t : champ obligatoire absent."
    assert errors["events[3]"] == "events[3] : objet JSON attendu ({…})."
    assert errors["events[4].wiht"] == ("events[4].wiht : champ inconnu (champs possibles : t, type, at, with, mode, "
                                        "note, status).")
    assert list(errors) == sorted(errors, key=lambda p: (p.split("[")[0], p))  # in the order of the file's keys


def test_turns_must_follow_each_other_in_time_and_the_root_must_be_an_object():
    errors = _errors(make("A: Bonjour.", "C: Bonjour.") | {"turns": [{"t": 5, "speaker": "agent", "text": "a"},
                                                                     {"t": 2, "speaker": "caller", "text": "b"}]})
    assert errors == {"turns[1].t": "turns[1].t : les répliques doivent être dans l'ordre du temps (celle-ci, à 2 s, "
                                    "suit une réplique à 5 s)."}
    assert _errors([1, 2]) == {"(racine)": "Le contenu doit être un objet JSON ({…}) décrivant l'appel."}
    assert _errors({"direction": "outbound"})["turns"] == "turns : champ obligatoire absent."


def test_optional_keys_are_checked_too():
    errors = _errors(make("A: Bonjour.", targets={"duration_s": 0}, banned_words="problème",
                          labels={"x": "ok"}, charter={"greting": "Bonjour"}))
    assert errors["targets.duration_s"] == "targets.duration_s : doit être strictement positif."
    assert errors["banned_words"] == "banned_words : liste JSON attendue ([…])."
    assert "« ok » refusée" in errors["labels.x"]
    assert errors["charter.greting"].startswith("charter.greting : champ inconnu")


# --- the opening -------------------------------------------------------------------------------------------------


def test_presentation(settings):
    assert result(settings, "presentation", make(*OPENING)) == "met"
    nameless = check(settings, "presentation", make("A: Bonjour, Énergie Horizon, je vous appelle pour une offre.",
                                                    "C: Oui ?"))
    assert nameless.result == "not_met" and nameless.rationale() == "Ne donne pas son nom en début d'appel."
    assert check(settings, "presentation", make("A: Bonjour, Julie à l'appareil.", "C: Oui ?",
                                                "A: Je vous appelle pour une offre.")).rationale() == (
        "Ne nomme pas l'entreprise « Énergie Horizon » en début d'appel.")
    rambling = make("A: Allô bonjour, alors voilà, je me permets de vous appeler parce qu'en ce moment on fait une "
                    "grosse opération sur le solaire pour les entreprises du secteur et franchement c'est le moment, "
                    "c'est Julie d'Énergie Horizon.")
    assert "n'arrivent qu'après" in check(settings, "presentation", rambling).rationale()
    stumbling = make("A: Euh... bonjour, je suis... euh... Julie, de... euh... Énergie Horizon.")
    assert "hésitante" in check(settings, "presentation", stumbling).rationale()
    assert result(settings, "presentation", make("C: Allô ?")) == "not_assessable"


def test_purpose_and_consent(settings):
    assert result(settings, "purpose_consent", make(*OPENING)) == "met"
    no_consent = make("A: Bonjour, Julie Moreau d'Énergie Horizon, je vous appelle au sujet de votre facture.",
                      "C: Oui.", "A: Combien payez-vous par mois ?")
    assert check(settings, "purpose_consent", no_consent).rationale().startswith("Annonce le motif de l'appel mais")
    assert result(settings, "purpose_consent", make("A: Bonjour, vous êtes intéressé par nos panneaux ?")) == "not_met"
    absent = make("A: Bonjour, Julie Moreau d'Énergie Horizon. Pourrais-je parler au gérant ?",
                  "C: Il est en réunion toute la journée.")
    assert result(settings, "purpose_consent", absent) == "not_assessable"
    assert result(settings, "purpose", no_consent) == "met"


def test_identification(settings):
    asked = make(*OPENING, "A: Pouvez-vous me confirmer votre date de naissance ?", "C: Le 12 mai 1979.")
    assert result(settings, "identification", asked) == "met"
    assert result(settings, "identification", make(*OPENING, "A: Très bien.", "C: Oui.", "A: Alors.", "C: Oui.",
                                                    "A: Bon.", "C: Oui.")) == "not_met"


def test_charters(settings):
    charter = {"greeting": "Bonjour {contact}, {agent} d'Énergie Horizon. Je vous appelle pour une courte enquête "
                           "de satisfaction : avez-vous cinq minutes à m'accorder ?",
               "closing": "Merci beaucoup pour vos réponses, {contact}. Très bonne journée, au revoir !"}
    good = make("A: Bonjour Madame Roux, Julie Moreau d'Énergie Horizon. Je vous appelle pour une courte enquête de "
                "satisfaction : avez-vous cinq minutes à m'accorder ?", "C: Oui.",
                "A: Merci beaucoup pour vos réponses, Madame Roux. Très bonne journée, au revoir !", charter=charter)
    assert result(settings, "greeting_charter", good) == result(settings, "closing_charter", good) == "met"
    bad = make("A: Salut, c'est Julie.", "C: Oui.", "A: Bon, ciao.", charter=charter)
    assert result(settings, "greeting_charter", bad) == result(settings, "closing_charter", bad) == "not_met"
    assert result(settings, "greeting_charter", make("A: Salut.")) == "not_assessable"


# --- discovery ------------------------------------------------------------------------------------------------------


DISCOVERY = (*OPENING,
             "A: Comment se répartit votre consommation dans la journée ?",
             "C: Les fours tournent la nuit, les chambres froides l'après-midi.",
             "A: Et vos chambres froides, elles ont quel âge ?",
             "C: Quinze ans, elles tournent tout le temps.",
             "A: Si je vous suis bien, ce sont surtout les chambres froides qui consomment. C'est bien ça ?",
             "C: Oui, exactement.",
             "A: Qu'est-ce qui est le plus important pour vous sur ce poste ?",
             "C: Faire baisser la facture, on a pris quarante pour cent l'an dernier.")
RIGID = (*OPENING,
         "A: Vous avez un toit ?", "C: Oui, enfin c'est un entrepôt, on est locataires.",
         "A: Il fait combien de mètres carrés ?", "C: Je sais pas, je vous ai dit, c'est pas à moi de décider.",
         "A: Vous payez combien par mois ?", "C: Je vais pas vous donner ça.",
         "A: Vous avez des enfants ?", "C: Non.")


def test_questionnaire(settings):
    assert result(settings, "questionnaire", make(*DISCOVERY)) == "met"
    rigid = check(settings, "questionnaire", make(*RIGID))
    assert rigid.result == "not_met" and "sans tenir compte des réponses" in rigid.rationale()
    short = check(settings, "questionnaire", make(*OPENING, "A: Vous avez un toit ?", "C: Oui.", "A: Bien.",
                                                  "C: Voilà.", "A: Bon.", "C: Oui.", "A: Au revoir.", "C: Au revoir."))
    assert short.result == "not_met" and "Trop peu de questions" in short.rationale()
    refused = make("A: Bonjour, Julie Moreau d'Énergie Horizon : avez-vous deux minutes ?", "C: Non, au revoir.")
    assert result(settings, "questionnaire", refused) == "not_assessable"


def test_active_listening_and_reformulation(settings):
    assert result(settings, "active_listening", make(*DISCOVERY)) == "met"
    statement = make(*OPENING, "A: Quels équipements consomment le plus ?",
                     "C: Le compresseur, les ponts élévateurs et le chauffage l'hiver.",
                     "A: Donc surtout le compresseur, les ponts et le chauffage.", "C: Voilà.",
                     "A: Vous êtes propriétaire ?", "C: Oui.", "A: Bien.", "C: Oui.")
    found = check(settings, "active_listening", statement)
    assert found.result == "not_met" and "sans solliciter l'avis" in found.rationale()
    assert found.evidence[0].quote == "Donc surtout le compresseur, les ponts et le chauffage."
    assert result(settings, "reformulation", statement) == "met"
    assert result(settings, "active_listening", make(*RIGID)) == "not_met"
    assert result(settings, "reformulation", make(*RIGID)) == "not_met"


def test_information_gathering(settings):
    assert result(settings, "information_gathering", make(*DISCOVERY)) == "met"
    assert result(settings, "information_gathering", make(*RIGID)) == "not_met"  # « je sais pas », « pas à moi »
    leading = make(*OPENING, "A: Vous êtes satisfaite de nous ? Très satisfaite j'imagine ?", "C: Ben... oui.",
                   "A: Les factures c'est clair ?", "C: Pas trop.", "A: Vous avez appelé ?", "C: Non.",
                   "A: Bon.", "C: Voilà.")
    assert "orientées" in check(settings, "information_gathering", leading).rationale()


def test_discovery(settings):
    met = check(settings, "discovery", make(*DISCOVERY))
    assert met.result == "met" and met.evidence[0].what == "open_question"
    assert result(settings, "discovery", make(*RIGID)) == "not_met"
    confirmed = make(*OPENING, "A: Vous avez eu des soins cette année ?", "C: Des appareils auditifs, mille euros.",
                     "A: Si je résume, l'audition vous a coûté cher cette année. Est-ce que j'ai bien compris ?",
                     "C: Oui, c'est ça.", "A: Bien.", "C: Oui.")
    assert result(settings, "discovery", confirmed) == "met"


def test_open_questions(settings):
    assert result(settings, "open_questions", make(*DISCOVERY)) == "met"
    assert result(settings, "open_questions", make(*OPENING, "A: Vous avez un toit ?", "C: Oui.",
                                                   "A: Vous êtes propriétaire ?", "C: Oui.", "A: Bien ?",
                                                   "C: Oui.")) == "not_met"


# --- reservations and objections -------------------------------------------------------------------------------


def test_eliciting_reservations(settings):
    asked = make(*DISCOVERY, "A: Qu'est-ce qui pourrait vous faire hésiter à faire cette étude ?",
                 "C: Le prix, honnêtement.")
    assert result(settings, "elicit_objections", asked) == "met"
    probed = make(*DISCOVERY, "A: Nous pouvons faire une étude.", "C: Je ne sais pas, on a déjà un fournisseur.",
                  "A: Vous en êtes satisfait ?", "C: Moyennement.")
    assert result(settings, "elicit_objections", probed) == "met"
    ignored = check(settings, "elicit_objections", make(*DISCOVERY, "A: Nous pouvons faire une étude.",
                                                        "C: Mouais, je vais réfléchir.", "A: Très bien, au revoir.",
                                                        "C: Au revoir."))
    assert ignored.result == "not_met" and ignored.evidence[0].quote == "Mouais, je vais réfléchir."
    assert result(settings, "elicit_objections", make(*DISCOVERY)) == "not_assessable"


def test_objection_handling(settings):
    treated = make(*DISCOVERY, "A: L'étude est gratuite.", "C: Oui mais on m'a déjà démarché, c'était hors de prix.",
                   "A: Je comprends votre méfiance : l'étude est gratuite et sans engagement, et c'est vous qui "
                   "décidez ensuite.", "C: D'accord.")
    assert result(settings, "objection_handling", treated) == "met"
    ignored = check(settings, "objection_handling", make(
        *DISCOVERY, "A: Notre offre Duo est à 24,99 euros.",
        "C: J'ai déjà essayé chez vous, le réseau ne passait pas. Je ne veux pas revivre ça.",
        "A: Vous avez des enfants ?", "C: Non.", "A: C'est la meilleure offre du marché. Je vous l'active ?",
        "C: Non."))
    assert ignored.result == "not_met" and "1 objection(s) sur 1" in ignored.rationale()
    given_up = make(*DISCOVERY, "A: La garantie coûte 12 euros de plus.", "C: C'est beaucoup pour moi.",
                    "A: Bien sûr, prenez le temps, je vous envoie la documentation par courrier demain matin.",
                    "C: Merci.")
    assert result(settings, "objection_handling", given_up) == "not_met"
    assert result(settings, "objection_handling", make(*DISCOVERY)) == "not_assessable"
    hung_up = make("A: Bonjour, Julie Moreau d'Énergie Horizon : avez-vous deux minutes ?",
                   "C: Non, ça ne m'intéresse pas. Au revoir.")
    assert result(settings, "objection_handling", hung_up) == "not_assessable"  # no chance to answer


def test_empathy(settings):
    acknowledged = make(*OPENING, "A: Le solde est de 384 euros.", "C: C'est compliqué, j'ai perdu mon emploi.",
                        "A: Je suis désolé de l'apprendre, c'est une période difficile.", "C: Oui.")
    assert result(settings, "empathy", acknowledged) == "met"
    cold = make(*OPENING, "A: Le solde est de 384 euros.", "C: C'est compliqué, j'ai perdu mon emploi.",
                "A: La facture doit être payée.", "C: Bon.", "A: Vous payez quand ?", "C: Demain.")
    assert result(settings, "empathy", cold) == "not_met"
    assert result(settings, "empathy", make(*OPENING)) == "not_assessable"


# --- proposal, agreement, closing -----------------------------------------------------------------------------


CLOSING = ("A: Je vous propose un rendez-vous avec notre conseiller jeudi à 14 h 30 ou vendredi à 15 h ?",
           "C: Jeudi 14 h 30, c'est parfait.",
           "A: Je récapitule : rendez-vous jeudi 26 novembre à 14 h 30 avec Marc Lenoir, à la boulangerie.",
           "C: C'est noté.",
           "A: Merci pour votre accueil, Monsieur Perrin. Très bonne journée, au revoir !",
           "C: Au revoir.")


def test_proposal(settings):
    assert result(settings, "proposal", make(*DISCOVERY, *CLOSING)) == "met"
    slot = make(*DISCOVERY, "A: Le technicien peut passer mardi à 9 h ou jeudi à 9 h 30.", "C: Jeudi 9 h 30.",
                events=[{"t": 90, "type": "appointment", "at": "2026-11-26T09:30:00+01:00"}])
    assert result(settings, "proposal", slot) == "met"
    catalogue = make(*DISCOVERY, "A: Je peux vous envoyer le catalogue ?", "C: Si vous voulez.")
    assert check(settings, "proposal", catalogue).rationale() == (
        "Aucune proposition d'action (rendez-vous, commande, mise à jour, rappel) n'est énoncée.")
    refused = make("A: Bonjour, Julie Moreau d'Énergie Horizon : avez-vous deux minutes ?", "C: Non. Au revoir.")
    assert result(settings, "proposal", refused) == "not_assessable"


def test_agreement_recap_and_leave_taking(settings):
    good = make(*DISCOVERY, *CLOSING)
    assert [result(settings, c, good) for c in ("agreement", "recap", "leave_taking")] == ["met", "met", "met"]
    refused = make(*DISCOVERY, "A: Je vous propose un rendez-vous avec notre conseiller mardi ?",
                   "C: Non, non, je ne crois pas.", "A: Bon, au revoir.")
    assert check(settings, "agreement", refused).rationale().startswith("L'appelé refuse la proposition")
    no_recap = make(*DISCOVERY, "A: Je vous propose un rendez-vous mardi à 10 h ?", "C: Mardi dix heures, ça ira.",
                    "A: C'est noté. Merci, bonne journée, au revoir.")
    assert result(settings, "agreement", no_recap) == "met"
    assert result(settings, "recap", no_recap) == "not_met"
    no_goodbye = make(*DISCOVERY, *CLOSING[:3], "C: Parfait, à jeudi !")
    assert result(settings, "leave_taking", no_goodbye) == "not_met"


def test_satisfaction_and_additional_offer(settings):
    asked = make(*OPENING, "A: Ai-je répondu à toutes vos questions ?", "C: Oui, merci beaucoup, c'est très clair.")
    assert result(settings, "satisfaction_question", asked) == "met"
    assert result(settings, "caller_satisfaction", asked) == "met"
    assert result(settings, "satisfaction_question", make(*RIGID)) == "not_met"
    offered = make(*OPENING, "A: Nous avons aussi l'option TV à 5 euros.", "C: Non merci.")
    assert result(settings, "additional_offer", offered) == "met"
    sold = make(*OPENING, events=[{"t": 9, "type": "sale", "amount": 34.99, "additional": 5}])
    assert result(settings, "additional_offer", sold) == "met"
    assert result(settings, "sale", sold) == "met" and result(settings, "sale", make(*OPENING)) == "not_met"


def test_argumentation(settings):
    argued = make(*DISCOVERY, "A: L'étude vous permettra de réduire la facture des chambres froides.", "C: Bien.")
    assert result(settings, "argumentation", argued) == "met"
    generic = make(*DISCOVERY, "A: Nos panneaux sont les meilleurs du marché.", "C: Ah.")
    assert result(settings, "argumentation", generic) == "not_met"


# --- records ---------------------------------------------------------------------------------------------------------


def test_crm_trace(settings):
    qualified = [{"t": 60, "type": "crm_update", "field": "segment", "value": "Boulangerie"},
                 {"t": 80, "type": "disposition", "code": "rdv-pris"}]
    assert result(settings, "crm_trace", make(*DISCOVERY, events=qualified)) == "met"
    only_code = check(settings, "crm_trace", make(*DISCOVERY, events=qualified[1:]))
    assert only_code.result == "not_met" and "Seule la qualification « rdv-pris »" in only_code.rationale()
    assert "non qualifié" in check(settings, "crm_trace", make(*DISCOVERY, events=qualified[:1])).rationale()
    short = make("A: Bonjour, Julie Moreau d'Énergie Horizon : avez-vous deux minutes ?", "C: Non. Au revoir.",
                 events=[{"t": 10, "type": "disposition", "code": "refus"}])
    assert result(settings, "crm_trace", short) == "met"
    assert result(settings, "crm_updates", make(*OPENING, events=qualified)) == "met"
    assert result(settings, "disposition", make(*OPENING, events=qualified)) == "met"
    assert result(settings, "disposition", make(*OPENING)) == "not_met"


def test_data_entry_timing_payment_and_complaints(settings):
    late = make(*OPENING, events=[{"t": 8, "type": "hangup"}, {"t": 500, "type": "crm_update", "field": "email"}])
    assert result(settings, "data_entry_timing", late) == "not_met"
    assert result(settings, "data_entry_timing", make(*OPENING, events=[{"t": 9, "type": "note", "text": "ok"}])) \
        == "met"
    plan = make(*OPENING, events=[{"t": 9, "type": "payment_plan", "total": 384, "instalments": 4}])
    assert result(settings, "payment_arrangement", plan) == "met"
    assert result(settings, "payment_arrangement", make(*OPENING)) == "not_met"
    complaint = make(*OPENING, "C: J'ai fait une réclamation, jamais eu de réponse.", "A: Je la transmets.")
    assert result(settings, "complaint_forwarding", complaint) == "not_met"
    forwarded = complaint | {"events": [{"t": 30, "type": "complaint_forwarded", "to": "Relations clientèle"}]}
    assert result(settings, "complaint_forwarding", forwarded) == "met"
    assert result(settings, "complaint_forwarding", make(*OPENING)) == "not_assessable"


# --- words and timings ---------------------------------------------------------------------------------------------


def test_banned_words(settings):
    said = check(settings, "banned_words", make(*OPENING, "A: Pas de souci, normalement c'est rapide.",
                                                banned_words=["pas de souci", "normalement", "problème"]))
    assert said.result == "not_met" and said.rationale() == "Mots à bannir employés : « normalement », « pas de souci »."
    assert said.evidence[0].quote == "Pas de souci, normalement c'est rapide."
    caller_only = make(*OPENING, "C: Normalement c'est payé.", banned_words=["normalement"])
    assert result(settings, "banned_words", caller_only) == "met"  # only the agent's words count
    default = make(*OPENING, "A: Attendez, je regarde.")  # no list in the call: the settings' default list
    assert result(settings, "banned_words", default) == "not_met"
    assert result(settings, "banned_words", make(*OPENING, banned_words=[])) == "not_assessable"


def test_silences(settings):
    quiet = check(settings, "silences", make(*OPENING, "~15", "A: Bien, alors.", "C: Oui."))
    assert quiet.result == "not_met" and quiet.evidence[0].kind == "timing"
    assert math.isclose(quiet.evidence[0].duration_s, 16.0, abs_tol=0.2)
    assert result(settings, "silences", make(*OPENING, "~15", "A: Bien, alors."), ) == "not_met"
    assert result(settings, "silences", make(*OPENING, "~5", "A: Bien, alors.")) == "met"
    lenient = check(settings, "silences", make(*OPENING, "~15", "A: Bien."), targets=Targets(max_silence_s=30))
    assert lenient.result == "met"
    typed = make(*OPENING, "~15", "A: Bien, alors.", "C: Oui.", media="text")
    assert result(settings, "silences", typed) == "met"  # typing is not a silence
    assert result(settings, "silences", make(*OPENING, "~70", "A: Bien.", media="text")) == "not_met"
    held = make(*OPENING, "A: Je vous mets en attente un instant.", "~40", "A: Merci de votre patience.",
                events=[{"t": 12, "type": "hold"}, {"t": 50, "type": "resume"}])
    assert result(settings, "silences", held) == "met"  # a hold is not a silence


def test_holds(settings):
    good = make(*OPENING, "A: Je regarde l'agenda, je vous mets en attente une trentaine de secondes, d'accord ?",
                "C: Allez-y.", "~35", "A: Merci de votre patience. Il peut passer mardi.",
                events=[{"t": 20, "type": "hold"}, {"t": 52, "type": "resume"}])
    assert result(settings, "holds", good) == "met"
    silent = check(settings, "holds", make(*OPENING, "A: D'accord.", "~95", "A: Voilà le devis.",
                                           events=[{"t": 12, "type": "hold"}, {"t": 107, "type": "resume"}]))
    assert silent.result == "not_met"
    assert silent.rationale().startswith("Mise en attente non annoncée, sans remerciement à la reprise, trop longue")
    assert result(settings, "holds", make(*OPENING)) == "not_assessable"


def test_duration(settings):
    timed = make(*OPENING, events=[{"t": 200, "type": "hangup"}], targets={"duration_s": 180})
    assert result(settings, "duration", timed) == "met"  # within the 20 % tolerance
    assert check(settings, "duration", timed).rationale() == "Durée 3 min 20 s pour une cible de 3 min 00 s."
    long = make(*OPENING, events=[{"t": 400, "type": "hangup"}], targets={"duration_s": 180})
    assert result(settings, "duration", long) == "not_met"
    assert result(settings, "duration", make(*OPENING)) == "not_assessable"
    overridden = check(settings, "duration", make(*OPENING, events=[{"t": 400, "type": "hangup"}]),
                       targets=Targets(duration_s=420))
    assert overridden.result == "met"


# --- criteria and the overall result ------------------------------------------------------------------------------


def test_human_criteria_are_not_assessable_with_the_frameworks_reason(settings):
    outcome = assess(parse_call(make(*DISCOVERY, *CLOSING)), frameworks.get(FILEA), AssessOptions(settings))
    voice = outcome.result_of(f"{FILEA}/02")
    assert voice.result == "not_assessable" and voice.evidence == ()
    assert voice.rationale() == ("À juger par une personne : le débit et le volume de la voix s'écoutent : une "
                                 "transcription ne les restitue pas.")


def test_criteria_without_a_check_say_so(settings):
    outcome = assess(parse_call(make(*OPENING)), frameworks.get("mc-acvd"), AssessOptions(settings))
    unmapped = outcome.result_of("mc-acvd/C1.2/4")
    assert unmapped.result == "not_assessable" and unmapped.rationale() == NO_CHECK


def test_a_criterion_with_several_checks(settings):
    framework = frameworks.get(FILEA)
    good = assess(parse_call(make(*DISCOVERY, *CLOSING)), framework, AssessOptions(settings))
    assert good.result_of(f"{FILEA}/11").result == "met"
    assert [c.check for c in good.result_of(f"{FILEA}/11").checks] == ["agreement", "recap", "leave_taking"]
    no_goodbye = assess(parse_call(make(*DISCOVERY, *CLOSING[:3], "C: Parfait, à jeudi !")), framework,
                        AssessOptions(settings))
    eleven = no_goodbye.result_of(f"{FILEA}/11")
    assert eleven.result == "not_met" and eleven.rationale().startswith("Ne prend pas congé")
    refused = make("A: Bonjour, Julie Moreau d'Énergie Horizon : avez-vous deux minutes ?", "C: Non. Au revoir.",
                   "A: Très bien, bonne journée, au revoir.")
    # leave-taking is there, but the agreement the criterion is about could not be observed
    assert assess(parse_call(refused), framework, AssessOptions(settings)).result_of(f"{FILEA}/11").result \
        == "not_assessable"


def test_an_optional_check_counts_only_when_observable(settings):
    mc = frameworks.get("mc-acvd")
    plain = assess(parse_call(make(*DISCOVERY, *CLOSING)), mc, AssessOptions(settings)).result_of("mc-acvd/C1.1/1")
    assert plain.result == "met"  # no charter: presentation and leave-taking decide
    charter = {"greeting": "Énergie Horizon, service des professionnels, {agent} à votre écoute : que puis-je faire "
                           "pour votre entreprise ?"}
    off = assess(parse_call(make(*DISCOVERY, *CLOSING, charter=charter)), mc, AssessOptions(settings))
    assert off.result_of("mc-acvd/C1.1/1").result == "not_met"


def test_the_filea_rule_counts_assessed_criteria_only(settings):
    framework = frameworks.get(FILEA)
    outcome = assess(parse_call(make(*DISCOVERY, *CLOSING, events=[
        {"t": 200, "type": "crm_update", "field": "segment", "value": "Boulangerie"},
        {"t": 220, "type": "disposition", "code": "rdv-pris"}])), framework, AssessOptions(settings))
    assessed = [c for c in outcome.criteria if c.result != "not_assessable"]
    assert outcome.assessed == len(assessed) and outcome.met == sum(c.result == "met" for c in assessed)
    assert outcome.score == pytest.approx(outcome.met / outcome.assessed)
    assert outcome.passed is (outcome.score >= 0.7)
    assert outcome.threshold == 0.7
    weak = assess(parse_call(make(*RIGID)), framework, AssessOptions(settings))
    assert weak.passed is False and weak.score < 0.7
    nothing = assess(parse_call(make(*OPENING)), framework,
                     AssessOptions(settings, criteria=(f"{FILEA}/02", f"{FILEA}/13")))
    assert (nothing.assessed, nothing.score, nothing.passed) == (0, 0.0, False)


def test_frameworks_without_a_rule_use_the_default_threshold(settings):
    outcome = assess(parse_call(make(*DISCOVERY, *CLOSING)), frameworks.get("ofppt-teleconseiller"),
                     AssessOptions(settings))
    assert outcome.threshold == settings.default_threshold
    assert outcome.passed is (outcome.assessed > 0 and outcome.score >= settings.default_threshold)


def test_a_subset_of_criteria_and_unknown_ones(settings):
    framework = frameworks.get(FILEA)
    wanted = (f"{FILEA}/05", f"{FILEA}/01")
    outcome = assess(parse_call(make(*DISCOVERY)), framework, AssessOptions(settings, criteria=wanted))
    assert [c.id for c in outcome.criteria] == [f"{FILEA}/01", f"{FILEA}/05"]  # in the framework's order
    with pytest.raises(NotFoundError):
        assess(parse_call(make(*DISCOVERY)), framework, AssessOptions(settings, criteria=(f"{FILEA}/99",)))


def test_assess_is_deterministic_and_reports_observations(settings):
    call = parse_call(make(*OPENING, "A: Pas de souci.", "~20", "A: Alors.", banned_words=["pas de souci"]))
    first = assess(call, frameworks.get(FILEA), AssessOptions(settings))
    assert first == assess(call, frameworks.get(FILEA), AssessOptions(settings))
    observed = {o.check: o.result for o in first.observations}
    assert observed["banned_words"] == "not_met" and observed["silences"] == "not_met"
    printed = first.as_dict()
    assert set(printed) >= {"framework", "criteria", "score", "passed"}
    assert printed["evaluator"]["settings"] == settings.version


# --- the settings files --------------------------------------------------------------------------------------------


def _texts():
    return [(ASSESSMENT_DIR / name).read_text(encoding="utf-8")
            for name in ("settings.yaml", "cues.yaml", "mappings.yaml")]


def test_the_shipped_settings_are_valid_and_cover_filea(settings):
    assert set(settings.cues) == set(CUE_NAMES)
    filea = frameworks.get(FILEA)
    for criterion in filea.criteria():
        mapped = settings.checks_for(FILEA, criterion.id)
        assert bool(mapped) == criterion.from_call, criterion.id
    for code in ("mc-acvd", "ofppt-teleconseiller", "infep-bts-teleconseiller"):
        assert settings.mappings[code], code
    assert mapping_problems(settings, frameworks.load_frameworks()) == []


def test_broken_settings_are_refused_with_file_line_and_key():
    settings_text, cues_text, mappings_text = _texts()
    broken_settings = settings_text.replace("max_silence_s: 10", "max_silence_s: -3").replace(
        "default_threshold: 0.70", "default_threshold: 2\nseuil: 1")
    broken_cues = cues_text.replace("\ngoodbye:", "\nau_revoir:")
    broken_mappings = mappings_text.replace("[presentation]", "[presentaton]").replace(
        "filea-appels-sortants/03:", "mc-acvd/C1.1/2:", 1)
    with pytest.raises(ValidationError) as info:
        parse_settings(broken_settings, broken_cues, broken_mappings, frozenset(CHECKS), CUE_NAMES)
    messages = [error.render() for error in info.value.errors.values()]
    assert any(m.startswith("settings.yaml, ligne") and "« max_silence_s » doit être un nombre" in m for m in messages)
    assert any("« default_threshold » doit être une part" in m for m in messages)
    assert any("clé inconnue « seuil »" in m for m in messages)
    assert any(m.startswith("cues.yaml, ligne") and "liste inconnue « au_revoir »" in m for m in messages)
    assert any("liste « goodbye » absente" in m for m in messages)
    assert any("vérification inconnue « presentaton »" in m for m in messages)
    assert any("n'appartient pas au référentiel « filea-appels-sortants »" in m for m in messages)


def test_mappings_are_checked_against_the_frameworks(settings):
    settings_text, cues_text, mappings_text = _texts()
    wrong = mappings_text.replace("filea-appels-sortants/12: [crm_trace]",
                                  "filea-appels-sortants/12: [crm_trace]\n  filea-appels-sortants/02: [presentation]"
                                  "\n  filea-appels-sortants/77: [presentation]")
    parsed = parse_settings(settings_text, cues_text, wrong, frozenset(CHECKS), CUE_NAMES)
    problems = [p.render() for p in mapping_problems(parsed, frameworks.load_frameworks())]
    assert problems == [
        "mappings.yaml — le critère « filea-appels-sortants/02 » se juge par une personne : il ne peut pas avoir de "
        "vérification automatique.",
        "mappings.yaml — critère inconnu « filea-appels-sortants/77 ».",
    ]


# --- plateau assess ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli():
    app = typer.Typer()
    assess_command.register(app)
    app.command("noop", hidden=True)(lambda: None)  # a second command keeps « assess » a sub-command
    return app


def run(cli, *args, stdin=None):
    return CliRunner().invoke(cli, ["assess", *args], input=stdin)


def test_cli_prints_the_assessment_as_json(cli, tmp_path):
    path = tmp_path / "CALL.json"
    path.write_text(json.dumps(make(*DISCOVERY, *CLOSING)), encoding="utf-8")
    done = run(cli, str(path), "--framework", FILEA)
    assert done.exit_code == 0, done.output
    printed = json.loads(done.stdout)
    assert printed["framework"] == FILEA
    assert [c["id"] for c in printed["criteria"]] == [f"{FILEA}/{n:02d}" for n in range(1, 16)]
    for criterion in printed["criteria"]:
        assert criterion["result"] in ("met", "not_met", "not_assessable")
        assert isinstance(criterion["evidence"], list) and criterion["rationale"]
        for item in criterion["evidence"]:
            assert item["kind"] in ("turn", "event", "timing") and isinstance(item["t"], (int, float))
    quoted = [e for c in printed["criteria"] for e in c["evidence"] if e["kind"] == "turn"]
    assert all(e["quote"] in {t["text"] for t in make(*DISCOVERY, *CLOSING)["turns"]} for e in quoted)
    assert 0 <= printed["score"] <= 1 and isinstance(printed["passed"], bool)
    subset = json.loads(run(cli, "-", "-f", FILEA, "-c", f"{FILEA}/05", stdin=path.read_text()).stdout)
    assert [c["id"] for c in subset["criteria"]] == [f"{FILEA}/05"]


def test_cli_refuses_bad_input_with_exit_code_2_and_nothing_on_stdout(cli, tmp_path):
    missing = run(cli, str(tmp_path / "absent.json"), "--framework", FILEA)
    assert missing.exit_code == 2 and missing.stdout == ""
    assert missing.stderr == f"Erreur : {tmp_path / 'absent.json'} : fichier introuvable.\n"
    broken = tmp_path / "broken.json"
    broken.write_text('{"direction": "outbound",\n  "turns": [,]}', encoding="utf-8")
    bad_json = run(cli, str(broken), "--framework", FILEA)
    assert bad_json.exit_code == 2 and bad_json.stdout == ""
    assert bad_json.stderr.startswith("Erreur : broken.json, ligne 2, colonne 13 : JSON invalide")
    wrong = tmp_path / "wrong.json"
    data = make(*OPENING)
    data["turns"][1]["speaker"] = "client"
    wrong.write_text(json.dumps(data), encoding="utf-8")
    invalid = run(cli, str(wrong), "--framework", FILEA)
    assert invalid.exit_code == 2 and invalid.stdout == ""
    assert "Erreur : wrong.json : turns[1].speaker : valeur « client » refusée" in invalid.stderr
    unknown = run(cli, str(wrong.with_name("ok.json")), "--framework", FILEA)
    assert unknown.exit_code == 2
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps(make(*OPENING)), encoding="utf-8")
    no_framework = run(cli, str(ok), "--framework", "filea")
    assert no_framework.exit_code == 2 and "référentiel inconnu « filea »" in no_framework.stderr
    no_criterion = run(cli, str(ok), "--framework", FILEA, "--criterion", f"{FILEA}/99")
    assert no_criterion.exit_code == 2 and "--criterion" in no_criterion.stderr
