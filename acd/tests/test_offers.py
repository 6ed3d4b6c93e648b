"""Auto-pause after N unanswered offers, back-offs, offer expiry, ring-next, whisper and screen card."""

import pytest

from acd.choices import CallState, OfferState
from acd.models import Offer
from acd.screen import caller_history
from acd.tests.switch import only_ring, rings
from agents import actions as presence
from agents.models import Operator, OperatorEvent
from telephony import port
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def setup_ops(account, switch, n=2, **service_kw):
    ops = [factories.make_operator(account) for _ in range(n)]
    service = factories.make_service(account, [(op, 5) for op in ops], wrapup_seconds=0, **service_kw)
    number = factories.make_number(account, service)
    for op in ops:
        presence.login_operator(op.pk)
        switch.clock.advance(1)
    return ops, service, number


def state(op):
    return Operator.objects.get(pk=op.pk)


def test_no_answer_pauses_after_n_misses_and_rings_the_next_at_once(account, switch):
    ops, _, number = setup_ops(account, switch, 2, pause_after_misses=2)
    ref, commands = switch.incoming(number.number)
    first = only_ring(commands)
    nxt = only_ring(switch.no_answer(ref, first))  # miss 1 of 2: next operator at once
    assert nxt.endpoint == ops[1].endpoint
    assert (state(ops[0]).state, state(ops[0]).no_answer_streak) == ("available", 1)
    switch.no_answer(ref, nxt)
    switch.hangup(ref)
    switch.clock.advance(10)  # past the retry back-off
    ref2, commands = switch.incoming(number.number)
    again = only_ring(commands)
    assert again.endpoint == ops[0].endpoint
    switch.no_answer(ref2, again)  # second miss in a row: paused
    op0 = state(ops[0])
    assert (op0.state, op0.pause_source, op0.no_answer_streak) == ("paused", "no_answer", 2)
    event = OperatorEvent.objects.filter(operator=ops[0], to_state="paused").get()
    assert (event.via, event.reason) == ("acd", "no answer")


def test_default_pauses_after_three_misses(account, switch):
    ops, service, number = setup_ops(account, switch, 2)
    assert service.pause_after_misses == 3  # one missed call is not a reason to stop an operator's calls
    for miss in (1, 2):
        ref, commands = switch.incoming(number.number)
        switch.no_answer(ref, only_ring(commands))
        assert (state(ops[0]).state, state(ops[0]).no_answer_streak) == ("available", miss)
        switch.hangup(ref)
        switch.clock.advance(60)  # past the back-off
    ref, commands = switch.incoming(number.number)
    switch.no_answer(ref, only_ring(commands))
    assert state(ops[0]).state == "paused"


def test_pauses_on_the_first_miss_when_set_so(account, switch):
    ops, _, number = setup_ops(account, switch, 2, pause_after_misses=1)
    ref, commands = switch.incoming(number.number)
    switch.no_answer(ref, only_ring(commands))
    assert state(ops[0]).state == "paused"


def test_answer_resets_the_streak(account, switch):
    ops, _, number = setup_ops(account, switch, 1, pause_after_misses=3)
    ref, commands = switch.incoming(number.number)
    switch.no_answer(ref, only_ring(commands))
    assert state(ops[0]).no_answer_streak == 1
    retry = only_ring(switch.advance(5))  # the only operator, after the retry back-off
    switch.answer(ref, retry)
    assert state(ops[0]).no_answer_streak == 0


def test_login_resets_the_streak(account, switch):
    ops, _, number = setup_ops(account, switch, 1, pause_after_misses=1)
    ref, commands = switch.incoming(number.number)
    switch.no_answer(ref, only_ring(commands))
    presence.logoff_operator(ops[0].pk)
    assert state(ops[0]).no_answer_streak == 1
    presence.login_operator(ops[0].pk)
    assert state(ops[0]).no_answer_streak == 0


@pytest.mark.parametrize(("event", "backoff"), [(port.LegBusy, 10), (port.LegRejected, 10)])
def test_busy_and_rejected_back_off_without_pause(account, switch, event, backoff):
    ops, _, number = setup_ops(account, switch, 2)
    ref, commands = switch.incoming(number.number)
    first = only_ring(commands)
    nxt = only_ring(switch.event(event, ref, leg_ref=first.leg_ref))
    assert nxt.endpoint == ops[1].endpoint
    op0 = state(ops[0])
    assert (op0.state, op0.no_answer_streak) == ("available", 0)
    assert (op0.backoff_until - switch.clock.now()).total_seconds() == backoff
    switch.answer(ref, nxt)
    _ref2, commands = switch.incoming(number.number)
    assert rings(commands) == []  # ops[0] still backing off, ops[1] busy
    assert only_ring(switch.advance(backoff)).endpoint == ops[0].endpoint


