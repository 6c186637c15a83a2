"""Call scripts, pure rules: the YAML format, every validation message, branching, answers."""

from pathlib import Path

import pytest

from plateau.domain.errors import DomainError, ValidationError
from plateau.domain.scripts import (END, ScriptError, banned_in, current_step, done_steps, fill, next_step,
                                    parse_script, path, show_answer, validate_answer, Question)

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo" / "scripts"

GOOD = """\
code: test
name: Script de test
charter:
  company: Énergie Horizon
  greeting: "Énergie Horizon, {agent} à votre écoute, bonjour !"
  closing: "Merci de votre appel, {contact}, au revoir !"
banned_words: [problème, pas de souci]
steps:
  - id: accueil
    title: Accueil
    phase: accueil
    phrases: ["Bonjour {contact}, je suis {agent}."]
  - id: identification
    title: Identification
    phase: identification
    questions:
      - id: nom
        label: Nom
        type: text
        required: true
      - id: titulaire
        label: Titulaire ?
        type: yes_no
    branches:
      - when: {question: titulaire, equals: no}
        goto: conclusion
  - id: decouverte
    title: Découverte
    phase: decouverte
    questions:
      - id: motif
        label: Motif
        type: choice
        choices: [Facture, Déménagement, Autre]
        required: true
    branches:
      - when: {question: motif, equals: Facture}
        goto: facture
      - when: {question: motif, in: [Déménagement]}
        goto: demenagement
    next: conclusion
  - id: facture
    title: Traitement facture
    phase: traitement
    questions:
      - {id: montant, label: Montant, type: number}
    next: conclusion
  - id: demenagement
    title: Déménagement
    phase: traitement
    questions:
      - {id: date_demenagement, label: Date du déménagement, type: date, required: true}
  - id: conclusion
    title: Conclusion
    phase: conclusion
objections:
  - id: cher
    objection: C'est trop cher
    answers: ["Je comprends."]
"""


def errors_of(text: str) -> list[ScriptError]:
    with pytest.raises(ValidationError) as caught:
        parse_script(text)
    return list(caught.value.errors.values())


def messages(text: str) -> list[str]:
    return [error.render() for error in errors_of(text)]


