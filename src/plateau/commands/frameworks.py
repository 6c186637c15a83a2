"""``plateau frameworks``: check the framework files, print a framework's tree.

``check [FILES…]`` checks every ``data/frameworks/*.yaml`` file (or the files
given) and prints, per framework, what it holds: elements, criteria, how many
can be judged from a call and how many need a person, hours. Every problem is
one French line on stderr naming the file, the line, the element and the
field; exit code 1 when there is one, so a CI step or an editor's hook stops.

``show CODE`` prints the tree: each element with its id, and each criterion
with its id, how it is judged and its text.
"""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Référentiels de compétences : contrôler les fichiers, afficher un référentiel.",
                  no_args_is_help=True)

#: how a criterion is judged, in one word, for the terminal
JUDGED = {"call": "appel", "human": "humain"}


def _hours(value: float) -> str:
    return f"{value:g}".replace(".", ",") + " h"


def summary(framework) -> list[str]:
    """What ``check`` says about a valid framework: counts and hours, in French."""
    from ..domain.frameworks import KINDS

    stats = framework.stats()
    kinds = ", ".join(f"{KINDS[kind].lower()} : {count}" for kind, count in stats.kinds)
    lines = [f"{framework.code} ({framework.file}) — {framework.title}",
             f"  {stats.nodes} éléments ({kinds})",
             f"  {stats.criteria} critères : {stats.from_call} évaluables depuis un appel, "
             f"{stats.human} à juger par une personne"]
    for total in framework.hour_totals:
        summed = ", ".join(KINDS[kind].lower() for kind in total.kinds)
        lines.append(f"  {total.label} : {_hours(total.hours)} (somme vérifiée : {summed})")
    if framework.rule is not None:
        rule = framework.rule
        text = f"  Règle : certifié à partir de {rule.threshold:.0%} des critères atteints".replace("%", " %")
        if rule.retakes is not None:
            text += f", {rule.retakes} rattrapage(s)"
        if rule.retake_within_days is not None:
            text += f" dans les {rule.retake_within_days} jours"
        lines.append(text)
    return lines


@app.command("check")
def check(files: list[Path] = typer.Argument(None, metavar="[FICHIERS…]",
                                             help="Fichiers YAML à contrôler ; par défaut tous ceux de "
                                                  "data/frameworks/.")) -> None:
    """Contrôle les référentiels (identifiants, champs, sources, critères, durées) et résume chacun."""
    from ..services.frameworks import FRAMEWORK_DIR, check_files

    results = check_files(files or None)
    if not results:
        typer.echo(f"Erreur : aucun référentiel dans {FRAMEWORK_DIR}.", err=True)
        raise typer.Exit(1)
    failed = 0
    for result in results:
        if result.ok:
            typer.echo("\n".join(summary(result.framework)))
            continue
        failed += 1
        for error in result.errors:
            typer.echo(f"Erreur : {error.render()}", err=True)
    if failed:
        typer.echo(f"{failed} fichier(s) sur {len(results)} à corriger.", err=True)
        raise typer.Exit(1)
    typer.echo(f"{len(results)} référentiel(s) valide(s).")


@app.command("show")
def show(code: str = typer.Argument(..., metavar="CODE", help="Code du référentiel (filea-appels-sortants, mc-acvd…)."),
         criteria_only: bool = typer.Option(False, "--criteria", help="N'afficher que les critères, dans l'ordre.")) -> None:
    """Affiche l'arbre d'un référentiel : éléments, critères et leur mode d'évaluation."""
    from ..domain.errors import NotFoundError, ValidationError
    from ..services.frameworks import get, list_frameworks

    try:
        framework = get(code)
    except NotFoundError:
        known = ", ".join(f.code for f in list_frameworks())
        typer.echo(f"Erreur : référentiel inconnu « {code} » ; référentiels : {known}.", err=True)
        raise typer.Exit(1) from None
    except ValidationError as exc:
        for error in exc.errors.values():
            typer.echo(f"Erreur : {error.render()}", err=True)
        raise typer.Exit(1) from None
    if criteria_only:
        for criterion in framework.criteria():
            typer.echo(f"{criterion.id} [{JUDGED[criterion.assessable]}] {criterion.text}")
        return
    typer.echo(f"{framework.title} ({framework.code})")
    for depth, node in framework.walk():
        pad = "  " * (depth + 1)
        label = f"{node.label} " if node.label else ""
        hours = f" — {_hours(node.hours)}" if node.hours is not None else ""
        coefficient = f" — coefficient {node.coefficient:g}" if node.coefficient is not None else ""
        typer.echo(f"{pad}{label}{node.title}{hours}{coefficient} [{node.id}]")
        for criterion in node.criteria:
            typer.echo(f"{pad}  • {criterion.id} [{JUDGED[criterion.assessable]}] {criterion.text}")
