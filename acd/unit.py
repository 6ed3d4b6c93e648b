"""The unit of work: one transaction of ACD work and the steps that close it, written once.

Every entry point of the ACD (an engine event, a timer, a presence change, a supervisor action, the
reconciler) runs in one of these. Closing it:

1. operators freed during the unit take the best waiting call at once (`serve_freed_operators`);
2. the queue-log rows are written in one bulk insert, and the wallboards get their hint after commit;
3. the commands go to the engine: an engine event returns them in its answer (`acd.events`), anything
   else leaves them in the outbox for the engine to collect;
4. every write of the unit, and the COMMIT, leave in one round trip.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import transaction

from core.clock import now
from core.pipeline import owns_transaction
from telephony import outbox

from .queue import serve_freed_operators
from .work import Work


def finish(work: Work) -> None:
    """Steps 1 and 2; the caller still holds the transaction."""
    serve_freed_operators(work)
    work.flush()


def send(work: Work) -> None:
    """The unit's last step: every deferred write, and the COMMIT when the unit owns its transaction, in
    one round trip (`core.pipeline`). The closing statements go last, right before the COMMIT."""
    work.writes.statements.extend(work.closing.statements)
    work.closing.statements = []
    work.writes.flush(commit=owns_transaction())


@contextlib.contextmanager
def unit_of_work(account_id: int) -> Iterator[Work]:
    """ACD work outside an engine event, in its own transaction; its commands go to the outbox."""
    with transaction.atomic():
        work = Work(at=now())
        yield work
        finish(work)
        outbox.record(account_id, work.commands, writes=work.writes)
        send(work)
