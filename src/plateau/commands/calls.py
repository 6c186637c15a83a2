"""``plateau calls export ID``: a stored call in the ``CALL.json`` format (``docs/assessment.md``).

What the evaluator reads (``plateau assess``), and what a trainer can keep,
share or edit by hand: the transcript with times, the call's events, the
CRM changes, the actions recorded and the qualification. Written to stdout,
or to ``--output FILE``. Exit code 2 when the call does not exist.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Appels : exporter un appel enregistré au format CALL.json.", no_args_is_help=True)


@app.command("export")
def export(
    call_id: int = typer.Argument(..., metavar="ID", help="Numéro de l'appel."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="FICHIER",
                                          help="Écrire dans ce fichier plutôt que sur la sortie standard."),
) -> None:
    """Exporte un appel (transcription, événements, CRM, qualification) au format CALL.json."""
    from ..cli import context
    from ..domain.errors import NotFoundError
    from ..services.call_export import export_call

    try:
        data = export_call(context(), call_id)
    except NotFoundError as exc:
        typer.echo(f"Erreur : {exc.render()}", err=True)
        raise typer.Exit(2) from None
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        typer.echo(f"Erreur : {output} : écriture impossible ({exc.strerror or exc}).", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Appel n° {call_id} exporté dans {output} ({len(data['turns'])} répliques, "
               f"{len(data['events'])} événements).", err=True)
