"""Billable time and its price (the increment rule itself is accounts/increments.py, shared with the calls API)."""

from __future__ import annotations

from decimal import Decimal

from accounts.increments import billable_seconds

__all__ = ["billable_seconds", "overage_cost"]


def overage_cost(used_seconds: int, included_minutes: int | None, rate_per_minute: Decimal) -> Decimal:
    """The price of the minutes used beyond the plan's included minutes (none included: all are billed)."""
    included = (included_minutes or 0) * 60
    extra = max(0, used_seconds - included)
    return (Decimal(extra) / Decimal(60) * rate_per_minute).quantize(Decimal("0.01"))
