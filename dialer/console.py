"""The dialer's buttons on the operator console (registered in core/console.py by DialerConfig.ready): parse
the body, call the preview actions, answer what the console shows next."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from core.console import ConsoleExtension
from core.errors import ActionError, MissingInput

from . import preview
from .choices import AttemptOutcome

MAX_ID = 2**63 - 1


def _attempt_id(body: dict[str, Any]) -> int:
    value = body.get("attempt")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise MissingInput("attempt", _("Name the lead's attempt."), field="attempt")
    return value


def next_lead(operator_id: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"preview": preview.next_lead(operator_id)}


def dial(operator_id: int, body: dict[str, Any]) -> dict[str, Any]:
    attempt = preview.dial(operator_id, _attempt_id(body))
    # Refused (channel limit) or blocked (do-not-call, calling hours) at dial time: nothing rings.
    placed = attempt.outcome == AttemptOutcome.RINGING
    return {"preview": None, "dialing": attempt.lead.phone if placed else None,
            "outcome": attempt.outcome, "outcome_label": str(AttemptOutcome(attempt.outcome).label)}


def skip(operator_id: int, body: dict[str, Any]) -> dict[str, Any]:
    preview.skip(operator_id, _attempt_id(body))
    try:
        return {"preview": preview.next_lead(operator_id)}
    except ActionError as refused:
        if refused.code != "not_available":
            raise
        return {"preview": None}  # the skip freed them and a waiting caller rang them at once: calls first


EXTENSION = ConsoleExtension(snapshot=preview.preview_state,
                             actions={"preview_next": next_lead, "preview_dial": dial, "preview_skip": skip})
