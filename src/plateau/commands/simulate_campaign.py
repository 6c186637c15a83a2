"""``plateau simulate-campaign``: a day of outbound calling on the simulated network, in a second or two.

The run is ``services.campaign_simulation``; this module reads the options,
prints the figures in French, aligned (or ``--json``), one column per mode
with ``--compare`` (progressive beside predictive, on the same numbers, the
same people, the same seed). Options are read as text and checked here and
by ``check_options`` so that every refusal is one precise French line on
stderr naming the option, with exit code 2 and nothing on stdout.

``--mode preview`` is simulated too: each agent reads the record for
``--preview-time`` seconds, then dials it and waits on the line.
"""

from __future__ import annotations

import json
import math

import typer

#: the CLI's name for each parameter of ``simulate_campaign`` (for the messages)
OPTIONS = {
    "agents": "--agents",
    "contacts": "--contacts",
    "mode": "--mode",
    "hours": "--hours",
    "seed": "--seed",
    "abandon_cap": "--abandon-cap",
    "drop_after_s": "--drop-after",
    "mean_talk_s": "--talk",
    "mean_wrap_s": "--wrap",
    "max_attempts": "--max-attempts",
    "preview_s": "--preview-time",
    "callback_share": "--callback-share",
}
#: parameters read as whole numbers (the others are decimals)
INTEGERS = frozenset({"agents", "contacts", "seed", "max_attempts"})
#: the two modes ``--compare`` shows
COMPARED = ("progressive", "predictive")


def register(app: typer.Typer) -> None:
    app.command("simulate-campaign")(simulate_campaign)


def simulate_campaign(
    agents: str = typer.Option("20", "--agents", metavar="N", help="Agents simulés connectés à la campagne."),
    contacts: str = typer.Option("20000", "--contacts", metavar="N", help="Contacts de la liste à appeler."),
    mode: str = typer.Option(None, "--mode", metavar="MODE",
                             help="Mode de numérotation : preview, progressive ou predictive (par défaut)."),
    hours: str = typer.Option("4", "--hours", metavar="HEURES", help="Durée de la journée d'appels simulée."),
    seed: str = typer.Option("1", "--seed", metavar="N", help="Graine : même graine, mêmes appels, mêmes chiffres."),
    abandon_cap: str = typer.Option("0.03", "--abandon-cap", metavar="FRACTION",
                                    help="Taux d'abandon maximal des appels décrochés, par jour (0.03 = 3 %)."),
    drop_after: str = typer.Option("2", "--drop-after", metavar="SECONDES",
                                   help="Attente maximale d'un appel décroché avant abandon, faute d'agent."),
    talk: str = typer.Option("120", "--talk", metavar="SECONDES", help="Durée moyenne de conversation."),
    wrap: str = typer.Option("30", "--wrap", metavar="SECONDES", help="Durée moyenne du post-appel."),
    max_attempts: str = typer.Option("4", "--max-attempts", metavar="N", help="Tentatives au plus par contact."),
    preview_time: str = typer.Option("15", "--preview-time", metavar="SECONDES",
                                     help="Mode preview : lecture de la fiche avant de composer."),
    callback_share: str = typer.Option("0.1", "--callback-share", metavar="FRACTION",
                                       help="Part des conversations conclues par un rappel dans l'heure."),
    compare: bool = typer.Option(False, "--compare", help="Progressif et prédictif côte à côte."),
    as_json: bool = typer.Option(False, "--json", help="Résultat en JSON."),
) -> None:
    """Simule une campagne d'appels sortants (réseau et agents simulés) : appels composés, décrochés,
    taux d'abandon, occupation des agents, contacts par heure-agent."""
    from ..domain.errors import DomainError, ValidationError
    from ..services.campaign_simulation import simulate_campaign as run

    typed = {"agents": agents, "contacts": contacts, "mode": mode, "hours": hours, "seed": seed,
             "abandon_cap": abandon_cap, "drop_after_s": drop_after, "mean_talk_s": talk, "mean_wrap_s": wrap,
             "max_attempts": max_attempts, "preview_s": preview_time, "callback_share": callback_share}
    if compare and mode is not None:
        _refuse("--mode", "--compare montre déjà les modes progressif et prédictif : retirez --mode.")
    try:
        options = read_options(typed)
        modes = COMPARED if compare else (options.pop("mode") or "predictive",)
        options.pop("mode", None)
        runs = [run(mode=name, **options) for name in modes]
    except ValidationError as exc:  # every refused option, each on its line
        for field, error in exc.errors.items():
            _refuse(OPTIONS.get(field, field), error.render(), stop=False)
        raise typer.Exit(2) from None
    except DomainError as exc:
        _refuse(OPTIONS.get(exc.field or "", "--mode"), exc.render())
    if as_json:
        data = runs[0].as_dict() if len(runs) == 1 else {r.mode: r.as_dict() for r in runs}
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for line in report_lines(runs):
        typer.echo(line)


def _refuse(option: str, message: str, stop: bool = True) -> None:
    typer.echo(f"Erreur : {option} : {message[:1].lower()}{message[1:]}", err=True)
    if stop:
        raise typer.Exit(2)


