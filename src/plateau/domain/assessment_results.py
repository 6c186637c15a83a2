"""What a check or a criterion comes out with: the result, the evidence it rests on, the reason.

Shared by the checks (``domain.assessment_checks``), the reading of the call
(``domain.assessment_view``) and the assessment (``domain.assessment``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MET, NOT_MET, NOT_ASSESSABLE = "met", "not_met", "not_assessable"
RESULTS = (MET, NOT_MET, NOT_ASSESSABLE)


@dataclass(frozen=True)
class Evidence:
    """What a result rests on. ``kind``: ``turn`` (a quote of turn ``turn``), ``event`` (event number
    ``event`` of type ``type``) or ``timing`` (a duration ``duration_s`` starting at ``t``: ``what``
    says which: silence, hold, call). ``what`` on a turn names what was found in it (reformulation…)."""

    kind: str
    t: float
    speaker: str | None = None
    quote: str | None = None
    turn: int | None = None
    type: str | None = None
    event: int | None = None
    duration_s: float | None = None
    what: str | None = None

    def as_dict(self) -> dict:
        data = {"kind": self.kind, "t": round(self.t, 1)}
        for key in ("speaker", "quote", "turn", "type", "event", "what"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.duration_s is not None:
            data["duration_s"] = round(self.duration_s, 1)
        return data


@dataclass(frozen=True)
class CheckResult:
    check: str
    result: str
    evidence: tuple[Evidence, ...] = ()
    message: str = ""
    params: dict = field(default_factory=dict)

    def rationale(self, gettext=lambda s: s) -> str:
        """The one-line French (or translated) reason; a ``problem`` parameter is a msgid too."""
        text = gettext(self.message)
        params = dict(self.params)
        if "problem" in params:  # msgids too: one, or several to list
            problem = params["problem"]
            params["problem"] = ", ".join(gettext(p) for p in problem) if isinstance(problem, (list, tuple)) \
                else gettext(str(problem))
        try:
            return text % params if params else text
        except (KeyError, ValueError, TypeError):
            return text


def number_text(value: float) -> str:
    """A number as French writes it in a rationale: « 10,5 »."""
    return f"{value:g}".replace(".", ",")


__all__ = ["CheckResult", "Evidence", "MET", "NOT_ASSESSABLE", "NOT_MET", "RESULTS", "number_text"]
