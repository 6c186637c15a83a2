"""``plateau simulate``: traffic for a realistic floor, its KPIs beside Erlang C's prediction.

The run itself is ``services.simulation``; this module reads the options,
prints the two columns (or ``--json``) and says plainly when the inputs
overload the floor: Erlang C then has no steady state and the simulated
queue only grows, so the two cannot agree and the output says how many
agents the traffic needs instead of pretending.
"""

from __future__ import annotations

import json
import math
import signal
import sys
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)


def simulate(
    agents: int = typer.Option(20, "--agents", help="Agents simulés en ligne."),
    calls_per_hour: float = typer.Option(400.0, "--calls-per-hour", help="Appels par heure (arrivées de Poisson)."),
    aht: float = typer.Option(240.0, "--aht", metavar="SECONDES",
                              help="Durée moyenne de traitement (DMT) : communication + post-appel."),
    hours: float = typer.Option(2.0, "--hours", help="Durée des arrivées, en heures."),
    seed: int = typer.Option(1, "--seed", help="Graine : même graine, mêmes appels, mêmes chiffres."),
    sl_time: int = typer.Option(20, "--sl-time", metavar="SECONDES", help="Seuil du niveau de service."),
    patience: float = typer.Option(None, "--patience", metavar="SECONDES",
                                   help="Patience moyenne des appelants (exponentielle) ; sans : personne "
                                        "n'abandonne, comme le suppose Erlang C."),
    queue: list[str] = typer.Option(None, "--queue", metavar="CODE[:POIDS]",
                                    help="File simulée (répétable), avec un poids ; par défaut : les files "
                                         "actives qui ont des membres, à poids égaux."),
    wrap_share: float = typer.Option(0.25, "--wrap-share", metavar="FRACTION",
                                     help="Part de la DMT passée en post-appel."),
    ring_delay: str = typer.Option(None, "--ring-delay", metavar="MIN-MAX",
                                   help="Secondes de sonnerie avant que l'agent simulé décroche ; par défaut 0 "
                                        "(base de travail) ou 1-3 (--live)."),
    warmup: float = typer.Option(None, "--warmup", metavar="MINUTES",
                                 help="Début exclu des mesures ; par défaut 15 min (au plus un quart de la durée)."),
    live: bool = typer.Option(False, "--live",
                              help="Sur la base configurée, en temps réel : les agents connectés reçoivent aussi "
                                   "des appels."),
    speed: float = typer.Option(1.0, "--speed", help="--live : facteur d'accélération du temps."),
    database: str = typer.Option(None, "--database", metavar="URL",
                                 help="Base de travail : copier les files de cette base au lieu de celles de la "
                                      "démonstration."),
    keep: Path = typer.Option(None, "--keep", metavar="FICHIER",
                              help="Base de travail : la garder dans ce fichier SQLite (nouveau)."),
    as_json: bool = typer.Option(False, "--json", help="Résultat en JSON."),
) -> None:
    """Simule un plateau (arrivées de Poisson dans les vraies files, agents simulés) et compare ses
    indicateurs aux prévisions d'Erlang C."""
    from ..domain.errors import DomainError
    from ..services.simulation import SimulationConfig, simulate as run

    try:
        config = SimulationConfig(
            agents=agents, calls_per_hour=calls_per_hour, aht_s=aht, hours=hours, seed=seed, sl_time_s=sl_time,
            patience_s=patience, wrap_share=wrap_share, ring_delay_s=_ring_delay(ring_delay),
            warmup_s=None if warmup is None else warmup * 60, queues=_queues(queue or []), speed=speed)
        config.check()
        if live:
            typer.echo(f"Simulation en direct sur la base configurée "
                       f"({'temps accéléré x' + _number(speed, 1) if speed != 1 else 'temps réel'}) : "
                       "Ctrl-C pour arrêter.", err=True)
            signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop cleans up like Ctrl-C
        result = run(config, live=live, source_url=database, keep=keep,
                     progress=_progress if sys.stderr.isatty() and not live else None)
    except DomainError as exc:
        _end_progress()
        for error in getattr(exc, "errors", {None: exc}).values():
            typer.echo(f"Erreur : {error.render()}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        typer.echo("\nSimulation interrompue : les appels simulés en cours sont terminés, les agents simulés "
                   "sont hors ligne.", err=True)
        raise typer.Exit(130) from None
    _end_progress()
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    for line in report_lines(result):
        typer.echo(line)


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def _ring_delay(text: str | None) -> tuple[float, float] | None:
    from ..domain.errors import N_, DomainError

    if text is None:
        return None
    low, _, high = text.strip().partition("-")
    try:
        bounds = (float(low.replace(",", ".")), float((high or low).replace(",", ".")))
    except ValueError:
        raise DomainError(N_("Délai de sonnerie invalide : « min-max » en secondes."), "ring_delay") from None
    return bounds


