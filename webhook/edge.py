"""The engines' edge: `POST /api/v1/telephony/events/` served straight from ASGI, in front of Django.

Why: an engine posts one event per call step, and under the full stack most of an event's time in the web
process went outside the ACD (py-spy on a uvicorn worker under bench-webhook: `handle_event` 43 % of the
worker's CPU; the rest was twelve middlewares — sessions, CSRF, locale, messages, axes, the audit trail —
that an HMAC-signed engine request does not use, DRF's request wrapping, and four thread hops per request,
since the middleware chain mixes sync and async). Here an event costs one hop: the body is read and bounded
on the event loop, then one worker thread verifies the signature, parses the event and runs the ACD's own
`handle_event`, as the DRF view does with the same functions (`signed_account_id`, `answer_event`), so both
refuse, answer and err alike. Anything else — another method, another content type, a chunked or oversized
body, plain HTTP where HTTPS is required — goes to Django, which answers it as before.

The worker threads are a small pool per process (ENGINE_EDGE_THREADS): each keeps its own database
connection from the pool for the duration of one event, so one process overlaps several events' round trips
without holding a thread per request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections
from django.http.request import split_domain_port, validate_host
from rest_framework.exceptions import AuthenticationFailed

from core.api.exceptions import DATABASE_RETRY_AFTER_SECONDS
from core.limits import too_deep
from telephony.api.authentication import signed_account_id
from telephony.port import PortError
from telephony.signing import ACCOUNT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER

from .answer import answer_event

log = logging.getLogger(__name__)

EVENTS_PATH = "/api/v1/telephony/events/"
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
_HEADERS = {name.lower().encode(): name for name in (ACCOUNT_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)}


def _answer(account: str | None, timestamp: str | None, signature: str, body: bytes) -> tuple[int, dict]:
    """The event's whole work, in one worker thread: the connection leaves the pool and returns to it here
    (what Django's request_started/request_finished signals do for its own requests)."""
    close_old_connections()
    try:
        try:
            account_id = signed_account_id(account, timestamp, body, signature)
        except AuthenticationFailed as exc:
            return 401, {"detail": str(exc.detail)}
        try:
            return 200, answer_event(account_id, body)
        except PortError as exc:
            return 400, {"detail": str(exc)}
    finally:
        close_old_connections()


class EngineEdge:
    """ASGI middleware: the engines' event endpoint on the lean path; every other request to `app`."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app
        self.run = SyncToAsync(_answer, thread_sensitive=False,
                               executor=ThreadPoolExecutor(max_workers=settings.ENGINE_EDGE_THREADS,
                                                           thread_name_prefix="engine-edge"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (scope["type"] == "http" and scope["path"] == EVENTS_PATH and scope["method"] == "POST"):
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        if not (length.isdigit() and int(length) <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE
                and b"json" in headers.get(b"content-type", b"") and self._secure_enough(scope, headers)):
            return await self.app(scope, receive, send)  # Django's own answer (413, 415, redirect…)
        if not self._host_allowed(headers.get(b"host", b"").decode("latin-1")):
            return await self._respond(send, 400, {"detail": "Bad Request: the Host header is not allowed."})
        body = await self._read_body(receive, int(length))
        if body is None:
            return None  # the engine went away
        if too_deep(body):
            return await self._respond(send, 400, {"detail": f"The JSON body is nested deeper than "
                                                             f"{settings.JSON_MAX_DEPTH} levels."})
        signed = {name: headers.get(key, b"").decode("latin-1") for key, name in _HEADERS.items()}
        try:
            status, payload = await self.run(signed[ACCOUNT_HEADER] or None, signed[TIMESTAMP_HEADER] or None,
                                             signed[SIGNATURE_HEADER], body)
        except (OperationalError, InterfaceError) as exc:
            # PostgreSQL down or restarting: nothing was committed, the engine sends the event again (the same
            # answer as the API's exception handler gives, core/api/exceptions.py).
            log.warning("answered 503: the database does not answer (%s)", exc)
            return await self._respond(send, 503, {"code": "database_unavailable", "detail": "The database does "
                                                   "not answer; try again shortly."},
                                       retry_after=DATABASE_RETRY_AFTER_SECONDS)
        except Exception:  # never a stack trace to an engine; the event's transaction was rolled back whole
            log.exception("engine event failed")
            status, payload = 500, {"detail": "A server error occurred."}
        return await self._respond(send, status, payload)

    @staticmethod
    def _secure_enough(scope: Scope, headers: dict[bytes, bytes]) -> bool:
        """Plain HTTP where HTTPS is required goes to Django's SecurityMiddleware (its redirect)."""
        if not settings.SECURE_SSL_REDIRECT or scope.get("scheme") == "https":
            return True
        proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
        if proxy:
            name = proxy[0].removeprefix("HTTP_").replace("_", "-").lower().encode()
            return headers.get(name, b"").split(b",")[0].strip().decode("latin-1") == proxy[1]
        return False

    @staticmethod
    def _host_allowed(host: str) -> bool:
        allowed = settings.ALLOWED_HOSTS or ([".localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
        domain, _port = split_domain_port(host)
        return bool(domain) and validate_host(domain, allowed)

    @staticmethod
    async def _read_body(receive: Receive, length: int) -> bytes | None:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > length:  # more than the Content-Length said: keep only what it announced
                chunks.append(chunk[: len(chunk) - (size - length)])
                break
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    @staticmethod
    async def _respond(send: Send, status: int, payload: dict, retry_after: int | None = None) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store")]
        if status == 401:
            headers.append((b"www-authenticate", b"HMAC-SHA256"))
        if retry_after is not None:
            headers.append((b"retry-after", str(retry_after).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
