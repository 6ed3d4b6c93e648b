"""The WebSocket streams at consumer level: authentication, account isolation, snapshot and sequence."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore

from agents import actions
from boards.session import session_data
from callcenter.asgi import application
from core.events import publisher
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie(**data) -> str:
    store = SessionStore()
    for key, value in data.items():
        store[key] = value
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def user_cookie(user) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    return session_cookie(**{SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
                             HASH_SESSION_KEY: user.get_session_auth_hash()})


def communicator(path: str, cookie: str = "", origin: str = "http://localhost") -> WebsocketCommunicator:
    headers = [(b"origin", origin.encode()), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, path, headers=headers)


async def receive(comm, timeout=3):
    return await comm.receive_json_from(timeout=timeout)


def run(coro):
    return async_to_sync(coro)()


def test_anonymous_and_foreign_origin_are_refused():
    async def scenario():
        anonymous = communicator("/ws/console/")
        connected, code = await anonymous.connect()
        assert not connected and code == 4401
        board = communicator("/ws/wallboard/")
        connected, _ = await board.connect()
        assert not connected
        op = await asyncio.to_thread(lambda: factories.make_operator(factories.make_account()))
        cookie = await asyncio.to_thread(lambda: session_cookie(**session_data(op)))
        forged_origin = communicator("/ws/console/", cookie, origin="http://evil.example")
        connected, _ = await forged_origin.connect()
        assert not connected

    run(scenario)


def test_console_gets_snapshot_then_numbered_events_and_resnapshot_on_request():
    account = factories.make_account()
    op = factories.make_operator(account)
    reason = factories.make_pause_reason(account, "Lunch")
    cookie = session_cookie(**session_data(op))

    async def scenario():
        comm = communicator("/ws/console/", cookie)
        connected, _ = await comm.connect()
        assert connected
        snap = await receive(comm)
        assert (snap["type"], snap["v"], snap["stream"]) == ("snapshot", 1, f"operator.{op.pk}")
        assert snap["data"]["operator"]["state"] == "logged_out"
        assert snap["data"]["pause_reasons"] == [{"id": reason.pk, "name": "Lunch"}]
        base = snap["seq"]
        await asyncio.to_thread(actions.login_operator, op.pk)
        await asyncio.to_thread(actions.pause_operator, op.pk, reason_id=reason.pk)
        await asyncio.to_thread(publisher.flush)
        first, second = await receive(comm), await receive(comm)
        assert [first["seq"], second["seq"]] == [base + 1, base + 2]
        assert [first["operator"]["state"], second["operator"]["state"]] == ["available", "paused"]
        assert second["operator"]["pause_reason"] == "Lunch"
        await comm.send_json_to({"type": "snapshot.request"})
        again = await receive(comm)
        assert again["type"] == "snapshot" and again["seq"] == base + 2
        assert again["data"]["operator"]["state"] == "paused"
        await comm.disconnect()

    run(scenario)


def test_operator_never_receives_another_accounts_events_and_forged_subscription_is_refused():
    a, b = factories.make_account(), factories.make_account()
    op_a, op_b = factories.make_operator(a), factories.make_operator(b)
    cookie = session_cookie(**session_data(op_a))

    async def scenario():
        comm = communicator("/ws/console/", cookie)
        await comm.connect()
        await receive(comm)  # snapshot
        await asyncio.to_thread(actions.login_operator, op_b.pk)
        await asyncio.to_thread(publisher.flush)
        assert await comm.receive_nothing(timeout=0.5)
        await comm.send_json_to({"type": "subscribe", "stream": f"operator.{op_b.pk}"})
        refusal = await receive(comm)
        assert refusal == {"type": "error", "v": 1, "code": "forbidden_stream"}
        closed = await comm.receive_output(timeout=2)
        assert closed == {"type": "websocket.close", "code": 4403}

    run(scenario)


def test_wallboard_is_scoped_to_the_supervisors_account():
    a, b = factories.make_account(), factories.make_account()
    op_a, op_b = factories.make_operator(a, name="Alice"), factories.make_operator(b, name="Bob")
    factories.make_service(a, [(op_a, 5)], name="Care")
    cookie = user_cookie(factories.make_supervisor(a))

    async def scenario():
        comm = communicator("/ws/wallboard/", cookie)
        connected, _ = await comm.connect()
        assert connected
        snap = await receive(comm)
        assert snap["stream"] == f"account.{a.pk}"
        assert [o["name"] for o in snap["data"]["operators"]] == ["Alice"]
        assert [s["service"] for s in snap["data"]["services"]] == ["Care"]
        assert snap["data"]["channels"] == {"in_use": 0, "limit": 80, "refusals_today": 0}
        await asyncio.to_thread(actions.login_operator, op_b.pk)
        await asyncio.to_thread(actions.login_operator, op_a.pk)
        await asyncio.to_thread(publisher.flush)
        event = await receive(comm)
        assert (event["type"], event["operator"]["name"], event["seq"]) == ("operator.state", "Alice", snap["seq"] + 1)
        stats = await receive(comm, timeout=4)  # the debounced figures follow
        assert stats["type"] == "stats"
        assert [o["state"] for o in stats["data"]["operators"]] == ["available"]
        await comm.disconnect()

    run(scenario)


def test_staff_without_an_account_is_refused():
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("lonely", password="x" * 12, is_staff=True)

    async def scenario():
        comm = communicator("/ws/wallboard/", await asyncio.to_thread(user_cookie, user))
        connected, code = await comm.connect()
        assert not connected and code == 4401

    run(scenario)
