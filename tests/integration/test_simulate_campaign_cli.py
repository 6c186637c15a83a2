"""``plateau simulate-campaign`` through the real CLI: French figures aligned, JSON, ``--compare``, refusals."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from plateau.cli import app as cli_app
from plateau.services.campaign_simulation import simulate_campaign

SMALL = ["--agents", "5", "--contacts", "800", "--hours", "0.5", "--seed", "3"]
LABELS = ["Appels composés", "Décrochés par une personne", "Mis en relation avec un agent",
          "Abandonnés (aucun agent à temps)", "Taux d'abandon", "Occupation des agents", "Contacts par heure-agent"]


def run(*args: str):
    return CliRunner().invoke(cli_app, ["simulate-campaign", *args])


def _table(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines()[2:] if line and not line.startswith("Prédictif :")]


def _cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def test_prints_the_figures_in_french_aligned():
    result = run(*SMALL, "--mode", "predictive")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Campagne simulée (prédictif) : 5 agents, 800 contacts, 0,5 h, graine 3")
    table = _table(result.stdout)
    assert [_cells(line)[0] for line in table[:len(LABELS)]] == LABELS
    assert len({len(line) for line in table}) == 1  # one column, right-aligned
    expected = simulate_campaign(5, 800, "predictive", 0.5, seed=3)
    values = dict(_cells(line) for line in table)
    assert values["Appels composés"] == f"{expected.dials:,}".replace(",", "\u202f")
    assert values["Taux d'abandon"] == f"{100 * expected.abandon_rate:.1f} %".replace(".", ",")
    assert values["Occupation des agents"] == f"{100 * expected.occupancy:.1f} %".replace(".", ",")


def test_json_gives_the_run_as_data():
    result = run(*SMALL, "--mode", "progressive", "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == json.loads(json.dumps(simulate_campaign(5, 800, "progressive", 0.5, seed=3).as_dict()))
    assert printed["mode"] == "progressive" and printed["dropped"] == 0


def test_predictive_is_the_default_mode_and_preview_is_simulated():
    assert json.loads(run(*SMALL, "--json").stdout)["mode"] == "predictive"
    preview = json.loads(run(*SMALL, "--mode", "preview", "--preview-time", "30", "--json").stdout)
    quicker = json.loads(run(*SMALL, "--mode", "preview", "--preview-time", "5", "--json").stdout)
    assert preview["mode"] == "preview" and preview["dropped"] == 0
    assert preview["dials"] < quicker["dials"]  # reading the record longer leaves less time to call


def test_compare_prints_progressive_beside_predictive():
    result = run(*SMALL, "--compare")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "progressif et prédictif" in lines[0]
    assert lines[2].split() == ["Progressif", "Prédictif"]
    table = _table(result.stdout)
    assert len({len(line) for line in table}) == 1
    rate = next(line for line in table if line.startswith("Taux d'abandon"))
    assert _cells(rate)[1] == "0,0 %"  # progressive never drops
    assert lines[-1].startswith("Prédictif : occupation ")
    data = json.loads(run(*SMALL, "--compare", "--json").stdout)
    assert list(data) == ["progressive", "predictive"]


@pytest.mark.parametrize("args, messages", [
    (["--agents", "0"], ["Erreur : --agents : le nombre d'agents doit être compris entre 1 et 500."]),
    (["--agents", "vingt"], ["Erreur : --agents : un nombre entier est attendu (reçu « vingt »)."]),
    (["--mode", "robot"], ["Erreur : --mode : mode de numérotation inconnu : robot (preview, progressive ou "
                           "predictive)."]),
    (["--hours", "0", "--abandon-cap", "3"], [
        "Erreur : --hours : la durée doit être comprise entre 0 exclu et 24 heures.",
        "Erreur : --abandon-cap : le taux d'abandon maximal doit être compris entre 0 inclus et 1 exclu."]),
    (["--talk", "abc", "--seed", "1.5", "--max-attempts", "0"], [
        "Erreur : --seed : un nombre entier est attendu (reçu « 1.5 »).",
        "Erreur : --talk : un nombre est attendu (reçu « abc »).",
        "Erreur : --max-attempts : le nombre maximal de tentatives doit être compris entre 1 et 100."]),
    (["--compare", "--mode", "preview"], [
        "Erreur : --mode : --compare montre déjà les modes progressif et prédictif : retirez --mode."]),
])
def test_bad_options_are_refused_precisely(args, messages):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == messages
