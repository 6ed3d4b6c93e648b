"""Queued callers on the wire, with real Kamailio and SIPp: a caller the ACD queues waits on the proxy (182
Queued, the INVITE kept; no hold music, a proxy has no media) and is rung when an operator frees."""

from __future__ import annotations

import shutil

import pytest

from acd.choices import CallState, Outcome
from acd.models import Call
from tests import factories

from .sipstack import SipStack
from .test_sip_calls import assert_nothing_left, floor, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("sip"),
              pytest.mark.skipif(not (shutil.which("kamailio") and shutil.which("sipp")),
                                 reason="make test installs kamailio and sip-tester")]


@pytest.fixture
def stack(settings):
    sip = SipStack().start()
    settings.SIP_RPC_PORT = sip.rpc_port
    yield sip
    sip.stop()
    sip.cleanup()


def calls(account) -> list[Call]:
    return list(Call.objects.filter(account=account).order_by("id"))


def test_a_queued_caller_waits_and_is_rung_when_the_operator_frees(stack):
    uri, _ = stack.phone("operator", ring_ms=0)
    account, [op], number = floor([uri])
    talking = stack.call(number.number, talk_ms=3000, wait=False, tag="first")
    assert wait_for(lambda: Call.objects.filter(account=account, state=CallState.CONNECTED).exists()), \
        stack.log("kamailio.log")[-3000:]
    waiting = stack.call(number.number, talk_ms=500, wait=False, tag="second")
    assert wait_for(lambda: len(calls(account)) == 2 and calls(account)[1].state == CallState.QUEUED), \
        stack.log("kamailio.log")[-3000:] + stack.log("web.log")[-3000:]
    assert talking.wait(timeout=60) == 0
    assert waiting.wait(timeout=60) == 0, stack.log("second-messages.log")[-3000:] + stack.log("kamailio.log")[-3000:]
    messages = stack.log("second-messages.log")
    assert "SIP/2.0 182 Queued" in messages and "SIP/2.0 200 OK" in messages
    assert wait_for(lambda: all(c.state == CallState.ENDED for c in calls(account)))
    first, second = calls(account)
    assert first.outcome == second.outcome == Outcome.ANSWERED and second.operator_id == op.pk
    assert abs(second.talk_seconds - 0.5) < 1.0
    assert_nothing_left(account)


def test_a_queued_caller_who_hangs_up_is_abandoned(stack):
    uri, _ = stack.phone("operator", ring_ms=0)
    account, [op], number = floor([uri])
    talking = stack.call(number.number, talk_ms=4000, wait=False, tag="first")
    assert wait_for(lambda: Call.objects.filter(account=account, state=CallState.CONNECTED).exists())
    gone = stack.call(number.number, talk_ms=1500, scenario="caller_cancel_queued", tag="gone")
    assert gone.returncode == 0, stack.log("gone-messages.log")[-3000:] + stack.log("kamailio.log")[-3000:]
    assert wait_for(lambda: len(calls(account)) == 2 and calls(account)[1].state == CallState.ENDED), \
        stack.log("kamailio.log")[-3000:]
    assert calls(account)[1].outcome == Outcome.ABANDONED
    assert talking.wait(timeout=60) == 0
    assert wait_for(lambda: calls(account)[0].state == CallState.ENDED)
    assert calls(account)[0].outcome == Outcome.ANSWERED and calls(account)[0].operator_id == op.pk
    assert_nothing_left(account)


def test_no_operator_logged_in_still_overflows_at_once(stack):
    """Queueing changes nothing for a service nobody staffs: its overflow answers at once."""
    uri, _ = stack.phone("operator", ring_ms=0)
    account = factories.make_account()
    factories.make_operator(account, endpoint=uri)  # never logged in
    number = factories.make_number(account, factories.make_service(account, wrapup_seconds=0))
    caller = stack.call(number.number, tag="nobody")
    assert caller.returncode == 0
    assert "SIP/2.0 182" not in stack.log("nobody-messages.log")
    assert wait_for(lambda: Call.objects.filter(account=account, state=CallState.ENDED).count() == 1)
