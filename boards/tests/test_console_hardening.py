"""Issue 11, findings 5 and 9 at the console: bad input is a 400, a session ends with the operator's
deactivation or password change, signing out needs a POST, the WebSocket wants the page's own origin (port
included), wrong sign-ins lock out (axes) whether the login exists or not, and cost the same either way."""

import asyncio
import datetime as dt

import pytest
from asgiref.sync import async_to_sync
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.urls import reverse

from agents.models import Operator
from boards.session import session_data
from tests import factories

from .test_consumers import communicator, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(client, account, login, password=factories.PASSWORD):
    return client.post(reverse("console-login"), {"account": account.slug, "login": login, "password": password})


@pytest.fixture
def signed_in(client):
    account = factories.make_account()
    op = factories.make_operator(account)
    assert sign_in(client, account, op.login).status_code == 302
    return client, account, op


def act(client, body, content_type="application/json"):
    return client.post(reverse("console-action"), body, content_type=content_type)


@pytest.mark.parametrize("body", ['["login"]', '"login"', "42", "null", "{not json", '{"action": "pause", '
                                  '"reason": "abc"}', '{"action": "pause", "reason": [1]}',
                                  '{"action": "pause", "reason": 99999999999999999999999}',
                                  '{"action": "pause", "reason": -3}', '{"action": "pause", "reason": true}'])
def test_console_action_with_a_bad_body_or_reason_is_400(signed_in, body):
    client, _, op = signed_in
    response = act(client, body)
    assert response.status_code == 400, response.content
    assert "detail" in response.json()
    assert Operator.objects.get(pk=op.pk).state == "logged_out"


def test_wallboard_action_with_a_non_object_body_is_400(client):
    account = factories.make_account()
    client.force_login(factories.make_supervisor(account))
    for body in ('["pause"]', '{"operator": "abc", "action": "pause"}', '{"operator": [1], "action": "pause"}'):
        response = client.post(reverse("wallboard-action"), body, content_type="application/json")
        assert response.status_code == 400, (body, response.content)


def test_the_session_ends_when_the_operator_is_deactivated(signed_in):
    client, _, op = signed_in
    assert client.get(reverse("console")).status_code == 200
    Operator.objects.filter(pk=op.pk).update(is_active=False)
    assert client.get(reverse("console")).url == reverse("console-login")
    assert act(client, {"action": "login"}).status_code == 401
    Operator.objects.filter(pk=op.pk).update(is_active=True)  # reactivated: the old session stays ended
    assert act(client, {"action": "login"}).status_code == 401


def test_the_session_ends_when_the_password_changes(signed_in):
    client, account, op = signed_in
    op.set_password("a-brand-new-password")
    op.save()
    assert act(client, {"action": "login"}).status_code == 401
    assert sign_in(client, account, op.login, "a-brand-new-password").status_code == 302
    assert act(client, {"action": "login"}).json()["state"] == "available"


def test_the_session_ends_when_the_account_is_deactivated(signed_in):
    client, account, _ = signed_in
    type(account).objects.filter(pk=account.pk).update(is_active=False)
    assert act(client, {"action": "login"}).status_code == 401


def test_sign_out_by_get_only_asks(signed_in):
    """A GET (an <img> on another site) never signs anyone out: it only shows the question; a POST acts."""
    client, _, _ = signed_in
    question = client.get(reverse("console-logout"))
    assert question.status_code == 200 and b'name="choice"' in question.content
    assert client.get(reverse("console")).status_code == 200  # still signed in
    assert client.post(reverse("console-logout")).url == reverse("console-login")
    assert client.get(reverse("console")).url == reverse("console-login")


def test_websocket_refused_after_a_password_change():
    async def go():
        op = await asyncio.to_thread(lambda: factories.make_operator(factories.make_account()))
        cookie = await asyncio.to_thread(lambda: session_cookie(**session_data(op)))
        comm = communicator("/ws/console/", cookie)
        assert (await comm.connect())[0]
        await comm.disconnect()

        def change():
            op.set_password("changed-password-1")
            op.save()
        await asyncio.to_thread(change)
        comm = communicator("/ws/console/", cookie)
        connected, _ = await comm.connect()
        assert not connected
    async_to_sync(go)()