def _queues(specs: list[str]) -> dict[str, float]:
    from ..domain.errors import N_, DomainError

    result: dict[str, float] = {}
    for spec in specs:
        code, _, weight = spec.strip().partition(":")
        try:
            result[code.strip()] = float(weight.replace(",", ".")) if weight.strip() else 1.0
        except ValueError:
            raise DomainError(N_("Poids de file invalide : %(spec)s (CODE:POIDS, par exemple service-clients:2)."),
                              "queue", spec=spec) from None
    return result


# --- the report ----------------------------------------------------------------------------


def _number(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{_number(100 * value, 1)} %"


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return "∞" if math.isinf(value) else f"{_number(value, 1)} s"


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d}" if hours else f"{minutes} min"


def _first(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes == 0:
        return "aucun"
    return "la première minute" if minutes == 1 else f"les {minutes} premières minutes"


def report_lines(result) -> list[str]:
    """The run in French: inputs, the measured window, the two columns, and what an overload means."""
    config, f, e = result.config, result.figures, result.erlang
    mode = ("en direct sur la base configurée" + (f", temps accéléré x{_number(config.speed, 1)}" if config.speed != 1 else "")
            if result.live else "sur une base de travail, horloge virtuelle")
    low, high = result.ring_delay_s
    ring = f"{_number(low, 0)} s" if low == high else f"{_number(low, 0)} à {_number(high, 0)} s"
    patience = (f"patience moyenne {_seconds(config.patience_s)}" if config.patience_s
                else "appelants patients (aucun abandon, comme Erlang C)")
    lines = [
        f"Simulation {mode}, graine {config.seed} ; files : {', '.join(result.queues)}.",
        *(["Durées en secondes simulées (temps réel × vitesse) : le tableau de bord du plateau montre le temps "
           "réel."] if result.live and config.speed != 1 else []),
        f"Entrées : {config.agents} agents, {_number(config.calls_per_hour, 0)} appels/h, DMT {_seconds(config.aht_s)} "
        f"(dont {_percent(config.wrap_share)} de post-appel), {_number(config.hours, 2).rstrip('0').rstrip(',')} h d'arrivées ; "
        f"sonnerie {ring} ; {patience}.",
        f"Mesures : les {result.measured} appels arrivés de {_duration(result.warmup_s)} à "
        f"{_duration(config.horizon_s)} après le début, sur {result.placed} passés en tout "
        f"(échauffement exclu : {_first(result.warmup_s)}).",
        "",
    ]
    r = result.erlang_realised if not result.overloaded and result.erlang_realised \
        and not result.erlang_realised.overloaded else None
    dash = "—"
    rows = [
        ("", "Simulation", "Erlang C", "Erlang C réalisé"),
        ("Appels présentés", str(f.offered), dash, dash),
        ("Appels traités", str(f.handled), dash, dash),
        ("Appels abandonnés", str(f.abandoned), dash, dash),
        ("Appels terminés sans agent", str(f.deflected), dash, dash),
        (f"Niveau de service ({config.sl_time_s} s)", _percent(f.service_level), _percent(e.service_level),
         _percent(r.service_level) if r else dash),
        ("ASA (délai moyen de réponse)", _seconds(f.asa_s), _seconds(e.asa_seconds), _seconds(r.asa_seconds) if r else dash),
        ("Probabilité d'attendre", _percent(result.waited_share), _percent(e.probability_wait),
         _percent(r.probability_wait) if r else dash),
        ("DMT", _seconds(f.aht_s), _seconds(config.aht_s), _seconds(f.aht_s) if r else dash),
        ("Occupation des agents", _percent(result.occupancy), _percent(e.occupancy), _percent(r.occupancy) if r else dash),
        ("File d'attente maximale", str(result.max_waiting), dash, dash),
    ]
    width = max(len(row[0]) for row in rows)
    lines += [f"{label:<{width}}  {a:>12}  {b:>12}  {c:>16}" for label, a, b, c in rows]
    if r:
        lines.append(f"« Erlang C réalisé » : le même calcul avec ce que la simulation a tiré — "
                     f"{_number(r.load_erlangs, 1)} erlangs ({_number(f.offered * 3600 / (result.until - result.since).total_seconds(), 0)} "
                     f"appels/h mesurés, DMT réalisée) — pour comparer la file elle-même, sans le hasard des entrées.")
    lines.append("")
    load = result.load_erlangs
    if result.overloaded:
        needed = (f"il faudrait {result.needed_for_80} agents pour 80 % des appels répondus en {config.sl_time_s} s"
                  if result.needed_for_80 else "aucun effectif raisonnable n'y suffit")
        growth = (f"la file s'allonge pendant toute la simulation ({result.waiting_at_end} appels en attente à la "
                  "fin des arrivées")
        if f.deflected:
            growth += (f", {f.deflected} appelants renvoyés par l'attente maximale des files ou leurs autres "
                       "règles")
        lines.append(
            f"Charge supérieure au nombre d'agents : {_number(load, 1)} erlangs pour {config.agents} agents ; "
            f"{needed}. Erlang C n'a pas de régime stable (niveau de service → 0, ASA → ∞) et {growth}) : "
            "les chiffres simulés dépendent de la durée et ne se comparent pas à Erlang C.")
    else:
        lines.append(
            f"Charge : {_number(load, 1)} erlangs pour {config.agents} agents. Erlang C suppose des arrivées de "
            "Poisson, une DMT exponentielle, aucun abandon et aucune sonnerie, et donne la moyenne d'un régime "
            "établi : sur une seule simulation, le hasard des arrivées et des durées (voyez la DMT réalisée) écarte "
            "souvent les chiffres de plusieurs points, d'autant plus que l'occupation est forte ; la moyenne de "
            "plusieurs graines s'en rapproche (voir docs/simulation.md).")
        if low > 0 or high > 0:
            lines.append("La sonnerie compte dans l'attente mesurée (ASA, niveau de service), pas dans Erlang C.")
        if config.patience_s:
            lines.append("Les appelants impatients raccrochent et raccourcissent la file : Erlang C, qui ignore les "
                         "abandons, est alors pessimiste.")
        if result.needed_for_80 and result.needed_for_80 != config.agents:
            lines.append(f"Pour 80 % des appels répondus en {config.sl_time_s} s, Erlang C demande "
                         f"{result.needed_for_80} agents.")
    if result.unfinished:
        lines.append(f"{result.unfinished} appels de la simulation ne sont pas terminés (en attente, ou sur le poste "
                     "d'une personne).")
    return lines


def _progress(share: float) -> None:
    sys.stderr.write(f"\rSimulation : {round(100 * share):3d} %")
    sys.stderr.flush()
    _progress.shown = True


def _end_progress() -> None:
    if getattr(_progress, "shown", False):
        sys.stderr.write("\n")
        _progress.shown = False
