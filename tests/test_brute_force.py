"""Issue 11, finding 5: admin passwords (django-axes), API tokens (per address, in Redis) and phone PINs (per
operator) lock out after repeated failures, and lift by time or by a supervisor."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from acd.tests.switch import Switch
from agents import lockout
from agents.models import Operator
from routing.choices import NumberPurpose
from telephony import port
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def admin_login(client, username, password):
    return client.post(reverse("admin:login"), {"username": username, "password": password,
                                                "next": reverse("admin:index")})


def test_wrong_admin_passwords_lock_out_until_the_cooloff(client):
    supervisor = factories.make_supervisor(factories.make_account())
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert admin_login(client, supervisor.username, "wrong-password").status_code == 200
    assert admin_login(client, supervisor.username, "wrong-password").status_code == 429
    assert admin_login(client, supervisor.username, factories.PASSWORD).status_code == 429  # even the right one
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(
        minutes=settings.AXES_COOLOFF_MINUTES, seconds=1))
    assert admin_login(client, supervisor.username, factories.PASSWORD).status_code == 302


def test_a_superuser_sees_and_lifts_admin_lockouts(client):
    supervisor = factories.make_supervisor(factories.make_account())
    for _ in range(settings.AXES_FAILURE_LIMIT):
        admin_login(client, supervisor.username, "wrong-password")
    root = Client()
    root.force_login(type(supervisor).objects.create_superuser("root", "root@example.com", "root-pass-1234"))
    listing = root.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200 and supervisor.username in listing.content.decode()
    AccessAttempt.objects.filter(username=supervisor.username).delete()  # what the admin's delete action does
    assert admin_login(client, supervisor.username, factories.PASSWORD).status_code == 302


def test_wrong_api_tokens_are_refused_per_address_after_the_limit():
    cache.clear()
    account = factories.make_account()
    good = factories.make_token(account)
    client = APIClient(REMOTE_ADDR="203.0.113.7")
    for i in range(settings.API_TOKEN_FAILURE_LIMIT):
        client.credentials(HTTP_AUTHORIZATION=f"Bearer cnt_wrong-{i}")
        assert client.get("/api/v1/numbers/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {good}")
    refused = client.get("/api/v1/numbers/")
    assert refused.status_code == 429 and "Too many wrong API tokens" in refused.json()["detail"]
    other = APIClient(REMOTE_ADDR="198.51.100.9")  # another address is not affected
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {good}")
    assert other.get("/api/v1/numbers/").status_code == 200
    cache.clear()  # the window passing, as the cache's expiry does it
    assert client.get("/api/v1/numbers/").status_code == 200


@pytest.fixture
def phone(clock):
    account = factories.make_account()
    op = factories.make_operator(account)
    number = factories.make_number(account, purpose=NumberPurpose.OPERATOR_LOGIN)
    switch = Switch(account, clock)

    def dial(pin: str) -> str:
        ref, _ = switch.incoming(number.number)
        played = switch.event(port.Digits, ref, digits=f"{op.code}*{pin}*1")[0]
        return played.prompt
    return op, dial, clock


def test_wrong_pins_lock_the_pin_until_the_cooloff(phone):
    op, dial, clock = phone
    for _ in range(settings.PIN_FAILURE_LIMIT):
        assert dial("9999") == "builtin:operator-login-refused"
    assert dial("1234") == "builtin:operator-login-refused"  # the right PIN, but locked
    assert Operator.objects.get(pk=op.pk).state == "logged_out"
    assert lockout.lockouts(op).pin_until is not None
    clock.advance(settings.PIN_COOLOFF_MINUTES * 60 + 1)
    assert dial("1234") == "builtin:operator-login-ok"
    assert Operator.objects.get(pk=op.pk).state == "available"


def test_a_right_pin_resets_the_count(phone):
    op, dial, _ = phone
    for _ in range(settings.PIN_FAILURE_LIMIT - 1):
        dial("9999")
    assert dial("1234") == "builtin:operator-login-ok"
    for _ in range(settings.PIN_FAILURE_LIMIT - 1):
        dial("9999")
    assert not lockout.lockouts(op).any


def test_the_supervisor_sees_and_lifts_a_pin_lockout(phone, client):
    op, dial, _ = phone
    for _ in range(settings.PIN_FAILURE_LIMIT):
        dial("9999")
    client.force_login(factories.make_supervisor(op.account))
    assert "phone PIN until" in client.get(reverse("admin:agents_operator_changelist")).content.decode()
    client.post(reverse("admin:agents_operator_changelist"),
                {"action": "lift_lockouts_selected", "_selected_action": [op.pk]})
    assert not lockout.lockouts(op).any
    assert dial("1234") == "builtin:operator-login-ok"
