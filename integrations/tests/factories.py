"""Test helpers of the outgoing events."""

from __future__ import annotations

from core.outgoing import EventType
from integrations.models import Subscription


def subscribe(account, url: str = "https://hooks.example.com/centralino", events=None, **kw) -> Subscription:
    return Subscription.objects.create(account=account, url=url, event_types=list(events or EventType.values), **kw)
