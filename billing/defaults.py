"""The plans shipped with the product (domain.md, seed 000). Also used by the data migration's twin."""

from __future__ import annotations

from decimal import Decimal

from .models import Plan

DEFAULT_PLANS = [
    {"code": "starter", "name": "Starter", "included_channels": 3, "extra_channels_allowed": False,
     "extra_channel_price": Decimal("0"), "included_minutes": None},
    {"code": "unlimited-wl", "name": "Unlimited (White Label)", "included_channels": 80,
     "extra_channels_allowed": True, "extra_channel_price": Decimal("7.00"), "included_minutes": None},
    {"code": "unlimited-plus", "name": "Unlimited Plus", "included_channels": 80, "extra_channels_allowed": True,
     "extra_channel_price": Decimal("7.00"), "included_minutes": 15000},
]


def ensure_default_plans() -> None:
    """Create the default plans that are missing (tests that flush the database call this)."""
    for fields in DEFAULT_PLANS:
        Plan.objects.get_or_create(code=fields["code"], defaults=fields)
