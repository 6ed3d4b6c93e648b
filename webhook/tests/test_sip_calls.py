"""Real SIP calls: Kamailio asks the back office where each call goes; SIPp plays callers and phones."""

from __future__ import annotations

import shutil
import time

import pytest

from acd.choices import CallState, Outcome
from acd.models import Call
from agents import actions as presence
from budget.models import ChannelLease
from tests import factories

from .sipstack import SipStack

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not (shutil.which("kamailio") and shutil.which("sipp")),
                                 reason="make test installs kamailio and sip-tester")]


@pytest.fixture
def stack():
    sip = SipStack().start()
    yield sip
    sip.stop()
    sip.cleanup()


def wait_for(predicate, seconds: float = 15.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def floor(phones: list[str], **service) -> tuple:
    account = factories.make_account()
    ops = [factories.make_operator(account, endpoint=uri) for uri in phones]
    svc = factories.make_service(account, [(op, 5) for op in ops], wrapup_seconds=0, **service)
    number = factories.make_number(account, svc)
    for op in ops:
        presence.login_operator(op.pk)
    return account, ops, number


def test_answered_call_has_sipp_duration(stack):
    uri, _ = stack.phone("operator", ring_ms=500)
    account, [op], number = floor([uri])
    caller = stack.call(number.number, talk_ms=2000)
    assert caller.returncode == 0, stack.log("c.log") + stack.log("kamailio.log")[-3000:]
    call = wait_for(lambda: Call.objects.filter(account=account, state=CallState.ENDED).first())
    assert call is not None, stack.log("kamailio.log")[-3000:] + stack.log("web.log")[-3000:]
    assert call.outcome == Outcome.ANSWERED and call.operator_id == op.pk
    assert abs(call.talk_seconds - 2.0) < 1.0
    assert not ChannelLease.objects.filter(account=account, released_at__isnull=True).exists()
