"""Port bookkeeping: which engine events were handled, and the commands waiting for delivery."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class ProcessedEvent(models.Model):
    """An engine event already handled, with the commands it produced: a redelivery gets the same answer."""

    source = models.CharField(max_length=60)
    event_id = models.CharField(max_length=100)
    received_at = models.DateTimeField()
    commands = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "event_id"], name="processed_event_unique")]

    def __str__(self) -> str:
        return f"{self.source}:{self.event_id}"


class OutboundCommand(models.Model):
    """A command produced outside an engine event (a timer, a supervisor, an operator's resume).

    Written in the same transaction as the state change it follows (transactional outbox), then delivered
    by the backend: pushed to the webhook engine, polled by it, or drained by the simulator.
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    call_ref = models.CharField(max_length=100)
    payload = models.JSONField()
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["account", "id"], name="outbox_pending_idx",
                                condition=Q(delivered_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.payload.get('type')} {self.call_ref}"
