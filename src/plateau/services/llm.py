"""An optional OpenAI-compatible chat-completions endpoint, to vary a simulated caller's wording.

Off by default: nothing here runs unless ``PLATEAU_LLM_URL`` is set (with
``PLATEAU_LLM_MODEL`` and, if the server wants one, ``PLATEAU_LLM_KEY``). It
never decides anything: the persona engine chooses what the caller does and
says (``domain.persona``); the model may only *rephrase* that reply in the
persona's style and language. Any failure — no answer within the timeout, an
HTTP error, an empty or runaway answer — keeps the engine's own sentence, so
a role play works the same with the model down.

The client is the standard library's ``urllib`` (no extra runtime
dependency): one POST of ``{"model", "messages", "temperature", "seed"}`` to
``…/chat/completions``, reading ``choices[0].message.content``.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from typing import Mapping

from ..domain.persona import Reply
from ..domain.scenarios import LANGUAGES, MOOD_LABELS, STYLES, Scenario

log = logging.getLogger(__name__)

#: an answer longer than this many times the original (plus a margin) is not a rephrasing
MAX_GROWTH = 3
#: the replies a model must not touch: silence is silence
KEEP = ("transferred",)


class LlmError(Exception):
    """The endpoint did not give a usable answer (the caller keeps the engine's words)."""


@dataclass(frozen=True)
class LlmSettings:
    url: str
    model: str
    key: str = ""
    timeout_s: float = 5.0

    @property
    def endpoint(self) -> str:
        """``PLATEAU_LLM_URL`` may be the API base (``…/v1``) or the full ``…/chat/completions`` address."""
        base = self.url.rstrip("/")
        return base if base.endswith("/chat/completions") else f"{base}/chat/completions"


def settings_from_env(env: Mapping[str, str] | None = None) -> LlmSettings | None:
    """The endpoint's settings, or None when ``PLATEAU_LLM_URL`` is not set (the default: off)."""
    env = os.environ if env is None else env
    url = (env.get("PLATEAU_LLM_URL") or "").strip()
    if not url:
        return None
    timeout = env.get("PLATEAU_LLM_TIMEOUT_S") or "5"
    return LlmSettings(url=url, model=(env.get("PLATEAU_LLM_MODEL") or "default").strip(),
                       key=(env.get("PLATEAU_LLM_KEY") or "").strip(), timeout_s=float(timeout))


def chat(settings: LlmSettings, messages: list[dict], seed: int | None = None, temperature: float = 0.2) -> str:
    """One chat completion: the text of the first choice, or LlmError."""
    body = {"model": settings.model, "messages": messages, "temperature": temperature}
    if seed is not None:
        body["seed"] = seed
    headers = {"Content-Type": "application/json"}
    if settings.key:
        headers["Authorization"] = f"Bearer {settings.key}"
    request = urllib.request.Request(settings.endpoint, data=json.dumps(body).encode("utf-8"), headers=headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout_s) as response:
            data = json.loads(response.read().decode("utf-8"))
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise LlmError(str(exc)) from exc
    try:
        text = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise LlmError(f"unexpected answer: {str(data)[:200]}") from exc
    if not isinstance(text, str):
        raise LlmError("the answer is not text")
    return text.strip()


def _messages(reply: Reply, scenario: Scenario, history: list[Mapping]) -> list[dict]:
    persona = scenario.persona
    system = (
        f"Tu joues {persona.name}, {persona.age} ans, au téléphone avec un conseiller de {scenario.company.name}. "
        f"Humeur : {MOOD_LABELS[persona.mood]} ; style : {STYLES[persona.style]} ; "
        f"langue : {LANGUAGES[persona.language]}. {persona.description} "
        "On te donne la réplique que tu vas dire. Redis-la avec tes mots, dans ton style et ta langue, "
        "sans rien ajouter ni retirer : aucune information nouvelle, aucun chiffre changé, aucune promesse. "
        "Réponds par la réplique seule, sans guillemets."
    )
    messages = [{"role": "system", "content": system}]
    for turn in history[-6:]:
        role = "user" if turn.get("speaker") == "agent" else "assistant"
        messages.append({"role": role, "content": str(turn.get("text", ""))})
    messages.append({"role": "user", "content": f"Réplique à redire : {reply.text}"})
    return messages


def rephrase(reply: Reply, scenario: Scenario, history: list[Mapping] = (), seed: int | None = None,
             settings: LlmSettings | None = None) -> Reply:
    """The same reply in the model's words when an endpoint is configured and answers well; else as it is."""
    settings = settings if settings is not None else settings_from_env()
    if settings is None or not reply.text or any(kind in KEEP for kind in reply.kinds):
        return reply
    try:
        text = chat(settings, _messages(reply, scenario, list(history)), seed=seed).strip().strip("«»\"").strip()
    except LlmError as exc:
        log.warning("LLM rephrasing skipped: %s", exc)
        return reply
    if not text or len(text) > MAX_GROWTH * len(reply.text) + 80:
        return reply
    return replace(reply, text=text)


__all__ = ["LlmError", "LlmSettings", "chat", "rephrase", "settings_from_env"]
