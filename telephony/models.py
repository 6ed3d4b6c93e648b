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


class TestCall(models.Model):
    """A call a supervisor placed to try their setup, played by the simulator (simulator/testcall.py).

    The row is the simulated caller's memory across processes: the events it will send and when (`due`), and
    the moment it hangs up whatever happens (`ends_at`), so a test call can never ring or hold a channel for
    long. Timers are these timestamps, swept every second by Celery beat (never Celery ETAs)."""

    __test__ = False  # a model, not a pytest class (its name starts with Test)

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    call_ref = models.CharField(max_length=100, unique=True)
    number = models.CharField(max_length=20)
    caller = models.CharField(max_length=20)
    placed_by = models.CharField(max_length=150, blank=True)
    started_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    connected_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    due = models.JSONField(default=list)  # [{"at": ISO time, "event": port.event_as_dict(...)}]

    class Meta:
        indexes = [models.Index(fields=["account"], name="test_call_live_idx", condition=Q(ended_at__isnull=True))]

    def __str__(self) -> str:
        return f"test call {self.call_ref} to {self.number}"
