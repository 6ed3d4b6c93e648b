"""Round-trip baselines of the call path, counted at the wire (BEGIN and COMMIT included).

NetBox's query-count idea: each event type has a ceiling, and a change that adds a round trip fails here
with the list of what was sent. The ceilings are today's figures, issue 9's target: each event in two
round trips (BEGIN with every lock and read the event needs, then its writes with the COMMIT), a
sign of life in one, a redelivery in two; 9 for a whole answered call with a welcome prompt. Before the
unit of work sent its writes with the COMMIT they were incoming 9, prompt_finished 13, leg_ringing 5,
no-answer 20, answered 14, hangup 12 (55 for the whole call); before the first round trip carried the
BEGIN and the routing, 4, 4, 1, 5, 4, 5 and 5 for a duplicate (18). Lower a ceiling whenever a change
removes a round trip.
"""

from __future__ import annotations

import pytest

from acd.tests.switch import only_ring
from acd.tests.test_queue_overflow import factories_prompt
from agents import actions as presence
from core.roundtrips import count_round_trips
from telephony import port
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

CEILINGS = {
    "incoming_call (welcome)": 2,
    "prompt_finished (rings)": 2,
    "leg_ringing": 1,
    "leg_no_answer (rings the next)": 2,
    "leg_answered": 2,
    "hangup (wrap-up)": 2,
    "duplicate event": 2,
}
WHOLE_CALL = ("incoming_call (welcome)", "prompt_finished (rings)", "leg_ringing", "leg_answered",
              "hangup (wrap-up)")
WHOLE_CALL_CEILING = 9


@pytest.fixture
def floor(account, switch):
    """Three operators logged in; a service with a welcome prompt and wrap-up. The first call of the
    account has gone through, so the figures are the steady state (counters and caches warm)."""
    ops = [factories.make_operator(account) for _ in range(3)]
    service = factories.make_service(account, [(op, 5) for op in ops], wrapup_seconds=10)
    service.welcome_prompt = factories_prompt(account, "welcome")
    service.save()
    number = factories.make_number(account, service)
    for op in ops:
        presence.login_operator(op.pk)
    ref, _ = switch.incoming(number.number)
    switch.hangup(ref)
    return number


def measure(switch, number) -> dict[str, tuple[int, str]]:
    seen: dict[str, tuple[int, str]] = {}

    def step(name, fn):
        with count_round_trips() as rt:
            result = fn()
        seen[name] = (rt.count, rt.describe())
        return result

    ref, _ = step("incoming_call (welcome)", lambda: switch.incoming(number.number))
    ring = only_ring(step("prompt_finished (rings)", lambda: switch.event(port.PromptFinished, ref)))
    step("leg_ringing", lambda: switch.event(port.LegRinging, ref, leg_ref=ring.leg_ref))
    ring = only_ring(step("leg_no_answer (rings the next)", lambda: switch.no_answer(ref, ring)))
    step("leg_answered", lambda: switch.answer(ref, ring))
    bye = port.Hangup(event_id="bye-once", call_ref=ref)
    step("hangup (wrap-up)", lambda: switch.send(bye))
    step("duplicate event", lambda: switch.send(bye))
    return seen


def test_round_trips_per_event_stay_within_their_ceilings(floor, switch):
    seen = measure(switch, floor)
    over = {name: f"{count} > {CEILINGS[name]}:\n{sent}" for name, (count, sent) in seen.items()
            if count > CEILINGS[name]}
    assert not over, "\n\n".join(f"{name}: {text}" for name, text in over.items())
    whole = sum(seen[name][0] for name in WHOLE_CALL)
    assert whole <= WHOLE_CALL_CEILING, {name: count for name, (count, _) in seen.items()}


def test_hang_up_without_wrap_up_rings_the_next_waiting_caller_within_two_round_trips(account, switch):
    """The freed operator takes the best waiting call at once: their services and the waiting calls (SKIP
    LOCKED) were read in the hang-up's first round trip, the new leg goes with its COMMIT."""
    op = factories.make_operator(account)
    service = factories.make_service(account, [(op, 5)], wrapup_seconds=0)
    number = factories.make_number(account, service)
    presence.login_operator(op.pk)
    talking, commands = switch.incoming(number.number)
    switch.answer(talking, only_ring(commands))
    waiting, commands = switch.incoming(number.number)
    assert not [c for c in commands if c.type == "ring"]  # the only operator is busy: the caller waits
    with count_round_trips() as rt:
        commands = switch.hangup(talking)
    assert only_ring(commands).call_ref == waiting
    assert rt.count <= 2, rt.describe()


def test_a_call_that_finds_everyone_busy_waits_after_two_round_trips(account, switch):
    """Nobody free: the call queues; whether anyone is logged in at all came with the routing statement."""
    op = factories.make_operator(account)
    service = factories.make_service(account, [(op, 5)], wrapup_seconds=0)
    number = factories.make_number(account, service)
    presence.login_operator(op.pk)
    talking, commands = switch.incoming(number.number)
    switch.answer(talking, only_ring(commands))
    with count_round_trips() as rt:
        ref, commands = switch.incoming(number.number)
    assert [c.type for c in commands] == ["answer", "start_hold"]
    assert switch.call(ref).state == "queued"
    assert rt.count <= 2, rt.describe()
