"""Each distribution criterion (domain.md, seed 001) with its tie-breaks and fallbacks."""

import pytest

from acd.choices import CallState
from acd.tests.switch import only_ring, rings
from agents import actions as presence
from agents.models import Operator
from routing.choices import Criterion
from routing.models import CallerRoute
from telephony import port
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def staff(account, switch, levels, **service_kw):
    """Operators logged in one second apart (the first is free the longest), in a service."""
    ops = [factories.make_operator(account, name=f"op{i}") for i in range(len(levels))]
    service = factories.make_service(account, list(zip(ops, levels, strict=True)), wrapup_seconds=0, **service_kw)
    number = factories.make_number(account, service)
    for op in ops:
        presence.login_operator(op.pk)
        switch.clock.advance(1)
    return ops, service, number


def rung(switch, number, caller="+393331112222"):
    ref, commands = switch.incoming(number.number, caller)
    return ref, only_ring(commands)


def who(ring):
    return Operator.objects.get(offers__leg_ref=ring.leg_ref)


def talk(switch, ref, ring, seconds):
    switch.answer(ref, ring)
    switch.clock.advance(seconds)
    switch.hangup(ref)


def test_longest_idle_takes_the_operator_free_longest(account, switch):
    ops, _, number = staff(account, switch, [5, 5, 5], criterion=Criterion.LONGEST_IDLE)
    _, ring = rung(switch, number)
    assert who(ring) == ops[0]
    _, ring2 = rung(switch, number)
    assert who(ring2) == ops[1]


def test_skill_level_best_first_then_free_longest(account, switch):
    ops, _, number = staff(account, switch, [3, 8, 8, 5], criterion=Criterion.SKILL)
    _, first = rung(switch, number)
    assert who(first) == ops[1]  # level 8, free longer than ops[2]
    _, second = rung(switch, number)
    assert who(second) == ops[2]
    _, third = rung(switch, number)
    assert who(third) == ops[3]


def test_skill_escalation_widens_after_n_seconds_keeping_the_place(account, switch):
    ops, _, number = staff(account, switch, [9, 4], criterion=Criterion.SKILL, escalation_seconds=30)
    presence.pause_operator(ops[0].pk)
    ref, commands = switch.incoming(number.number)
    assert rings(commands) == []  # the level-4 operator is free but not yet allowed
    assert switch.call(ref).state == CallState.QUEUED
    assert rings(switch.advance(29)) == []
    widened = only_ring(switch.advance(1))
    assert who(widened) == ops[1]


def test_sequential_rotates_and_wraps_around(account, switch):
    ops, _, number = staff(account, switch, [5, 5, 5], criterion=Criterion.SEQUENTIAL)
    order = []
    for _ in range(4):
        ref, ring = rung(switch, number)
        order.append(who(ring))
        talk(switch, ref, ring, 10)
    assert order == [ops[0], ops[1], ops[2], ops[0]]


def test_sequential_skips_busy_operator(account, switch):
    ops, _, number = staff(account, switch, [5, 5, 5], criterion=Criterion.SEQUENTIAL)
    ref, ring = rung(switch, number)
    talk(switch, ref, ring, 5)
    presence.pause_operator(ops[1].pk)
    _, ring = rung(switch, number)
    assert who(ring) == ops[2]


def test_inactivity_prefers_the_operator_without_calls_the_longest(account, switch):
    ops, _, number = staff(account, switch, [5, 5], criterion=Criterion.INACTIVITY)
    ref, ring = rung(switch, number)
    assert who(ring) == ops[0]  # nobody had a call: the one free the longest
    talk(switch, ref, ring, 30)
    _, ring = rung(switch, number)
    assert who(ring) == ops[1]  # never had a call: inactive the longest


def test_minutes_produced_most_talk_first(account, switch):
    ops, _, number = staff(account, switch, [5, 5, 5], criterion=Criterion.MINUTES_PRODUCED)
    presence.pause_operator(ops[0].pk)
    ref, ring = rung(switch, number)  # ops[1]
    talk(switch, ref, ring, 300)
    ref, ring = rung(switch, number)  # ops[1] again: most minutes
    assert who(ring) == ops[1]
    switch.hangup(ref)
    presence.resume_operator(ops[0].pk)
    presence.pause_operator(ops[1].pk)
    _, ring = rung(switch, number)
    assert who(ring) == ops[2]  # ops[0] and ops[2] have 0 minutes: ops[2] is free longer


def test_fewest_calls_today(account, switch):
    ops, _, number = staff(account, switch, [5, 5], criterion=Criterion.FEWEST_CALLS)
    ref, ring = rung(switch, number)
    assert who(ring) == ops[0]
    talk(switch, ref, ring, 5)
    _, ring = rung(switch, number)
    assert who(ring) == ops[1]


def test_ring_all_rings_everyone_first_answer_wins(account, switch):
    ops, _, number = staff(account, switch, [5, 5, 5], criterion=Criterion.RING_ALL)
    ref, commands = switch.incoming(number.number)
    legs = rings(commands)
    assert len(legs) == 3
    answered = switch.answer(ref, legs[1])
    cancelled = {c.leg_ref for c in answered if isinstance(c, port.CancelLeg)}
    assert cancelled == {legs[0].leg_ref, legs[2].leg_ref}
    states = {op.pk: Operator.objects.get(pk=op.pk).state for op in ops}
    assert states == {ops[0].pk: "available", ops[1].pk: "on_call", ops[2].pk: "available"}