@pytest.mark.parametrize(("origin", "host", "accepted"), [
    ("http://localhost", "localhost", True),
    ("http://localhost:8000", "localhost:8000", True),
    ("https://localhost:443", "localhost", True),
    ("http://localhost:9999", "localhost:8000", False),  # another program on the same host
    ("http://localhost:9999", "localhost", False),
    ("http://localhost", "localhost:8000", False),
    ("http://evil.example", "evil.example", False),  # not an allowed host
    ("null", "localhost", False),
])
def test_websocket_origin_must_match_host_and_port(origin, host, accepted):
    async def go():
        op = await asyncio.to_thread(lambda: factories.make_operator(factories.make_account()))
        cookie = await asyncio.to_thread(lambda: session_cookie(**session_data(op)))
        comm = communicator("/ws/console/", cookie, origin=origin)
        comm.scope["headers"] = [(k, v) for k, v in comm.scope["headers"] if k != b"host"] + [(b"host", host.encode())]
        connected, _ = await comm.connect()
        if connected:
            await comm.disconnect()
        return connected
    assert async_to_sync(go)() is accepted


def test_wrong_console_passwords_lock_out_and_the_supervisor_lifts_it(client):
    account = factories.make_account()
    op = factories.make_operator(account)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, account, op.login, "wrong-password")
        assert response.status_code == 200 and "Wrong company code" in response.content.decode()
    assert sign_in(client, account, op.login, "wrong-password").status_code == 429  # the last one locks
    locked = sign_in(client, account, op.login)  # the right password, but locked
    assert locked.status_code == 429 and "Too many wrong sign-ins" in locked.content.decode()
    # The supervisor sees it on the operator's admin page and lifts it.
    supervisor = client_for_admin(account)
    page = supervisor.get(reverse("admin:agents_operator_changelist")).content.decode()
    assert "console until" in page
    supervisor.post(reverse("admin:agents_operator_changelist"),
                    {"action": "lift_lockouts_selected", "_selected_action": [op.pk]})
    assert sign_in(client, account, op.login).status_code == 302


def test_a_console_lock_lifts_by_time(client):
    account = factories.make_account()
    op = factories.make_operator(account)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, account, op.login, "wrong-password")
    assert sign_in(client, account, op.login).status_code == 429
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(
        minutes=settings.AXES_COOLOFF_MINUTES, seconds=1))
    assert sign_in(client, account, op.login).status_code == 302


def test_logins_that_do_not_exist_lock_out_too(client):
    account = factories.make_account()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, account, "nobody", "wrong-password").status_code == 200
    assert sign_in(client, account, "nobody", "wrong-password").status_code == 429
    assert sign_in(client, account, "nobody", "wrong-password").status_code == 429


class CountingHasher(MD5PasswordHasher):
    """Django's MD5 hasher, counting its verifications (the cost an answer pays)."""

    verified = 0

    def verify(self, password, encoded):
        CountingHasher.verified += 1
        return super().verify(password, encoded)


def test_every_answer_costs_one_hash_whether_the_login_exists_or_not(client, settings):
    settings.PASSWORD_HASHERS = ["boards.tests.test_console_hardening.CountingHasher"]
    account = factories.make_account()
    op = factories.make_operator(account)
    costs = {}
    for case, (slug, login) in {"wrong password": (account.slug, op.login),
                                "unknown login": (account.slug, "nobody"),
                                "unknown company": ("no-such-company", op.login)}.items():
        CountingHasher.verified = 0
        assert sign_in(client, type(account)(slug=slug), login, "wrong-password").status_code == 200
        costs[case] = CountingHasher.verified
    assert costs == {"wrong password": 1, "unknown login": 1, "unknown company": 1}


def client_for_admin(account):
    from django.test import Client

    supervisor = Client()
    supervisor.force_login(factories.make_supervisor(account))
    return supervisor
