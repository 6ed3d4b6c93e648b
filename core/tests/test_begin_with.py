"""`core.pipeline.begin_with`: the transaction's BEGIN and its first statements in one round trip."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from core.pipeline import begin_with
from core.roundtrips import count_round_trips

pytestmark = pytest.mark.django_db(transaction=True)


def test_begin_and_statements_travel_together_and_run_in_order():
    with count_round_trips() as rt, transaction.atomic():
        first, second = begin_with([("SELECT txid_current(), %(x)s::int", {"x": 5}),
                                    ("SELECT txid_current(), %(y)s::text", {"y": "q"})])
        with connection.cursor() as cur:
            cur.execute("SELECT txid_current()")
            third = cur.fetchone()[0]
    assert first[0][1] == 5 and second[0][1] == "q"
    # One transaction: the three statements saw the same transaction id.
    assert first[0][0] == second[0][0] == third
    # BEGIN with both statements, the third statement, the COMMIT.
    assert rt.count == 3, rt.describe()
    assert "BEGIN" in rt.describe().splitlines()[0]


def test_a_failing_statement_rolls_the_transaction_back():
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE begin_with_probe (n int PRIMARY KEY)")
    with pytest.raises(IntegrityError), transaction.atomic():
        begin_with([("INSERT INTO begin_with_probe VALUES (%(n)s)", {"n": 1}),
                    ("INSERT INTO begin_with_probe VALUES (%(n)s)", {"n": 1})])
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM begin_with_probe")
        assert cur.fetchone()[0] == 0


def test_the_transaction_plans_its_prepared_statements_once():
    """The statements of a transaction a first round trip opens keep their generic plans (no planning per
    execution), for that transaction only: the session's own setting is back after the COMMIT."""
    with transaction.atomic():
        (inside,) = begin_with([("SELECT current_setting('plan_cache_mode') WHERE %(x)s::int = 1", {"x": 1})])
        with connection.cursor() as cur:
            cur.execute("SHOW plan_cache_mode")
            later = cur.fetchone()[0]
    with connection.cursor() as cur:
        cur.execute("SHOW plan_cache_mode")
        after = cur.fetchone()[0]
    assert inside[0][0] == later == "force_generic_plan"
    assert after == "auto"