def with_change(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


# --- a good script --------------------------------------------------------------------------


def test_a_good_script_parses_into_steps_questions_branches_and_objections():
    script = parse_script(GOOD)
    assert script.code == "test" and script.charter.company == "Énergie Horizon"
    assert [s.id for s in script.steps] == ["accueil", "identification", "decouverte", "facture", "demenagement",
                                            "conclusion"]
    assert script.step("accueil").next == "identification"  # default next: the following step
    assert script.step("demenagement").next == "conclusion"
    assert script.step("conclusion").next == END  # after the last one: the end
    branch = script.step("identification").branches[0]
    assert branch.values == ("non",)  # YAML "no" (a boolean) is the answer "non"
    assert script.step("decouverte").branches[1].values == ("Déménagement",)
    assert script.objections[0].answers == ("Je comprends.",)
    assert script.question("motif")[0].id == "decouverte"


@pytest.mark.parametrize("name", ["service-clients", "facturation", "depannage"])
def test_the_demo_scripts_are_valid_and_complete(name):
    script = parse_script((DEMO / f"{name}.yaml").read_text(encoding="utf-8"))
    assert script.code == name
    assert {s.phase for s in script.steps} == {"accueil", "identification", "decouverte", "traitement", "conclusion"}
    assert "{agent}" in script.charter.greeting and script.charter.company == "Énergie Horizon"
    assert len(script.objections) >= 4 and all(o.answers for o in script.objections)
    assert {"numero_client", "code_postal", "nom_titulaire"} <= set(script.questions)
    assert any(s.branches for s in script.steps if s.phase == "decouverte")
    assert "problème" in script.banned_words
    assert all(s.phrases for s in script.steps)


# --- every validation rule, with its message --------------------------------------------------


def test_a_yaml_syntax_error_gives_line_and_column_in_french():
    (error,) = errors_of("code: test\nname: [pas fermé\nsteps: []\n")
    assert error.line == 3
    text = error.render()
    assert text.startswith("Ligne 3 — Erreur de syntaxe YAML à la colonne")
    assert "crochet" in text


def test_a_tab_in_the_indentation_is_explained():
    (error,) = errors_of("code: test\nsteps:\n\t- id: a\n")
    assert "tabulation interdite" in error.render() and error.line == 3


def test_an_empty_text_and_a_text_that_is_not_a_mapping():
    assert messages("") == ["Le script est vide."]
    assert messages("- un\n- deux\n") == ["Ligne 1 — Le script : un ensemble de clés « clé: valeur » est attendu ici."]


def test_missing_and_unknown_keys_are_all_reported_with_their_place():
    text = with_change("    title: Traitement facture\n", "    titre: Traitement facture\n")
    text = text.replace("name: Script de test\n", "")
    found = messages(text)
    assert "Ligne 1 — Clé obligatoire « name » absente." in found
    assert any(m.startswith("Ligne ") and "Étape « facture » : clé obligatoire « title » absente." in m for m in found)
    assert any("Étape « facture » : clé inconnue « titre » ; clés permises :" in m for m in found)


def test_a_key_written_twice_is_reported():
    (error,) = errors_of(with_change("name: Script de test\n", "name: Script de test\nname: Autre nom\n"))
    assert error.render() == "Ligne 3 — La clé « name » est écrite deux fois ; la seconde effacerait la première."


def test_duplicate_step_ids_are_reported_with_both_positions():
    text = with_change("  - id: facture\n", "  - id: decouverte\n")
    found = messages(text)
    assert any("Étape n° 4 : identifiant d'étape « decouverte » en double (déjà utilisé par l'étape n° 3)." in m
               for m in found)


def test_duplicate_question_ids_across_steps_are_reported():
    text = with_change("{id: montant, label: Montant", "{id: nom, label: Montant")
    (error,) = errors_of(text)
    assert error.place == {"step": "facture", "question": "nom"}
    assert "identifiant de question en double (déjà utilisé à l'étape « identification »)" in error.render()


def test_an_unknown_phase_lists_the_allowed_ones():
    (error,) = errors_of(with_change("    phase: traitement\n    questions:\n      - {id: montant",
                                     "    phase: vente\n    questions:\n      - {id: montant"))
    assert error.render().endswith("Étape « facture » : phase « vente » inconnue ; phases permises : accueil, "
                                   "identification, decouverte, traitement, conclusion.")


def test_a_choice_question_needs_its_choices():
    (error,) = errors_of(with_change("        choices: [Facture, Déménagement, Autre]\n", ""))
    assert error.place == {"step": "decouverte", "question": "motif"}
    assert "une question de type « choice » doit avoir une liste « choices »." in error.render()


def test_choices_on_another_type_and_an_unknown_type_are_refused():
    found = messages(with_change("{id: montant, label: Montant, type: number}",
                                 "{id: montant, label: Montant, type: number, choices: [a, b]}"))
    assert any("« choices » ne sert qu'aux questions de type « choice » (ici « number »)." in m for m in found)
    found = messages(with_change("type: number}", "type: entier}"))
    assert any("type de question « entier » inconnu ; types permis : text, choice, yes_no, number, date." in m
               for m in found)


def test_a_branch_to_an_unknown_step_is_reported():
    (error,) = errors_of(with_change("        goto: facture\n", "        goto: factures\n"))
    assert error.place == {"step": "decouverte", "bn": 1}
    assert error.render().endswith(
        "Étape « decouverte », branchement n° 1 : « goto » mène à l'étape « factures » qui n'existe pas (ou écrivez « end »).")


def test_a_next_to_an_unknown_step_is_reported():
    (error,) = errors_of(with_change("    next: conclusion\n  - id: facture", "    next: fin\n  - id: facture"))
    assert "Étape « decouverte » : « next » mène à l'étape « fin » qui n'existe pas" in error.render()


def test_a_branch_on_an_unknown_question_is_reported():
    (error,) = errors_of(with_change("{question: motif, equals: Facture}", "{question: raison, equals: Facture}"))
    assert "la condition porte sur la question « raison » qui n'existe pas dans le script." in error.render()


def test_a_branch_value_not_among_the_choices_is_reported():
    (error,) = errors_of(with_change("{question: motif, equals: Facture}", "{question: motif, equals: Factures}"))
    assert error.render().endswith("Étape « decouverte », branchement n° 1 : la valeur « Factures » n'est pas un des "
                                   "choix de la question « motif » (Facture, Déménagement, Autre).")
    (error,) = errors_of(with_change("in: [Déménagement]", "in: [Déménagement, Mutation]"))
    assert "la valeur « Mutation » n'est pas un des choix" in error.render()
    (error,) = errors_of(with_change("{question: titulaire, equals: no}", "{question: titulaire, equals: peut-être}"))
    assert "la valeur « peut-être » ne convient pas à la question « titulaire » (oui ou non)." in error.render()


def test_a_condition_needs_exactly_one_of_equals_and_in():
    (error,) = errors_of(with_change("{question: motif, equals: Facture}",
                                     "{question: motif, equals: Facture, in: [Facture]}"))
    assert "soit « equals » (une valeur), soit « in » (une liste de valeurs)" in error.render()


def test_a_step_unreachable_from_the_first_one_is_reported():
    # nothing leads to "demenagement" any more
    text = with_change("      - when: {question: motif, in: [Déménagement]}\n        goto: demenagement\n", "")
    (error,) = errors_of(text)
    assert error.place == {"step": "demenagement"}
    assert error.render() == ("Ligne 46 — Étape « demenagement » : cette étape n'est jamais atteinte depuis la première "
                              "étape « accueil » (aucun « next » ni « goto » n'y mène).")


def test_a_loop_with_no_way_to_the_end_is_reported_for_each_trapped_step():
    text = with_change("    phase: traitement\n    questions:\n      - {id: montant, label: Montant, type: number}\n"
                       "    next: conclusion\n",
                       "    phase: traitement\n    questions:\n      - {id: montant, label: Montant, type: number}\n"
                       "    next: boucle\n  - id: boucle\n    title: Boucle\n    phase: traitement\n    next: facture\n")
    found = errors_of(text)
    trapped = sorted(e.place["step"] for e in found)
    assert trapped == ["boucle", "facture"]
    assert all("on tourne en rond sans jamais arriver à « end »" in e.render() for e in found)


def test_a_loop_with_an_exit_is_allowed():
    text = with_change("    next: conclusion\n  - id: demenagement",
                       "    branches:\n      - when: {question: montant, equals: 0}\n        goto: decouverte\n"
                       "    next: conclusion\n  - id: demenagement")
    script = parse_script(text)
    # the answers make a loop: the path stops where it would repeat a step
    answers = {"nom": "Benali", "motif": "Facture", "montant": "0"}
    assert next_step(script, "facture", answers) == "decouverte"
    assert path(script, answers) == ["accueil", "identification", "decouverte", "facture"]


def test_placeholders_must_be_known_and_braces_closed():
    found = messages(with_change('phrases: ["Bonjour {contact}, je suis {agent}."]',
                                 'phrases: ["Bonjour {client}, je suis {agent."]'))
    assert any("accolade non fermée dans « phrases »" in m for m in found)
    found = messages(with_change('phrases: ["Bonjour {contact}, je suis {agent}."]', 'phrases: ["Bonjour {client}"]'))
    assert any("variable inconnue « {client} » dans « phrases » ; variables permises : {agent}, {company}, {contact}."
               in m for m in found)


def test_phrases_and_objection_answers_must_not_use_banned_words():
    found = messages(with_change('answers: ["Je comprends."]', 'answers: ["Pas de souci, je comprends."]'))
    assert found == ["Ligne 59 — Objection « cher » : la phrase « Pas de souci, je comprends. » contient le mot à "
                     "bannir « pas de souci »."]


def test_bad_ids_and_the_reserved_end_are_refused():
    found = messages(with_change("  - id: facture\n", "  - id: Facture Client\n"))
    assert any("identifiant « Facture Client » invalide" in m for m in found)
    found = messages(with_change("  - id: conclusion\n", "  - id: end\n").replace("goto: conclusion", "goto: end")
                     .replace("next: conclusion", "next: end"))
    assert any("« end » est réservé" in m for m in found)


def test_all_errors_are_collected_not_only_the_first():
    text = (with_change("    phase: decouverte\n", "    phase: vente\n")
            .replace("        choices: [Facture, Déménagement, Autre]\n", "")
            .replace("goto: demenagement", "goto: demenagements")
            .replace("name: Script de test\n", "name: Script de test\ncouleur: bleu\n"))
    found = messages(text)
    assert len(found) >= 4, found
    assert any("couleur" in m for m in found) and any("vente" in m for m in found)
    assert any("choices" in m for m in found) and any("demenagements" in m for m in found)
    # in the order of the text
    lines = [e.line for e in errors_of(text)]
    assert lines[0] <= lines[-1]


def test_types_of_values_are_checked():
    found = messages(with_change("banned_words: [problème, pas de souci]", "banned_words: problème"))
    assert any("« banned_words » doit être une liste" in m for m in found)
    found = messages(with_change("        required: true\n      - id: titulaire", "        required: oui\n      - id: titulaire"))
    assert any("« required » doit valoir true ou false." in m for m in found)
    found = messages(with_change('answers: ["Je comprends."]', "answers: []"))
    assert any("« answers » doit contenir au moins un élément." in m for m in found)
    assert messages(with_change("name: Script de test", "name: " + "x" * 201)) == [
        "Ligne 2 — « name » : 200 caractères au plus."]


# --- answers ---------------------------------------------------------------------------------

MOTIF = Question("motif", "Motif", "choice", ("Facture", "Déménagement"), True)


def test_a_choice_answer_must_be_one_of_the_choices_accents_and_case_forgiven():
    assert validate_answer(MOTIF, "demenagement") == "Déménagement"
    with pytest.raises(DomainError) as caught:
        validate_answer(MOTIF, "Panne")
    assert caught.value.render() == "« Motif » : choisissez une des réponses proposées (Facture, Déménagement)."
    assert caught.value.field == "motif"


def test_yes_no_answers_become_oui_or_non():
    question = Question("titulaire", "Titulaire", "yes_no")
    assert [validate_answer(question, v) for v in ("Oui", "yes", "1", "NON", "n")] == ["oui", "oui", "oui", "non", "non"]
    with pytest.raises(DomainError, match="répondez par oui ou par non"):
        validate_answer(question, "peut-être")


def test_numbers_accept_french_decimals_and_spaces():
    question = Question("montant", "Montant", "number")
    assert validate_answer(question, "1 234,50") == "1234,5"
    assert validate_answer(question, "12") == "12"
    assert validate_answer(question, "-3.0") == "-3"
    for bad in ("douze", "1e5", "nan", "12,5,3"):
        with pytest.raises(DomainError) as caught:
            validate_answer(question, bad)
        assert caught.value.render() == "« Montant » : saisissez un nombre (par exemple 12 ou 12,5)."


def test_dates_are_stored_iso_and_shown_in_french():
    question = Question("date", "Date", "date")
    assert validate_answer(question, "2026-11-23") == "2026-11-23"
    assert validate_answer(question, "23/11/2026") == "2026-11-23"
    assert show_answer(question, "2026-11-23") == "23/11/2026"
    with pytest.raises(DomainError, match="JJ/MM/AAAA"):
        validate_answer(question, "31/02/2026")


def test_required_answers_cannot_be_empty_and_text_is_bounded():
    with pytest.raises(DomainError) as caught:
        validate_answer(MOTIF, "  ")
    assert caught.value.render() == "« Motif » : une réponse est obligatoire."
    assert validate_answer(Question("note", "Note", "text"), "  ") == ""
    with pytest.raises(DomainError) as caught:
        validate_answer(Question("note", "Note", "text"), "x" * 2001)
    assert caught.value.render() == "« Note » : 2000 caractères au plus."


# --- branching ---------------------------------------------------------------------------------


def test_branches_are_evaluated_in_order_then_next():
    script = parse_script(GOOD)
    assert next_step(script, "decouverte", {}) == "conclusion"
    assert next_step(script, "decouverte", {"motif": "Facture"}) == "facture"
    assert next_step(script, "decouverte", {"motif": "Déménagement"}) == "demenagement"
    assert next_step(script, "identification", {"titulaire": "non"}) == "conclusion"
    assert next_step(script, "conclusion", {}) == END
    with pytest.raises(DomainError):
        next_step(script, "nulle-part", {})


def test_the_path_follows_the_answers():
    script = parse_script(GOOD)
    assert path(script, {}) == ["accueil", "identification", "decouverte", "conclusion"]
    assert path(script, {"motif": "Facture"}) == ["accueil", "identification", "decouverte", "facture", "conclusion"]
    assert path(script, {"titulaire": "non"}) == ["accueil", "identification", "conclusion"]


def test_the_current_step_is_the_first_waiting_for_a_required_answer():
    script = parse_script(GOOD)
    assert current_step(script, {}) == "identification"
    assert current_step(script, {"nom": "Benali"}) == "decouverte"
    assert current_step(script, {"nom": "Benali", "motif": "Déménagement"}) == "demenagement"
    assert current_step(script, {"nom": "Benali", "motif": "Facture"}) == "conclusion"  # all answered: the last
    assert done_steps(script, {"nom": "Benali", "motif": "Facture"}) == {"accueil", "identification", "decouverte",
                                                                         "facture"}


def test_phrases_are_filled_and_banned_words_found():
    assert fill("Énergie Horizon, {agent} à votre écoute", agent="Yasmine") == "Énergie Horizon, Yasmine à votre écoute"
    assert fill("Bonjour {inconnu}") == "Bonjour {inconnu}"
    script = parse_script(GOOD)
    assert banned_in(script, "Alors, PAS DE SOUCI, votre probleme est réglé") == ["problème", "pas de souci"]
    assert banned_in(script, "Les problèmes sont réglés") == []


def test_scripts_are_safe_yaml_only():
    with pytest.raises(ValidationError):
        parse_script("!!python/object/apply:os.system ['echo pwned']")


def test_the_documented_example_is_a_valid_script():
    import re

    doc = (DEMO.parents[2] / "docs" / "scripts.md").read_text(encoding="utf-8")
    script = parse_script(re.search(r"```yaml\n(.*?)```", doc, re.S).group(1))
    assert path(script, {"titulaire": "oui", "motif": "Échéancier"}) == [
        "accueil", "identification", "decouverte", "echeancier", "conclusion"]
    assert path(script, {"titulaire": "non"}) == ["accueil", "identification", "conclusion"]
