"""Real SIP calls: Kamailio asks the back office where each call goes; SIPp plays callers and phones."""

from __future__ import annotations

import dataclasses
import shutil
import time

import pytest

from accounts.models import Plan
from acd.choices import CallState, OfferState, Outcome
from acd.models import Call, Offer
from agents import actions as presence
from agents.choices import OperatorState
from budget.models import ChannelLease, LeaseRepair
from routing.choices import Criterion
from telephony.backends.sip import rpc
from tests import factories
from webhook.reconcile import DIALOG_GONE, reconcile_dialogs

from .sipstack import SipStack, free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("sip"),
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


@pytest.fixture
def rpc_port(stack, settings):
    settings.SIP_RPC_PORT = stack.rpc_port
    return stack.rpc_port


def assert_nothing_left(account) -> None:
    """After every call: Kamailio holds no dialog, the budget no channel."""
    assert wait_for(lambda: not rpc.live_call_ids(), 10), rpc.live_call_ids()
    assert wait_for(lambda: not ChannelLease.objects.filter(account=account, released_at__isnull=True).exists())


def test_no_answer_moves_to_the_next_operator_and_pauses_the_first(stack, rpc_port):
    silent, _ = stack.phone("operator_silent")
    answering, _ = stack.phone("operator", ring_ms=200)
    account = factories.make_account()
    first = factories.make_operator(account, endpoint=silent)
    second = factories.make_operator(account, endpoint=answering)
    svc = factories.make_service(account, [(first, 9), (second, 1)], wrapup_seconds=0, criterion=Criterion.SKILL,
                                 ring_count=1, ring_seconds=1, pause_after_misses=1)
    number = factories.make_number(account, svc)
    for op in (first, second):
        presence.login_operator(op.pk)
    caller = stack.call(number.number, talk_ms=500)
    assert caller.returncode == 0, stack.log("kamailio.log")[-3000:]
    call = wait_for(lambda: Call.objects.filter(account=account, state=CallState.ENDED).first())
    assert call.operator_id == second.pk and call.outcome == Outcome.ANSWERED
    assert list(Offer.objects.filter(call=call).order_by("id").values_list("operator_id", "state")) == [
        (first.pk, OfferState.NO_ANSWER), (second.pk, OfferState.ANSWERED)]
    first.refresh_from_db()
    assert first.state == OperatorState.PAUSED
    assert_nothing_left(account)


def test_budget_refuses_exactly_one_caller_over_the_limit(stack, rpc_port, settings):
    limit = 2
    plan = Plan.objects.create(code="sip-two", name="Two channels", included_channels=limit, included_minutes=0)
    phones = [stack.phone("operator", ring_ms=0)[0] for _ in range(limit + 1)]
    account = factories.make_account()
    account.plan = plan
    account.save()
    ops = [factories.make_operator(account, endpoint=uri) for uri in phones]
    number = factories.make_number(account, factories.make_service(account, [(op, 5) for op in ops],
                                                                   wrapup_seconds=0))
    for op in ops:
        presence.login_operator(op.pk)
    callers = [stack.call(number.number, talk_ms=4000, wait=False, tag=f"b{i}") for i in range(limit + 1)]
    for c in callers:
        c.wait(timeout=60)
    logs = [stack.log(f"b{i}-messages.log") for i in range(limit + 1)]
    refused = [log for log in logs if "SIP/2.0 486" in log]
    assert len(refused) == 1, [log[-1500:] for log in logs]
    assert "REACH_PLAN_LIMIT" in refused[0] and "Retry-After:" in refused[0]
    assert wait_for(lambda: Call.objects.filter(account=account, state=CallState.ENDED).count() == limit + 1)
    assert Call.objects.filter(account=account, end_cause="REACH_PLAN_LIMIT").count() == 1
    assert_nothing_left(account)


def test_caller_hanging_up_while_ringing_is_abandoned_and_frees_the_operator(stack, rpc_port):
    silent, _ = stack.phone("operator_silent")
    account, [op], number = floor([silent])
    caller = stack.call(number.number, talk_ms=1500, scenario="caller_cancel")
    assert caller.returncode == 0, stack.log("c.log") + stack.log("kamailio.log")[-3000:]
    call = wait_for(lambda: Call.objects.filter(account=account, state=CallState.ENDED).first())
    assert call is not None and call.outcome == Outcome.ABANDONED
    op.refresh_from_db()
    assert op.state == OperatorState.AVAILABLE
    assert_nothing_left(account)


def test_operator_killed_mid_call_is_freed_by_the_reconciler(stack, rpc_port, settings):
    uri, phone = stack.phone("operator", ring_ms=0)
    account, [op], number = floor([uri])
    caller = stack.call(number.number, talk_ms=60000, wait=False)
    call = wait_for(lambda: Call.objects.filter(account=account, state=CallState.CONNECTED).first())
    assert call is not None, stack.log("kamailio.log")[-3000:]
    stack.kill(phone)  # the operator's phone vanishes: no BYE ever comes from it
    stack.kill(caller)  # nor from the caller
    stack.restart_proxy()  # and the proxy's dialog and report queue are gone: nobody will report the end
    settings.SIP_DIALOG_GRACE_SECONDS = 0
    assert reconcile_dialogs() == 1
    assert reconcile_dialogs() == 0  # a second run ends nothing twice
    call.refresh_from_db()
    op.refresh_from_db()
    assert call.state == CallState.ENDED and call.end_cause == "lost"
    assert op.state == OperatorState.AVAILABLE
    assert LeaseRepair.objects.filter(lease__call=call, reason=DIALOG_GONE).count() == 1
    assert_nothing_left(account)


def test_sip_caller_ids_long_uris_and_anonymous_callers(stack, rpc_port):
    uri, _ = stack.phone("operator", ring_ms=0)
    account, _ops, number = floor([uri])
    long_user = "alice.with.a.very.long.sip.user.name.from.a.carrier." * 2  # 104 characters, not a number
    stack.call(number.number, talk_ms=200, caller=long_user, display="D" * 120, tag="long")
    stack.call(number.number, talk_ms=200, caller="anonymous", display="Anonymous", tag="anon")
    assert wait_for(lambda: Call.objects.filter(account=account, state=CallState.ENDED).count() == 2)
    long_caller, anonymous = Call.objects.filter(account=account).order_by("id").values_list("caller", flat=True)
    assert long_caller.startswith(f"sip:{long_user}@127.0.0.1:") and len(long_caller) > 100  # the From URI whole
    assert anonymous == "anonymous"
    assert_nothing_left(account)


def test_back_office_unreachable_fails_closed_with_503():
    sip = SipStack()
    sip.web_port = free_port()  # nothing listens there: the back office is down
    sip.proxy = dataclasses.replace(sip.proxy,
                                    backoffice_url=f"http://127.0.0.1:{sip.web_port}/api/v1/telephony/sip")
    try:
        sip.start_proxy()
        caller = sip.call("+390212345678", tag="down")
        assert caller.returncode == 0
        messages = sip.log("down-messages.log")
        assert "SIP/2.0 503" in messages and "Retry-After:" in messages and "BACK_OFFICE_UNREACHABLE" in messages
        assert "back office unreachable" in sip.log("kamailio.log")
    finally:
        sip.stop()
        sip.cleanup()
