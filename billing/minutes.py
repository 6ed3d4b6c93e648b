"""Billable time: the plan's increment rule ("first A seconds, then steps of B": 1/1, 6/6, 30/6, 60/60)."""

from __future__ import annotations

import math
from decimal import Decimal


def billable_seconds(duration: float, first: int, step: int) -> int:
    """Seconds billed for a call of `duration` seconds. Any started second counts; a 0 s call is free."""
    if first < 1 or step < 1:
        raise ValueError("increments are whole seconds, at least 1")
    seconds = math.ceil(duration - 1e-9) if duration > 0 else 0
    if seconds == 0:
        return 0
    if seconds <= first:
        return first
    return first + math.ceil((seconds - first) / step) * step


def overage_cost(used_seconds: int, included_minutes: int | None, rate_per_minute: Decimal) -> Decimal:
    """The price of the minutes used beyond the plan's included minutes (none included: all are billed)."""
    included = (included_minutes or 0) * 60
    extra = max(0, used_seconds - included)
    return (Decimal(extra) / Decimal(60) * rate_per_minute).quantize(Decimal("0.01"))
