"""Usage samples, refusals and minutes; the capacity advisor."""

import pytest
from django.urls import reverse

from acd.tests.switch import only_ring
from agents import actions as presence
from tests import factories
from tests.api import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def busy_morning(starter, switch):
    ops = [factories.make_operator(starter) for _ in range(4)]
    number = factories.make_number(starter, factories.make_service(starter, [(op, 5) for op in ops],
                                                                    wrapup_seconds=0))
    for op in ops:
        presence.login_operator(op.pk)
    refs = []
    for _ in range(3):
        ref, commands = switch.incoming(number.number)
        switch.answer(ref, only_ring(commands))
        refs.append(ref)
    switch.incoming(number.number)  # 4th: refused, the Starter plan has 3 channels
    switch.incoming(number.number)  # 5th: refused
    switch.clock.advance(600)
    for ref in refs:
        switch.hangup(ref)
    switch.clock.advance(60)


def test_usage_samples_refusals_and_minutes(starter, switch):
    busy_morning(starter, switch)
    client = client_for(starter)
    params = {"start": "2026-03-02T08:55:00Z", "end": "2026-03-02T09:15:00Z"}
    doc = client.get(reverse("usage"), params).json()
    assert doc["limit"] == 3 and doc["interval_seconds"] == 300
    assert [s["max_concurrent"] for s in doc["samples"]] == [0, 3, 3, 0]  # calls from 09:00 to 09:10
    assert doc["samples"][1]["avg_concurrent"] == 3.0
    assert [s["refusals"] for s in doc["samples"]] == [0, 2, 0, 0]
    assert doc["refusals"] == 2 and doc["refusals_per_day"] == {"2026-03-02": 2}
    assert doc["minutes"]["used"] == 30.0  # 3 calls × 600 s, billed 60/60
    csv = client.get(reverse("usage"), {**params, "export": "csv"})
    assert csv["Content-Type"] == "text/csv"
    rows = csv.content.decode().strip().splitlines()
    assert rows[0] == "start,max_concurrent,avg_concurrent,refusals,limit" and len(rows) == 5
    assert rows[2].endswith(",3,3.0,2,3")
    assert client.get(reverse("usage"), {"start": "2026-03-02T10:00Z", "end": "2026-03-02T09:00Z"}).status_code == 400


def test_capacity_advisor(starter, switch):
    busy_morning(starter, switch)
    doc = client_for(starter).get(reverse("capacity"), {"start": "2026-03-02T08:00Z",
                                                         "end": "2026-03-02T10:00Z"}).json()
    assert doc["busiest_hour"].startswith("2026-03-02T09:00")
    assert doc["traffic_erlangs"] == 0.5  # 1,800 busy seconds in that hour
    assert doc["channels_needed"] == 4  # Erlang B: 0.5 E at 1% blocking
    assert doc["channel_limit"] == 3
    assert any("REACH_PLAN_LIMIT" in a for a in doc["alerts"])
    assert any("needs 4 channels" in a for a in doc["alerts"])
    assert "at least 8 channels" in doc["advice"]


def test_plan_change_and_extra_channels_api(starter):
    client = client_for(starter)
    url = reverse("account-plan")
    doc = client.get(url).json()
    assert (doc["plan"], doc["channel_limit"], doc["channels_in_use"]) == ("starter", 3, 0)
    refused = client.post(url, {"extra_channels": 2}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "extras_not_allowed"
    both = client.post(url, {"plan": "unlimited-wl", "extra_channels": 5}, format="json").json()
    assert (both["plan"], both["channel_limit"]) == ("unlimited-wl", 85)
    back = client.post(url, {"plan": "starter"}, format="json")
    assert back.status_code == 409  # extras first
    assert client.post(url, {"plan": "gold"}, format="json").json()["code"] == "unknown_plan"
    assert client.post(url, {"extra_channels": -1}, format="json").status_code == 400
    starter.refresh_from_db()
    assert (starter.plan.code, starter.extra_channels) == ("unlimited-wl", 5)
