"""Every wait for PostgreSQL is bounded on the client in every process, not only in the web's pool (issue 11).

The project's backend (`core.backends.postgresql`) opens Celery's, beat's and the commands' plain connections
with the bounded class; `manage.py migrate` lifts the bound for its own session. The whole-server freeze, with a
real worker and beat, is in tests/faults/test_postgres_frozen.py."""

import time

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection, connections

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_plain_connection_waits_for_the_server_no_longer_than_the_client_bound(settings):
    settings.DB_CLIENT_TIMEOUT = 1.0
    plain = connections.create_connection("default")
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="DB_CLIENT_TIMEOUT"), plain.cursor() as cur:
            cur.execute("SELECT pg_sleep(4)")  # to the client, a server that says nothing for 4 s
        assert time.monotonic() - started < 3.0
        assert plain.connection.closed  # never handed out again in an unknown state
        plain.close_if_unusable_or_obsolete()
        with plain.cursor() as cur:  # the next statement gets a new connection
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
    finally:
        plain.close()


def test_migrate_lifts_the_client_bound_for_its_own_session(settings):
    settings.DB_CLIENT_TIMEOUT = 1.0
    connection.close()
    call_command("migrate", verbosity=0)
    assert connection.connection.wait_bound == 0.0
    with connection.cursor() as cur:  # an index build on a big table may take this long, and more
        cur.execute("SELECT pg_sleep(1.5)")
        cur.execute("SHOW statement_timeout")
        assert cur.fetchone() == ("0",)
    connection.close()  # the next test's connection is bounded again as configured
