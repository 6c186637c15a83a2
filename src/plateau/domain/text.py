"""Text normalisation shared by search and duplicate detection."""

from __future__ import annotations

import re
from functools import lru_cache

from unidecode import unidecode

_SPACES = re.compile(r"[\s\-'’.,]+")


@lru_cache(maxsize=65536)
def fold(text: str | None) -> str:
    """Accent- and case-insensitive key: "Lefèvre-Dupont" → "lefevre dupont".

    Cached: imports and seeds fold the same first names, cities and labels
    over and over, and unidecode is the costly part."""
    if not text:
        return ""
    return _SPACES.sub(" ", unidecode(text).lower()).strip()
