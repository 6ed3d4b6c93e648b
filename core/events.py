"""Real-time events: built inside an action, sent only after its transaction commits.

Like Zulip's `send_event_on_commit`: a rolled-back action never tells a browser
something that did not happen. The payload is JSON round-tripped before it is
queued so that a non-serialisable event fails in the action, not in a consumer.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)


def account_group(account_id: int) -> str:
    return f"account.{account_id}"


def operator_group(operator_id: int) -> str:
    return f"operator.{operator_id}"


def _send(groups: list[str], payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "centralino.event", "event": payload}
    for group in groups:
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:  # a push is derived state: the database stays right
            log.exception("could not push %s to %s", payload.get("type"), group)


def send_event_on_commit(groups: list[str], payload: dict[str, Any]) -> None:
    payload = json.loads(json.dumps(payload))
    transaction.on_commit(lambda: _send(groups, payload))
