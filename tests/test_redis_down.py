"""Issue 11, finding 7: with Redis down, a committed change never answers 500, a retried originate never dials
twice (Idempotency-Key), and WebSocket handshakes are refused cleanly. A real web process (production's
uvicorn command) runs on the test database with its REDIS_URL on a port where nothing listens."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import websockets
from django.conf import settings

from acd.models import Call
from acd.tests.switch import Switch
from agents import actions as presence
from agents.models import Operator
from boards.session import session_data
from boards.tests.test_consumers import session_cookie
from core.clock import ManualClock, now
from telephony.models import OutboundCommand
from tests import factories
from tests.processes import child_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.multiprocess]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server():
    port, dead_redis = free_port(), free_port()  # nothing listens on dead_redis: Redis is down
    env = child_env(REDIS_URL=f"redis://127.0.0.1:{dead_redis}/0", TELEPHONY_BACKEND="webhook")
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "callcenter.asgi:application", "--host",
                                "127.0.0.1", "--port", str(port), "--lifespan", "off"], cwd=settings.BASE_DIR,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError(f"uvicorn did not start: {process.stderr.read().decode()[-2000:]}")
    yield f"127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=20)


def call_api(base: str, path: str, token: str, body: dict | None = None, headers: dict | None = None):
    request = urllib.request.Request(f"http://{base}{path}", data=json.dumps(body or {}).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()[:500]


@pytest.fixture
def floor():
    account, op, number = factories.make_floor()
    presence.pause_operator(op.pk)
    return account, op, number, factories.make_token(account)


def test_resuming_an_operator_who_takes_a_waiting_call_answers_200(server, floor):
    account, op, number, token = floor
    switch = Switch(account, ManualClock(now()))
    ref, _ = switch.incoming(number.number)  # queued: the only operator is paused
    assert switch.call(ref).state == "queued"
    status, body = call_api(server, f"/api/v1/operators/{op.pk}/resume/", token)
    assert status == 200, body
    assert Operator.objects.get(pk=op.pk).state == "ringing"  # committed: the waiting call rings them
    assert OutboundCommand.objects.filter(account=account, payload__type="ring").exists()  # kept for the engine


def test_originate_answers_201_and_a_retry_with_the_same_key_dials_nothing_more(server, floor):
    account, _, _, token = floor
    key = {"Idempotency-Key": "crm-click-42"}
    first_status, first = call_api(server, "/api/v1/calls/originate/", token, {"destination": "+390212345678"}, key)
    assert first_status == 201, first
    again_status, again = call_api(server, "/api/v1/calls/originate/", token, {"destination": "+390212345678"}, key)
    assert again_status == 201 and again["id"] == first["id"]
    assert Call.objects.filter(account=account, direction="outbound").count() == 1
    assert OutboundCommand.objects.filter(account=account, payload__type="originate").count() == 1
    other_status, other = call_api(server, "/api/v1/calls/originate/", token, {"destination": "+390212345678"},
                                   {"Idempotency-Key": "crm-click-43"})
    assert other_status == 201 and other["id"] != first["id"]


def test_websocket_handshake_is_refused_cleanly(server, floor):
    _, op, _, _ = floor
    cookie = session_cookie(**session_data(op))

    async def connect() -> int:
        try:
            async with websockets.connect(f"ws://{server}/ws/console/", open_timeout=20,
                                          additional_headers={"Cookie": cookie, "Origin": f"http://{server}"}):
                return 101
        except websockets.InvalidStatus as exc:
            return exc.response.status_code
    assert asyncio.run(connect()) == 403  # denied, not a 500
