"""Django's PostgreSQL backend with every wait for the server bounded on the client, pooled or not.

The web processes take their connections from a pool whose connection class bounds each wait
(`core.dbbounds.bounded_connection_class`). Everything else — the Celery workers and beat, management commands,
the simulator — opens plain connections (Django's `Database.connect`), and a server that stops answering (its
processes hung, a network path that drops packets without a reset) held such a process in a socket read for as
long as the freeze lasted: a dialer worker or beat frozen with the database, and still holding whatever it had
locked. This backend opens those connections with the same bounded class (DB_CLIENT_TIMEOUT): past the bound
the connection is closed and the statement raises `OperationalError`; the task fails and is retried as any
task that met a database error, and the next one gets a new connection.
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base

from core.dbbounds import bounded_connection_class


class _BoundedDriver:
    """psycopg as Django's backend uses it (`self.Database`), but connecting with the bounded class."""

    def __getattr__(self, name: str) -> Any:
        return getattr(psycopg, name)

    @staticmethod
    def connect(**params: Any) -> psycopg.Connection:
        return bounded_connection_class(getattr(settings, "DB_CLIENT_TIMEOUT", 0.0)).connect(**params)


class DatabaseWrapper(base.DatabaseWrapper):
    Database = _BoundedDriver()