def test_last_operator_same_caller_gets_same_operator(account, switch):
    _ops, _, number = staff(account, switch, [5, 5, 5], criterion=Criterion.LAST_OPERATOR)
    ref, ring = rung(switch, number, caller="+393400000001")
    talk(switch, ref, ring, 20)
    first = who(ring)
    switch.clock.advance(60)
    _, ring = rung(switch, number, caller="+393400000001")
    assert who(ring) == first
    _, other = rung(switch, number, caller="+393400000002")
    assert who(other) != first


def test_last_operator_waits_then_falls_back(account, switch):
    _ops, service, number = staff(account, switch, [5, 5], criterion=Criterion.LAST_OPERATOR)
    service.sticky_wait_seconds = 15
    service.save()
    ref, ring = rung(switch, number, caller="+393400000001")
    talk(switch, ref, ring, 20)
    sticky = who(ring)
    presence.pause_operator(sticky.pk)
    ref, commands = switch.incoming(number.number, "+393400000001")
    assert rings(commands) == []  # holds out for the known operator
    assert rings(switch.advance(14)) == []
    fallback = only_ring(switch.advance(1))
    assert who(fallback) != sticky


def test_last_operator_outside_window_uses_longest_idle(account, switch):
    ops, service, number = staff(account, switch, [5, 5], criterion=Criterion.LAST_OPERATOR)
    service.sticky_window_days = 1
    service.save()
    ref, ring = rung(switch, number, caller="+393400000001")
    talk(switch, ref, ring, 20)
    switch.clock.advance(2 * 86400)
    _, ring = rung(switch, number, caller="+393400000001")
    assert who(ring) == ops[1]  # free the longest; the old conversation is forgotten


def code_call(switch, number, digits):
    ref, commands = switch.incoming(number.number)
    assert [c.type for c in commands] == ["answer", "start_hold"] or any(
        isinstance(c, port.CollectDigits) for c in commands)
    return ref, switch.event(port.Digits, ref, digits=digits)


def test_operator_code_puts_the_caller_through(account, switch):
    ops, _, number = staff(account, switch, [5, 5, 5], criterion=Criterion.OPERATOR_CODE)
    ref, commands = switch.incoming(number.number)
    assert any(isinstance(c, port.CollectDigits) for c in commands)
    assert switch.call(ref).state == CallState.COLLECTING
    ring = only_ring(switch.event(port.Digits, ref, digits=f"{ops[2].code}#"))
    assert who(ring) == ops[2]


@pytest.mark.parametrize(("action", "expect"), [("fallback", "ring_other"), ("wait", "wait"),
                                                ("voicemail", "voicemail")])
def test_operator_code_when_that_operator_is_away(account, switch, action, expect):
    ops, service, number = staff(account, switch, [5, 5], criterion=Criterion.OPERATOR_CODE)
    service.code_unavailable_action = action
    service.save()
    presence.pause_operator(ops[1].pk)
    ref, commands = code_call(switch, number, str(ops[1].code))
    if expect == "ring_other":
        assert who(only_ring(commands)) == ops[0]
    elif expect == "wait":
        assert rings(commands) == []
        presence.resume_operator(ops[1].pk)
        assert who(only_ring(switch.pending())) == ops[1]
    else:
        assert any(isinstance(c, port.RecordVoicemail) for c in commands)
        assert switch.call(ref).state == CallState.VOICEMAIL


def test_unknown_operator_code_goes_to_anyone(account, switch):
    ops, _, number = staff(account, switch, [5], criterion=Criterion.OPERATOR_CODE)
    _, commands = code_call(switch, number, "999999")
    assert who(only_ring(commands)) == ops[0]


def test_caller_number_routing_longest_prefix_wins(account, switch):
    italy_op, milan_op = factories.make_operator(account), factories.make_operator(account)
    italy = factories.make_service(account, [(italy_op, 5)], name="Italy")
    milan = factories.make_service(account, [(milan_op, 5)], name="Milan")
    default_op = factories.make_operator(account)
    default = factories.make_service(account, [(default_op, 5)], name="Default")
    number = factories.make_number(account, default, route_by_caller=True)
    CallerRoute.objects.create(account=account, prefix="+39", service=italy)
    CallerRoute.objects.create(account=account, prefix="+3902", service=milan)
    for op in (italy_op, milan_op, default_op):
        presence.login_operator(op.pk)
    cases = {"+390212345678": milan, "+390612345678": italy, "+441234567890": default}
    for caller, service in cases.items():
        ref, _ = switch.incoming(number.number, caller)
        assert switch.call(ref).service == service, caller


def test_criterion_override_per_number(account, switch):
    ops, service, _ = staff(account, switch, [3, 9], criterion=Criterion.LONGEST_IDLE)
    skill_number = factories.make_number(account, service, criterion_override=Criterion.SKILL)
    _, ring = rung(switch, skill_number)
    assert who(ring) == ops[1]
