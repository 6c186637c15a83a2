"""A call as the evaluator reads it: the ``CALL.json`` format, validated with precise errors.

The evaluator never reads the database: a stored call is first exported to
this format (``services.call_export``), a practice call or a hand-written
transcript is given in it directly (``plateau assess CALL.json``). The format
(documented in ``docs/assessment.md``)::

    {"direction": "inbound" | "outbound",
     "company": {"name"}, "agent": {"name"}, "scenario": "…",
     "turns": [{"t": seconds, "speaker": "agent" | "caller", "text"}],
     "events": [{"t", "type", …}],
     # optional: what the evaluator uses when present
     "media": "voice" | "text",     "contact": {"name", "company"}, "charter": {"greeting", "closing"},
     "banned_words": ["…"], "targets": {"duration_s", "max_silence_s", "max_hold_s"},
     # optional, ignored by the evaluator
     "id", "title", "note", "exported_at", "labels": {criterion id: result}, "label_notes": {…}}

``t`` is in seconds from the start of the conversation. Events of the types
in ``EVENT_FIELDS`` are checked field by field; any other type is kept as it
is and ignored by the evaluator, never refused (a newer exporter may add
some). Every problem is reported at once, each one naming the path of the
field at fault (« turns[3].speaker »), in French.

Pydantic does the type checking; its error kinds are translated here into
our own messages, so that nothing English reaches the user.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr
from pydantic import ValidationError as PydanticError

from .assessment_results import number_text
from .errors import N_, DomainError, ValidationError

AGENT, CALLER = "agent", "caller"
SPEAKERS = (AGENT, CALLER)
DIRECTIONS = ("inbound", "outbound")

# --- the pydantic models (validation only) ----------------------------------------------------------

Seconds = Field(ge=0, allow_inf_nan=False)
#: ISO 8601 text: JSON has no date type, so this one field is read leniently
When = Annotated[datetime, Field(strict=False)]
Text = Field(min_length=1)
Scalar = StrictStr | StrictBool | StrictInt | StrictFloat | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Named(_Strict):
    name: StrictStr = Text


class _Contact(_Strict):
    name: StrictStr = ""
    first_name: StrictStr = ""
    last_name: StrictStr = ""
    company: StrictStr = ""
    id: StrictInt | None = None


class _Charter(_Strict):
    company: StrictStr = ""
    greeting: StrictStr = ""
    closing: StrictStr = ""


class _Targets(_Strict):
    duration_s: StrictFloat | StrictInt | None = Field(default=None, gt=0, allow_inf_nan=False)
    max_silence_s: StrictFloat | StrictInt | None = Field(default=None, gt=0, allow_inf_nan=False)
    max_hold_s: StrictFloat | StrictInt | None = Field(default=None, gt=0, allow_inf_nan=False)


class _Turn(_Strict):
    t: StrictFloat | StrictInt = Seconds
    speaker: Literal["agent", "caller"]
    text: StrictStr = Text


class _EventBase(BaseModel):
    """What every event has; the rest depends on its type."""

    model_config = ConfigDict(extra="allow", strict=True)
    t: StrictFloat | StrictInt = Seconds
    type: StrictStr = Text


class _Event(_Strict):
    t: StrictFloat | StrictInt = Seconds
    type: StrictStr


class _Hold(_Event):
    note: StrictStr = ""


class _Transfer(_Event):
    to: StrictStr = ""
    note: StrictStr = ""


class _Hangup(_Event):
    by: Literal["agent", "caller"] | None = None


class _CrmUpdate(_Event):
    field: StrictStr = Text
    value: Scalar = None
    old: Scalar = None


class _Disposition(_Event):
    code: StrictStr = Text
    label: StrictStr = ""


class _Callback(_Event):
    at: When
    note: StrictStr = ""


class _Appointment(_Event):
    at: When
    with_: StrictStr = Field(default="", alias="with")
    mode: StrictStr = ""
    note: StrictStr = ""
    status: StrictStr = ""


class _Answer(_Event):
    question: StrictStr = Text
    value: Scalar
    label: StrictStr = ""
    step: StrictStr = ""


class _Instalment(_Strict):
    due: StrictStr = Text
    amount: StrictFloat | StrictInt = Seconds


class _PaymentPlan(_Event):
    kind: StrictStr = ""
    total: StrictFloat | StrictInt | None = Field(default=None, ge=0, allow_inf_nan=False)
    debt: StrictFloat | StrictInt | None = Field(default=None, ge=0, allow_inf_nan=False)
    instalments: list[_Instalment] | StrictInt | None = None
    method: StrictStr = ""
    note: StrictStr = ""


class _Sale(_Event):
    amount: StrictFloat | StrictInt | None = Field(default=None, ge=0, allow_inf_nan=False)
    additional: StrictFloat | StrictInt | None = Field(default=None, ge=0, allow_inf_nan=False)
    products: list[StrictStr] = []
    payment_terms: StrictStr = ""
    delivery_terms: StrictStr = ""


class _Complaint(_Event):
    to: StrictStr = ""
    reason: StrictStr = ""


class _Note(_Event):
    text: StrictStr = Text


#: the event types the evaluator knows, with the model of their fields
EVENT_MODELS: dict[str, type[_Event]] = {
    "hold": _Hold,
    "resume": _Event,
    "transfer": _Transfer,
    "hangup": _Hangup,
    "crm_update": _CrmUpdate,
    "disposition": _Disposition,
    "callback": _Callback,
    "appointment": _Appointment,
    "survey_answer": _Answer,
    "script_answer": _Answer,
    "payment_plan": _PaymentPlan,
    "sale": _Sale,
    "complaint_forwarded": _Complaint,
    "note": _Note,
}
EVENT_TYPES = tuple(EVENT_MODELS)
#: the record of what was done for the caller: an action agreed during the call
ACTION_EVENTS = ("appointment", "callback", "payment_plan", "sale", "complaint_forwarded")
#: what was written into the customer file during the call
DATA_EVENTS = ("crm_update", "note", "script_answer", "survey_answer")


class _Call(_Strict):
    direction: Literal["inbound", "outbound"]
    company: _Named
    agent: _Named
    scenario: StrictStr = ""
    media: Literal["voice", "text"] | None = None
    turns: list[_Turn]
    events: list[dict[str, Any]] = []
    contact: _Contact | None = None
    charter: _Charter | None = None
    banned_words: list[StrictStr] | None = None
    targets: _Targets | None = None
    id: StrictInt | StrictStr | None = None
    title: StrictStr = ""
    note: StrictStr = ""
    exported_at: StrictStr = ""
    labels: dict[StrictStr, Literal["met", "not_met", "not_assessable"]] | None = None
    label_notes: dict[StrictStr, StrictStr] | None = None


# --- the record the evaluator reads ----------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """One turn of the conversation; ``index`` is its position in ``turns`` (0-based)."""

    index: int
    t: float
    speaker: str
    text: str

    @property
    def by_agent(self) -> bool:
        return self.speaker == AGENT


@dataclass(frozen=True)
class CallEvent:
    """One event; ``data`` holds its fields other than ``t`` and ``type``, as given."""

    index: int
    t: float
    type: str
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return self.type in EVENT_MODELS

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


@dataclass(frozen=True)
class Charter:
    """The company's greeting and closing charters (« charte d'accueil / de prise de congé »)."""

    greeting: str = ""
    closing: str = ""
    company: str = ""


@dataclass(frozen=True)
class Targets:
    """What the call is measured against (a scenario's or a campaign's time target)."""

    duration_s: float | None = None
    max_silence_s: float | None = None
    max_hold_s: float | None = None

    def merged(self, other: "Targets | None") -> "Targets":
        """These targets with ``other``'s where it sets one (a scenario overrides the call's)."""
        if other is None:
            return self
        return Targets(*(mine if theirs is None else theirs for mine, theirs in
                         ((self.duration_s, other.duration_s), (self.max_silence_s, other.max_silence_s),
                          (self.max_hold_s, other.max_hold_s))))


@dataclass(frozen=True)
class CallRecord:
    direction: str
    company: str
    agent: str
    turns: tuple[Turn, ...]
    events: tuple[CallEvent, ...] = ()
    scenario: str = ""
    #: « voice » or « text » (a typed practice call: pauses are typing, not silences); None: unknown
    media: str | None = None
    contact: Mapping[str, Any] | None = None
    charter: Charter | None = None
    banned_words: tuple[str, ...] | None = None
    targets: Targets = Targets()
    #: the keys the evaluator ignores (id, title, labels…), kept so that nothing is lost
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.extra.get("labels") or {})

    def events_of(self, *types: str) -> list[CallEvent]:
        return [event for event in self.events if event.type in types]

    def as_dict(self) -> dict:
        """The ``CALL.json`` form (``parse_call(record.as_dict())`` gives the same record)."""
        data: dict[str, Any] = {"direction": self.direction, "company": {"name": self.company},
                                "agent": {"name": self.agent}, "scenario": self.scenario,
                                "turns": [{"t": turn.t, "speaker": turn.speaker, "text": turn.text}
                                          for turn in self.turns],
                                "events": [{"t": event.t, "type": event.type, **event.data} for event in self.events]}
        if self.media is not None:
            data["media"] = self.media
        if self.contact is not None:
            data["contact"] = dict(self.contact)
        if self.charter is not None:
            data["charter"] = {k: v for k, v in (("company", self.charter.company), ("greeting", self.charter.greeting),
                                                 ("closing", self.charter.closing)) if v}
        if self.banned_words is not None:
            data["banned_words"] = list(self.banned_words)
        targets = {k: v for k, v in (("duration_s", self.targets.duration_s),
                                     ("max_silence_s", self.targets.max_silence_s),
                                     ("max_hold_s", self.targets.max_hold_s)) if v is not None}
        if targets:
            data["targets"] = targets
        data.update(self.extra)
        return data


# --- errors ----------------------------------------------------------------------------------------------------

#: pydantic's error kinds → our message (``path`` is the field, other params are named)
_MESSAGES = {
    "missing": N_("%(path)s : champ obligatoire absent."),
    "extra_forbidden": N_("%(path)s : champ inconnu (champs possibles : %(allowed)s)."),
    "literal_error": N_("%(path)s : valeur « %(value)s » refusée ; valeurs possibles : %(expected)s."),
    "string_type": N_("%(path)s : texte attendu (entre guillemets)."),
    "string_too_short": N_("%(path)s : ne doit pas être vide."),
    "float_type": N_("%(path)s : nombre attendu."),
    "int_type": N_("%(path)s : nombre attendu."),
    "float_parsing": N_("%(path)s : nombre attendu."),
    "finite_number": N_("%(path)s : nombre fini attendu."),
    "greater_than_equal": N_("%(path)s : doit être positif ou nul."),
    "greater_than": N_("%(path)s : doit être strictement positif."),
    "model_type": N_("%(path)s : objet JSON attendu ({…})."),
    "dict_type": N_("%(path)s : objet JSON attendu ({…})."),
    "model_attributes_type": N_("%(path)s : objet JSON attendu ({…})."),
    "list_type": N_("%(path)s : liste JSON attendue ([…])."),
    "bool_type": N_("%(path)s : true ou false attendu."),
    "datetime_type": N_("%(path)s : date et heure ISO 8601 attendues (par exemple 2026-11-24T10:30:00+01:00)."),
    "datetime_parsing": N_("%(path)s : date et heure ISO 8601 attendues (par exemple 2026-11-24T10:30:00+01:00)."),
    "datetime_from_date_parsing": N_("%(path)s : date et heure ISO 8601 attendues (par exemple "
                                     "2026-11-24T10:30:00+01:00)."),
}
_INVALID = N_("%(path)s : valeur invalide.")
_NOT_AN_OBJECT = N_("Le contenu doit être un objet JSON ({…}) décrivant l'appel.")
_OUT_OF_ORDER = N_("%(path)s : les répliques doivent être dans l'ordre du temps (celle-ci, à %(t)s s, suit une réplique à %(previous)s s).")
_BLANK = N_("%(path)s : ne doit pas être vide.")
ROOT = "(racine)"


def _path(location: tuple) -> str:
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in ("function-after", "function-before", "function-plain") or "[" in str(part) or part in (
                "str", "bool", "int", "float", "none", "list", "dict", "literal", "datetime"):
            continue  # a branch of a union, not a field
        else:
            text += ("." if text else "") + str(part)
    return text or ROOT


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "…"


def _allowed(model: type[BaseModel]) -> str:
    return ", ".join((info.alias or name) for name, info in model.model_fields.items())


def _translate(error: Mapping, prefix: tuple, model: type[BaseModel]) -> tuple[str, DomainError]:
    location = prefix + tuple(error.get("loc", ()))
    path = _path(location)
    kind = error.get("type", "")
    params: dict[str, Any] = {"path": path}
    message = _MESSAGES.get(kind, _INVALID)
    if kind == "extra_forbidden":
        params["allowed"] = _allowed(_model_at(model, tuple(error.get("loc", ()))[:-1]))
    elif kind == "literal_error":
        params["value"] = _shown(error.get("input"))
        params["expected"] = _expected(str((error.get("ctx") or {}).get("expected", "")))
    return path, DomainError(message, path.split("[")[0].split(".")[0], **params)


def _expected(text: str) -> str:
    """pydantic's « 'agent' or 'caller' » as « « agent », « caller » »."""
    values = [part.strip().strip("'") for part in text.replace(" or ", ",").split(",") if part.strip()]
    return ", ".join(f"« {value} »" for value in values) or "—"


