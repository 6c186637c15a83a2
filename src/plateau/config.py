"""Settings read from the environment, so the CLI, the server and the tests agree.

Every knob is a ``PLATEAU_*`` variable; defaults give a working embedded setup
(SQLite under ``var/``) on a fresh machine.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = Path(os.environ.get("PLATEAU_DATA_DIR", PROJECT_ROOT / "data"))


def _var_dir() -> Path:
    return Path(os.environ.get("PLATEAU_VAR_DIR", Path.cwd() / "var"))


def _secret_key(var_dir: Path) -> str:
    """A stable key for signing sessions: env first, else one kept in ``var/``."""
    env = os.environ.get("PLATEAU_SECRET_KEY")
    if env:
        return env
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    timezone: str = "Europe/Paris"
    default_region: str = "FR"
    phone_regions: tuple[str, ...] = ("FR", "MA", "DZ")
    default_locale: str = "fr"
    nats_url: str | None = None
    extra: dict = field(default_factory=dict)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    var_dir = _var_dir()
    url = os.environ.get("PLATEAU_DATABASE_URL")
    if not url:
        var_dir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{var_dir / 'plateau.db'}"
    return Settings(
        database_url=url,
        secret_key=_secret_key(var_dir),
        timezone=os.environ.get("PLATEAU_TIMEZONE", "Europe/Paris"),
        default_region=os.environ.get("PLATEAU_DEFAULT_REGION", "FR"),
        default_locale=os.environ.get("PLATEAU_LOCALE", "fr"),
        nats_url=os.environ.get("PLATEAU_NATS_URL"),
    )
