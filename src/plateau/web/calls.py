"""Call history pages: "Mes appels" for an agent, every call for a supervisor,
and one call in full (timeline of events, transcript, script answers)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ..domain.calls import STATE_LABELS, CallState
from ..domain.errors import N_
from ..services import calls
from ..services.context import Actor, Context
from .deps import current_actor, get_ctx, page

router = APIRouter(include_in_schema=False)

ACTION_LABELS = {
    "offer": N_("Appel présenté dans la file"),
    "ring": N_("Sonnerie chez l'agent"),
    "ring_timeout": N_("Non décroché (retour en file)"),
    "answer": N_("Décroché"),
    "hold": N_("Mis en attente"),
    "resume": N_("Repris"),
    "transfer": N_("Transféré"),
    "hang_up": N_("Raccroché"),
    "abandon": N_("Abandonné par l'appelant"),
    "close": N_("Qualifié et clôturé"),
    "contact": N_("Fiche client associée"),
    "persona": N_("Correspondant simulé (entraînement)"),
    "connect": N_("Mis en relation"),
    "fail": N_("Non joint"),
    "drop": N_("Abandonné par le numéroteur"),
    "enqueue": N_("Entré dans la file"),
    "deflect": N_("Terminé sans agent"),
    "overflow": N_("Débordement vers une autre file"),
    "take_over": N_("Repris par le superviseur"),
}


@router.get("/calls")
def call_list(request: Request, before: int | None = None, actor: Actor = Depends(current_actor),
              ctx: Context = Depends(get_ctx)):
    rows, next_before = calls.list_calls(ctx, actor, before)
    return page(request, "calls/list.html", rows=rows, next_before=next_before, STATE_LABELS=STATE_LABELS)


@router.get("/calls/{call_id}")
def call_detail(call_id: int, request: Request, actor: Actor = Depends(current_actor), ctx: Context = Depends(get_ctx)):
    return page(request, "calls/detail.html", v=calls.view(ctx, call_id, actor), STATE_LABELS=STATE_LABELS,
                ACTION_LABELS=ACTION_LABELS, CallState=CallState)
