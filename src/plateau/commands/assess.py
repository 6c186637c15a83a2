"""``plateau assess CALL.json --framework CODE``: assess a call against a framework, as JSON.

The call is a ``CALL.json`` file (``docs/assessment.md``), ``-`` for standard
input (``plateau calls export 42 | plateau assess - --framework mc-acvd``).
The output is one JSON object on stdout: ``framework``, ``criteria`` (each
with ``id``, ``result``, ``evidence``, ``rationale``), ``score``, ``passed``,
and the counts, observations and versions behind them.

Exit codes: 0 when the call was assessed (passed or not: read ``passed``);
2 when the input is unusable (no such file, not JSON, a field wrong: each
problem is one French line on stderr naming the field's path, and nothing
is printed on stdout) or the framework or a criterion is unknown; 1 when
the evaluator's own settings (``data/assessment``) are broken.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("assess")(assess)


def _fail(lines: list[str], code: int = 2):
    for line in lines:
        typer.echo(f"Erreur : {line}", err=True)
    raise typer.Exit(code)


def read_call_json(path: str) -> tuple[str, object]:
    """The file's name (for messages) and its decoded JSON; typer.Exit(2) with the reason otherwise."""
    name = "entrée standard" if path == "-" else Path(path).name
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        _fail([f"{path} : fichier introuvable."])
    except IsADirectoryError:
        _fail([f"{path} : c'est un dossier, pas un fichier JSON."])
    except UnicodeDecodeError:
        _fail([f"{name} : le fichier n'est pas en UTF-8."])
    except OSError as exc:
        _fail([f"{path} : lecture impossible ({exc.strerror or exc})."])
    try:
        return name, json.loads(text)
    except json.JSONDecodeError as exc:
        _fail([f"{name}, ligne {exc.lineno}, colonne {exc.colno} : JSON invalide (contenu illisible à cet endroit)."])


def assess(
    call_file: str = typer.Argument(..., metavar="CALL.json", help="L'appel au format CALL.json (« - » : entrée "
                                                                    "standard)."),
    framework: str = typer.Option(..., "--framework", "-f", metavar="CODE",
                                  help="Référentiel : filea-appels-sortants, mc-acvd, ofppt-teleconseiller, "
                                       "infep-bts-teleconseiller."),
    criteria: list[str] = typer.Option([], "--criterion", "-c", metavar="ID",
                                       help="N'évaluer que ce critère (répétable), par ex. filea-appels-sortants/05."),
    pretty: bool = typer.Option(False, "--pretty", help="JSON indenté, pour le lire."),
) -> None:
    """Évalue un appel critère par critère (atteint, non atteint, non évaluable) avec les preuves, en JSON."""
    from ..domain.assessment import AssessOptions, assess as run
    from ..domain.assessment_call import parse_call
    from ..domain.errors import NotFoundError, ValidationError
    from ..services import frameworks
    from ..services.assessment_settings import load_settings

    name, data = read_call_json(call_file)
    try:
        call = parse_call(data)
    except ValidationError as exc:
        _fail([f"{name} : {error.render()}" for error in exc.errors.values()]
              + [f"{name} : {len(exc.errors)} problème(s) ; format décrit dans docs/assessment.md."])
    try:
        chosen = frameworks.get(framework)
    except NotFoundError:
        known = ", ".join(f.code for f in frameworks.list_frameworks())
        _fail([f"--framework : référentiel inconnu « {framework} » ; référentiels : {known}."])
    except ValidationError as exc:
        _fail([error.render() for error in exc.errors.values()], 1)
    try:
        settings = load_settings()
    except ValidationError as exc:
        _fail([error.render() for error in exc.errors.values()], 1)
    try:
        result = run(call, chosen, AssessOptions(settings, criteria=tuple(criteria) or None))
    except NotFoundError as exc:
        _fail([f"--criterion : {exc.render()}"])
    typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2 if pretty else None))
