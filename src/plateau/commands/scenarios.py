"""``plateau scenarios``: check the role-play scenarios, play one in the terminal.

``check [FILES…]`` checks every ``data/scenarios/*.yaml`` file (or the files
given) against its format and against the other data it names (framework
criteria, call scripts, queues, campaigns, qualifications, the shared
replies) and prints what each holds. Every problem is one French line on
stderr naming the file, the line, the element and the field; exit code 1
when there is one.

``play CODE --seed N`` is a role play in the terminal: the trainee types what
the agent says, the simulated caller answers. Commands start with « / »
(``/aide`` lists them): hold, resume, silence, transfer, hang up, state.
``--script FILE`` plays the agent's lines from a file instead (a text file,
one line per turn with the same « / » commands, or a YAML list of actions as
in ``tests/data/scenarios/``) and prints the transcript; ``--json`` prints
the call in the evaluator's format (``plateau assess``); ``--explain`` shows,
turn by turn, what the caller heard and why it answered so.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(help="Scénarios de jeux de rôle : contrôler les fichiers, jouer un appel simulé.",
                  no_args_is_help=True)

#: the terminal commands of a role play (French first, English aliases)
COMMANDS = {
    "/attente": "hold", "/hold": "hold",
    "/reprise": "resume", "/resume": "resume",
    "/transfert": "transfer", "/transfer": "transfer",
    "/raccrocher": "hangup", "/hangup": "hangup",
}
HELP = """Commandes :
  /attente            mettre le correspondant en attente (annoncez-le d'abord !)
  /reprise            reprendre l'appel après l'attente
  /silence N          rester N secondes sans rien dire (pendant une attente : attendre N secondes)
  /transfert          transférer l'appel
  /raccrocher         raccrocher
  /etat               humeur, faits découverts, objections, patience
  /aide               cette aide
Toute autre ligne est ce que vous dites au correspondant."""

OUTCOME_WORDS = {"agreed": "accord", "refused": "refus", "hung_up": "a raccroché",
                 "asked_supervisor": "a demandé un responsable", None: "sans conclusion"}


def _errors(exc) -> None:
    for error in getattr(exc, "errors", {None: exc}).values():
        typer.echo(f"Erreur : {error.render()}", err=True)


def summary(scenario) -> list[str]:
    """What ``check`` says about a valid scenario."""
    from ..domain.scenarios import LANGUAGES, MOOD_LABELS, OUTCOMES, STYLES

    persona = scenario.persona
    routing = f"file {scenario.queue}" if scenario.queue else (
        f"campagne {scenario.campaign}" if scenario.campaign else "hors campagne")
    return [
        f"{scenario.code} ({scenario.file}) — {scenario.title}",
        f"  {'entrant' if scenario.direction == 'inbound' else 'sortant'}, {routing}, script {scenario.script or '—'}",
        f"  {persona.name}, {persona.age} ans, {MOOD_LABELS[persona.mood]}, style {STYLES[persona.style]}, "
        f"{LANGUAGES[persona.language]} ; "
        f"{len(persona.facts)} faits, {len(persona.objections)} objection(s), {len(persona.steps)} étape(s)",
        f"  {scenario.framework.code} : {len(scenario.framework.criteria)} critère(s) ; cible {scenario.time_target_s} s ; "
        f"attendu : {OUTCOMES[scenario.ideal.outcome]}" + (f", qualification {scenario.ideal.disposition}"
                                                 if scenario.ideal.disposition else ""),
    ]


@app.command("check")
def check(files: list[Path] = typer.Argument(None, metavar="[FICHIERS…]",
                                             help="Fichiers YAML à contrôler ; par défaut tous ceux de "
                                                  "data/scenarios/.")) -> None:
    """Contrôle les scénarios (format, personnages, critères des référentiels, scripts, files, qualifications)."""
    from ..services.scenarios import SCENARIO_DIR, check_files

    results = check_files(files or None)
    scenarios = [r for r in results if r.scenario is not None]
    if not results:
        typer.echo(f"Erreur : aucun scénario dans {SCENARIO_DIR}.", err=True)
        raise typer.Exit(1)
    failed = 0
    for result in results:
        if result.ok:
            typer.echo("\n".join(summary(result.scenario)))
            continue
        failed += 1
        for error in result.errors:
            typer.echo(f"Erreur : {error.render()}", err=True)
    if failed:
        typer.echo(f"{failed} fichier(s) à corriger.", err=True)
        raise typer.Exit(1)
    typer.echo(f"{len(scenarios)} scénario(s) valide(s).")


def read_actions(path: Path, run: str) -> list:
    """The agent's actions from a file: YAML (a list, or {lines}, or {strong: {lines}, weak: …}) or text."""
    import yaml

    from ..domain.errors import DomainError, N_

    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        data = yaml.safe_load(text)
        if isinstance(data, dict) and run in data:
            data = data[run]
        if isinstance(data, dict):
            data = data.get("lines")
        if not isinstance(data, list):
            raise DomainError(N_("%(file)s : une liste d'actions est attendue (ou « lines », ou « %(run)s: {lines} »)."),
                              "script", file=path.name, run=run)
        return data
    return [_text_action(line) for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _text_action(line: str):
    """One line of a text script: a sentence, or a « / » command."""
    line = line.strip()
    if not line.startswith("/"):
        return line
    word, _, rest = line.partition(" ")
    if word == "/silence":
        return {"silence": float(rest.strip() or 15)}
    if word.lower() in COMMANDS:
        return {"event": COMMANDS[word.lower()]}
    return line


def _outcome_lines(call) -> list[str]:
    """Where the call stands (or how it ended), in French: outcome, mood, facts, objections, irritants."""
    from ..domain.persona import IRRITANTS

    state = call.state
    scenario = state.scenario
    persona = scenario.persona
    missing = state.agreement_missing()
    issue = OUTCOME_WORDS.get(state.outcome, state.outcome) if state.ended or state.outcome else "en cours"
    lines = [f"Issue : {issue} — humeur {state.mood:+.1f} "
             f"({state.mood_label}), durée {int(call.t)} s pour une cible de {scenario.time_target_s} s.",
             "Faits découverts : " + (", ".join(persona.fact(f).label for f in state.discovered) or "aucun")]
    if missing.get("facts"):
        lines.append("Faits non découverts : " + ", ".join(persona.fact(f).label for f in missing["facts"]))
    if state.objections_raised:
        lines.append("Objections : " + ", ".join(
            f"{o} ({'traitée' if o in state.objections_answered else 'non traitée'})" for o in state.objections_raised))
    if state.irritants:
        lines.append("Irritants : " + ", ".join(IRRITANTS[reason] for reason in state.irritants))
    return lines


def _explain(entry) -> str:
    cues = ", ".join(f"{cue.kind} « {cue.words} »" for cue in entry.cues) or "—"
    parts = [f"    repères : {cues}"]
    for label, values in (("révélé", entry.revealed), ("reformulé", entry.reformulated), ("objection", entry.raised),
                          ("traitée", entry.answered), ("étape", entry.steps), ("irritant", entry.irritants)):
        if values:
            parts.append(f"{label} : {', '.join(values)}")
    parts.append(f"humeur {entry.mood_before:+.1f} → {entry.mood_after:+.1f}")
    return " ; ".join(parts)


@app.command("play")
def play(code: str = typer.Argument(..., metavar="CODE", help="Code du scénario (plateau scenarios check les liste)."),
         seed: int = typer.Option(1, "--seed", help="Graine : la même graine rejoue le même correspondant."),
         script: Path = typer.Option(None, "--script", help="Fichier des répliques de l'agent (texte ou YAML)."),
         run: str = typer.Option("strong", "--run", help="Dans un fichier YAML de tests : strong ou weak."),
         agent: str = typer.Option("", "--agent", help="Prénom et nom de l'agent (le correspondant les entend)."),
         as_json: bool = typer.Option(False, "--json", help="Écrire l'appel au format CALL.json de plateau assess."),
         explain: bool = typer.Option(False, "--explain", help="Montrer ce que le correspondant a entendu."),
         llm: bool = typer.Option(False, "--llm", help="Faire reformuler les répliques par le modèle de "
                                                      "PLATEAU_LLM_URL (facultatif).")) -> None:
    """Joue un appel simulé : vous êtes l'agent, le correspondant du scénario vous répond."""
    from ..domain.errors import DomainError, NotFoundError, ValidationError
    from ..domain.persona import RolePlay, actions
    from ..services.llm import rephrase, settings_from_env
    from ..services.scenarios import get, list_scenarios

    try:
        scenario = get(code)
    except NotFoundError:
        known = ", ".join(s.code for s in list_scenarios())
        typer.echo(f"Erreur : scénario inconnu « {code} » ; scénarios : {known}.", err=True)
        raise typer.Exit(1) from None
    except ValidationError as exc:
        _errors(exc)
        raise typer.Exit(1) from None
    settings = settings_from_env() if llm else None
    if llm and settings is None:
        typer.echo("Erreur : --llm demande PLATEAU_LLM_URL (et PLATEAU_LLM_MODEL, PLATEAU_LLM_KEY).", err=True)
        raise typer.Exit(1)
    wording = _model_wording(rephrase, scenario, seed, settings) if settings is not None else None
    call = RolePlay(scenario, seed, agent, wording=wording)
    if script is not None:
        try:
            items = actions(read_actions(script, run))
        except (OSError, DomainError, ValueError) as exc:
            if isinstance(exc, DomainError):
                _errors(exc)
            else:
                typer.echo(f"Erreur : {script} : {exc}", err=True)
            raise typer.Exit(1) from None
        for action in items:
            if call.state.ended:
                break
            call.act(action)
        call.hang_up()
        transcript = call.transcript()
        if as_json:
            typer.echo(json.dumps(transcript.as_call(agent), ensure_ascii=False, indent=2))
            return
        typer.echo("\n".join(transcript.lines()))
        if explain:
            _print_log(call)
        typer.echo("\n".join(_outcome_lines(call)))
        return
    _interactive(call, scenario, explain, as_json, agent)


def _model_wording(rephrase, scenario, seed: int, settings):
    """The caller's replies in the language model's words (what it does stays the engine's)."""
    def wording(reply, turns):
        return rephrase(reply, scenario, turns, seed=seed, settings=settings)
    return wording


def _print_log(call) -> None:
    typer.echo("Ce que le correspondant a entendu :")
    for entry in call.state.log:
        if entry.source == "agent":
            typer.echo(f"  [{int(entry.t) // 60:02d}:{int(entry.t) % 60:02d}] {entry.text}")
            typer.echo(_explain(entry))


def _interactive(call, scenario, explain: bool, as_json: bool, agent: str) -> None:
    from ..domain.errors import DomainError
    from ..domain.persona import actions

    typer.echo(f"{scenario.title}\n{scenario.brief or scenario.summary}")
    typer.echo(f"Appel {'entrant' if scenario.direction == 'inbound' else 'sortant'} — /aide pour les commandes.")
    if call.turns:
        typer.echo(f"Correspondant : {call.turns[-1]['text']}")
    while not call.state.ended:
        try:
            line = input("Vous > ").strip()
        except EOFError:
            break
        if not line:
            continue
        if line in ("/aide", "/help"):
            typer.echo(HELP)
            continue
        if line in ("/etat", "/state"):
            typer.echo("\n".join(_outcome_lines(call)))
            continue
        item = _text_action(line)
        if isinstance(item, str) and item.startswith("/"):
            typer.echo(f"Commande inconnue : {item} (/aide pour la liste).")
            continue
        try:
            action = actions([item])[0]
            reply = call.act(action)
        except (DomainError, ValueError) as exc:
            typer.echo(f"Erreur : {exc.render() if isinstance(exc, DomainError) else exc}")
            continue
        if explain and action.say:
            typer.echo(_explain(call.state.log[-1]))
        if reply is not None and reply.text:
            typer.echo(f"Correspondant : {reply.text}")
        elif action.event is not None:
            typer.echo(f"[{action.event['type']}]")
        elif action.silence:
            typer.echo(f"[silence {action.silence:g} s]")
    call.hang_up()
    if as_json:
        typer.echo(json.dumps(call.transcript().as_call(agent), ensure_ascii=False, indent=2))
    typer.echo("\n".join(_outcome_lines(call)))

