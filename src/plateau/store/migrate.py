"""Alembic, driven from code (``plateau migrate``, tests, ``make run``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from .db import normalise_url

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def autogenerate(url: str, message: str, rev_id: str | None = None) -> None:
    command.revision(alembic_config(url), message=message, autogenerate=True, rev_id=rev_id)


def regenerate_initial(scratch_url: str) -> None:
    """Rewrite 0001 from the models. Only while nothing has been released:
    once a database in the wild runs 0001, changes go in new revisions.

    Hand-written later revisions (0002 search DDL, …) name 0001 as their
    parent; they are set aside while 0001 is rebuilt, else Alembic refuses a
    history whose root is missing."""
    import shutil
    import tempfile

    versions = MIGRATIONS / "versions"
    later = [p for p in versions.glob("*.py") if not p.name.startswith("0001_")]
    with tempfile.TemporaryDirectory() as aside:
        moved = [(p, shutil.move(str(p), str(Path(aside) / p.name))) for p in later]
        try:
            for old in versions.glob("0001_*.py"):
                old.unlink()
            autogenerate(scratch_url, "initial schema", rev_id="0001")
        finally:
            for original, kept in moved:
                shutil.move(kept, str(original))
