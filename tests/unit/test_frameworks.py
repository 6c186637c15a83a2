"""The frameworks as data: the four seed frameworks load and hold what their documents fix;
a wrong file is refused with the file, the line and the field; search ignores accents."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest

from plateau.domain.errors import NotFoundError, ValidationError
from plateau.domain.frameworks import CALL, HUMAN, Node, anchor, highlight, parse_framework, search
from plateau.domain.text import fold
from plateau.services import frameworks as service

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "frameworks"
SEEDS = ROOT.parent / "shared" / "seeds"
CODES = ["filea-appels-sortants", "mc-acvd", "ofppt-teleconseiller", "infep-bts-teleconseiller"]


@lru_cache(maxsize=None)
def load(code: str):
    """Parsed once per test run: frameworks are frozen, and PyYAML's pure-Python loader is slow."""
    return parse_framework((DATA / f"{code}.yaml").read_text(encoding="utf-8"), f"data/frameworks/{code}.yaml")


def errors_of(text: str, name: str = "filea-appels-sortants.yaml") -> list:
    with pytest.raises(ValidationError) as caught:
        parse_framework(text, name)
    return list(caught.value.errors.values())


@pytest.fixture(scope="module")
def filea_text() -> str:
    return (DATA / "filea-appels-sortants.yaml").read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


# --- the four frameworks ---------------------------------------------------------------------------


def test_the_directory_holds_the_four_frameworks_and_they_all_pass_the_checks():
    checks = service.check_files()
    assert [c.path.name for c in checks] == sorted(f"{code}.yaml" for code in CODES)
    assert all(c.ok for c in checks), [e.render() for c in checks for e in c.errors]
    assert sorted(service.load_frameworks()) == sorted(CODES)


@pytest.mark.parametrize("code", CODES)
def test_every_element_has_a_prefixed_unique_id_and_a_complete_source(code):
    framework = load(code)
    ids = [node.id for _depth, node in framework.walk()] + [c.id for c in framework.criteria()]
    assert len(ids) == len(set(ids))
    assert all(i.startswith(f"{code}/") for i in ids)
    sources = [node.source for _depth, node in framework.walk()] + [c.source for c in framework.criteria()]
    assert all(s.document.file and s.section for s in sources)
    assert {s.document.file for s in sources} == {d.file for d in framework.documents}
    for criterion in framework.criteria():
        assert criterion.assessable in (CALL, HUMAN)
        assert criterion.why, criterion.id  # human: why; call: what evidence
        assert framework.node(criterion.parent).criteria.count(criterion) == 1


def test_filea_has_the_fifteen_criteria_of_the_grid_in_order_and_its_rule():
    filea = load("filea-appels-sortants")
    criteria = filea.criteria()
    assert [c.id for c in criteria] == [f"filea-appels-sortants/{n:02d}" for n in range(1, 16)]
    assert criteria[0].text == "Le candidat se présente de manière claire, précise et concise."
    assert criteria[4].text.startswith("Le candidat reformule les informations obtenues")
    assert criteria[14].text.endswith("clients en aval de sa campagne d'appels.")
    assert {c.id.rsplit("/", 1)[1] for c in criteria if c.assessable == HUMAN} == {"02", "13", "14", "15"}
    assert [c.parent for c in criteria] == ["filea-appels-sortants/B1"] * 7 + ["filea-appels-sortants/B2"] * 8
    rule = filea.rule
    assert (rule.kind, rule.threshold, rule.retakes, rule.retake_within_days) == ("share_met", 0.70, 1, 365)
    assert "70%" in rule.text and rule.source.section.startswith("Organisation des épreuves")
    assert [n.id for n in filea.node("filea-appels-sortants/activites").children] == [
        f"filea-appels-sortants/A{n}" for n in range(1, 8)]
    assert len(filea.node("filea-appels-sortants/competences").children) == 8
    assert filea.criterion("filea-appels-sortants/05").source.detail.endswith("1re ligne du tableau")


