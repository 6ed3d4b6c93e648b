"""Purging the port's bookkeeping: processed engine events and outbound commands older than a horizon.

The horizon (`TELEPHONY_EVENT_RETENTION_HOURS`, telephony/retention.py) must outlive every redelivery of an
event: a system check refuses a shorter one at start-up, and `purge` refuses to run with it.

Rows are deleted in bounded batches, each its own short transaction, oldest id first (the primary key's
index, so no index on the time columns slows the hot inserts): a huge backlog never becomes one giant
transaction, and one run stops after `max_batches`; the next run of the beat task continues.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet

from core.clock import now

from .models import OutboundCommand, ProcessedEvent
from .retention import retention

BATCH_SIZE = 5000
MAX_BATCHES = 100  # 500,000 rows of each kind per run at most


@dataclass(frozen=True)
class Purged:
    events: int
    commands: int


def purge(*, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES) -> Purged:
    """Delete processed events received, and outbound commands created (and delivered, if they were), before
    the horizon. A command still undelivered after the horizon is for a call long over: it goes too, except
    on a simulation account, whose times are the simulator's own clock (a day played at full speed may be
    dated months ago, its commands still waiting for the simulator to drain them)."""
    cutoff = now() - retention()
    events = ProcessedEvent.objects.filter(received_at__lt=cutoff)
    commands = OutboundCommand.objects.filter(created_at__lt=cutoff).filter(
        Q(delivered_at__lt=cutoff) | Q(delivered_at__isnull=True, account__is_simulation=False))
    return Purged(events=_delete_in_batches(events, batch_size, max_batches),
                  commands=_delete_in_batches(commands, batch_size, max_batches))


def _delete_in_batches(rows: QuerySet, batch_size: int, max_batches: int) -> int:
    total = 0
    for _ in range(max_batches):
        with transaction.atomic():  # one DELETE … WHERE id IN (SELECT id … ORDER BY id LIMIT n) per batch
            deleted, _ = rows.model.objects.filter(pk__in=rows.order_by("pk").values("pk")[:batch_size]).delete()
        total += deleted
        if deleted < batch_size:
            break
    return total
