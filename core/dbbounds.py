"""Bounds on every wait for PostgreSQL: a database that freezes (hung, not down) costs a request seconds, never a
worker forever, and the API and the engines' webhook answer 503 `database_unavailable` with Retry-After
(`core/api/exceptions.py`, `webhook/edge.py`), as when it is down.

A freeze comes in three kinds, and each needs its own bound:

- **A lock held forever** (a transaction left open by a console session or a stuck job, a migration queued for
  an exclusive lock in front of everyone): a statement waiting for it gives up after `DB_LOCK_TIMEOUT`
  (PostgreSQL's `lock_timeout`, SQLSTATE 55P03).
- **A statement that runs on and on** (a plan gone wrong, a server starved of I/O): PostgreSQL cancels it after
  `DB_STATEMENT_TIMEOUT` (`statement_timeout`, 57014).

  Both are the server's own and are sent in each connection's startup packet (`options`), so they cost no round
  trip; each fails the statement, so its transaction is rolled back whole: nothing is half saved.
- **A server that does not answer at all** (its processes stopped, a network path that drops packets without a
  reset): neither timeout can fire, since the server runs nothing, and TCP never notices: the kernel goes on
  acknowledging what is sent. The web processes' pooled connections (`bounded_connection_class`) bound every
  wait for the server on the client: past `DB_CLIENT_TIMEOUT` the connection is closed (the pool replaces it)
  and the wait raises `OperationalError`. Whatever the transaction had sent is rolled back by the server when it
  wakes and finds the connection gone; a COMMIT it had already received commits whole, as any commit whose
  answer is lost (the engines' events are idempotent by id, so a retry after a 503 is safe either way). The
  Celery workers, beat and the management commands get the same bound through the project's database backend
  (`core/backends/postgresql`): a task meeting a hung server fails within it, as on any database error.

New connections are bounded by `DB_CONNECT_TIMEOUT` and the pool's wait by `DB_POOL_TIMEOUT`
(`callcenter/settings.py`). `manage.py migrate` lifts the server's timeouts for its own session
(`core/management/commands/migrate.py`): building an index on a big table takes as long as it takes.
"""

from __future__ import annotations

import functools

import psycopg
from psycopg import errors
from psycopg.abc import PQGen
from psycopg.connection import _WAIT_INTERVAL


def server_options(*, statement_seconds: float, lock_seconds: float) -> str:
    """The `-c` settings for a connection's startup packet (0 leaves a timeout off, as PostgreSQL's default)."""
    return " ".join(f"-c {name}={int(seconds * 1000)}" for name, seconds in
                    (("statement_timeout", statement_seconds), ("lock_timeout", lock_seconds)) if seconds > 0)


class BoundedConnection(psycopg.Connection):
    """A psycopg connection whose every wait for the server (a statement, a commit, a rollback, the pool's
    reset) ends within `wait_bound` seconds; then the connection is closed and `OperationalError` raised."""

    wait_bound: float = 0.0  # set by `bounded_connection_class`

    def wait(self, gen: PQGen, interval: float = _WAIT_INTERVAL, timeout: float | None = None) -> object:
        if timeout is not None or not self.wait_bound:
            return super().wait(gen, interval, timeout)  # psycopg's own bounded waits handle their timeout
        try:
            return super().wait(gen, interval, self.wait_bound)
        except errors._WaitTimeout:  # psycopg's own (private) wait timeout: the server said nothing
            # What the server has of this connection is in an unknown state: never hand it out again.
            self.close()
            raise psycopg.OperationalError(
                f"PostgreSQL did not answer within {self.wait_bound:g} s (DB_CLIENT_TIMEOUT); the connection was "
                "closed") from None


@functools.cache
def bounded_connection_class(seconds: float) -> type[psycopg.Connection]:
    """The connection class whose waits are bounded by `seconds` (0: psycopg's own class): the web processes'
    pool's, and every other process's through the project's database backend (`core.backends.postgresql`)."""
    if seconds <= 0:
        return psycopg.Connection
    return type("BoundedConnection", (BoundedConnection,), {"wait_bound": float(seconds),
                                                            "__module__": __name__})
