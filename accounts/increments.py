"""Billable time: a plan's increment rule ("first A seconds, then steps of B": 1/1, 6/6, 30/6, 60/60).

It lives beside the plan (accounts) so every layer that shows a call's billed seconds (the calls API in acd,
the invoices and usage in billing) applies the one rule."""

from __future__ import annotations

import math


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
