"""Folders of validated YAML reference data (frameworks, scenarios): the file-level part they share.

Each kind parses its own format; what is the same for every kind lives here:
listing a folder's ``*.yaml`` files, turning an unreadable file into a
message that names it, checking a set of files one by one and then across
files (one code per file), and refusing to serve a folder with any problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, TypeVar

from ..domain.errors import N_, DomainError, ValidationError

T = TypeVar("T")


def yaml_files(folder: Path) -> list[Path]:
    """The ``*.yaml`` files of a folder, by name (sub-folders and other files are not part of it)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.glob("*.yaml") if path.is_file())


def read_checked(path: Path, parse: Callable[[str, int, int], T], error: Callable[..., DomainError]) -> T:
    """``parse(resolved path, mtime_ns, size)`` — a key that changes with the file, for caching —
    or ValidationError naming the file when it cannot be read."""
    path = Path(path)
    try:
        stat = path.stat()
        return parse(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    except FileNotFoundError:
        raise _file_error(error, path, N_("fichier introuvable.")) from None
    except IsADirectoryError:
        raise _file_error(error, path, N_("c'est un dossier, pas un fichier YAML.")) from None
    except UnicodeDecodeError:
        raise _file_error(error, path, N_("le fichier n'est pas en UTF-8.")) from None
    except OSError as exc:
        raise _file_error(error, path, N_("lecture impossible (%(reason)s)."),
                          reason=exc.strerror or str(exc)) from None


def _file_error(error: Callable[..., DomainError], path: Path, message: str, **params) -> ValidationError:
    return ValidationError({"001": error(message, file=path.name, **params)})


def check_codes(paths: Iterable[Path], read: Callable[[Path], T], make_check, error: Callable[..., DomainError],
                duplicate: str, wrap: Callable[[DomainError], DomainError] = lambda e: e) -> list:
    """Each file read on its own, then across files: two files must not declare the same code.

    ``make_check(path, item_or_None, errors)`` builds the caller's result type; ``duplicate``
    is the msgid naming the clash (``%(code)s``, ``%(other)s``).
    """
    results, codes = [], {}
    for path in paths:
        try:
            item = read(path)
        except ValidationError as exc:
            results.append(make_check(path, None, tuple(wrap(e) for e in exc.errors.values())))
            continue
        if item.code in codes:
            clash = error(duplicate, file=path.name, field_name="code", code=item.code, other=codes[item.code].name)
            results.append(make_check(path, None, (clash,)))
            continue
        codes[item.code] = path
        results.append(make_check(path, item, ()))
    return results


def all_or_nothing(checks: list) -> None:
    """ValidationError listing every problem of the checks, if there is one."""
    errors = [error for check in checks for error in check.errors]
    if errors:
        raise ValidationError({f"{n:03d}": error for n, error in enumerate(errors, 1)})
