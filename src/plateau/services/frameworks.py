"""The competency frameworks of ``data/frameworks/*.yaml``: loaded, checked, cached.

Frameworks are reference data, not rows: they change with a release (or an
administrator's edit of the files), never during a call. Each file is parsed
once and kept while its modification time and size stay the same, so the
pages, the evaluator and the CLI share one checked copy and an edited file is
read again on the next call.

``check_files`` is the proof-reader (``plateau frameworks check``): every
problem of every file, with the file, the line and the field. The readers
(``list_frameworks``, ``get``, ``criterion``, ``node``) refuse to serve a
broken directory: they raise the ``ValidationError`` naming what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from ..config import DATA_DIR
from ..domain.errors import N_, NotFoundError
from ..domain.frameworks import Criterion, Framework, FrameworkError, Node, parse_framework, search as _search
from ..domain.frameworks import SearchResult
from . import data_files

FRAMEWORK_DIR = DATA_DIR / "frameworks"


@dataclass(frozen=True)
class FileCheck:
    """The outcome of checking one file: its framework, or the problems found."""

    path: Path
    framework: Framework | None
    errors: tuple[FrameworkError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


def framework_files(directory: Path | None = None) -> list[Path]:
    """The framework files of a directory (``*.yaml``), by name; README and others are skipped."""
    return data_files.yaml_files(Path(directory or FRAMEWORK_DIR))


@lru_cache(maxsize=64)
def _parse(path: str, _mtime_ns: int, _size: int) -> Framework:
    """Parsed once per version of the file (the key changes when the file does)."""
    return parse_framework(Path(path).read_text(encoding="utf-8"), path)


def read_framework(path: Path) -> Framework:
    """One file, checked; ValidationError (errors naming the file and line) when it is wrong."""
    return data_files.read_checked(path, _parse, FrameworkError)


def check_files(paths: Iterable[Path] | None = None, directory: Path | None = None) -> list[FileCheck]:
    """Check the given files (by default every file of the directory), each on its own,
    then across files: two files must not declare the same code."""
    chosen = [Path(p) for p in paths] if paths is not None else framework_files(directory)
    return data_files.check_codes(chosen, read_framework, FileCheck, FrameworkError, N_(
        "le code « %(code)s » est déjà celui de %(other)s : chaque référentiel a son propre code."))


def load_frameworks(directory: Path | None = None) -> dict[str, Framework]:
    """Every framework of the directory by code; ValidationError listing all problems if one is wrong."""
    checks = check_files(directory=directory)
    data_files.all_or_nothing(checks)
    return {check.framework.code: check.framework for check in checks}


def list_frameworks(directory: Path | None = None) -> list[Framework]:
    """Every framework, by title (French collation is not needed: titles start with capitals)."""
    return sorted(load_frameworks(directory).values(), key=lambda f: f.title.casefold())


def get(code: str, directory: Path | None = None) -> Framework:
    found = load_frameworks(directory).get(code)
    if found is None:
        raise NotFoundError(N_("Référentiel inconnu : « %(code)s »."), "code", code=code)
    return found


def _framework_of(element_id: str, directory: Path | None) -> Framework:
    """Ids start with their framework's code: « mc-acvd/C1.1/2 » belongs to « mc-acvd »."""
    code = element_id.split("/", 1)[0]
    found = load_frameworks(directory).get(code) if "/" in element_id else None
    if found is None:
        raise NotFoundError(N_("Élément de référentiel inconnu : « %(id)s »."), "id", id=element_id)
    return found


def criterion(criterion_id: str, directory: Path | None = None) -> Criterion:
    """A criterion by its id, from whichever framework its prefix names."""
    return _framework_of(criterion_id, directory).criterion(criterion_id)


def node(node_id: str, directory: Path | None = None) -> Node:
    return _framework_of(node_id, directory).node(node_id)


def search(code: str, query: str, directory: Path | None = None) -> tuple[Framework, SearchResult]:
    """A framework and what of it matches ``query`` (accents and case ignored)."""
    framework = get(code, directory)
    return framework, _search(framework, query)
