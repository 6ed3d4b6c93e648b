"""Outgoing events for integrators: what happened, recorded inside the action's own transaction.

The apps that change state (the ACD, presence, the dialer) name what happened here; they know nothing of
webhooks. An app above them (`integrations`) registers a recorder at start-up that turns the events into
rows of its outbox, written in the same transaction as the change (a transactional outbox): a process that
dies right after the commit loses nothing, and a rolled-back action records nothing.

With the unit of work's `writes` (the ACD's hot path) the recorder adds its statement to the writes sent
with the COMMIT, so recording costs no round trip of its own; without, it runs at once in the caller's
transaction. With no recorder registered, `record` does nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from .pipeline import DeferredWrites


class EventType(models.TextChoices):
    """What an integrator can subscribe to (the `type` of the delivered payload)."""

    CALL_ARRIVED = "call.arrived", _("Call arrived")
    CALL_ANSWERED = "call.answered", _("Call answered")
    CALL_ENDED = "call.ended", _("Call ended")
    DISPOSITION_SET = "disposition.set", _("Disposition set (dialer)")
    OPERATOR_STATE_CHANGED = "operator.state_changed", _("Operator state changed")
    PLAN_LIMIT_REACHED = "plan_limit.reached", _("Plan limit reached")
    TEST = "webhook.test", _("Test event")


@dataclass(frozen=True)
class OutgoingEvent:
    account_id: int
    type: str
    data: dict[str, Any] = field(default_factory=dict)
    # Events with the same key are delivered in the order recorded (a call's: "call:<id>"); empty: no order.
    order_key: str = ""


Recorder = Callable[[list[OutgoingEvent], DeferredWrites | None], None]
_recorders: list[Recorder] = []


def register(recorder: Recorder) -> None:
    """Called once by the app that stores the events (its AppConfig.ready)."""
    if recorder not in _recorders:
        _recorders.append(recorder)


def wanted() -> bool:
    """Whether anyone records events: callers skip building payloads when nobody does."""
    return bool(_recorders)


def record(events: list[OutgoingEvent], writes: DeferredWrites | None = None) -> None:
    """Record `events` in the caller's transaction (with `writes`, sent with the unit's COMMIT)."""
    if not events:
        return
    for recorder in _recorders:
        recorder(events, writes)
