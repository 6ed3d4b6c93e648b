"""The round-trip counter counts what the client waits for, BEGIN and COMMIT included."""

import psycopg
import pytest
from django.db import connection, transaction

from core.roundtrips import count_round_trips

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_transaction_of_two_statements_is_four_round_trips():
    with count_round_trips() as rt, transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT 1")
        cur.execute("SELECT %s", [2])
    assert rt.count == 4, rt.describe()
    assert "BEGIN" in rt.describe().splitlines()[0]


def test_a_single_statement_in_autocommit_is_one_round_trip():
    with count_round_trips() as rt, connection.cursor() as cur:
        cur.execute("SELECT 1")
    assert rt.count == 1


def test_a_pipeline_of_statements_is_one_round_trip():
    with count_round_trips() as rt:
        raw = connection.connection
        with raw.pipeline(), psycopg.ClientCursor(raw) as cur:
            cur.execute("SELECT 1")
            cur.execute("SELECT 2")
    assert rt.count == 1, rt.describe()
