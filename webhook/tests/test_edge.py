"""The engines' lean ASGI edge (webhook/edge.py): the production web process's door for engine events.

Driven as uvicorn drives it (ASGI messages, the real database, the ACD's handle_event); its answers must be
the DRF view's: the same commands, the same refusals, the same error shape, and what it does not serve itself
reaches Django."""

import json

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator

from acd.models import Call
from core.clock import now
from telephony.signing import ACCOUNT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests import factories
from tests.api import post_signed
from webhook.edge import EVENTS_PATH, EngineEdge

pytestmark = pytest.mark.django_db(transaction=True)


class Django:
    """Stands where Django's ASGI app stands: records that the request reached it."""

    def __init__(self):
        self.paths = []

    async def __call__(self, scope, receive, send):
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def asgi_post(app, body: bytes, headers: dict[str, str], *, path=EVENTS_PATH, method="POST", chunks=1):
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}

    async def run():
        comm = ApplicationCommunicator(app, scope)
        size = max(1, len(body) // chunks + 1)
        parts = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
        for i, part in enumerate(parts):
            await comm.send_input({"type": "http.request", "body": part, "more_body": i < len(parts) - 1})
        start = await comm.receive_output(10)
        end = await comm.receive_output(10)
        return start["status"], dict(start["headers"]), end.get("body", b"")

    return async_to_sync(run)()


def signed(account, body: bytes, *, secret=None, ts=None, **extra):
    ts = int(now().timestamp()) if ts is None else ts
    return {"host": "127.0.0.1:8000", "content-type": "application/json", "content-length": str(len(body)),
            ACCOUNT_HEADER: account.slug, TIMESTAMP_HEADER: str(ts),
            SIGNATURE_HEADER: sign(secret or account.webhook_secret, ts, body), **extra}


@pytest.fixture
def floor():
    return factories.make_floor()


def incoming(number, ref="c1", event_id="e1"):
    return json.dumps({"type": "incoming_call", "event_id": event_id, "call_ref": ref, "dialed": number.number,
                       "caller": "+393331234567"}).encode()


def test_a_signed_event_gets_the_acds_commands_in_two_chunks(floor):
    account, op, number = floor
    body = incoming(number)
    status, headers, payload = asgi_post(EngineEdge(Django()), body, signed(account, body), chunks=2)
    assert status == 200, payload
    assert headers[b"content-type"] == b"application/json"
    commands = json.loads(payload)["commands"]
    assert [c["type"] for c in commands] == ["answer", "start_hold", "ring"]
    assert commands[2]["endpoint"] == op.endpoint
    assert Call.objects.get().engine_ref == "c1"


def test_the_edge_and_the_drf_view_answer_alike(floor):
    account, _, number = floor
    edge = EngineEdge(Django())
    cases = [incoming(number, ref="a", event_id="ea"),  # a call
             incoming(number, ref="a", event_id="ea"),  # its redelivery: the stored answer
             json.dumps({"type": "teleport", "event_id": "x", "call_ref": "y"}).encode(),  # 400 naming it
             b'{"type": "hangup\xff\xfe"}']  # not UTF-8: 400
    for body in cases:
        status, _, payload = asgi_post(edge, body, signed(account, body))
        drf = post_signed(account.slug, account.webhook_secret, body)
        assert (status, json.loads(payload)) == (drf.status_code, drf.json()), body
    assert Call.objects.count() == 1


@pytest.mark.parametrize("problem", ["bad_signature", "too_old", "no_account_header", "unknown_slug"])
def test_refusals_are_the_drf_views_401(floor, problem):
    account, _, number = floor
    body = incoming(number)
    headers = signed(account, body, secret="not-the-secret" if problem == "bad_signature" else None,
                     ts=int(now().timestamp()) - 360 if problem == "too_old" else None)
    if problem == "no_account_header":
        del headers[ACCOUNT_HEADER]
    if problem == "unknown_slug":
        headers[ACCOUNT_HEADER] = "no-such-account"
    status, out_headers, payload = asgi_post(EngineEdge(Django()), body, headers)
    drf = post_signed(headers.get(ACCOUNT_HEADER, ""), "not-the-secret" if problem != "too_old" else
                      account.webhook_secret, body, ts=int(headers[TIMESTAMP_HEADER]))
    assert status == 401 == drf.status_code
    assert out_headers[b"www-authenticate"] == b"HMAC-SHA256"
    assert json.loads(payload) == drf.json()
    assert not Call.objects.exists()


def test_deep_nesting_and_a_foreign_host_are_400(floor):
    account, _, _ = floor
    body = b'{"type": "hangup", "event_id": "x", "call_ref": "y", "cause": ' + b"[" * 50 + b"]" * 50 + b"}"
    status, _, payload = asgi_post(EngineEdge(Django()), body, signed(account, body))
    assert status == 400 and "nested deeper than" in json.loads(payload)["detail"]
    body = b"{}"
    status, _, payload = asgi_post(EngineEdge(Django()), body, signed(account, body, host="evil.example"))
    assert status == 400 and "Host" in json.loads(payload)["detail"]


def test_what_the_edge_does_not_serve_reaches_django(floor, settings):
    account, _, number = floor
    body = incoming(number)
    django = Django()
    edge = EngineEdge(django)
    assert asgi_post(edge, body, signed(account, body), method="GET")[0] == 299  # Django's 405
    assert asgi_post(edge, body, {**signed(account, body), "content-type": "text/plain"})[0] == 299  # its 415
    chunked = signed(account, body)
    del chunked["content-length"]
    assert asgi_post(edge, body, chunked)[0] == 299  # a chunked body: Django's bounded reader
    oversized = {**signed(account, body), "content-length": str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    assert asgi_post(edge, body, oversized)[0] == 299  # its 413
    assert asgi_post(edge, body, signed(account, body), path="/api/v1/telephony/commands/")[0] == 299
    settings.SECURE_SSL_REDIRECT = True
    assert asgi_post(edge, body, signed(account, body))[0] == 299  # plain HTTP where HTTPS is due: redirect
    assert len(django.paths) == 6
    assert not Call.objects.exists()
