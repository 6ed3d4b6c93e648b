"""The transactional outbox: events are rows written in the transaction of the change they tell of, in the
order of the change, for the subscriptions that want them; with none, the call path costs nothing more."""

from __future__ import annotations

import pytest
from django.db import transaction

from acd.tests.switch import only_ring
from acd.tests.test_round_trips import CEILINGS, floor  # noqa: F401  (the fixture)
from acd.tests.walks import answered_call
from agents import actions as presence
from core.outgoing import EventType
from integrations.choices import DeliveryState
from integrations.models import Delivery
from integrations.tests.factories import subscribe
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def _types(subscription) -> list[str]:
    return list(Delivery.objects.filter(subscription=subscription).order_by("pk").values_list("event_type", flat=True))


def test_a_whole_call_is_recorded_in_order_with_the_calls_data(account, switch):
    op = factories.make_operator(account)
    service = factories.make_service(account, [(op, 5)])
    number = factories.make_number(account, service)
    calls_only = subscribe(account, events=[EventType.CALL_ARRIVED, EventType.CALL_ANSWERED, EventType.CALL_ENDED])
    everything = subscribe(account, url="https://other.example.com/x")
    subscribe(factories.make_account())  # another account's subscription hears nothing of this one
    presence.login_operator(op.pk)
    ref, commands = switch.incoming(number.number)
    ring = only_ring(commands)
    switch.answer(ref, ring)
    switch.hangup(ref)
    assert _types(calls_only) == ["call.arrived", "call.answered", "call.ended"]
    # Each call's and each operator's events in the order they happened (the promise is per order key).
    rows = Delivery.objects.filter(subscription=everything).order_by("pk")
    assert [d.event_type for d in rows if d.order_key.startswith("call:")] == [
        "call.arrived", "call.answered", "call.ended"]
    assert [d.payload["data"]["operator"]["state"] for d in rows if d.order_key == f"operator:{op.pk}"] == [
        "available", "ringing", "on_call", "wrap_up"]
    ended = Delivery.objects.get(subscription=calls_only, event_type=EventType.CALL_ENDED)
    call = switch.call(ref)
    assert ended.order_key == f"call:{call.pk}"
    assert ended.state == DeliveryState.PENDING and ended.next_attempt_at is not None
    body = ended.payload
    assert body["type"] == "call.ended"
    assert body["data"]["call"] == {**body["data"]["call"], "id": call.pk, "state": "ended", "outcome": "answered",
                                    "operator_id": op.pk, "service_id": service.pk, "menu_path": []}
    assert Delivery.objects.filter(account__isnull=False).exclude(account=account).count() == 0


def test_nothing_is_recorded_without_a_subscription_or_for_an_inactive_one(account, switch):
    op = factories.make_operator(account)
    number = factories.make_number(account, factories.make_service(account, [(op, 5)]))
    subscribe(account, is_active=False)
    presence.login_operator(op.pk)
    ref, _ = switch.incoming(number.number)
    switch.hangup(ref)
    assert Delivery.objects.count() == 0


def test_a_rolled_back_action_records_nothing(account):
    op = factories.make_operator(account)
    subscribe(account, events=[EventType.OPERATOR_STATE_CHANGED])
    with pytest.raises(RuntimeError), transaction.atomic():
        presence.login_operator(op.pk)
        assert Delivery.objects.count() == 1  # written inside the action's transaction…
        raise RuntimeError
    assert Delivery.objects.count() == 0  # …and gone with it
    presence.login_operator(op.pk)
    (delivery,) = Delivery.objects.all()
    assert delivery.payload["data"]["operator"]["state"] == "available"
    assert delivery.payload["data"]["previous"] == "logged_out"


def test_a_call_over_the_plan_limit_tells_plan_limit_reached(account, switch):
    account.plan = factories.Plan.objects.get(code="starter")
    account.save()
    number = factories.make_number(account, factories.make_service(account))
    subscription = subscribe(account, events=[EventType.PLAN_LIMIT_REACHED, EventType.CALL_ENDED])
    for _ in range(account.channel_limit):
        switch.incoming(number.number)
    assert _types(subscription) == []
    switch.incoming(number.number)
    assert _types(subscription) == ["call.ended", "plan_limit.reached"]
    limit = Delivery.objects.get(event_type=EventType.PLAN_LIMIT_REACHED).payload["data"]
    assert limit["limited_by_account_id"] == account.pk and limit["direction"] == "inbound"


def test_with_a_subscription_the_call_path_keeps_its_round_trips(account, floor, switch):  # noqa: F811
    """The outbox statement travels with the COMMIT: the ceilings hold with every event subscribed."""
    subscribe(account)
    before = Delivery.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    steps = answered_call(switch, floor)
    assert not steps.over(CEILINGS), steps.over(CEILINGS)
    recorded = set(Delivery.objects.filter(pk__gt=before).values_list("event_type", flat=True))
    assert {"call.arrived", "call.answered", "call.ended", "operator.state_changed"} <= recorded
