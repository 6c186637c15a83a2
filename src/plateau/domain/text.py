"""Text normalisation shared by search and duplicate detection."""

from __future__ import annotations

import re

from unidecode import unidecode

_SPACES = re.compile(r"[\s\-'’.,]+")


def fold(text: str | None) -> str:
    """Accent- and case-insensitive key: "Lefèvre-Dupont" → "lefevre dupont"."""
    if not text:
        return ""
    return _SPACES.sub(" ", unidecode(text).lower()).strip()
