"""Benchmark `lifecycle`: database round trips per engine event and per whole answered call.

Counted at the wire (`core.roundtrips`: libpq's trace, BEGIN and COMMIT included, a pipeline counts once)
on a floor of three operators and a service with a welcome prompt and wrap-up, after one warm-up call:
incoming call (welcome), prompt finished (rings an operator), leg ringing, no answer (rings the next),
answered, hang-up (wrap-up), and the hang-up delivered again. Beside it, in the same run, the baseline:
a bare transaction of one UPDATE through Django (`atomic`), as every unit of work would cost at the
least without pipelining its BEGIN. Targets (issue 9): every event ≤ 2, a redelivery ≤ 2, a whole
answered call with a welcome prompt (incoming, prompt finished, ringing, answered, hang-up) ≤ 10.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.common import fresh_django, write_result

fresh_django("lifecycle")

from django.db import connection, transaction  # noqa: E402

from acd.tests.switch import Switch, start_clock  # noqa: E402
from acd.tests.walks import WHOLE_CALL, answered_call, warm_floor  # noqa: E402
from core.clock import use_clock  # noqa: E402
from core.roundtrips import count_round_trips  # noqa: E402
from tests import factories  # noqa: E402


def bare_transaction() -> int:
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_counter (id int PRIMARY KEY, n bigint)")
        cur.execute("INSERT INTO bench_counter VALUES (1, 0) ON CONFLICT DO NOTHING")
    with count_round_trips() as rt, transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE bench_counter SET n = n + 1 WHERE id = 1")
    return rt.count


def main() -> None:
    clock = start_clock()
    with use_clock(clock):
        switch = Switch(factories.make_account(), clock)
        number = warm_floor(switch)
        events = answered_call(switch, number).counts()
    whole = sum(events[name] for name in WHOLE_CALL)
    baseline = bare_transaction()
    worst = max(events.values())
    figures = {"round_trips_per_event": events, "whole_answered_call_with_welcome": whole,
               "max_per_event": worst, "bare_transaction_one_update": baseline}
    targets = {"max_per_event": "<= 2", "duplicate event": "<= 2", "whole_answered_call_with_welcome": "<= 10"}
    met = worst <= 2 and events["duplicate event"] <= 2 and whole <= 10
    write_result("lifecycle", figures, targets, met,
                 f"whole answered call with welcome {whole} round trips (target <= 10); per event "
                 + ", ".join(f"{name} {count}" for name, count in events.items())
                 + f" (target <= 2 each); a bare one-UPDATE transaction: {baseline}")


if __name__ == "__main__":
    main()