def test_the_certification_rule_counts_the_share_of_criteria_met():
    rule = load("filea-appels-sortants").rule
    assert rule.passes(11, 15) and rule.passes(7, 10)
    assert not rule.passes(10, 15) and not rule.passes(0, 0)


def test_mc_acvd_competencies_savoirs_units_and_exams():
    mc = load("mc-acvd")
    competencies = [n.id.split("/")[1] for _d, n in mc.walk() if n.kind == "competency"]
    assert competencies == ([f"C1.{n}" for n in range(1, 9)] + [f"C2.{n}" for n in range(1, 5)]
                            + [f"C3.{n}" for n in range(1, 4)] + [f"C4.{n}" for n in range(1, 5)])
    # criteria attached to the competency whose savoir-faire they assess
    counts = {cid: len(mc.node(f"mc-acvd/{cid}").criteria) for cid in competencies}
    assert counts == {"C1.1": 3, "C1.2": 4, "C1.3": 2, "C1.4": 4, "C1.5": 6, "C1.6": 7, "C1.7": 3, "C1.8": 3,
                      "C2.1": 3, "C2.2": 2, "C2.3": 4, "C2.4": 1, "C3.1": 0, "C3.2": 0, "C3.3": 0,
                      "C4.1": 1, "C4.2": 4, "C4.3": 4, "C4.4": 2}
    assert mc.criterion("mc-acvd/C1.2/3").text.startswith("Le message, bien analysé, est reformulé fidèlement")
    assert mc.criterion("mc-acvd/C1.8/3").text == "La relance, effectuée correctement, aboutit"
    assert [n.title for n in mc.node("mc-acvd/C1.6").children][6].startswith("Proposer une vente additionnelle")
    assert any(d.heading.endswith("À partir :") and "de guides d'entretien" in d.items
               for d in mc.node("mc-acvd/C1.1").details)
    assert [mc.node(f"mc-acvd/S{n}").kind for n in range(1, 6)] == ["knowledge"] * 5
    assert mc.node("mc-acvd/S1.1.2").details[0].items[7] == "– La reformulation"
    assert [(mc.node(f"mc-acvd/E{n}").coefficient, mc.node(f"mc-acvd/E{n}").links[0]) for n in (1, 2, 3)] == [
        (5, ("units", ("mc-acvd/U1",))), (3, ("units", ("mc-acvd/U2",))), (1, ("units", ("mc-acvd/U3",)))]
    assert [mc.node(f"mc-acvd/U{n}").title for n in (1, 2, 3)] == [
        "Conduite d'activités professionnelles", "Gestion de la relation client", "Anglais professionnel"]


def test_ofppt_eight_modules_total_216_hours_with_objectives_and_criteria():
    ofppt = load("ofppt-teleconseiller")
    modules = [n for _d, n in ofppt.walk() if n.kind == "module"]
    assert [m.id for m in modules] == [f"ofppt-teleconseiller/M{n:02d}" for n in range(1, 9)]
    assert [m.hours for m in modules] == [12, 48, 28, 45, 18, 18, 40, 7]
    assert sum(m.hours for m in modules) == 216 == ofppt.hour_totals[0].hours
    assert all(m.text and m.criteria for m in modules)
    assert [p.label for p in ofppt.node("ofppt-teleconseiller/M04").children] == ["A", "B", "C", "D"]
    assert ofppt.criterion("ofppt-teleconseiller/M04/B/1").text == (
        "Pratiquer efficacement les techniques de questionnement, d'écoute active et de reformulation.")
    # second-level objectives keep the source's numbering (no 10 in module 04)
    assert [i.split("-")[0] for i in ofppt.node("ofppt-teleconseiller/M04/D").details[0].items] == ["9", "11", "12"]
    assert [len(p.criteria) for p in ofppt.node("ofppt-teleconseiller/M05").children] == [5, 7, 3]


