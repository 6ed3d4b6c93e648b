"""What the engine is told to play: an uploaded prompt's URL, or a built-in prompt's name."""

from __future__ import annotations

from routing.models import Prompt

BUILTIN_HOLD = "builtin:hold"
BUILTIN_BUSY = "builtin:busy"
BUILTIN_VOICEMAIL = "builtin:voicemail-greeting"
BUILTIN_CLOSED = "builtin:closed"
BUILTIN_OPERATOR_CODE = "builtin:enter-operator-code"
BUILTIN_MENU = "builtin:menu"  # a menu without its own prompt: "choose an option"
BUILTIN_MENU_INVALID = "builtin:menu-invalid"  # "that is not a valid choice"
BUILTIN_MENU_GOODBYE = "builtin:menu-goodbye"  # no valid choice, no fallback service: goodbye


def prompt_ref(prompt: Prompt | None, builtin: str) -> str:
    return prompt.audio.url if prompt is not None and prompt.audio else builtin


def prompt_seconds(prompt: Prompt | None) -> float:
    return float(prompt.duration_seconds) if prompt is not None else 0.0
