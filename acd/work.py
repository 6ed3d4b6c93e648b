"""One unit of ACD work: the moment it happens, the commands it produces, the queue-log rows it writes,
and the operators it freed (who take the next waiting call before the transaction ends).

Changed rows and log rows are not written one by one: they are collected in `writes` and sent, with the
COMMIT, in one round trip when the unit ends (`core.pipeline`). Reads inside the unit therefore see the
database as it was before the unit's own changes: code that changed a row keeps working on its object.
The end-of-transaction steps themselves are run by `acd.unit` (the one place that writes them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from agents.models import Operator
from core import outgoing
from core.events import account_group, send_event_on_commit
from core.pipeline import DeferredWrites
from telephony.port import Command

from .choices import CallEventKind, HangupCause
from .models import Call, CallEvent

# The queue-log rows integrators hear of (core.outgoing), and as what.
OUTGOING_KINDS = {CallEventKind.ARRIVED: outgoing.EventType.CALL_ARRIVED,
                  CallEventKind.CONNECTED: outgoing.EventType.CALL_ANSWERED,
                  CallEventKind.ENDED: outgoing.EventType.CALL_ENDED,
                  CallEventKind.REJECTED: outgoing.EventType.CALL_ENDED}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def call_payload(call: Call) -> dict[str, Any]:
    """The call as outgoing events carry it: only the row's own columns (reading a related row here would
    cost the call path a round trip). `menu_path`: the IVR choices the caller made, once the call records
    them (empty until then)."""
    return {"id": call.pk, "direction": call.direction, "caller": call.caller, "dialed": call.dialed,
            "state": call.state, "outcome": call.outcome, "end_cause": call.end_cause,
            "service_id": call.service_id, "number_id": call.number_id, "operator_id": call.operator_id,
            "arrived_at": _iso(call.arrived_at), "answered_at": _iso(call.answered_at),
            "ended_at": _iso(call.ended_at), "wait_seconds": call.wait_seconds, "talk_seconds": call.talk_seconds,
            "transferred_to": call.transferred_to,
            "menu_path": list(getattr(call, "menu_path", None) or [])}


def outgoing_events(rows: list[CallEvent]) -> list[outgoing.OutgoingEvent]:
    """The integrators' events told by a unit's queue-log rows, in the order logged; each call's in order
    (`order_key`), and a refusal over the plan's limit also as `plan_limit.reached`."""
    events = []
    for row in rows:
        kind = OUTGOING_KINDS.get(row.kind)
        if kind is None:
            continue
        key = f"call:{row.call_id}"
        events.append(outgoing.OutgoingEvent(row.account_id, kind, {"call": call_payload(row.call)}, key))
        if row.kind == CallEventKind.REJECTED and row.data.get("cause") == HangupCause.REACH_PLAN_LIMIT:
            events.append(outgoing.OutgoingEvent(row.account_id, outgoing.EventType.PLAN_LIMIT_REACHED, {
                "call_id": row.call_id, "direction": row.call.direction, "at": _iso(row.at),
                "limited_by_account_id": row.data.get("limited_by", row.account_id)}, key))
    return events


@dataclass
class Work:
    at: dt.datetime
    commands: list[Command] = field(default_factory=list)
    log_rows: list[CallEvent] = field(default_factory=list)
    freed_operators: list[Operator] = field(default_factory=list)
    writes: DeferredWrites = field(default_factory=DeferredWrites)
    # Sent after every other write, just before the COMMIT: the statements that lock a row every call of an
    # account queues on (the channel counter), so it stays locked for the shortest time (`acd.unit.send`).
    closing: DeferredWrites = field(default_factory=DeferredWrites)
    # An incoming call probes the budget and takes its channel at the COMMIT; after a lost race (`budget.Raced`)
    # the event runs again with the locking acquire in its first round trip.
    channel_at_commit: bool = True

    def save(self, obj: models.Model, fields: list[str] | None = None) -> None:
        """Write a row with the unit's other writes. A new row that already has its key (taken from the
        sequence with an earlier read) is inserted with them too, with the values it has when they are sent
        (so saving it again in this unit costs nothing); one without is inserted at once, since later writes
        refer to its key."""
        if not obj._state.adding:
            if not self.writes.inserting(obj):
                self.writes.save(obj, fields)
        elif obj.pk is None:
            obj.save()
        else:
            self.writes.insert_late(obj)
            obj._state.adding = False

    def command(self, *commands: Command) -> None:
        self.commands.extend(commands)

    def log(self, call: Call, kind: str, *, operator_id: int | None = None, **data: Any) -> None:
        self.log_rows.append(CallEvent(account_id=call.account_id, call=call, at=self.at, kind=kind,
                                       service_id_at=call.service_id, operator_id_at=operator_id, data=data))

    def freed(self, operator: Operator) -> None:
        """The operator (locked, changed in this unit) is free again: before the unit ends they are offered
        the best waiting call. The object itself is kept: the database does not have its new state yet."""
        self.freed_operators.append(operator)

    def flush(self) -> None:
        if self.log_rows:
            self.writes.insert(self.log_rows)
            if outgoing.wanted():  # with the writes: no round trip of its own (core.outgoing)
                outgoing.record(outgoing_events(self.log_rows), self.writes)
            # One small hint per account: the wallboards refresh their call figures (debounced).
            for account_id in sorted({row.account_id for row in self.log_rows}):
                send_event_on_commit([account_group(account_id)], {"type": "calls.changed", "account": account_id})
            self.log_rows = []
