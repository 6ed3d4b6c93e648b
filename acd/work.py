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
from core.events import account_group, send_event_on_commit
from core.pipeline import DeferredWrites
from telephony.port import Command

from .models import Call, CallEvent


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
        sequence with an earlier read) is inserted with them too; one without is inserted at once, since
        later writes refer to its key."""
        if not obj._state.adding:
            self.writes.save(obj, fields)
        elif obj.pk is None:
            obj.save()
        else:
            self.writes.insert([obj])
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
            # One small hint per account: the wallboards refresh their call figures (debounced).
            for account_id in sorted({row.account_id for row in self.log_rows}):
                send_event_on_commit([account_group(account_id)], {"type": "calls.changed", "account": account_id})
            self.log_rows = []
