"""Queueing a Celery task after a commit, without ever failing the request that committed.

The broker is Redis. When it is down, `task.delay()` raises (kombu's OperationalError) inside the commit's
on_commit callbacks, that is after the change is committed: the client got a 500 for a change that happened,
and a client that retried dialled twice. The database stays the source of truth: whatever the task would have
done is still recorded there (pending commands stay in the outbox for the next push or the engine's poll), so
a task that cannot be queued is logged, not raised.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)


def enqueue(task: Any, *args: Any) -> bool:
    """`task.delay(*args)`; False (logged) when the broker does not take it."""
    try:
        task.delay(*args)
    except Exception:  # the broker (Redis) is down or unreachable: the committed change stands
        log.exception("could not queue %s%r; the broker does not answer", getattr(task, "name", task), args)
        return False
    return True


def enqueue_on_commit(task: Any, *args: Any) -> None:
    transaction.on_commit(lambda: enqueue(task, *args))
