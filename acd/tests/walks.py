"""The answered call the round-trip baselines walk (acd/tests/test_round_trips.py) and `make bench-lifecycle`
counts: one floor and one walk, so the test's ceilings and the benchmark's figures are about the same call."""

from __future__ import annotations

from acd.tests.switch import Switch, only_ring
from acd.tests.test_queue_overflow import factories_prompt
from agents import actions as presence
from core.roundtrips import Steps
from routing.choices import PromptKind
from telephony import port
from tests import factories

# The steps of a whole answered call with a welcome prompt (the no-answer and the redelivery are extra).
WHOLE_CALL = ("incoming_call (welcome)", "prompt_finished (rings)", "leg_ringing", "leg_answered",
              "hangup (wrap-up)")


def warm_floor(switch: Switch):
    """Three operators logged in; a service with a welcome prompt and wrap-up; its number. The first call of the
    account has gone through, so the figures are the steady state (counters created, statements prepared)."""
    account = switch.account
    ops = [factories.make_operator(account) for _ in range(3)]
    service = factories.make_service(account, [(op, 5) for op in ops], wrapup_seconds=10)
    service.welcome_prompt = factories_prompt(account, PromptKind.WELCOME)
    service.save()
    number = factories.make_number(account, service)
    for op in ops:
        presence.login_operator(op.pk)
    ref, _ = switch.incoming(number.number)
    switch.event(port.PromptFinished, ref)
    switch.hangup(ref)
    return number


def answered_call(switch: Switch, number) -> Steps:
    """Incoming (welcome), prompt finished (rings), ringing, no answer (rings the next), answered, hang-up
    (wrap-up) and the hang-up delivered again, each step counted."""
    step = Steps()
    ref, _ = step("incoming_call (welcome)", lambda: switch.incoming(number.number))
    ring = only_ring(step("prompt_finished (rings)", lambda: switch.event(port.PromptFinished, ref)))
    step("leg_ringing", lambda: switch.event(port.LegRinging, ref, leg_ref=ring.leg_ref))
    ring = only_ring(step("leg_no_answer (rings the next)", lambda: switch.no_answer(ref, ring)))
    step("leg_answered", lambda: switch.answer(ref, ring))
    bye = port.Hangup(event_id=f"bye-{ref}", call_ref=ref)
    step("hangup (wrap-up)", lambda: switch.send(bye))
    step("duplicate event", lambda: switch.send(bye))
    return step