def _model_at(model: type[BaseModel], location: tuple) -> type[BaseModel]:
    """The model that owns the field at ``location`` (for the list of allowed keys)."""
    current: Any = model
    for part in location:
        if isinstance(part, int) or not hasattr(current, "model_fields"):
            continue
        info = current.model_fields.get(part)
        if info is None:
            break
        annotation = info.annotation
        for candidate in getattr(annotation, "__args__", ()) or (annotation,):
            inner = getattr(candidate, "__args__", None)
            for option in (inner or (candidate,)):
                if isinstance(option, type) and issubclass(option, BaseModel):
                    current = option
                    break
            else:
                continue
            break
        else:
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                current = annotation
    return current if hasattr(current, "model_fields") else model


def _check(model: type[BaseModel], data: Any, prefix: tuple, errors: dict[str, DomainError]):
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        for error in exc.errors(include_url=False):
            path, problem = _translate(error, prefix, model)
            errors.setdefault(path, problem)
        return None


def _turn_checks(raw_turns: Any, errors: dict[str, DomainError]) -> None:
    """Blank texts and turns out of time order, read from the raw list so that they are reported
    together with every other problem (the models stop at the first one per field)."""
    if not isinstance(raw_turns, list):
        return
    previous = None
    for index, turn in enumerate(raw_turns):
        if not isinstance(turn, dict):
            continue
        text, t = turn.get("text"), turn.get("t")
        if isinstance(text, str) and not text.strip():
            path = f"turns[{index}].text"
            errors.setdefault(path, DomainError(_BLANK, "turns", path=path))
        if isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t) and t >= 0:
            if previous is not None and t < previous:
                path = f"turns[{index}].t"
                errors.setdefault(path, DomainError(_OUT_OF_ORDER, "turns", path=path, t=number_text(t),
                                                    previous=number_text(previous)))
            previous = t if previous is None else max(previous, t)


