"""``plateau ivr check FILE``: check a voice menu's YAML before loading it.

The file is one menu (the editor's text) or a ``menus:`` list of them (as
``data/demo/ivr.yaml``). Queue codes come from the database, or from
``--queues a,b,c`` to check a file away from any database. Every problem is
printed with its line; the exit code is 1 if there is any, 0 otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Serveurs vocaux (SVI).", no_args_is_help=True)


@app.command("check")
def check(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="Menu YAML à vérifier."),
    queues: Optional[str] = typer.Option(None, "--queues", help="Codes des files existantes, séparés par des "
                                                                "virgules (sans base de données)."),
    region: str = typer.Option("FR", "--region", help="Pays des numéros de transfert écrits sans indicatif."),
) -> None:
    """Vérifie un menu de serveur vocal et liste chaque problème avec sa ligne."""
    from ..domain import ivr as rules

    if queues is not None:
        codes = {code.strip() for code in queues.split(",") if code.strip()}
    else:
        from ..cli import context
        from ..services import ivr

        codes = ivr.queue_codes(context())
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        typer.echo(f"{file} : le fichier n'est pas en UTF-8.", err=True)
        raise typer.Exit(1)
    found = rules.file_problems(text, codes, region)
    for error in found:
        typer.echo(f"{file} : {error.render()}")
    if found:
        typer.echo(f"{len(found)} problème(s).", err=True)
        raise typer.Exit(1)
    typer.echo(f"{file} : menu valide.")