def test_infep_competencies_and_modules_with_hours_that_add_up():
    infep = load("infep-bts-teleconseiller")
    for prefix, count, kind in (("CP", 10, "competency"), ("CC", 12, "competency"), ("MQ", 10, "module"),
                                ("MC", 12, "module")):
        assert all(infep.node(f"infep-bts-teleconseiller/{prefix}{n}").kind == kind for n in range(1, count + 1))
    for n in range(1, 11):
        cp = infep.node(f"infep-bts-teleconseiller/CP{n}")
        assert cp.criteria and cp.children and all(e.kind == "element" for e in cp.children)
        assert cp.source.document.file.startswith("004_") and cp.source.page == 7 + n
        module = infep.node(f"infep-bts-teleconseiller/MQ{n}")
        assert module.links == (("competencies", (cp.id,)),) and module.source.document.file.startswith("002_")
    assert infep.hours_of(("module",)) == 2448
    assert infep.node("infep-bts-teleconseiller/SP").hours == 612
    assert [t.hours for t in infep.hour_totals] == [2448, 3060]
    assert infep.hours_of(("module", "internship")) == 3060
    assert infep.criterion("infep-bts-teleconseiller/CP6/2").text == "Respect de la durée d'échange."


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed documents (../shared/seeds) are not here")
@pytest.mark.parametrize("code", CODES)
def test_criteria_are_worded_as_in_the_seed_documents(code):
    """Every criterion's text is in its seed, spaces aside (the conversion glued or split words);
    the three exceptions drop footnote calls or a doubled word, each said in the file."""
    def squeeze(text: str) -> str:
        return re.sub(r"\s+", "", fold(re.sub(r"<[^>]+>", " ", text.replace("’", "'"))))

    seeds = {p.name: squeeze(p.read_text(encoding="utf-8")) for p in SEEDS.glob("*.txt")}
    edited = {"ofppt-teleconseiller/M03/C/2", "ofppt-teleconseiller/M08/3", "infep-bts-teleconseiller/CC11/1"}
    framework = load(code)
    missing = [c.id for c in framework.criteria()
               if c.id not in edited and squeeze(c.text) not in seeds[c.source.document.file]]
    assert missing == []


# --- the API later parts use ---------------------------------------------------------------------------


def test_node_criterion_and_ancestors():
    mc = load("mc-acvd")
    criterion = mc.criterion("mc-acvd/C1.4/2")
    assert (criterion.text, criterion.from_call, criterion.parent) == (
        "L'écoute est active, l'empathie est réelle", True, "mc-acvd/C1.4")
    assert [n.id for n in mc.ancestors(criterion.id)] == ["mc-acvd/competences", "mc-acvd/C1", "mc-acvd/C1.4"]
    assert isinstance(mc.node("mc-acvd/C1.4"), Node)
    with pytest.raises(NotFoundError):
        mc.node("mc-acvd/C1.4/2")  # a criterion is not a node
    with pytest.raises(NotFoundError):
        mc.criterion("mc-acvd/C9.9/1")
    assert service.criterion("filea-appels-sortants/09").text == "Le candidat répond et traite les objections de l'appelé."
    assert service.node("mc-acvd/E1").coefficient == 5
    with pytest.raises(NotFoundError):
        service.criterion("inconnu/01")
    with pytest.raises(NotFoundError):
        service.get("inconnu")
    assert anchor("mc-acvd/C1.1/2") == "el-mc-acvd--C1_1--2"


def test_a_file_is_read_again_when_it_changes(tmp_path, filea_text):
    path = tmp_path / "filea-appels-sortants.yaml"
    path.write_text(filea_text, encoding="utf-8")
    assert service.get("filea-appels-sortants", tmp_path).title == "Assurer les services client en appels sortants"
    path.write_text(filea_text.replace('title: "Assurer les services client en appels sortants"',
                                       'title: "Services client en appels sortants (édition 2)"'), encoding="utf-8")
    assert service.get("filea-appels-sortants", tmp_path).title == "Services client en appels sortants (édition 2)"


# --- refusals: the file, the line, the field --------------------------------------------------------------


