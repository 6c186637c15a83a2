"""JSON API for agent state and calls — the same services the pages use.

The agent desktop and the caller console drive calls through these routes
(fetch with the CSRF header); they are documented at ``/docs``.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from ..domain import phones
from ..services import agents, calls
from ..services.calls import CallbackRequest
from ..services.context import Actor, Context
from .deps import current_actor, get_ctx, supervisor_actor, verify_csrf

router = APIRouter(prefix="/api", tags=["calls"], dependencies=[Depends(verify_csrf)])


class AgentStateIn(BaseModel):
    state: str = Field(description="available | paused | offline")
    pause_reason: str | None = Field(None, description="lunch, training, briefing, short_break, coaching, admin")


class AgentStateOut(BaseModel):
    user_id: int
    state: str
    pause_reason: str | None
    since: datetime


class PlaceCallIn(BaseModel):
    queue_id: int
    number: str | None = Field(None, description="any format: « 06 12 34 56 78 », « +212 6 61 23 45 67 »")
    region: str | None = Field(None, description="ISO country used to read a national number (FR, MA, DZ)")
    contact_id: int | None = Field(None, description="call from this contact's first number instead")


class SayIn(BaseModel):
    text: str


class TransferIn(BaseModel):
    queue_id: int | None = None
    agent_id: int | None = None
    note: str = ""


class CloseIn(BaseModel):
    disposition_id: int | None = None
    note: str = ""
    callback_date: str = Field("", description="YYYY-MM-DD, site time zone")
    callback_time: str = Field("", description="HH:MM")
    callback_assignee: str = Field("me", description="me | team")
    callback_note: str = ""


class DispositionOut(BaseModel):
    id: int
    code: str
    label: str
    requires_callback: bool


class QueueOut(BaseModel):
    id: int
    code: str
    name: str
    dispositions: list[DispositionOut]


class ContactIn(BaseModel):
    contact_id: int


class UtteranceOut(BaseModel):
    id: int
    speaker: str
    text: str
    at: datetime


class CallOut(BaseModel):
    id: int
    state: str
    direction: str
    media: str
    queue: str
    caller_number: str
    caller_display: str
    contact_id: int | None
    agent_id: int | None
    transfer_note: str | None
    disposition: str | None
    ring_seconds: float
    talk_seconds: float
    hold_seconds: float
    wrap_up_seconds: float
    transcript: list[UtteranceOut]


def _out(view: calls.CallView) -> CallOut:
    live = view.durations
    return CallOut(
        id=view.call.id, state=view.call.state, direction=view.call.direction, media=view.call.media,
        queue=view.queue.name if view.queue else "", caller_number=view.call.caller_number,
        caller_display=phones.display(view.call.caller_number), contact_id=view.call.contact_id,
        agent_id=view.call.agent_id, transfer_note=view.call.transfer_note,
        disposition=view.disposition.code if view.disposition else None,
        ring_seconds=live.ring, talk_seconds=live.talk, hold_seconds=live.hold, wrap_up_seconds=live.wrap_up,
        transcript=[UtteranceOut(id=u.id, speaker=u.speaker, text=u.text, at=u.at) for u in view.transcript],
    )


def _state_out(presence) -> AgentStateOut:
    return AgentStateOut(user_id=presence.user_id, state=presence.state, pause_reason=presence.pause_reason,
                         since=presence.since)


@router.get("/agent/state", response_model=AgentStateOut, tags=["agents"])
def get_state(actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return _state_out(agents.get_presence(ctx, actor.id))


@router.post("/agent/state", response_model=AgentStateOut, tags=["agents"])
def set_state(body: AgentStateIn, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    agents.set_state(ctx, actor, body.state, body.pause_reason or None)
    return _state_out(agents.get_presence(ctx, actor.id))


@router.post("/calls", response_model=CallOut, status_code=201)
def place(body: PlaceCallIn, actor: Actor = Depends(supervisor_actor), ctx: Context = Depends(get_ctx)):
    call = calls.place_call(ctx, actor, body.queue_id, body.number, body.region, body.contact_id)
    return _out(calls.view(ctx, call.id))


@router.get("/calls/current", response_model=CallOut | None)
def current(actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    view = calls.current_call_of(ctx, actor.id)
    return _out(view) if view else None


@router.get("/calls/{call_id}", response_model=CallOut)
def get_call(call_id: int, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return _out(calls.view(ctx, call_id, actor))


def _action(name: str, function):
    def endpoint(call_id: int, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
        function(ctx, actor, call_id)
        return _out(calls.view(ctx, call_id, actor))

    endpoint.__name__ = f"call_{name.replace('-', '_')}"
    endpoint.__doc__ = f"{name} the call (idempotent)."
    router.add_api_route(f"/calls/{{call_id}}/{name}", endpoint, methods=["POST"], response_model=CallOut)


for _name, _function in (("answer", calls.answer), ("hold", calls.hold), ("resume", calls.resume),
                         ("toggle-hold", calls.toggle_hold), ("hangup", calls.hang_up)):
    _action(_name, _function)


@router.post("/calls/{call_id}/say", response_model=UtteranceOut, status_code=201)
def say(call_id: int, body: SayIn, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    u = calls.say(ctx, actor, call_id, body.text)
    return UtteranceOut(id=u.id, speaker=u.speaker, text=u.text, at=u.at)


@router.post("/calls/{call_id}/transfer", response_model=CallOut)
def transfer(call_id: int, body: TransferIn, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    calls.transfer(ctx, actor, call_id, body.queue_id or None, body.agent_id or None, body.note)
    return _out(calls.view(ctx, call_id))


@router.post("/calls/{call_id}/contact", response_model=CallOut)
def attach(call_id: int, body: ContactIn, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    calls.attach_contact(ctx, actor, call_id, body.contact_id)
    return _out(calls.view(ctx, call_id, actor))


@router.post("/calls/{call_id}/close", response_model=CallOut)
def close(call_id: int, body: CloseIn, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    callback = CallbackRequest(date=body.callback_date, time=body.callback_time, assignee=body.callback_assignee,
                               note=body.callback_note)
    calls.close(ctx, actor, call_id, body.disposition_id, body.note, callback)
    return _out(calls.view(ctx, call_id, actor))


@router.get("/queues", response_model=list[QueueOut], tags=["queues"])
def queue_list(actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    """Active queues with their qualification lists (dispositions), in the order agents see them."""
    return [QueueOut(id=q.id, code=q.code, name=q.name,
                     dispositions=[DispositionOut(id=d.id, code=d.code, label=d.label, requires_callback=d.requires_callback)
                                   for d in dispositions])
            for q, dispositions in calls.queues_with_dispositions(ctx)]
