"""The ``plateau`` command line (Typer). Every command honours PLATEAU_DATABASE_URL.

Feature commands live in ``plateau.commands.<name>`` modules, each exposing a
Typer ``app`` that is mounted here under its name (``plateau contacts …``) or,
for single commands, a ``register(app)`` function.
"""

from __future__ import annotations

import importlib

import typer

from .config import get_settings

app = typer.Typer(help="Plateau — centre de contacts et plateau pédagogique.", no_args_is_help=True,
                  add_completion=False)

users_app = typer.Typer(help="Utilisateurs.", no_args_is_help=True)
app.add_typer(users_app, name="users")

#: sub-command groups (name → module with ``app``) and single commands (module with ``register``)
GROUPS = ["contacts", "ivr", "compliance", "frameworks", "scenarios", "calls"]
SINGLE = ["seed", "erlang", "simulate", "simulate_campaign", "assess"]


def context():
    """A service context on the configured database."""
    from .services.context import Context
    from .store.db import Database

    return Context(db=Database(get_settings().database_url))


@app.command()
def migrate() -> None:
    """Crée ou met à jour le schéma de la base (Alembic)."""
    from .store.migrate import upgrade

    url = get_settings().database_url
    upgrade(url)
    typer.echo(f"Base à jour : {url}")


@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="Adresse d'écoute"),
          port: int = typer.Option(8000, help="Port d'écoute")) -> None:
    """Sert l'application web."""
    import uvicorn

    from .web.app import create_app

    typer.echo(f"Plateau sur http://{host}:{port}")
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


@users_app.command("create")
def users_create(username: str, password: str = typer.Option(..., prompt=True, hide_input=True),
                 name: str = typer.Option("", help="Nom affiché"),
                 role: str = typer.Option("agent", help="agent | supervisor | admin")) -> None:
    """Crée un utilisateur."""
    from .domain.errors import DomainError
    from .services.users import create_user

    try:
        user = create_user(context(), username, password, name or username, role=role)
    except DomainError as exc:
        for error in getattr(exc, "errors", {None: exc}).values():
            typer.echo(error.render(), err=True)
        raise typer.Exit(2)
    typer.echo(f"Utilisateur créé : {user.username} ({user.role}) #{user.id}")


def _feature(name: str):
    """The module ``plateau.commands.<name>``, or None while it doesn't exist."""
    try:
        return importlib.import_module(f".commands.{name}", __package__)
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.commands.{name}":
            raise
        return None


for _name in GROUPS:
    if (_module := _feature(_name)) is not None:
        app.add_typer(_module.app, name=_name)

for _name in SINGLE:
    if (_module := _feature(_name)) is not None:
        _module.register(app)


if __name__ == "__main__":
    app()
