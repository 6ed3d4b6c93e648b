"""The round-trip counter counts what the client waits for, BEGIN and COMMIT included."""

import psycopg
import pytest
from django.db import connection, transaction

from core.roundtrips import _parse, count_round_trips

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


def test_a_pipeline_answered_while_the_client_still_sends_is_one_round_trip():
    """psycopg reads a pipeline's answers as they arrive while it is still sending the next statements (it
    never waits for them before the `Sync`), so the trace may show the backend's answers between the
    frontend's messages: that is still one round trip, and one `Sync` later the next."""
    trace = "\n".join([
        'F\t12\tParse\t"" "BEGIN" 0', "F\t12\tBind", "F\t6\tExecute",
        'F\t40\tBind\t"_pg3_1"', "F\t6\tDescribe", "F\t6\tExecute",
        "B\t4\tParseComplete", "B\t4\tBindComplete", "B\t10\tCommandComplete\t BEGIN",  # early answers
        'F\t40\tBind\t"_pg3_2"', "F\t6\tDescribe", "F\t6\tExecute", "F\t4\tSync", "F\t4\tFlush",
        "B\t4\tBindComplete", "B\t5\tReadyForQuery\t T",
        'F\t40\tBind\t"_pg3_3"', "F\t6\tExecute", "F\t4\tSync",
        "B\t5\tReadyForQuery\t I"])
    assert [len(trip) for trip in _parse(trace)] == [11, 3]