def _event(raw: Any, index: int, errors: dict[str, DomainError]) -> CallEvent | None:
    prefix = ("events", index)
    base = _check(_EventBase, raw, prefix, errors)
    if base is None:
        return None
    model = EVENT_MODELS.get(base.type)
    if model is not None and _check(model, raw, prefix, errors) is None:
        return None
    data = {key: value for key, value in raw.items() if key not in ("t", "type")}
    return CallEvent(index=index, t=float(base.t), type=base.type, data=data)


def parse_call(data: Any) -> CallRecord:
    """``data`` (the decoded JSON) as a ``CallRecord``, or ValidationError listing every problem.

    ``errors`` maps the path of each bad field (« turns[3].speaker ») to a
    ``DomainError`` whose rendered message starts with that path."""
    errors: dict[str, DomainError] = {}
    if not isinstance(data, dict):
        raise ValidationError({ROOT: DomainError(_NOT_AN_OBJECT, None)})
    call = _check(_Call, data, (), errors)
    events: list[CallEvent] = []
    for index, raw in enumerate(data.get("events") or [] if isinstance(data.get("events"), list) else []):
        event = _event(raw, index, errors)
        if event is not None:
            events.append(event)
    _turn_checks(data.get("turns"), errors)
    if errors or call is None:
        raise ValidationError(dict(sorted(errors.items(), key=lambda item: _sort_key(item[0]))))
    return _record(call, data, tuple(events))


