"""The transactional outbox for commands that no engine event is waiting for."""

from __future__ import annotations

from django.db import transaction

from core.clock import now
from core.pipeline import DeferredWrites

from .backends import get_backend
from .models import OutboundCommand
from .port import COMMAND_TYPES, Command


def record(account_id: int, commands: list[Command], *, notify: bool = True,
           writes: DeferredWrites | None = None) -> None:
    """Store commands in the current transaction; the backend is told once it commits.

    With `writes` (a unit of work's deferred writes) the rows go with the unit's other writes and COMMIT.
    An engine in this very process (the simulator's) is handed the commands after the commit instead: no row."""
    if not commands:
        return
    backend = get_backend()
    if notify and backend.in_process(account_id):
        handed = list(commands)
        transaction.on_commit(lambda: backend.deliver(account_id, handed))
        return
    at = now()
    rows = [OutboundCommand(account_id=account_id, call_ref=c.call_ref, payload=c.as_dict(), created_at=at)
            for c in commands]
    if writes is None:
        OutboundCommand.objects.bulk_create(rows)
    else:
        writes.insert(rows)
    if notify:
        transaction.on_commit(lambda: get_backend().notify_pending(account_id))


def command_from_dict(payload: dict) -> Command:
    data = dict(payload)
    cls = COMMAND_TYPES[data.pop("type")]
    return cls(**data)


# Call refs of the supervisors' test calls: their commands go to the test-call player, never to an engine.
TEST_CALL_PREFIX = "test-"


@transaction.atomic
def take_pending(account_id: int, limit: int = 500, *, test_calls: bool = False, call_ref: str | None = None,
                 types: frozenset[str] | None = None) -> list[Command]:
    """Claim the oldest undelivered commands (several pollers never get the same command).

    An engine (`test_calls=False`) never gets a test call's commands; the test-call player gets only those.
    `call_ref` and `types` narrow the claim to one call's commands, or to some command types (an engine that
    fetches a call's steps when it asks for them, and carries out only some kinds on its own)."""
    pending = OutboundCommand.objects.filter(account_id=account_id, delivered_at__isnull=True)
    if call_ref is not None:
        pending = pending.filter(call_ref=call_ref)
    if types is not None:
        pending = pending.filter(payload__type__in=sorted(types))
    pending = (pending.filter(call_ref__startswith=TEST_CALL_PREFIX) if test_calls
               else pending.exclude(call_ref__startswith=TEST_CALL_PREFIX))
    rows = list(pending.order_by("id").select_for_update(skip_locked=True)[:limit])
    if not rows:
        return []
    OutboundCommand.objects.filter(pk__in=[r.pk for r in rows]).update(delivered_at=now())
    return [command_from_dict(r.payload) for r in rows]

