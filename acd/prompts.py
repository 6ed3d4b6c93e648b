"""What the engine is told to play: an uploaded prompt's URL, or a built-in prompt's name."""

from __future__ import annotations

from routing.models import Prompt
from telephony.choices import BuiltinPrompt
from telephony.media import absolute_media_url

BUILTIN_HOLD = BuiltinPrompt.HOLD.value
BUILTIN_BUSY = BuiltinPrompt.BUSY.value
BUILTIN_VOICEMAIL = BuiltinPrompt.VOICEMAIL_GREETING.value
BUILTIN_CLOSED = BuiltinPrompt.CLOSED.value
BUILTIN_OPERATOR_CODE = BuiltinPrompt.ENTER_OPERATOR_CODE.value
BUILTIN_MENU = BuiltinPrompt.MENU.value  # a menu without its own prompt: "choose an option"
BUILTIN_MENU_INVALID = BuiltinPrompt.MENU_INVALID.value  # "that is not a valid choice"
BUILTIN_MENU_GOODBYE = BuiltinPrompt.MENU_GOODBYE.value  # no valid choice, no fallback service: goodbye


def prompt_ref(prompt: Prompt | None, builtin: str) -> str:
    """An uploaded prompt's absolute URL (on PUBLIC_BASE_URL), or the built-in prompt's name."""
    return absolute_media_url(prompt.audio.url) if prompt is not None and prompt.audio else builtin


def prompt_seconds(prompt: Prompt | None) -> float:
    return float(prompt.duration_seconds) if prompt is not None else 0.0
