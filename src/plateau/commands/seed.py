"""``plateau seed``: the demo company in an empty database, or more contacts for benchmarks."""

from __future__ import annotations

import sys
import time

import typer


def register(app: typer.Typer) -> None:
    app.command("seed")(seed)


def seed(
    contacts: int = typer.Option(10_000, "--contacts", min=0, help="Nombre de contacts du fichier client."),
    seed_value: int = typer.Option(42, "--seed", help="Graine du générateur : même graine, mêmes contacts."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Ne rien faire si la base a déjà des utilisateurs."),
    contacts_only: bool = typer.Option(False, "--contacts-only",
                                       help="Ajouter seulement des contacts générés à une base existante."),
    history: int = typer.Option(300, "--history", min=0, help="Nombre d'appels passés dans l'historique."),
) -> None:
    """Crée l'entreprise de démonstration Énergie Horizon (utilisateurs, files, scripts, base de
    connaissances, fichier client, historique), ou ajoute des contacts avec --contacts-only."""
    from ..cli import context
    from ..services import demo
    from ..services.demo_data import DemoDataError

    ctx = context()
    started = time.monotonic()
    progress = _progress if contacts >= 50_000 else None
    try:
        if contacts_only:
            added = demo.seed_contacts(ctx, contacts, seed_value, progress)
            _done_progress(progress)
            typer.echo(f"{added} contacts ajoutés en {time.monotonic() - started:.1f} s.")
            return
        if if_empty and demo.user_count(ctx):
            typer.echo("La base contient déjà des utilisateurs : rien à faire.")
            typer.echo("Identifiants de démonstration (s'ils n'ont pas été changés) :")
            for line in demo.login_lines():
                typer.echo(line)
            return
        report = demo.seed_demo(ctx, contacts=contacts, seed=seed_value, history_calls=history, progress=progress)
        _done_progress(progress)
    except (DemoDataError, demo.SeedRefused) as exc:
        typer.echo(f"Erreur : {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Énergie Horizon créée en {time.monotonic() - started:.1f} s : {report.queues} files, "
               f"{report.products} produits, {report.articles} articles, {report.contacts} contacts, "
               f"{report.calls} appels dans l'historique, {report.campaigns} campagnes d'appels sortants "
               f"({report.campaign_contacts} contacts ciblés).")
    typer.echo("Identifiants de démonstration (identifiant, mot de passe, rôle, nom) :")
    for line in demo.login_lines(report):
        typer.echo(line)


def _progress(done: int, total: int) -> None:
    sys.stderr.write(f"\rContacts : {done:>9,} / {total:,}".replace(",", "\u202f"))
    sys.stderr.flush()


def _done_progress(progress) -> None:
    if progress:
        sys.stderr.write("\n")
