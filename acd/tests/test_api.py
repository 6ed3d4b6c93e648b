"""The calls and statistics API."""

import pytest
from django.urls import reverse

from acd.tests.switch import only_ring
from agents import actions as presence
from tests import factories
from tests.api import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_calls_are_scoped_and_transfer_is_validated(account, switch):
    op, op2 = factories.make_operator(account), factories.make_operator(account)
    number = factories.make_number(account, factories.make_service(account, [(op, 5), (op2, 5)]))
    presence.login_operator(op.pk)
    presence.login_operator(op2.pk)
    ref, commands = switch.incoming(number.number)
    client = client_for(account)
    listed = client.get(reverse("call-list")).json()
    assert [c["engine_ref"] for c in listed["results"]] == [ref]
    call_id = listed["results"][0]["id"]
    url = reverse("call-transfer", args=[call_id])
    assert client.post(url, {"number": "+390287654321"}, format="json").status_code == 409  # still ringing
    switch.answer(ref, only_ring(commands))
    assert client.post(url, {}, format="json").status_code == 400
    assert client.post(url, {"number": "12"}, format="json").status_code == 400
    done = client.post(url, {"number": "+390287654321"}, format="json")
    assert done.status_code == 200 and done.json()["state"] == "forwarded"
    other = client_for(factories.make_account())
    assert other.get(reverse("call-detail", args=[call_id])).status_code == 404
    assert other.post(url, {"number": "+390287654321"}, format="json").status_code == 404


def test_stats_endpoint(account, switch):
    op = factories.make_operator(account)
    service = factories.make_service(account, [(op, 5)], name="Care", wrapup_seconds=0)
    number = factories.make_number(account, service)
    presence.login_operator(op.pk)
    ref, commands = switch.incoming(number.number)
    switch.clock.advance(5)
    switch.answer(ref, only_ring(commands))
    switch.clock.advance(120)
    switch.hangup(ref)
    abandoned, _ = switch.incoming(number.number)
    switch.clock.advance(30)
    switch.hangup(abandoned)
    body = client_for(account).get(reverse("stats")).json()
    care = body["services"][0]
    assert (care["offered"], care["answered"], care["abandoned"]) == (2, 1, 1)
    assert care["asa_seconds"] == 5.0 and care["aht_seconds"] == 120.0
    assert care["service_level"] == 1.0 and care["service_level_with_abandons"] == 0.5
    (row,) = body["operators"]
    assert (row["calls"], row["talk_minutes"], row["answered"]) == (1, 2.0, 1)
    assert client_for(account).get(reverse("stats"), {"start": "2026-03-02T10:00:00Z",
                                                      "end": "2026-03-02T09:00:00Z"}).status_code == 400
