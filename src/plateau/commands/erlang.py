"""``plateau erlang``: Erlang C staffing on the command line, as one JSON object.

Options are read as text and checked by ``domain.erlang.read`` so that every
refusal (missing, not a number, out of range) is one precise French line on
stderr naming the option, with exit code 2 and nothing on stdout: a script
piping the JSON never gets half an answer.
"""

from __future__ import annotations

import json

import typer

#: the CLI's name for each field of the question (model units: seconds, fractions)
OPTIONS = {
    "calls": "--calls",
    "interval_s": "--interval",
    "aht_s": "--aht",
    "target_sl": "--target-sl",
    "target_time_s": "--target-time",
    "agents": "--agents",
    "shrinkage": "--shrinkage",
    "max_occupancy": "--max-occupancy",
}


def register(app: typer.Typer) -> None:
    app.command("erlang")(erlang)


def erlang(
    calls: str = typer.Option(None, "--calls", metavar="NOMBRE", help="Appels reçus pendant l'intervalle."),
    interval: str = typer.Option(None, "--interval", metavar="SECONDES", help="Durée de l'intervalle (1800 = 30 min)."),
    aht: str = typer.Option(None, "--aht", metavar="SECONDES",
                            help="Durée moyenne de traitement (DMT) : communication + attente + post-appel."),
    target_sl: str = typer.Option(None, "--target-sl", metavar="FRACTION",
                                  help="Niveau de service visé, entre 0 et 1 exclus (0.8 = 80 %)."),
    target_time: str = typer.Option(None, "--target-time", metavar="SECONDES",
                                    help="Délai de réponse du niveau de service (80 % des appels en 20 s : 20)."),
    agents: str = typer.Option(None, "--agents", metavar="N",
                               help="Évaluer ce nombre d'agents en ligne au lieu de chercher le minimum."),
    shrinkage: str = typer.Option(None, "--shrinkage", metavar="FRACTION",
                                  help="Part du temps planifié hors téléphone (pauses, formation, absences), "
                                       "de 0 inclus à 1 exclu ; 0 par défaut."),
    max_occupancy: str = typer.Option(None, "--max-occupancy", metavar="FRACTION",
                                      help="Occupation maximale des agents lors de la recherche, "
                                           "de 0 exclu à 1 inclus ; 1 par défaut."),
) -> None:
    """Dimensionnement Erlang C : agents nécessaires, probabilité d'attente, niveau de service, ASA,
    occupation et agents à planifier, en JSON."""
    from ..domain import erlang as model
    from ..domain.errors import ValidationError

    typed = {"--calls": calls, "--interval": interval, "--aht": aht, "--target-sl": target_sl,
             "--target-time": target_time, "--agents": agents, "--shrinkage": shrinkage,
             "--max-occupancy": max_occupancy}
    try:
        request = model.read(typed, {attr: model.Field(name) for attr, name in OPTIONS.items()})
    except ValidationError as exc:
        for option, error in exc.errors.items():
            message = error.render()
            typer.echo(f"Erreur : {option} : {message[:1].lower()}{message[1:]}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(model.answer(request).as_dict(), ensure_ascii=False))
