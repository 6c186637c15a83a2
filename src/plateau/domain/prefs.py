"""Per-agent desktop preferences: shortcuts and adjustable timings (WCAG 2.1.4, 2.2.1)."""

from __future__ import annotations

from .errors import N_, DomainError, ValidationError

#: action → default key, always used with Alt+Shift (a modifier, so single
#: keys never fire by accident and screen-reader quick keys stay free).
DEFAULT_SHORTCUTS = {
    "answer": "A",
    "hold": "H",
    "transfer": "T",
    "hangup": "R",
    "next_step": "N",
    "save": "S",
    "controls": "C",
    "help": "K",
    "dial": "D",
    "skip": "P",
}

SHORTCUT_LABELS = {
    "answer": N_("Décrocher"),
    "hold": N_("Mettre en attente / reprendre"),
    "transfer": N_("Transférer"),
    "hangup": N_("Raccrocher"),
    "next_step": N_("Étape suivante du script"),
    "save": N_("Enregistrer la fiche"),
    "controls": N_("Aller aux commandes d'appel"),
    "help": N_("Aide des raccourcis"),
    "dial": N_("Appeler la fiche affichée (campagne en aperçu)"),
    "skip": N_("Passer à la fiche suivante (campagne en aperçu)"),
}

#: where a default key goes when the agent gave it to another action (an action added after they
#: saved their keys): the first of these that none of their shortcuts uses
SPARE_KEYS = "JLMOQUVWXYZ0123456789"

DEFAULTS = {
    "ring_timeout_s": 20,
    "wrap_up_limit_s": 120,
    "session_timeout_min": 240,
    "shortcuts": DEFAULT_SHORTCUTS,
}

LIMITS = {
    "ring_timeout_s": (5, 300),
    "wrap_up_limit_s": (15, 3600),
    "session_timeout_min": (5, 1440),
}


def effective(prefs: dict | None) -> dict:
    """The user's preferences with defaults filled in."""
    prefs = prefs or {}
    merged = {**DEFAULTS, **{k: v for k, v in prefs.items() if k in DEFAULTS}}
    merged["shortcuts"] = shortcut_keys(prefs.get("shortcuts") or {})
    return merged


def shortcut_keys(chosen: dict) -> dict[str, str]:
    """Every action's key: the agent's own, else the default — unless the agent gave that key to
    another action (they saved their keys before the action existed): then the first free spare
    key, so that one key never fires two actions."""
    mine = {action: key for action, key in chosen.items() if action in DEFAULT_SHORTCUTS and key}
    taken = set(mine.values())
    keys = {}
    for action, default in DEFAULT_SHORTCUTS.items():
        if action in mine:
            keys[action] = mine[action]
            continue
        key = default if default not in taken else next((k for k in SPARE_KEYS if k not in taken), default)
        taken.add(key)
        keys[action] = key
    return keys


def validate(values: dict) -> dict:
    """Check edited preferences; returns the clean dict or raises ValidationError."""
    errors: dict[str, DomainError] = {}
    clean: dict = {}
    for key, (low, high) in LIMITS.items():
        if key not in values:
            continue
        try:
            number = int(values[key])
        except (TypeError, ValueError):
            errors[key] = DomainError(N_("Saisissez un nombre entier."), key)
            continue
        if not low <= number <= high:
            errors[key] = DomainError(N_("Choisissez une valeur entre %(low)s et %(high)s."), key, low=low, high=high)
            continue
        clean[key] = number
    shortcuts = values.get("shortcuts")
    if shortcuts is not None:
        keys = {}
        for action, key in shortcuts.items():
            key = (key or "").strip().upper()
            if action not in DEFAULT_SHORTCUTS:
                continue
            if len(key) != 1 or not key.isalnum():
                errors[f"shortcut_{action}"] = DomainError(N_("Un raccourci est une seule lettre ou un chiffre."), f"shortcut_{action}")
                continue
            if key in keys.values():
                errors[f"shortcut_{action}"] = DomainError(N_("La touche %(key)s est déjà utilisée par un autre raccourci."), f"shortcut_{action}", key=key)
                continue
            keys[action] = key
        clean["shortcuts"] = keys
    if errors:
        raise ValidationError(errors)
    return clean
