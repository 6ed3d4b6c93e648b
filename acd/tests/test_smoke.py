import pytest

from acd.choices import CallState, Outcome
from acd.tests.switch import kinds, only_ring
from agents import actions as presence
from agents.models import Operator
from telephony import port
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_call_is_answered_and_operator_wraps_up(account, switch):
    op = factories.make_operator(account)
    service = factories.make_service(account, [(op, 5)], wrapup_seconds=10)
    number = factories.make_number(account, service)
    presence.login_operator(op.pk)
    ref, commands = switch.incoming(number.number)
    assert kinds(commands) == ["answer", "start_hold", "ring"]
    ring = only_ring(commands)
    assert ring.endpoint == op.endpoint
    assert switch.call(ref).state == CallState.RINGING
    assert Operator.objects.get(pk=op.pk).state == "ringing"
    switch.clock.advance(3)
    assert kinds(switch.answer(ref, ring)) == ["stop_hold", "bridge"]
    call = switch.call(ref)
    assert (call.state, call.operator_id, call.wait_seconds) == (CallState.CONNECTED, op.pk, 3.0)
    switch.clock.advance(60)
    switch.hangup(ref)
    call = switch.call(ref)
    assert (call.state, call.outcome, call.talk_seconds) == (CallState.ENDED, Outcome.ANSWERED, 60.0)
    assert Operator.objects.get(pk=op.pk).state == "wrap_up"
    switch.advance(10)
    assert Operator.objects.get(pk=op.pk).state == "available"


def test_duplicate_event_has_no_second_effect(account, switch):
    op = factories.make_operator(account)
    number = factories.make_number(account, factories.make_service(account, [(op, 5)]))
    presence.login_operator(op.pk)
    event = port.IncomingCall(event_id="same", call_ref="c1", dialed=number.number, caller="+393331234567")
    first = switch.send(event)
    second = switch.send(event)
    assert first == second
    assert switch.account.calls.count() == 1