def read_options(typed: dict[str, str | None]) -> dict:
    """The options as numbers, checked; a ValidationError names every refused one.

    An option that is not a number is refused as such; the others are then
    checked against their ranges (``check_options``) in the same pass, so one
    run of the command lists every mistake.
    """
    from ..domain.errors import N_, DomainError, ValidationError
    from ..services.campaign_simulation import check_options

    values: dict = {}
    errors: dict[str, DomainError] = {}
    for name, text in typed.items():
        if name == "mode" or text is None:
            values[name] = None if text is None else text.strip().lower()
            continue
        cleaned = text.strip().replace(",", ".").replace("\u202f", "").replace(" ", "")
        try:
            values[name] = int(cleaned) if name in INTEGERS else float(cleaned)
            if not math.isfinite(values[name]):
                raise ValueError(cleaned)
        except ValueError:
            message = (N_("Un nombre entier est attendu (reçu « %(text)s »).") if name in INTEGERS
                       else N_("Un nombre est attendu (reçu « %(text)s »)."))
            errors[name] = DomainError(message, name, text=text)
    checked = {name: value for name, value in values.items() if name not in errors and name != "seed"}
    checked.setdefault("mode", None)
    try:
        check_options(**{**_VALID, **{k: v for k, v in checked.items() if v is not None}})
    except ValidationError as exc:
        errors.update({name: error for name, error in exc.errors.items() if name not in errors})
    if errors:
        raise ValidationError({name: errors[name] for name in typed if name in errors})
    return values


#: values that pass ``check_options``, standing in for the options not typed or not numbers
_VALID = dict(agents=1, contacts=1, mode="predictive", hours=1.0, abandon_cap=0.03, drop_after_s=2.0,
              mean_talk_s=120.0, mean_wrap_s=30.0, max_attempts=4, preview_s=15.0, callback_share=0.1)


# --- the report ----------------------------------------------------------------------------


def _number(value: float, digits: int = 0) -> str:
    """French digits: thin no-break space between thousands, decimal comma."""
    return f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


def _percent(value: float) -> str:
    return f"{_number(100 * value, 1)} %"


def _hours(value: float) -> str:
    return f"{_number(value, 2).rstrip('0').rstrip(',')} h"


def figure_rows(runs: list) -> list[tuple[str, list[str]]]:
    """The figures of each run, one row per figure: (French label, one value per run)."""

    def row(label: str, value) -> tuple[str, list[str]]:
        return label, [value(r) for r in runs]

    return [
        row("Appels composés", lambda r: _number(r.dials)),
        row("Décrochés par une personne", lambda r: _number(r.connects)),
        row("Mis en relation avec un agent", lambda r: _number(r.agent_connects)),
        row("Abandonnés (aucun agent à temps)", lambda r: _number(r.dropped)),
        row("Taux d'abandon", lambda r: _percent(r.abandon_rate)),
        row("Occupation des agents", lambda r: _percent(r.occupancy)),
        row("Contacts par heure-agent", lambda r: _number(r.contacts_per_agent_hour, 1)),
        row("Répondeurs détectés", lambda r: _number(r.machines)),
        row("Occupés", lambda r: _number(r.busy)),
        row("Pas de réponse", lambda r: _number(r.no_answers)),
        row("Numéros invalides", lambda r: _number(r.invalid)),
        row("Nouvelles tentatives", lambda r: _number(r.retries)),
        row("Niveau de numérotation moyen", lambda r: _number(r.mean_dial_level, 2)),
    ]


def _mode_label(mode: str) -> str:
    from ..domain.campaigns import MODE_LABELS, DialMode

    return MODE_LABELS[DialMode(mode)]


def table(headers: list[str], rows: list[tuple[str, list[str]]]) -> list[str]:
    """Rows aligned: labels left, values right, one column per run."""
    width = max(len(label) for label, _ in rows)
    shown = len(headers) > 1  # one run: no header, its mode is in the title
    columns = [max(len(headers[i]) if shown else 0, *(len(values[i]) for _, values in rows))
               for i in range(len(headers))]
    lines = [" " * width + "".join(f"  {h:>{w}}" for h, w in zip(headers, columns))] if shown else []
    lines += [f"{label:<{width}}" + "".join(f"  {v:>{w}}" for v, w in zip(values, columns)) for label, values in rows]
    return lines


def report_lines(runs: list) -> list[str]:
    """The run(s) in French: the inputs, the figures aligned, and, side by side, what predictive gained."""
    first = runs[0]
    modes = " et ".join(_mode_label(r.mode).lower() for r in runs)
    lines = [
        f"Campagne simulée ({modes}) : {first.agents} agents, {_number(first.contacts)} contacts, "
        f"{_hours(first.hours)}, graine {first.seed} ; plafond d'abandon {_percent(first.abandon_cap)} "
        "des appels décrochés.",
        "",
        *table([_mode_label(r.mode) for r in runs], figure_rows(runs)),
    ]
    by_mode = {r.mode: r for r in runs}
    if "progressive" in by_mode and "predictive" in by_mode:
        p, q = by_mode["progressive"], by_mode["predictive"]
        gain = 100 * (q.occupancy - p.occupancy)
        verdict = "sous le plafond" if q.abandon_rate <= q.abandon_cap else "AU-DESSUS du plafond"
        lines += ["", f"Prédictif : occupation {_number(gain, 1)} points au-dessus du progressif "
                      f"({_number(q.contacts_per_agent_hour, 1)} contre {_number(p.contacts_per_agent_hour, 1)} "
                      f"contacts par heure-agent), taux d'abandon {_percent(q.abandon_rate)} ({verdict} de "
                      f"{_percent(q.abandon_cap)})."]
    return lines
