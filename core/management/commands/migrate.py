"""`manage.py migrate` with the server's statement and lock timeouts, and the client's wait bound, lifted for its
own session.

Every connection starts with `statement_timeout` and `lock_timeout` (core/dbbounds.py) so a frozen database
costs a request seconds; a migration is the one job that may rightly run long (an index built on a big table)
or wait its turn for a table's exclusive lock, and failing it halfway through a deploy helps no one. (Each
migration runs in its own transaction: a failure rolls back that migration whole, never half of it.)"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections


class Command(DjangoMigrate):
    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        connection.ensure_connection()
        connection.connection.wait_bound = 0.0  # this connection only (core.dbbounds.BoundedConnection)
        with connection.cursor() as cur:
            cur.execute("SET statement_timeout TO 0")
            cur.execute("SET lock_timeout TO 0")
        super().handle(*args, **options)
