"""``plateau compliance``: the calling rules from the command line.

``check SITUATION.json`` evaluates a described situation (format:
``domain.compliance_input``) with its country's profile and prints one
JSON object ``{"allowed": …, "reasons": [{"rule", "reference", "message"}]}``.
It reads the profile files only (no database: the administrators' switches
are not applied, the profiles' default states are). A file that cannot be
read or is wrong gets one precise French line per problem on stderr, naming
the field, exit code 2 and nothing on stdout, so a script piping the JSON
never gets half an answer.

``profiles`` checks every ``data/compliance/*.yaml`` file and lists the
rules; exit code 2 with the file, the rule and the field when one is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(help="Règles d'appel (conformité) : vérifier une situation, contrôler les profils pays.",
                  no_args_is_help=True)


def _fail(lines: list[str]) -> None:
    for line in lines:
        typer.echo(f"Erreur : {line}", err=True)
    raise typer.Exit(2)


@app.command("check")
def check(situation: Path = typer.Argument(..., metavar="SITUATION.json",
                                           help="La situation décrite en JSON (pays, heure avec décalage, "
                                                "type d'appelé, objet de l'appel, tentatives précédentes…).")) -> None:
    """Dit si l'appel décrit est permis, avec pour chaque règle qui bloque sa référence légale et la raison."""
    from ..domain.compliance_profiles import ProfileError
    from ..domain.errors import ValidationError
    from ..services.compliance import check_described

    try:
        text = situation.read_text(encoding="utf-8")
    except FileNotFoundError:
        _fail([f"{situation} : fichier introuvable."])
    except IsADirectoryError:
        _fail([f"{situation} : c'est un dossier, pas un fichier JSON."])
    except UnicodeDecodeError:
        _fail([f"{situation} : le fichier n'est pas en UTF-8."])
    except OSError as exc:
        _fail([f"{situation} : lecture impossible ({exc.strerror})."])
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        _fail([f"{situation} : JSON invalide, ligne {exc.lineno}, colonne {exc.colno} : {exc.msg}."])
    try:
        decision = check_described(raw)
    except ValidationError as exc:
        _fail([f"{situation} : {name} : {error.render()}" for name, error in exc.errors.items()])
    except ProfileError as exc:
        _fail([str(exc)])
    typer.echo(json.dumps(decision.to_dict(), ensure_ascii=False))


@app.command("profiles")
def profiles() -> None:
    """Contrôle les profils pays (data/compliance/*.yaml) et liste leurs règles."""
    from ..domain.compliance_kinds import KINDS
    from ..domain.compliance_profiles import ProfileError
    from ..services.compliance import load_profiles

    try:
        found = load_profiles()
    except ProfileError as exc:
        _fail([str(exc)])
    if not found:
        _fail(["aucun profil dans data/compliance/."])
    for profile in found.values():
        typer.echo(f"{profile.country} — {profile.name} (fuseau {profile.timezone}, "
                   f"jours fériés {profile.holidays or 'aucun'}) : {len(profile.rules)} règle(s)")
        for statement in profile.statements:
            typer.echo(f"  · {statement}")
        for rule in profile.rules:
            state = "activée" if rule.enabled else "désactivée"
            scope = ", ".join(sorted(rule.parties)) + " / " + ", ".join(sorted(rule.purposes))
            if rule.dialers:
                scope += " / " + ", ".join(sorted(rule.dialers))
            exception = " ; sauf contrat en cours" if rule.contract_exception else ""
            typer.echo(f"  {rule.id} [{rule.kind}, {state}] {rule.label} — {rule.reference}")
            typer.echo(f"      s'applique à : {scope}{exception} ; {KINDS[rule.kind].description}")
    typer.echo("Profils valides.")
