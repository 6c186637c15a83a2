"""Regenerate migration 0001 from ``store/models.py`` (pre-release only).

Usage: .venv/bin/python tools/regen_initial_migration.py
"""

import tempfile
from pathlib import Path

from plateau.store.migrate import regenerate_initial

with tempfile.TemporaryDirectory() as tmp:
    regenerate_initial(f"sqlite:///{Path(tmp) / 'scratch.db'}")