def test_a_duplicate_id_is_refused_with_file_line_and_field(filea_text):
    text = filea_text.replace("id: filea-appels-sortants/A2", "id: filea-appels-sortants/A1")
    [error] = errors_of(text)
    assert (error.file, error.field, error.line) == ("filea-appels-sortants.yaml", "id",
                                                     _line_of(text, "id: filea-appels-sortants/A1\n        kind: activity\n        title: \"Assurer"))
    message = error.render()
    assert message.startswith(f"filea-appels-sortants.yaml, ligne {error.line} — ")
    assert "« filea-appels-sortants/A1 » en double (déjà utilisé ligne" in message


def test_a_missing_field_is_named(filea_text):
    text = filea_text.replace('            assessable: call\n            why: "Les premières',
                              '            why: "Les premières')
    [error] = errors_of(text)
    assert error.field == "assessable"
    assert error.line == _line_of(text, "- id: filea-appels-sortants/01")
    assert error.render() == (f"filea-appels-sortants.yaml, ligne {error.line} — élément « filea-appels-sortants/B1 », "
                              "critère « filea-appels-sortants/01 » : clé obligatoire « assessable » absente.")


def test_bad_yaml_is_refused_with_its_line(filea_text):
    text = filea_text.replace("  - id: filea-appels-sortants/activites", "\t- id: filea-appels-sortants/activites")
    [error] = errors_of(text)
    assert error.line == _line_of(text, "\t- id:")
    assert "tabulation interdite" in error.render() and error.render().startswith("filea-appels-sortants.yaml, ligne")
    [twice] = errors_of(filea_text.replace("issuer: FILEA", "issuer: FILEA\ncountry: FR", 1))
    assert twice.field == "country" and "écrite deux fois" in twice.render()
    [empty] = errors_of("")
    assert empty.render() == "filea-appels-sortants.yaml, ligne 1 — le fichier est vide."


@pytest.mark.parametrize("change, field, words", [
    (("id: filea-appels-sortants/A3", "id: mc-acvd/A3"), "id", "doit commencer par le code du référentiel"),
    (('            why: "Le débit et le volume', '            note: "Le débit et le volume'), "why",
     "un critère « human » doit dire pourquoi"),
    (("assessable: human\n            why: \"Connaissance", "assessable: jury\n            why: \"Connaissance"),
     "assessable", "« assessable » vaut « jury »"),
    (("threshold: 0.70", "threshold: 70"), "threshold", "au plus 1"),
    (("threshold: 0.70", "threshold: 0"), "threshold", "plus grand que 0"),
    (("kind: activity\n        title: \"Vendre", "kind: activite\n        title: \"Vendre"), "kind",
     "« kind » vaut « activite »"),
    (('    kind: group\n    title: "Activités"', '    kind: group\n    titel: "Activités"'), "titel",
     "clé inconnue « titel »"),
    (("retake_within_days: 365", "retake_within_days: -1"), "retake_within_days", "strictement positif"),
    (("  document: filea\n  section", "  document: autre\n  section"), "document", "document « autre » inconnu"),
    (("id: filea-appels-sortants/15", "id: filea-appels-sortants/16"), "criteria",
     "les critères doivent être exactement filea-appels-sortants/01 … filea-appels-sortants/15"),
    (("nodes:\n", "retired_ids: [filea-appels-sortants/A4]\nnodes:\n"), "id", "a été retiré"),
])
def test_each_rule_of_the_format_is_checked(filea_text, change, field, words):
    old, new = change
    assert old in filea_text
    errors = errors_of(filea_text.replace(old, new, 1))
    assert any(e.field == field and words in e.render() and e.line for e in errors), [e.render() for e in errors]


