"""The evaluator's settings (``data/assessment/*.yaml``): read, checked, cached.

Like the frameworks, the settings are reference data: read once per version
of the files (their modification times and sizes key the cache), shared by
the CLI, the practice pages and the review. A broken file is refused with
every problem named (file, line, key); so is a mapping that points at an
unknown criterion or at one that only a person can judge.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..config import DATA_DIR
from ..domain.assessment_checks import CHECKS, CUE_NAMES
from ..domain.assessment_settings import (CUES_FILE, MAPPINGS_FILE, SETTINGS_FILE, AssessmentSettings, SettingsError,
                                          mapping_problems, parse_settings)
from ..domain.errors import N_, ValidationError

ASSESSMENT_DIR = DATA_DIR / "assessment"
FILES = (SETTINGS_FILE, CUES_FILE, MAPPINGS_FILE)


def _key(directory: Path) -> tuple:
    stamps = []
    for name in FILES:
        try:
            stat = (directory / name).stat()
            stamps.append((stat.st_mtime_ns, stat.st_size))
        except OSError:
            stamps.append(None)
    return tuple(stamps)


def load_settings(directory: Path | None = None) -> AssessmentSettings:
    """The settings of ``directory`` (``data/assessment`` by default), checked against the frameworks."""
    folder = Path(directory or ASSESSMENT_DIR).resolve()
    return _load(str(folder), _key(folder))


@lru_cache(maxsize=8)
def _load(folder: str, _stamps: tuple) -> AssessmentSettings:
    from . import frameworks

    texts = []
    for name in FILES:
        try:
            texts.append((Path(folder) / name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValidationError({name: SettingsError(N_("fichier introuvable dans %(folder)s."), file=name,
                                                       folder=folder)}) from None
        except UnicodeDecodeError:
            raise ValidationError({name: SettingsError(N_("le fichier n'est pas en UTF-8."), file=name)}) from None
    settings = parse_settings(*texts, check_ids=frozenset(CHECKS), cue_names=CUE_NAMES)
    problems = mapping_problems(settings, frameworks.load_frameworks())
    if problems:
        raise ValidationError({f"{n:03d}": problem for n, problem in enumerate(problems, 1)})
    return settings
