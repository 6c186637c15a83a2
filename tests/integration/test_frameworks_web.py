"""The frameworks in the browser (list, tree, search with and without htmx, unknown code)
and on the command line (``plateau frameworks check`` and ``show``), through the real app."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plateau.cli import app as cli_app
from tests.helpers import login, make_user

DATA = Path(__file__).resolve().parents[2] / "data" / "frameworks"


@pytest.fixture
def agent(client, sqlite_ctx):
    make_user(sqlite_ctx, "lea", role="agent")
    login(client, "lea")
    return client


class _Outline(HTMLParser):
    """The headings, the ids and the text of the <main> element, to check structure without regexes."""

    def __init__(self):
        super().__init__()
        self.headings: list[tuple[int, str]] = []
        self.ids: list[str] = []
        self.marks: list[str] = []
        self._heading: list | None = None
        self._mark: list | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = [int(tag[1]), ""]
        if tag == "mark":
            self._mark = [""]

    def handle_endtag(self, tag):
        if re.fullmatch(r"h[1-6]", tag) and self._heading:
            self.headings.append((self._heading[0], " ".join(self._heading[1].split())))
            self._heading = None
        if tag == "mark" and self._mark:
            self.marks.append(self._mark[0])
            self._mark = None

    def handle_data(self, data):
        if self._heading is not None:
            self._heading[1] += data
        if self._mark is not None:
            self._mark[0] += data


def outline(html: str) -> _Outline:
    parser = _Outline()
    parser.feed(html)
    return parser


def title_of(html: str) -> str:
    return " ".join(re.search(r"<title>(.*?)</title>", html, re.S).group(1).split())


def count_of(html: str) -> str:
    return " ".join(re.search(r'<p id="fw-count"[^>]*>(.*?)<', html, re.S).group(1).split())


# --- pages --------------------------------------------------------------------------------------


def test_the_pages_need_a_login(client):
    for url in ("/frameworks", "/frameworks/mc-acvd"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_the_list_shows_every_framework_with_its_counts(agent):
    response = agent.get("/frameworks")
    assert response.status_code == 200
    html = response.text
    assert [h for h in outline(html).headings if h[0] == 1] == [(1, "Référentiels de compétences")]
    assert "<caption>Référentiels disponibles</caption>" in html
    for code in ("filea-appels-sortants", "mc-acvd", "ofppt-teleconseiller", "infep-bts-teleconseiller"):
        assert f'<a href="/frameworks/{code}">' in html
    row = re.search(r"<tr>\s*<th scope=\"row\"><a href=\"/frameworks/filea-appels-sortants\">.*?</tr>", html, re.S).group(0)
    assert [cell.strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)] == ["FILEA (FR)", "25", "15", "11", "4", "—"]
    assert "216 h" in html and "3060 h" in html
    assert 'aria-current="page"' in html.split("</nav>")[0].split('href="/frameworks"')[1][:40]


def test_the_tree_shows_each_criterion_with_id_text_source_and_how_it_is_judged(agent):
    response = agent.get("/frameworks/filea-appels-sortants")
    assert response.status_code == 200
    html = response.text
    page = outline(html)
    assert [h for h in page.headings if h[0] == 1] == [(1, "Assurer les services client en appels sortants")]
    assert (3, "Référentiel d'évaluation") in page.headings
    assert (4, "Mise en situation professionnelle face au jury.") in page.headings
    # heading levels never skip one going down
    levels = [level for level, _text in page.headings]
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:]))
    assert len(page.ids) == len(set(page.ids))
    for n in range(1, 16):
        assert f'id="el-filea-appels-sortants--{n:02d}"' in html
    criterion = html.split('id="el-filea-appels-sortants--02"')[1].split("</li>")[0]
    assert "<code>filea-appels-sortants/02</code>" in criterion
    assert "Le candidat s&#39;exprime avec un débit intelligible et un volume audible." in criterion
    assert '<span class="badge">Par une personne</span>' in criterion
    assert "Colonne « Critères d&#39;évaluation », 1re ligne du tableau" in criterion
    assert '<span class="badge">Depuis l&#39;appel</span>' in html or "<span class=\"badge\">Depuis l'appel</span>" in html
    assert "Certifié à partir de 70 % des critères atteints." in html
    assert "Référentiel complet : 25 éléments, 15 critères." in count_of(html)
    assert 'data-announce' not in html.split('id="fw-count"')[1].split(">")[0]


def test_the_tree_of_a_programme_shows_hours_coefficients_and_links(agent):
    html = agent.get("/frameworks/mc-acvd").text
    exam = html.split('id="el-mc-acvd--E1"')[1].split("</li>")[0]
    assert "coefficient 5" in exam
    assert 'href="/frameworks/mc-acvd#el-mc-acvd--U1"' in exam
    infep = agent.get("/frameworks/infep-bts-teleconseiller").text
    module = infep.split('id="el-infep-bts-teleconseiller--MQ6"')[1].split("</li>")[0]
    assert "85 h" in module and 'href="/frameworks/infep-bts-teleconseiller#el-infep-bts-teleconseiller--CP6"' in module


def test_search_filters_highlights_and_counts(agent):
    html = agent.get("/frameworks/filea-appels-sortants", params={"q": "REFORMULE"}).text
    assert count_of(html) == "1 élément correspond à « REFORMULE » ; les mots trouvés sont surlignés."
    assert title_of(html).startswith("1 élément pour « REFORMULE » — Assurer les services client")
    assert outline(html).marks == ["reformule"]
    assert 'id="el-filea-appels-sortants--05"' in html
    assert 'id="el-filea-appels-sortants--01"' not in html and 'id="el-filea-appels-sortants--activites"' not in html
    assert 'value="REFORMULE"' in html
    assert '<a href="/frameworks/filea-appels-sortants">Afficher tout le référentiel</a>' in html


def test_search_ignores_accents(agent):
    html = agent.get("/frameworks/mc-acvd", params={"q": "réformulation"}).text
    assert "mc-acvd/S1.1.2" in html and "mc-acvd/S5.1" in html
    assert set(m.lower() for m in outline(html).marks) == {"reformulation"}
    assert "mc-acvd/E1" not in html.split('id="fw-results"')[1]


def test_search_with_no_results(agent):
    html = agent.get("/frameworks/ofppt-teleconseiller", params={"q": "zeppelin"}).text
    assert count_of(html) == "Aucun élément ne correspond à « zeppelin »."
    assert 'class="fw-tree"' not in html
    assert title_of(html).startswith("Aucun élément pour « zeppelin » — ")


def test_the_htmx_search_returns_the_results_with_an_announcement(agent):
    response = agent.get("/frameworks/filea-appels-sortants", params={"q": "objections"},
                         headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.text
    assert "<html" not in html and "<h1" not in html
    assert re.search(r'<p id="fw-count" data-announce="4 éléments correspondent à « objections »', html)
    # a history restore needs the whole page
    restore = agent.get("/frameworks/filea-appels-sortants", params={"q": "objections"},
                        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<h1>" in restore.text


def test_an_unknown_framework_is_a_404_with_a_french_message(agent):
    response = agent.get("/frameworks/inconnu")
    assert response.status_code == 404
    assert "Référentiel inconnu : « inconnu »." in response.text
    assert [h for h in outline(response.text).headings if h[0] == 1] == [(1, "Erreur 404")]


# --- command line -----------------------------------------------------------------------------------


def run(*args: str):
    return CliRunner().invoke(cli_app, ["frameworks", *args])


def test_check_summarises_every_framework():
    result = run("check")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "filea-appels-sortants (filea-appels-sortants.yaml) — Assurer les services client en appels sortants" in out
    assert "15 critères : 11 évaluables depuis un appel, 4 à juger par une personne" in out
    assert "Durée totale de formation : 216 h (somme vérifiée : module)" in out
    assert "Durée totale (formation et stage pratique) : 3060 h (somme vérifiée : module, stage)" in out
    assert "Règle : certifié à partir de 70 % des critères atteints, 1 rattrapage(s) dans les 365 jours" in out
    assert out.rstrip().endswith("4 référentiel(s) valide(s).")
    assert result.stderr == ""


def test_check_refuses_a_broken_file_with_file_line_and_field(tmp_path):
    broken = tmp_path / "filea-appels-sortants.yaml"
    text = (DATA / "filea-appels-sortants.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("id: filea-appels-sortants/A2", "id: filea-appels-sortants/A1")
                      .replace("assessable: human\n            why: \"Le débit", "assessable: humain\n            why: \"Le débit"),
                      encoding="utf-8")
    result = run("check", str(broken), str(DATA / "mc-acvd.yaml"))
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert re.match(r"Erreur : filea-appels-sortants\.yaml, ligne \d+ — .*identifiant « filea-appels-sortants/A1 » "
                    r"en double", errors[0])
    assert re.match(r"Erreur : filea-appels-sortants\.yaml, ligne \d+ — .*critère « filea-appels-sortants/02 » : "
                    r"« assessable » vaut « humain »", errors[1])
    assert errors[-1] == "1 fichier(s) sur 2 à corriger."
    assert "mc-acvd (mc-acvd.yaml)" in result.stdout  # the good file is still summarised


def test_check_refuses_bad_yaml_and_a_missing_file(tmp_path):
    bad = tmp_path / "mc-acvd.yaml"
    bad.write_text("code: mc-acvd\ntitle: [non fermé\n", encoding="utf-8")
    result = run("check", str(bad), str(tmp_path / "absent.yaml"))
    assert result.exit_code == 1
    assert re.search(r"Erreur : mc-acvd\.yaml, ligne \d — Erreur de syntaxe YAML", result.stderr)
    assert "Erreur : absent.yaml — fichier introuvable." in result.stderr


def test_show_prints_the_tree_and_the_criteria():
    result = run("show", "filea-appels-sortants")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Assurer les services client en appels sortants (filea-appels-sortants)"
    assert "  Activités [filea-appels-sortants/activites]" in lines
    assert ("      • filea-appels-sortants/02 [humain] Le candidat s'exprime avec un débit intelligible et un volume "
            "audible.") in lines
    only = run("show", "mc-acvd", "--criteria").stdout.splitlines()
    assert only[0].startswith("mc-acvd/C1/1 [humain] Pour toutes les compétences")
    assert len(only) == 64
    unknown = run("show", "inconnu")
    assert unknown.exit_code == 1
    assert unknown.stderr.startswith("Erreur : référentiel inconnu « inconnu » ; référentiels : filea-appels-sortants,")