def test_the_expectations_of_the_seed_documents(tmp_path):
    mc = (DATA / "mc-acvd.yaml").read_text(encoding="utf-8")
    [error] = errors_of(mc.replace("coefficient: 3", "coefficient: 2"), "mc-acvd.yaml")
    assert error.field == "coefficient" and "« mc-acvd/E2 » a le coefficient 3" in error.render()
    errors = errors_of(mc.replace("id: mc-acvd/C1.4\n", "id: mc-acvd/C1.9\n"), "mc-acvd.yaml")
    assert any("« mc-acvd/C1.4 » (Compétence) est exigé" in e.render() for e in errors)
    ofppt = (DATA / "ofppt-teleconseiller.yaml").read_text(encoding="utf-8")
    longer = ofppt.replace("hours: 7\n", "hours: 8\n")
    [error] = errors_of(longer, "ofppt-teleconseiller.yaml")
    assert error.field == "hours" and "le document annonce 216 h mais les éléments (module) en totalisent 217" in (
        error.render())
    # the file cannot lower the bar: the total the source states is checked from the code too
    [error] = errors_of(longer.replace("hours: 216\n", "hours: 217\n"), "ofppt-teleconseiller.yaml")
    assert error.field == "hours" and "totalisent 217 h ; le document source en annonce 216" in error.render()
    infep = (DATA / "infep-bts-teleconseiller.yaml").read_text(encoding="utf-8")
    errors = errors_of(infep.replace("[infep-bts-teleconseiller/CP3]", "[infep-bts-teleconseiller/CP33]"),
                       "infep-bts-teleconseiller.yaml")
    assert [e.field for e in errors] == ["links"] and "CP33" in errors[0].render()


def test_a_file_named_after_another_code_is_refused(filea_text):
    [error] = errors_of(filea_text, "data/frameworks/filea.yaml")
    assert error.field == "code" and "« filea-appels-sortants.yaml » attendu" in error.render()


def test_check_files_reports_unreadable_files_and_codes_declared_twice(tmp_path, filea_text):
    copy = tmp_path / "copy" / "filea-appels-sortants.yaml"
    copy.parent.mkdir()
    copy.write_text(filea_text, encoding="utf-8")
    missing = tmp_path / "absent.yaml"
    checks = service.check_files([DATA / "filea-appels-sortants.yaml", copy, missing])
    assert [c.ok for c in checks] == [True, False, False]
    assert "le code « filea-appels-sortants » est déjà celui de filea-appels-sortants.yaml" in checks[1].errors[0].render()
    assert checks[2].errors[0].render() == "absent.yaml — fichier introuvable."


# --- search ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["reformulation", "REFORMULATION", "réformulation", "  Reformulation  "])
def test_search_finds_reformulation_whatever_the_accents_and_case(query):
    mc = load("mc-acvd")
    result = search(mc, query)
    assert result.terms == ("reformulation",)
    assert "mc-acvd/S1.1.2" in result.matches and "mc-acvd/S5.1" in result.matches
    assert result.shows("mc-acvd/S1") and result.shows("mc-acvd/savoirs")  # ancestors stay visible
    assert not result.shows("mc-acvd/C2") and not result.shows("mc-acvd/E1")


def test_search_needs_every_word_and_shows_a_matching_node_whole():
    filea = load("filea-appels-sortants")
    result = search(filea, "débit VOLUME")
    assert result.matches == ("filea-appels-sortants/02",)
    assert result.shows("filea-appels-sortants/B1") and not result.shows("filea-appels-sortants/01")
    whole = search(filea, "mise en situation professionnelle face")
    assert whole.matches[0] == "filea-appels-sortants/B1"
    assert whole.shows("filea-appels-sortants/01") and whole.shows("filea-appels-sortants/CE1")
    assert search(filea, "zeppelin").count == 0 and not search(filea, "zeppelin").visible
    nothing = search(filea, "   ")
    assert not nothing.active and nothing.shows("filea-appels-sortants/01")


def test_highlight_marks_the_original_characters():
    assert highlight("La Réformulation fidèle", ("reformulation",)) == [
        ("La ", False), ("Réformulation", True), (" fidèle", False)]
    assert highlight("Œuvre et oeuvre", ("oeuvre",)) == [("Œuvre", True), (" et ", False), ("oeuvre", True)]
    assert highlight("", ("x",)) == [] and highlight("abc", ()) == [("abc", False)]
