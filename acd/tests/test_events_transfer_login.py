"""Duplicate and out-of-order events, illegal transitions, transfer, and operators by phone."""

import datetime as dt

import pytest
from django.db import transaction

from acd import actions
from acd.calls import move
from acd.choices import CallState, Outcome
from acd.models import Call, CallEvent, Offer
from acd.tests.switch import kinds, only_ring
from agents import actions as presence
from agents.models import Operator
from core.errors import ActionError, IllegalTransition
from routing.choices import NumberPurpose
from telephony import port
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def staffed(account, switch, n=2):
    ops = [factories.make_operator(account) for _ in range(n)]
    service = factories.make_service(account, [(op, 5) for op in ops], wrapup_seconds=5)
    number = factories.make_number(account, service)
    for op in ops:
        presence.login_operator(op.pk)
        switch.clock.advance(1)
    return ops, service, number


def test_redelivered_answer_changes_nothing_and_returns_the_same_commands(account, switch):
    _ops, _, number = staffed(account, switch, 1)
    ref, commands = switch.incoming(number.number)
    ring = only_ring(commands)
    answered = port.LegAnswered(event_id="ans-1", call_ref=ref, leg_ref=ring.leg_ref)
    first = switch.send(answered)
    logs = CallEvent.objects.count()
    assert switch.send(answered) == first
    assert CallEvent.objects.count() == logs


def test_same_call_announced_twice_under_different_ids(account, switch):
    _ops, _, number = staffed(account, switch, 2)
    switch.send(port.IncomingCall(event_id="a", call_ref="dup", dialed=number.number, caller="+393331112222"))
    again = switch.send(port.IncomingCall(event_id="b", call_ref="dup", dialed=number.number,
                                          caller="+393331112222"))
    assert again == []
    assert Call.objects.filter(engine_ref="dup").count() == 1
    assert Offer.objects.count() == 1


def test_events_for_unknown_calls_are_ignored(account, switch):
    assert switch.event(port.Hangup, "never-seen") == []
    assert switch.event(port.LegAnswered, "never-seen", leg_ref="x") == []


def test_out_of_order_hangup_then_answer(account, switch):
    ops, _, number = staffed(account, switch, 1)
    ref, commands = switch.incoming(number.number)
    ring = only_ring(commands)
    switch.hangup(ref)
    assert switch.answer(ref, ring) == [port.CancelLeg(call_ref=ref, leg_ref=ring.leg_ref)]
    assert Operator.objects.get(pk=ops[0].pk).state == "available"
    assert switch.call(ref).outcome == Outcome.ABANDONED


def test_hangup_twice_and_no_answer_after_answer(account, switch):
    ops, _, number = staffed(account, switch, 1)
    ref, commands = switch.incoming(number.number)
    ring = only_ring(commands)
    switch.answer(ref, ring)
    assert switch.no_answer(ref, ring) == []
    assert Operator.objects.get(pk=ops[0].pk).state == "on_call"
    switch.clock.advance(30)
    switch.hangup(ref)
    switch.clock.advance(30)
    assert switch.hangup(ref) == []
    assert switch.call(ref).talk_seconds == 30.0


def test_operator_hangs_up_the_conversation(account, switch):
    ops, _, number = staffed(account, switch, 1)
    ref, commands = switch.incoming(number.number)
    ring = only_ring(commands)
    switch.answer(ref, ring)
    out = switch.event(port.Hangup, ref, leg_ref=ring.leg_ref)
    assert out == [port.HangupCall(call_ref=ref)]
    assert switch.call(ref).state == CallState.ENDED
    assert Operator.objects.get(pk=ops[0].pk).state == "wrap_up"


def test_illegal_call_transition_is_refused_with_a_clear_error():
    call = Call(state=CallState.ENDED)
    with pytest.raises(IllegalTransition, match="A call that is Ended cannot become Ringing"):
        move(call, CallState.RINGING)
    assert call.state == CallState.ENDED


def test_illegal_operator_transitions(account):
    op = factories.make_operator(account)
    with pytest.raises(IllegalTransition, match="Only a paused operator can resume"):
        presence.resume_operator(op.pk)
    with pytest.raises(IllegalTransition, match="not logged in"):
        presence.logoff_operator(op.pk)
    presence.login_operator(op.pk)
    with pytest.raises(IllegalTransition, match="already logged in"):
        presence.login_operator(op.pk)


def test_operator_cannot_pause_or_log_off_while_ringing(account, switch):
    ops, _, number = staffed(account, switch, 1)
    switch.incoming(number.number)
    with pytest.raises(IllegalTransition):
        presence.pause_operator(ops[0].pk)
    with pytest.raises(IllegalTransition):
        presence.logoff_operator(ops[0].pk)


def connected(switch, number):
    ref, commands = switch.incoming(number.number)
    ring = only_ring(commands)
    switch.answer(ref, ring)
    return ref, ring


def test_transfer_to_another_operator(account, switch):
    ops, _, number = staffed(account, switch, 2)
    ref, first_ring = connected(switch, number)
    call = switch.call(ref)
    actions.transfer_call(call.pk, account.pk, operator_id=ops[1].pk)
    ring = only_ring(switch.pending())
    assert ring.endpoint == ops[1].endpoint
    commands = switch.answer(ref, ring)
    # The engine drops the first operator's leg, then bridges the caller to the new one.
    assert [c.as_dict() for c in commands] == [
        {"type": "cancel_leg", "call_ref": ref, "leg_ref": first_ring.leg_ref},
        {"type": "stop_hold", "call_ref": ref}, {"type": "bridge", "call_ref": ref, "leg_ref": ring.leg_ref}]
    assert switch.event(port.Hangup, ref, leg_ref=first_ring.leg_ref) == []  # the dropped leg's end: no effect
    call = switch.call(ref)
    assert (call.state, call.operator_id) == (CallState.CONNECTED, ops[1].pk)
    assert Operator.objects.get(pk=ops[0].pk).state == "wrap_up"
    switch.clock.advance(20)
    switch.hangup(ref)
    assert Call.objects.filter(engine_ref=ref).count() == 1  # one call, for the budget too


