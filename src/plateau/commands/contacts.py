"""``plateau contacts import|export``: the customer file in and out as CSV.

Exit codes of ``import``: 0 when the import ran (rejected rows or not), 2 when
the file is unusable (encoding, layout, missing name column: nothing
written), 1 when the import transaction failed (rolled back: nothing written).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Fichier client : import et export CSV.", no_args_is_help=True)


def _number(value: float) -> str:
    """French digit grouping with a narrow no-break space: 12 345."""
    return f"{value:,.0f}".replace(",", "\u202f")


class _ProgressLine:
    """A progress line on stderr, only when a person watches it (a terminal)."""

    def __init__(self) -> None:
        self.active = sys.stderr.isatty()

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.active:
            return
        if phase == "validation":
            percent = done * 100 // total if total else 100
            sys.stderr.write(f"\rVérification : {_number(done)} / {_number(total)} lignes ({percent} %)")
        elif done == 0:
            sys.stderr.write(f"\nEnregistrement de {_number(total)} contacts…")
        else:
            sys.stderr.write("\n")
        sys.stderr.flush()


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="Fichier CSV à importer."),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="utf-8 ou windows-1252 (détecté sinon)."),
    delimiter: Optional[str] = typer.Option(None, "--delimiter", help="« ; » ou « , » (détecté sinon)."),
    mapping: list[str] = typer.Option([], "--map", help="COLONNE=champ, par ex. « Tél. perso=phone_2 » ou "
                                                        "« Fax=ignorer » ; répétable."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Tout vérifier sans rien enregistrer."),
    workers: int = typer.Option(0, "--workers", min=0, help="Processus de vérification des lignes pour les gros "
                                                            "fichiers (0 : un par cœur)."),
) -> None:
    """Importe des contacts depuis un fichier CSV et liste chaque ligne rejetée avec son motif."""
    from ..cli import context
    from ..domain.csv_import import DELIMITERS, ENCODINGS, UnusableFile
    from ..services import contacts_io
    from ..services.context import SYSTEM

    ctx = context()
    try:
        result = contacts_io.import_file(ctx, SYSTEM, file.name, file.read_bytes(), encoding, delimiter, mapping,
                                         dry_run, _ProgressLine(), workers or contacts_io.cpu_count())
    except UnusableFile as exc:
        typer.echo(f"Fichier inutilisable, rien n'a été importé : {exc.render()}", err=True)
        raise typer.Exit(2) from None
    except contacts_io.ImportFailed as exc:
        typer.echo(exc.render(), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Fichier : {result.filename} — {ENCODINGS[result.encoding]}, séparateur "
               f"{DELIMITERS[result.delimiter]}, {_number(result.total)} lignes.")
    verb = "valides (essai : rien n'a été enregistré)" if dry_run else "importés"
    typer.echo(f"Contacts {verb} : {_number(result.accepted)}")
    typer.echo(f"Lignes rejetées : {_number(len(result.rejections))}")
    typer.echo(f"Débit : {_number(result.rows_per_second)} lignes/s ({result.seconds:.2f} s)")
    if result.job_id is not None:
        typer.echo(f"Import n° {result.job_id}")
    for rejection in result.rejections:
        typer.echo(f"Ligne {rejection.line} : " + " ; ".join(reason.render() for reason in rejection.reasons))


@app.command("export")
def export_command(
    query: str = typer.Option("", "--query", "-q", help="Recherche (nom, téléphone, e-mail, n° client) ; "
                                                        "vide : tout le fichier."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", dir_okay=False,
                                          help="Fichier à écrire (sortie standard sinon)."),
) -> None:
    """Exporte les contacts d'une recherche en CSV (UTF-8 avec BOM, « ; », en-tête en français)."""
    from ..cli import context
    from ..services import contacts_io
    from ..services.context import SYSTEM

    exported = [0]

    def counted(count: int) -> None:
        exported[0] += count

    pieces = contacts_io.export_csv(context(), SYSTEM, query, counted=counted)
    if output is None:
        stream = sys.stdout.buffer
        for piece in pieces:
            stream.write(piece.encode("utf-8"))
        stream.flush()
        return
    with output.open("w", encoding="utf-8", newline="") as handle:
        for piece in pieces:
            handle.write(piece)
    typer.echo(f"{_number(exported[0])} contacts exportés dans {output}", err=True)
