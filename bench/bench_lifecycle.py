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

from acd.tests.switch import Switch, only_ring, start_clock  # noqa: E402
from acd.tests.test_queue_overflow import factories_prompt  # noqa: E402
from agents import actions as presence  # noqa: E402
from core.clock import use_clock  # noqa: E402
from core.roundtrips import count_round_trips  # noqa: E402
from routing.choices import PromptKind  # noqa: E402
from telephony import port  # noqa: E402
from tests import factories  # noqa: E402

WHOLE_CALL = ("incoming_call (welcome)", "prompt_finished (rings)", "leg_ringing", "leg_answered",
              "hangup (wrap-up)")


def floor(switch: Switch):
    account = switch.account
    ops = [factories.make_operator(account) for _ in range(3)]
    service = factories.make_service(account, [(op, 5) for op in ops], wrapup_seconds=10)
    service.welcome_prompt = factories_prompt(account, PromptKind.WELCOME)
    service.save()
    number = factories.make_number(account, service)
    for op in ops:
        presence.login_operator(op.pk)
    ref, _ = switch.incoming(number.number)  # warm-up: counters created, statements prepared
    switch.event(port.PromptFinished, ref)
    switch.hangup(ref)
    return number


def measure(switch: Switch, number) -> dict[str, int]:
    seen: dict[str, int] = {}

    def step(name, fn):
        with count_round_trips() as rt:
            result = fn()
        seen[name] = rt.count
        return result

    ref, _ = step("incoming_call (welcome)", lambda: switch.incoming(number.number))
    ring = only_ring(step("prompt_finished (rings)", lambda: switch.event(port.PromptFinished, ref)))
    step("leg_ringing", lambda: switch.event(port.LegRinging, ref, leg_ref=ring.leg_ref))
    ring = only_ring(step("leg_no_answer (rings the next)", lambda: switch.no_answer(ref, ring)))
    step("leg_answered", lambda: switch.answer(ref, ring))
    bye = port.Hangup(event_id=f"bye-{ref}", call_ref=ref)
    step("hangup (wrap-up)", lambda: switch.send(bye))
    step("duplicate event", lambda: switch.send(bye))
    return seen


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
        number = floor(switch)
        events = measure(switch, number)
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
