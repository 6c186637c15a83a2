"""French conversational cues for the evaluator: normalised text, sentences, questions, cue lists.

The evaluator reads a transcript the way a trainer does, by spotting what is
said: « si je comprends bien » (a reformulation), « qu'est-ce qui vous retient ? »
(a question that lets a reservation be said), « je vous propose » (a proposal).
Those expressions are data (``data/assessment/cues.yaml``) so that a trainer
can read and extend them; this module turns them into fast, accent- and
case-insensitive matchers and cuts turns into sentences.

Text is compared in a *normalised* form: folded (accents and case dropped,
``domain.text.fold``), every run of characters other than letters and digits
made one space, padded with a space at each end: « Qu'est-ce qui vous
retient ? » becomes `` qu est ce qui vous retient ``. A cue is written as a
person would type it and normalised the same way, with two extras:

- ``*`` at the end of a word matches any ending: ``rappel*`` finds
  « rappeler », « rappellerai », « rappel »;
- ``...`` between words allows up to four words in between: ``avez vous ...
  minutes`` finds « avez-vous deux petites minutes ».

Cues match whole words only: « ici » never matches inside « icitte ».
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .text import fold

_NON_WORD = re.compile(r"[^a-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_TRAILING = " \t\r\n»«\"'’)]"
#: « 14 h », « 9 h 30 », « 14h30 », « 10 heures »: a time of day, as digits
_CLOCK = re.compile(r"(?<![a-z0-9])\d{1,2} ?h(?: ?\d{2})?(?![a-z0-9])|(?<![a-z0-9])\d{1,2} heures?(?![a-z0-9])")
_GAP = r"(?: [a-z0-9]+){0,4}"


#: letters NFKD does not take apart
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
#: anything but Latin letters (whose accents NFKD separates) and French punctuation
_NOT_LATIN = re.compile("[^\u0000-\u024f\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u202f]")


def _fold(text: str) -> str:
    """``domain.text.fold`` for Latin text, ten times faster: French transcripts are folded by
    decomposing accents; other scripts go through ``fold`` (unidecode) as everywhere else."""
    if _NOT_LATIN.search(text) is None:
        decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
        return decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return fold(text)


@lru_cache(maxsize=32768)
def normalise(text: str | None) -> str:
    """`` words separated by single spaces ``, folded, padded: the form cues are matched in."""
    folded = _NON_WORD.sub(" ", _fold(text or "")).strip()
    return f" {folded} " if folded else " "


def words(text: str | None) -> list[str]:
    return normalise(text).split()


def word_count(text: str | None) -> int:
    return len(words(text))


def sentences(text: str) -> tuple[str, ...]:
    """The sentences of a turn, as exact pieces of its text (quotes stay faithful)."""
    parts = [part.strip() for part in _SENTENCE_END.split(text.strip())]
    return tuple(part for part in parts if part) or (text.strip(),)


def is_question(sentence: str) -> bool:
    return sentence.rstrip(_TRAILING).endswith("?")


def has_clock_time(normalised: str) -> bool:
    return _CLOCK.search(normalised) is not None


def _pattern(cue: str) -> str:
    pieces: list[str] = []
    for token in cue.split():
        if token in ("...", "…"):
            pieces.append(_GAP)
            continue
        star = token.endswith("*")
        body = normalise(token[:-1] if star else token).strip()
        if not body:
            continue
        escaped = " ".join(re.escape(part) for part in body.split())
        piece = escaped + ("[a-z0-9]*" if star else "")
        if pieces:
            piece = " " + piece
        pieces.append(piece)
    return "".join(pieces)


def cue_pattern(cue: str) -> str:
    """The regular expression (on normalised text) a cue stands for; empty when the cue is."""
    return _pattern(cue)


@dataclass(frozen=True)
class CueList:
    """A named list of expressions, matched as one compiled alternation on normalised text."""

    name: str
    cues: tuple[str, ...]
    regex: re.Pattern | None

    @classmethod
    def build(cls, name: str, cues: tuple[str, ...] | list[str]) -> "CueList":
        patterns = [p for p in (_pattern(cue) for cue in cues) if p]
        if not patterns:
            return cls(name, tuple(cues), None)
        # longest first, so the excerpt quoted is the most telling expression
        patterns.sort(key=len, reverse=True)
        regex = re.compile(r"(?<![a-z0-9])(?:" + "|".join(patterns) + r")(?![a-z0-9])")
        return cls(name, tuple(cues), regex)

    def search(self, normalised: str) -> str | None:
        """The expression found (normalised), or None."""
        if self.regex is None:
            return None
        found = self.regex.search(normalised)
        return found.group(0).strip() if found else None

    def findall(self, normalised: str) -> list[str]:
        """Every expression found, in order (normalised)."""
        if self.regex is None:
            return []
        return [found.group(0).strip() for found in self.regex.finditer(normalised)]

    def __contains__(self, normalised: str) -> bool:
        return self.regex is not None and self.regex.search(normalised) is not None


__all__ = ["CueList", "cue_pattern", "has_clock_time", "is_question", "normalise", "sentences", "word_count",
           "words"]
