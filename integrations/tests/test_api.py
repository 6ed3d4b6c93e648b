"""The subscription API: scoped CRUD, validated (400 naming the field), no private or loopback URL unless
the platform allows it; the delivery log and its re-send."""

from __future__ import annotations

import datetime as dt

import pytest

from core.clock import now
from core.outgoing import EventType
from integrations import actions
from integrations.choices import DeliveryState
from integrations.models import Delivery, DeliveryAttempt, Subscription
from integrations.tests.factories import subscribe
from tests import factories
from tests.api import ApiResourceTests, client_for

URL = "https://93.184.216.34/hooks"  # a public address: no DNS needed


class TestSubscriptionResource(ApiResourceTests):
    basename = "webhook"
    model = Subscription

    def create_data(self, account):
        return {"url": URL, "event_types": ["call.ended", "call.answered"], "description": "CRM"}

    def update_data(self, account):
        return {"description": "CRM (new)", "event_types": ["operator.state_changed"]}

    def make_object(self, account):
        return subscribe(account, URL)


@pytest.mark.django_db
def test_creation_shows_the_secret_once_and_validation_names_the_field():
    account = factories.make_account()
    api = client_for(account)
    created = api.post("/api/v1/webhooks/", {"url": URL, "event_types": ["call.ended"]}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["secret"].startswith("whsec_")
    assert "secret" not in api.get(f"/api/v1/webhooks/{created.json()['id']}/").json()
    for body, field in [({"url": "http://127.0.0.1:9/x", "event_types": ["call.ended"]}, "url"),
                        ({"url": "http://10.0.0.5/x", "event_types": ["call.ended"]}, "url"),
                        ({"url": "ftp://example.com/x", "event_types": ["call.ended"]}, "url"),
                        ({"url": URL, "event_types": []}, "event_types"),
                        ({"url": URL, "event_types": ["call.exploded"]}, "event_types"),
                        ({"url": URL, "event_types": ["call.ended", "call.ended"]}, "event_types")]:
        answer = api.post("/api/v1/webhooks/", body, format="json")
        assert answer.status_code == 400 and field in answer.json(), (body, answer.content)
    assert Subscription.objects.count() == 1


@pytest.mark.django_db
def test_the_platform_may_allow_a_private_host(settings):
    settings.OUTGOING_EVENTS_ALLOWED_HOSTS = ["127.0.0.1"]
    answer = client_for(factories.make_account()).post(
        "/api/v1/webhooks/", {"url": "http://127.0.0.1:8080/x", "event_types": ["call.ended"]}, format="json")
    assert answer.status_code == 201, answer.content


@pytest.mark.django_db(transaction=True)
def test_a_delivery_to_a_refused_address_fails_without_a_request_and_can_be_resent():
    account = factories.make_account()
    subscription = subscribe(account, "http://127.0.0.1:9/x", [EventType.TEST])  # written past the API's check
    delivery = actions.send_test(subscription.pk)
    assert actions.claim_due() == [delivery.pk]
    assert actions.deliver(delivery.pk).delivered == 0
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("refused:") and delivery.last_status is None
    assert delivery.attempts == 1 and delivery.state == DeliveryState.PENDING
    api = client_for(account)
    log = api.get("/api/v1/webhook-deliveries/").json()["results"]
    assert [(d["id"], d["attempt_log"][0]["error"][:8]) for d in log] == [(delivery.pk, "refused:")]
    assert api.post(f"/api/v1/webhook-deliveries/{delivery.pk}/resend/").status_code == 202
    assert Delivery.objects.get(pk=delivery.pk).attempts == 0
    other = client_for(factories.make_account())
    assert other.post(f"/api/v1/webhook-deliveries/{delivery.pk}/resend/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_retention_purge_deletes_old_deliveries_with_their_attempts(settings):
    account = factories.make_account()
    subscription = subscribe(account, "http://127.0.0.1:9/x", [EventType.TEST])
    old = actions.send_test(subscription.pk)
    actions.deliver(old.pk)
    Delivery.objects.filter(pk=old.pk).update(created_at=now() - dt.timedelta(days=8))
    fresh = actions.send_test(subscription.pk)
    assert actions.purge() == 1
    assert list(Delivery.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not DeliveryAttempt.objects.exists()  # its attempt went with it
