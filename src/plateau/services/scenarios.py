"""The role-play scenarios of ``data/scenarios/*.yaml``: loaded, checked against the other data, cached.

Like the frameworks (``services.frameworks``), scenarios are reference data:
parsed once per version of the file and shared by the training pages, the
CLI and the tests. Each file is checked on its own (``domain.scenarios``) and
against what it names elsewhere: the framework criteria (``data/frameworks``),
the call scripts, queues, campaigns, qualifications and products of the demo
company (``data/demo``), and the callers' shared replies
(``data/scenarios/replies/<language>.yaml``). A change to any of those files
makes the next read check the scenarios again.

``check_files`` is the proof-reader of ``plateau scenarios check``; the readers
(``list_scenarios``, ``get``) refuse to serve a broken directory.
``start(code, seed)`` gives the simulated caller of a scenario.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Iterable

from ..config import DATA_DIR
from ..domain.errors import N_, DomainError, NotFoundError, ValidationError
from ..domain.persona import Persona, PersonaState
from ..domain.scenarios import References, Scenario, ScenarioError, ScriptRef, parse_replies, parse_scenario
from ..domain.scripts import parse_script
from . import data_files

SCENARIO_DIR = DATA_DIR / "scenarios"
REPLIES_DIR = SCENARIO_DIR / "replies"
DEMO_DIR = DATA_DIR / "demo"


@dataclass(frozen=True)
class FileCheck:
    """The outcome of checking one file: its scenario, or the problems found."""

    path: Path
    scenario: Scenario | None
    errors: tuple[ScenarioError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


def scenario_files(directory: Path | None = None) -> list[Path]:
    """The scenario files of a directory (``*.yaml``, by name; the ``replies`` folder is not one)."""
    return data_files.yaml_files(Path(directory or SCENARIO_DIR))


def _stamp(path: Path) -> tuple[str, int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (str(path), 0, -1)
    return (str(path.resolve()), stat.st_mtime_ns, stat.st_size)


def _dependencies(replies_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """Every file a scenario's checks read: when one changes, the references are read again."""
    from .frameworks import framework_files

    paths = [*framework_files(), DEMO_DIR / "queues.yaml", DEMO_DIR / "campaigns.yaml", DEMO_DIR / "products.yaml",
             *sorted((DEMO_DIR / "scripts").glob("*.yaml")), *sorted(Path(replies_dir).glob("*.yaml"))]
    return tuple(_stamp(p) for p in paths)


@dataclass(frozen=True)
class _Refs:
    references: References
    problems: tuple[FileCheck, ...]


@lru_cache(maxsize=4)
def _references(replies_dir: str, _stamps: tuple) -> _Refs:
    """What the scenarios may name, read from the data files (once per version of them)."""
    from .demo_data import CampaignsFile, DemoDataError, ProductsFile, QueuesFile, load_file
    from .frameworks import load_frameworks

    problems: list[FileCheck] = []
    frameworks = {}
    try:
        for code, framework in load_frameworks().items():
            nodes = frozenset(node.id for _depth, node in framework.walk())
            frameworks[code] = (frozenset(c.id for c in framework.criteria()), nodes)
    except ValidationError as exc:
        problems.append(FileCheck(Path("data/frameworks"), None,
                                  tuple(_as_scenario_error(e) for e in exc.errors.values())))
    scripts = {}
    for path in sorted((DEMO_DIR / "scripts").glob("*.yaml")):
        try:
            script = parse_script(path.read_text(encoding="utf-8"))
        except (ValidationError, OSError, UnicodeDecodeError):
            continue  # a broken script is the scripts' check's business; naming it is refused here
        scripts[script.code] = ScriptRef(questions=frozenset(script.questions), banned_words=script.banned_words,
                                         objections=frozenset(o.id for o in script.objections))
    queues, campaigns, dispositions, products = {}, {}, set(), frozenset()
    try:
        queues_file = load_file(DEMO_DIR / "queues.yaml", QueuesFile)
        campaigns_file = load_file(DEMO_DIR / "campaigns.yaml", CampaignsFile)
        products = frozenset(p.code for p in load_file(DEMO_DIR / "products.yaml", ProductsFile).products)
        queues = {q.code: frozenset(q.dispositions) for q in queues_file.queues}
        campaigns = {c.code: (c.script, frozenset(c.dispositions)) for c in campaigns_file.campaigns}
        dispositions = {d.code for d in queues_file.dispositions} | {d.code for d in campaigns_file.dispositions}
    except DemoDataError as exc:
        error = ScenarioError(N_("données de démonstration illisibles : %(problem)s"), file="data/demo",
                              problem=str(exc))
        problems.append(FileCheck(DEMO_DIR, None, (error,)))
    replies = {}
    for path in sorted(Path(replies_dir).glob("*.yaml")):
        try:
            replies[path.stem] = parse_replies(path.read_text(encoding="utf-8"), path.name)
        except ValidationError as exc:
            problems.append(FileCheck(path, None, tuple(exc.errors.values())))
    refs = References(frameworks=MappingProxyType(frameworks), scripts=MappingProxyType(scripts),
                      queues=MappingProxyType(queues), campaigns=MappingProxyType(campaigns),
                      dispositions=frozenset(dispositions), products=products, replies=MappingProxyType(replies))
    return _Refs(refs, tuple(problems))


