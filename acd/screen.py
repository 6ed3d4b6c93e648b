"""What the operator learns before the caller is connected: screen card and whisper (seed 004).

The card that rides on the Ring command and the console's offer event is built from the call alone. The
caller's previous calls are a query over the account's call history: the console asks for them when it
shows the card (`caller_history`), so that no engine event waits for that query.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from agents.choices import EndpointKind
from agents.models import Operator
from routing.models import Service

from .models import Call

PREVIOUS_CALLS_SHOWN = 3


def caller_history(call: Call) -> list[dict[str, Any]]:
    """The caller's last calls before this one, newest first (read off `call_caller_history_idx`)."""
    if not call.caller:
        return []
    rows = (Call.objects.filter(account_id=call.account_id, caller=call.caller, arrived_at__lt=call.arrived_at)
            .exclude(pk=call.pk).order_by("-arrived_at")
            .values("arrived_at", "outcome", "operator__name", "service__name")[:PREVIOUS_CALLS_SHOWN])
    return [{"at": r["arrived_at"].isoformat(), "outcome": r["outcome"], "operator": r["operator__name"],
             "service": r["service__name"]} for r in rows]


def screen_info(call: Call, service: Service, at: dt.datetime) -> dict[str, Any]:
    waited_from = call.queued_at or call.arrived_at
    return {"call_id": call.pk, "service": service.name, "caller": call.caller, "dialed": call.dialed,
            "direction": call.direction,
            "waited_seconds": round((at - waited_from).total_seconds(), 1),
            "menu_path": [f"{step['digit']} {step['label']}" for step in call.menu_path],
            "fields": list(call.screen_fields or [])}


def whisper_text(call: Call, service: Service, operator: Operator) -> str:
    """A short announcement for operators reached on a phone (a browser shows the card instead).

    A service that asks for it whispers the caller's voice-menu choice to every operator before the bridge:
    the chosen option's whisper prompt, else its labels (the engine reads them out)."""
    if service.whisper_menu_choice and call.menu_path:
        last = call.menu_path[-1]
        return last.get("whisper") or ", ".join(step["label"] for step in call.menu_path)
    if operator.endpoint_kind != EndpointKind.PHONE:
        return ""
    return f"{service.name}, {call.caller or 'anonymous'}"