def _sort_key(path: str) -> tuple:
    """Errors in the order of the file: top-level keys, then turns and events by index."""
    parts: list = []
    for piece in path.replace("]", "").split("["):
        for bit in piece.split("."):
            parts.append((0, int(bit), "") if bit.isdigit() else (1, 0, bit))
    return tuple(parts)


_IGNORED = ("id", "title", "note", "exported_at", "labels", "label_notes")


def _record(call: _Call, data: dict, events: tuple[CallEvent, ...]) -> CallRecord:
    turns = tuple(Turn(index=i, t=float(turn.t), speaker=turn.speaker, text=turn.text.strip())
                  for i, turn in enumerate(call.turns))
    charter = Charter(greeting=call.charter.greeting, closing=call.charter.closing,
                      company=call.charter.company) if call.charter else None
    targets = Targets(*(None if v is None else float(v) for v in (
        call.targets.duration_s, call.targets.max_silence_s, call.targets.max_hold_s))) if call.targets else Targets()
    extra = {key: data[key] for key in _IGNORED if key in data}
    contact = data.get("contact") if call.contact is not None else None
    return CallRecord(direction=call.direction, company=call.company.name.strip(), agent=call.agent.name.strip(),
                      turns=turns, events=events, scenario=call.scenario, media=call.media, contact=contact,
                      charter=charter,
                      banned_words=tuple(call.banned_words) if call.banned_words is not None else None,
                      targets=targets, extra=extra)


def duration_of(call: CallRecord, words_per_second: float = 2.5) -> float:
    """How long the conversation lasted: to the hang-up, else to the end of the last turn."""
    hangups = [event.t for event in call.events if event.type == "hangup"]
    if hangups:
        return max(hangups)
    if not call.turns:
        return 0.0
    last = call.turns[-1]
    return last.t + speaking_time(last.text, words_per_second)


def speaking_time(text: str, words_per_second: float = 2.5) -> float:
    """About how long saying ``text`` takes (transcripts only say when a turn starts)."""
    count = len(text.split())
    return math.ceil(count / words_per_second * 10) / 10 if count else 0.0


__all__ = ["ACTION_EVENTS", "AGENT", "CALLER", "CallEvent", "CallRecord", "Charter", "DATA_EVENTS", "DIRECTIONS",
           "EVENT_TYPES", "SPEAKERS", "Targets", "Turn", "duration_of", "parse_call", "speaking_time"]
