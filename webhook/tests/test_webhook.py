"""The webhook backend: signed events in, commands out; replay window; redelivery; polling; push."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from agents import actions as presence
from core.clock import now
from telephony.signing import ACCOUNT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers
from telephony.tasks import push_commands
from tests import factories
from tests.api import post_signed

pytestmark = pytest.mark.django_db(transaction=True)


def post_event(account, event: dict, *, secret=None, ts=None, path="telephony-events"):
    return post_signed(account.slug, secret or account.webhook_secret, json.dumps(event).encode(), ts=ts, path=path)


@pytest.fixture
def floor():
    return factories.make_floor()


def incoming(number, ref="c1", event_id="e1"):
    return {"type": "incoming_call", "event_id": event_id, "call_ref": ref, "dialed": number.number,
            "caller": "+393331234567"}


def test_signed_event_gets_commands(floor):
    account, op, number = floor
    response = post_event(account, incoming(number))
    assert response.status_code == 200, response.content
    commands = response.json()["commands"]
    assert [c["type"] for c in commands] == ["answer", "start_hold", "ring"]
    assert commands[2]["endpoint"] == op.endpoint


def test_redelivered_event_gets_the_same_answer_and_no_second_call(floor):
    account, _, number = floor
    first = post_event(account, incoming(number)).json()
    again = post_event(account, incoming(number)).json()
    assert first == again
    assert account.calls.count() == 1


@pytest.mark.parametrize("problem", ["bad_signature", "other_secret", "too_old", "from_future", "no_account"])
def test_refused_requests(floor, problem):
    account, _, number = floor
    ts = int(now().timestamp())
    if problem == "bad_signature":
        body = json.dumps(incoming(number)).encode()
        response = APIClient().post(reverse("telephony-events"), data=body, content_type="application/json",
                                    headers={ACCOUNT_HEADER: account.slug, TIMESTAMP_HEADER: str(ts),
                                             SIGNATURE_HEADER: "sha256=" + "0" * 64})
    elif problem == "other_secret":
        response = post_event(account, incoming(number), secret="not-the-secret")
    elif problem == "too_old":
        response = post_event(account, incoming(number), ts=ts - 360)
    elif problem == "from_future":
        response = post_event(account, incoming(number), ts=ts + 360)
    else:
        response = APIClient().post(reverse("telephony-events"), data=b"{}", content_type="application/json")
    assert response.status_code in (401, 403)
    assert account.calls.count() == 0


def test_malformed_event_is_400_with_reason(floor):
    account, _, _ = floor
    response = post_event(account, {"type": "teleport", "event_id": "x", "call_ref": "y"})
    assert response.status_code == 400
    assert "unknown event type 'teleport'" in response.json()["detail"]
    response = post_event(account, {"type": "hangup", "call_ref": "y"})
    assert response.status_code == 400 and "event_id is required" in response.json()["detail"]


def test_an_account_cannot_touch_another_accounts_calls(floor):
    account, _, number = floor
    post_event(account, incoming(number, ref="theirs"))
    intruder = factories.make_account()
    response = post_event(intruder, {"type": "hangup", "event_id": "h1", "call_ref": "theirs"})
    assert response.status_code == 200 and response.json()["commands"] == []
    assert account.calls.get().state == "ringing"
    # ...and cannot take calls on a number it does not hold.
    response = post_event(intruder, incoming(number, ref="stolen", event_id="e9"))
    assert response.json()["commands"][0]["cause"] == "unallocated"


def test_timer_commands_are_polled_once(floor, settings):
    account, op, number = floor
    service = op.memberships.get().service
    service.max_wait_seconds = 5
    service.save()
    presence.pause_operator(op.pk)
    post_event(account, incoming(number))
    from acd import actions
    from core.clock import ManualClock, use_clock

    with use_clock(ManualClock(now())) as clock:
        clock.advance(6)
        actions.sweep([account.pk])
    polled = post_event(account, {}, path="telephony-commands").json()["commands"]
    assert [c["type"] for c in polled] == ["stop_hold", "record_voicemail"]
    assert post_event(account, {}, path="telephony-commands").json()["commands"] == []


class Engine(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Engine.received.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_commands_are_pushed_signed_to_the_engine_url(floor, settings):
    settings.ENGINE_URL_ALLOW_PRIVATE = True  # the platform's engines on its own network (here: this machine)
    account, _op, number = floor
    server = HTTPServer(("127.0.0.1", 0), Engine)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        account.engine_url = f"http://127.0.0.1:{server.server_port}/commands"
        account.save()
        ref = post_event(account, incoming(number)).json()["commands"][2]
        assert ref["type"] == "ring"
        from acd.actions import transfer_call  # a supervisor action: its commands go through the outbox

        post_event(account, {"type": "leg_answered", "event_id": "a1", "call_ref": "c1",
                             "leg_ref": ref["leg_ref"]})
        transfer_call(account.calls.get().pk, account.pk, number="+390287654321")
        assert push_commands(account) == 1
        headers, body = Engine.received[-1]
        assert json.loads(body) == {"commands": [{"type": "transfer", "call_ref": "c1",
                                                  "destination": "+390287654321"}]}
        expected = signed_headers(account.slug, account.webhook_secret, body, int(headers[TIMESTAMP_HEADER]))
        assert headers[SIGNATURE_HEADER] == expected[SIGNATURE_HEADER]
    finally:
        server.shutdown()
