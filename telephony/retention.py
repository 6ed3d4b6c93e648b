"""How long the port's bookkeeping is kept, and the start-up check that it outlives every redelivery.

A processed event's row is what makes a redelivery harmless (the same id gets the same answer and changes
nothing): the webhook refuses a request signed more than `REPLAY_WINDOW_SECONDS` ago, so a horizon
(`TELEPHONY_EVENT_RETENTION_HOURS`) longer than that keeps every event that can still come back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.core.exceptions import ImproperlyConfigured

from .signing import REPLAY_WINDOW_SECONDS


def retention() -> dt.timedelta:
    """The configured horizon; refused unless longer than the webhook's replay window."""
    horizon = dt.timedelta(hours=settings.TELEPHONY_EVENT_RETENTION_HOURS)
    if horizon.total_seconds() <= REPLAY_WINDOW_SECONDS:
        raise ImproperlyConfigured(
            f"TELEPHONY_EVENT_RETENTION_HOURS ({settings.TELEPHONY_EVENT_RETENTION_HOURS}) must be longer than "
            f"the webhook's {REPLAY_WINDOW_SECONDS} s replay window: a redelivered event whose row was purged "
            f"would be applied twice.")
    return horizon


def check_event_retention(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A system check (`manage.py check`, migrate, runserver): a too short horizon fails at start-up."""
    try:
        retention()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="telephony.E001")]
    return []
