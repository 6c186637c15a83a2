"""Errors that carry a translatable message for the user.

A rule that refuses something raises ``DomainError`` with a message id (French
source text, marked with ``N_`` so Babel extracts it) and parameters; the web
and CLI layers translate it at the edge, so the domain stays free of locale.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here."""
    return message


class DomainError(Exception):
    """A refused action: ``message`` is a gettext msgid, ``params`` fill it."""

    def __init__(self, message: str, field: str | None = None, **params: object):
        super().__init__(message)
        self.message = message
        self.field = field
        self.params = params

    def render(self, gettext=lambda s: s) -> str:
        text = gettext(self.message)
        try:
            return text % self.params if self.params else text
        except (KeyError, ValueError, TypeError):
            return text


class ValidationError(DomainError):
    """Bad input: one or more fields refused; ``errors`` maps field → DomainError."""

    def __init__(self, errors: dict[str, DomainError]):
        first = next(iter(errors.values()))
        super().__init__(first.message, first.field, **first.params)
        self.errors = errors


class ConflictError(DomainError):
    """Someone else changed the record since it was read (optimistic locking)."""


class NotFoundError(DomainError):
    pass


class PermissionDenied(DomainError):
    pass


class IllegalTransition(DomainError):
    pass
