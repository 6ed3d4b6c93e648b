"""One unit of ACD work: the moment it happens, the commands it produces, the queue-log rows it writes,
and the operators it freed (who take the next waiting call before the transaction ends).

Log rows are written in one bulk insert at the end of the transaction (fewer round trips on the hot path).
The end-of-transaction steps themselves are run by `acd.unit` (the one place that writes them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from core.events import account_group, send_event_on_commit
from telephony.port import Command

from .models import Call, CallEvent


@dataclass
class Work:
    at: dt.datetime
    commands: list[Command] = field(default_factory=list)
    log_rows: list[CallEvent] = field(default_factory=list)
    freed_operators: list[int] = field(default_factory=list)

    def command(self, *commands: Command) -> None:
        self.commands.extend(commands)

    def log(self, call: Call, kind: str, *, operator_id: int | None = None, **data: Any) -> None:
        self.log_rows.append(CallEvent(account_id=call.account_id, call=call, at=self.at, kind=kind,
                                       service_id_at=call.service_id, operator_id_at=operator_id, data=data))

    def freed(self, operator_id: int) -> None:
        """The operator is free again: before this unit ends they are offered the best waiting call."""
        self.freed_operators.append(operator_id)

    def flush(self) -> None:
        if self.log_rows:
            CallEvent.objects.bulk_create(self.log_rows)
            # One small hint per account: the wallboards refresh their call figures (debounced).
            for account_id in sorted({row.account_id for row in self.log_rows}):
                send_event_on_commit([account_group(account_id)], {"type": "calls.changed", "account": account_id})
            self.log_rows = []