def _as_scenario_error(error: DomainError) -> ScenarioError:
    if isinstance(error, ScenarioError):
        return error
    return ScenarioError(error.message, getattr(error, "where", None), getattr(error, "line", None),
                         file=getattr(error, "file", ""), field_name=error.field, **error.params)


def references(replies_dir: Path | None = None) -> References:
    """The references the scenario checks use (frameworks, scripts, queues, campaigns, replies)."""
    return _current(replies_dir).references


def _current(replies_dir: Path | None) -> _Refs:
    folder = Path(replies_dir or REPLIES_DIR)
    return _references(str(folder), _dependencies(folder))


@lru_cache(maxsize=128)
def _parse(path: str, _mtime_ns: int, _size: int, replies_dir: str, stamps: tuple) -> Scenario:
    """Parsed once per version of the file and of the files it refers to."""
    return parse_scenario(Path(path).read_text(encoding="utf-8"), path, _references(replies_dir, stamps).references)


def read_scenario(path: Path, replies_dir: Path | None = None) -> Scenario:
    """One file, checked; ValidationError (errors naming the file and line) when it is wrong."""
    folder = Path(replies_dir or REPLIES_DIR)
    return data_files.read_checked(
        path, lambda key, mtime_ns, size: _parse(key, mtime_ns, size, str(folder), _dependencies(folder)),
        ScenarioError)


def check_files(paths: Iterable[Path] | None = None, directory: Path | None = None,
                replies_dir: Path | None = None) -> list[FileCheck]:
    """Check the given files (by default every scenario of the directory), then across files: one code
    per scenario. Problems of the shared files they depend on (replies, frameworks) come first."""
    chosen = [Path(p) for p in paths] if paths is not None else scenario_files(directory)
    return list(_current(replies_dir).problems) + data_files.check_codes(
        chosen, lambda path: read_scenario(path, replies_dir), FileCheck, ScenarioError,
        N_("le code « %(code)s » est déjà celui de %(other)s : chaque scénario a son propre code."),
        wrap=_as_scenario_error)


def load_scenarios(directory: Path | None = None) -> dict[str, Scenario]:
    """Every scenario of the directory by code; ValidationError listing all problems if one is wrong."""
    checks = check_files(directory=directory)
    data_files.all_or_nothing(checks)
    return {check.scenario.code: check.scenario for check in checks}


def list_scenarios(directory: Path | None = None) -> list[Scenario]:
    """Every scenario, in the order of their titles."""
    return sorted(load_scenarios(directory).values(), key=lambda s: s.title.casefold())


def get(code: str, directory: Path | None = None) -> Scenario:
    found = load_scenarios(directory).get(code)
    if found is None:
        raise NotFoundError(N_("Scénario inconnu : « %(code)s »."), "code", code=code)
    return found


def start(code: str, seed: int, agent_name: str = "", directory: Path | None = None) -> PersonaState:
    """The simulated caller of a scenario, for one call (the same seed plays the same caller)."""
    return Persona.start(get(code, directory), seed, agent_name)
