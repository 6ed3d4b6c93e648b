"""Operators' SIP phones register with their operator login and password through real Kamailio and SIPp: the
back office answers the digest authentication, registration logs the operator in, unregistration off."""

from __future__ import annotations

import shutil

import pytest

from acd.choices import CallState, Outcome
from acd.models import Call
from agents import actions as presence
from agents.choices import OperatorState
from agents.models import OperatorEvent, SipRegistration, sip_realm
from routing.choices import Criterion
from tests import factories

from .sipstack import SipStack
from .test_sip_calls import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("sip"),
              pytest.mark.skipif(not (shutil.which("kamailio") and shutil.which("sipp")),
                                 reason="make test installs kamailio and sip-tester")]


@pytest.fixture
def stack():
    sip = SipStack().start()
    yield sip
    sip.stop()
    sip.cleanup()


def state(op) -> str:
    op.refresh_from_db()
    return op.state


def test_wrong_password_and_another_accounts_domain_are_refused(stack):
    account, other = factories.make_account(), factories.make_account()
    op = factories.make_operator(account, login="anna")
    factories.make_operator(other, login="bruno")
    contact = "sip:anna@127.0.0.1:5999"
    assert stack.register("anna", sip_realm(account.slug), "wrong", contact, tag="wrong") == "SIP/2.0 403 Forbidden"
    # anna's own password in another account's domain: no such login there
    assert stack.register("anna", sip_realm(other.slug), factories.PASSWORD, contact,
                          tag="cross") == "SIP/2.0 403 Forbidden"
    # bruno's login in anna's account's domain
    assert stack.register("bruno", sip_realm(account.slug), factories.PASSWORD, contact,
                          tag="cross2") == "SIP/2.0 403 Forbidden"
    assert not SipRegistration.objects.exists()
    assert state(op) == OperatorState.LOGGED_OUT


def test_registered_phone_is_rung_and_unregistered_never(stack):
    phone_uri, _phone = stack.phone("operator", ring_ms=200)
    other_uri, _other = stack.phone("operator", ring_ms=200)
    account = factories.make_account()
    # anna's configured endpoint is nowhere: only her registered phone can answer
    anna = factories.make_operator(account, login="anna", endpoint="sip:anna@127.0.0.1:9")
    bruno = factories.make_operator(account, login="bruno", endpoint=other_uri)
    svc = factories.make_service(account, [(anna, 9), (bruno, 1)], wrapup_seconds=0, criterion=Criterion.SKILL)
    number = factories.make_number(account, svc)
    realm = sip_realm(account.slug)
    contact = phone_uri.replace("sip:op@", "sip:anna@")
    presence.login_operator(bruno.pk)

    answer = stack.register("anna", realm, factories.PASSWORD, contact)
    assert answer == "SIP/2.0 200 OK", stack.log("kamailio.log")[-3000:]
    assert wait_for(lambda: state(anna) == OperatorState.AVAILABLE), stack.log("web.log")[-3000:]
    registration = SipRegistration.objects.get(operator=anna)
    assert registration.contact == contact and not registration.swept
    assert 250 <= (registration.expires_at - registration.registered_at).total_seconds() <= 300
    assert OperatorEvent.objects.filter(operator=anna, to_state=OperatorState.AVAILABLE, via="sip_phone").count() == 1

    caller = stack.call(number.number, talk_ms=300, tag="first")
    assert caller.returncode == 0, stack.log("kamailio.log")[-3000:]
    call = wait_for(lambda: Call.objects.filter(account=account, state=CallState.ENDED).first())
    assert call.operator_id == anna.pk and call.outcome == Outcome.ANSWERED
    assert wait_for(lambda: state(anna) == OperatorState.AVAILABLE)

    # a refresh (the same registration again) changes no state and writes no second log row
    assert stack.register("anna", realm, factories.PASSWORD, contact, tag="refresh") == "SIP/2.0 200 OK"
    assert OperatorEvent.objects.filter(operator=anna, via="sip_phone").count() == 1

    assert stack.register("anna", realm, factories.PASSWORD, contact, expires=0, tag="unreg") == "SIP/2.0 200 OK"
    assert wait_for(lambda: state(anna) == OperatorState.LOGGED_OUT), stack.log("web.log")[-3000:]
    assert SipRegistration.objects.get(operator=anna).swept

    caller = stack.call(number.number, talk_ms=300, tag="second")
    assert caller.returncode == 0, stack.log("kamailio.log")[-3000:]
    assert wait_for(lambda: Call.objects.filter(account=account, state=CallState.ENDED).count() == 2)
    second = Call.objects.filter(account=account).order_by("-id").first()
    assert second.operator_id == bruno.pk  # anna, unregistered, was not offered the call
    assert not second.offers.filter(operator=anna).exists()