def test_transfer_not_answered_stays_with_the_first_operator(account, switch):
    ops, _, number = staffed(account, switch, 2)
    ref, _ = connected(switch, number)
    actions.transfer_call(switch.call(ref).pk, account.pk, operator_id=ops[1].pk)
    switch.no_answer(ref, only_ring(switch.pending()))
    call = switch.call(ref)
    assert (call.state, call.operator_id) == (CallState.CONNECTED, ops[0].pk)
    assert Operator.objects.get(pk=ops[0].pk).state == "on_call"


def test_transfer_to_a_service_and_to_a_number(account, switch):
    _ops, _, number = staffed(account, switch, 1)
    other_op = factories.make_operator(account)
    other = factories.make_service(account, [(other_op, 5)])
    presence.login_operator(other_op.pk)
    ref, _ = connected(switch, number)
    actions.transfer_call(switch.call(ref).pk, account.pk, service_id=other.pk)
    commands = switch.pending()
    assert kinds(commands) == ["start_hold", "ring"]
    assert only_ring(commands).endpoint == other_op.endpoint
    switch.answer(ref, only_ring(commands))
    actions.transfer_call(switch.call(ref).pk, account.pk, number="+390287654321")
    assert switch.pending() == [port.Transfer(call_ref=ref, destination="+390287654321")]
    assert switch.call(ref).outcome == Outcome.TRANSFERRED


def test_transfer_refusals(account, switch):
    ops, _, number = staffed(account, switch, 2)
    ref, commands = switch.incoming(number.number)
    with pytest.raises(ActionError, match="Only a connected call"):
        actions.transfer_call(switch.call(ref).pk, account.pk, number="+390287654321")
    switch.answer(ref, only_ring(commands))
    with pytest.raises(ActionError, match="exactly one target"):
        actions.transfer_call(switch.call(ref).pk, account.pk)
    presence.pause_operator(ops[1].pk)
    with pytest.raises(ActionError, match="cannot take a call"):
        actions.transfer_call(switch.call(ref).pk, account.pk, operator_id=ops[1].pk)
    other_account = factories.make_account()
    with pytest.raises(ActionError, match="no such call"):
        actions.transfer_call(switch.call(ref).pk, other_account.pk, number="+390287654321")


def test_a_transfer_never_rings_an_operator_held_back_from_calls(account, switch):
    """An operator reading a lead in preview is reserved (`backoff_until` ahead): routing skips them, and a
    supervisor's transfer to them is refused the same way, leaving the call with its operator."""
    ops, _, number = staffed(account, switch, 2)
    ref, _ = connected(switch, number)
    with transaction.atomic():
        presence.reserve(Operator.objects.select_for_update().get(pk=ops[1].pk),
                         switch.clock.now() + dt.timedelta(minutes=2))
    with pytest.raises(ActionError, match="cannot take a call"):
        actions.transfer_call(switch.call(ref).pk, account.pk, operator_id=ops[1].pk)
    assert switch.pending() == []
    assert not Offer.objects.filter(operator_id=ops[1].pk).exists()
    assert (switch.call(ref).state, switch.call(ref).operator_id) == (CallState.CONNECTED, ops[0].pk)
    switch.clock.advance(121)  # the reservation is over: the transfer rings them
    actions.transfer_call(switch.call(ref).pk, account.pk, operator_id=ops[1].pk)
    assert only_ring(switch.pending()).endpoint == ops[1].endpoint


@pytest.mark.parametrize(("digits", "expect_state", "result"), [
    ("{code}*1234*1", "available", "builtin:operator-login-ok"),
    ("{code}*9999*1", "logged_out", "builtin:operator-login-refused"),
    ("{code}*1234*7", "logged_out", "builtin:operator-login-refused"),
    ("garbage", "logged_out", "builtin:operator-login-refused"),
])
def test_phone_login(account, switch, digits, expect_state, result):
    op = factories.make_operator(account)
    factories.make_service(account, [(op, 5)])
    login_number = factories.make_number(account, purpose=NumberPurpose.OPERATOR_LOGIN)
    ref, commands = switch.incoming(login_number.number)
    assert kinds(commands) == ["answer", "collect_digits"]
    out = switch.event(port.Digits, ref, digits=digits.format(code=op.code))
    assert out == [port.Play(call_ref=ref, prompt=result, seconds=2.0), port.HangupCall(call_ref=ref)]
    assert Operator.objects.get(pk=op.pk).state == expect_state
    assert not CallEvent.objects.filter(call__engine_ref=ref, data__digits__isnull=False).exists()


def test_phone_pause_resume_logoff(account, switch):
    op = factories.make_operator(account)
    login_number = factories.make_number(account, purpose=NumberPurpose.OPERATOR_LOGIN)
    for action, expected in (("1", "available"), ("2", "paused"), ("3", "available"), ("9", "logged_out")):
        ref, _ = switch.incoming(login_number.number)
        switch.event(port.Digits, ref, digits=f"{op.code}*1234*{action}")
        assert Operator.objects.get(pk=op.pk).state == expected
    assert list(op.events.order_by("at", "id").values_list("via", flat=True)) == ["phone"] * 4