def test_offer_without_any_event_expires_by_timestamp(account, switch):
    ops, service, number = setup_ops(account, switch, 2, pause_after_misses=1)
    ref, commands = switch.incoming(number.number)
    first = only_ring(commands)
    assert switch.advance(service.ring_timeout_seconds) == []  # still within the grace
    commands = switch.advance(5)
    assert port.CancelLeg(call_ref=ref, leg_ref=first.leg_ref) in commands
    assert only_ring(commands).endpoint == ops[1].endpoint
    assert Offer.objects.get(leg_ref=first.leg_ref).state == OfferState.EXPIRED
    assert state(ops[0]).state == "paused"  # an expired offer counts as a miss


def test_late_answer_after_expiry_is_refused(account, switch):
    ops, service, number = setup_ops(account, switch, 2, pause_after_misses=1)
    ref, commands = switch.incoming(number.number)
    first = only_ring(commands)
    switch.advance(service.ring_timeout_seconds + 5)
    late = switch.answer(ref, first)
    assert late == [port.CancelLeg(call_ref=ref, leg_ref=first.leg_ref)]
    assert switch.call(ref).operator_id is None
    assert state(ops[0]).state == "paused"


def test_caller_hangs_up_while_ringing_frees_the_operator(account, switch):
    ops, _, number = setup_ops(account, switch, 1)
    ref, commands = switch.incoming(number.number)
    ring = only_ring(commands)
    out = switch.hangup(ref)
    assert port.CancelLeg(call_ref=ref, leg_ref=ring.leg_ref) in out
    call = switch.call(ref)
    assert (call.state, call.outcome) == (CallState.ENDED, "abandoned")
    assert state(ops[0]).state == "available"


def test_screen_card_and_whisper(account, switch):
    phone_op = factories.make_operator(account, endpoint_kind="phone", endpoint="+393471234567")
    service = factories.make_service(account, [(phone_op, 5)], name="Support")
    number = factories.make_number(account, service)
    presence.login_operator(phone_op.pk)
    ref, commands = switch.incoming(number.number, "+393401111111")
    ring = only_ring(commands)
    switch.answer(ref, ring)
    switch.clock.advance(30)
    switch.hangup(ref)
    switch.advance(30)
    _ref2, commands = switch.incoming(number.number, "+393401111111")
    ring = only_ring(commands)
    assert ring.whisper == "Support, +393401111111"
    assert ring.screen["service"] == "Support" and ring.screen["caller"] == "+393401111111"
    assert "previous_calls" not in ring.screen  # the console asks for them: no event waits for that query
    assert [p["outcome"] for p in caller_history(switch.call(_ref2))] == ["answered"]
    assert ring.caller_id == "+393401111111"


def test_operator_serving_two_services_takes_priority_then_longest_wait(account, switch):
    op = factories.make_operator(account)
    low = factories.make_service(account, [(op, 5)], name="Low", priority=0)
    high = factories.make_service(account, [(op, 5)], name="High", priority=5)
    low_n, high_n = factories.make_number(account, low), factories.make_number(account, high)
    presence.login_operator(op.pk)
    presence.pause_operator(op.pk)
    old_low, _ = switch.incoming(low_n.number)
    switch.clock.advance(10)
    new_high, _ = switch.incoming(high_n.number)
    switch.clock.advance(10)
    newer_low, _ = switch.incoming(low_n.number)
    presence.resume_operator(op.pk)
    ring = only_ring(switch.pending())
    assert Offer.objects.get(leg_ref=ring.leg_ref).call.engine_ref == new_high
    switch.answer(new_high, ring)
    switch.hangup(new_high)
    switch.clock.advance(1)
    ring = only_ring(switch.advance(10))  # after the 10 s wrap-up: the longest-waiting low caller
    assert Offer.objects.get(leg_ref=ring.leg_ref).call.engine_ref == old_low
    assert switch.call(newer_low).state == CallState.QUEUED
