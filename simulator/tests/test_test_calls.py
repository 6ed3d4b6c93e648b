"""Test calls: through the real ACD, ringing a console, answered there, always ending by themselves."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from acd import actions
from acd.models import Call
from agents import actions as presence
from agents.models import Operator
from simulator import testcall
from telephony import outbox, port
from telephony.models import TestCall
from tests import factories
from tests.api import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor(clock):
    account = factories.make_account()
    op = factories.make_operator(account, login="anna")
    service = factories.make_service(account, [(op, 5)], ring_count=2, ring_seconds=5, max_wait_seconds=60)
    number = factories.make_number(account, service, number="+390212345678")
    presence.login_operator(op.pk)
    return account, op, number


def test_a_test_call_rings_the_console_is_answered_there_and_ends(floor, clock, client):
    account, op, _number = floor
    response = client_for(account).post("/api/v1/calls/test/", {"number": "02 1234 5678", "caller": "333 1234567"},
                                        format="json")
    assert response.status_code == 201, response.json()
    call = Call.objects.get(pk=response.json()["call"])
    assert call.caller == "+393331234567" and call.engine_ref.startswith(outbox.TEST_CALL_PREFIX)
    op.refresh_from_db()
    assert op.state == "ringing"
    # The operator's console asks, then answers.
    session = client.session
    session["operator_id"] = op.pk
    session.save()
    assert client.get("/console/test-call/").json() == {"test_call_ringing": True}
    assert client.post("/console/test-call/").json() == {"answered": True}
    op.refresh_from_db()
    call.refresh_from_db()
    assert op.state == "on_call" and call.state == "connected"
    clock.advance(testcall.TALK_SECONDS + 1)
    testcall.drive()
    call.refresh_from_db()
    assert call.ended_at is not None and call.talk_seconds is not None
    assert TestCall.objects.get(call_ref=call.engine_ref).ended_at is not None
    assert client.post("/console/test-call/").status_code == 409  # nothing rings any more


def test_an_unanswered_test_call_ends_by_itself(floor, clock):
    account, op, number = floor
    placed = testcall.place_test_call(account.pk, number.number)
    for _ in range(int(testcall.TEST_CALL_MAX_SECONDS / 5) + 2):
        clock.advance(5)
        actions.sweep([account.pk])  # the ACD's own timers (offer expiry, maximum wait), as beat runs them
        testcall.drive()
    call = Call.objects.get(pk=placed.call_id)
    assert call.ended_at is not None
    assert not TestCall.objects.filter(ended_at__isnull=True).exists()
    op.refresh_from_db()
    assert op.state != "ringing"


def test_bad_test_calls_are_refused_with_the_field(floor):
    account, _op, _number = floor
    other = factories.make_account()
    theirs = factories.make_number(other, factories.make_service(other), number="+390687654321")
    api = client_for(account)
    assert "number" in api.post("/api/v1/calls/test/", {"number": theirs.number}, format="json").json()
    assert "caller" in api.post("/api/v1/calls/test/", {"number": "+390212345678", "caller": "12"},
                                format="json").json()
    assert not Call.objects.exists() and not TestCall.objects.exists()


def test_the_admin_places_a_test_call(floor, client):
    account, op, number = floor
    client.force_login(factories.make_supervisor(account))
    page = client.get(reverse("admin-test-call") + f"?number={number.number}")
    assert page.status_code == 200 and number.number in page.content.decode()
    response = client.post(reverse("admin-test-call"), {"number": number.number, "caller": ""})
    assert response.status_code == 302
    assert Operator.objects.get(pk=op.pk).state == "ringing"
    assert "Place a test call" in client.get(reverse("admin:routing_phonenumber_changelist")).content.decode()


def test_engines_never_get_a_test_calls_commands(floor):
    account, _op, _number = floor
    outbox.record(account.pk, [port.HangupCall(call_ref="test-abc"), port.HangupCall(call_ref="engine-1")],
                  notify=False)
    assert [c.call_ref for c in outbox.take_pending(account.pk)] == ["engine-1"]
    assert [c.call_ref for c in outbox.take_pending(account.pk, test_calls=True)] == ["test-abc"]


def test_at_most_a_few_test_calls_at_once(floor):
    account, _op, number = floor
    for _ in range(testcall.MAX_LIVE_PER_ACCOUNT):
        testcall.place_test_call(account.pk, number.number)
    with pytest.raises(ValidationError) as refused:
        testcall.place_test_call(account.pk, number.number)
    assert "number" in refused.value.message_dict
    assert TestCall.objects.filter(account=account).count() == testcall.MAX_LIVE_PER_ACCOUNT
