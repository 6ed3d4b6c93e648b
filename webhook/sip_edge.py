"""Kamailio's questions (`POST /api/v1/telephony/sip/<kind>/`) served straight from ASGI, in front of Django.

Why: every SIP call costs the back office a decision and its reports, and through Django each request crossed
the whole middleware chain (sessions, CSRF, locale, messages, axes, the audit trail: nothing a token-checked
request from the proxy uses) with several thread hops; bench-sip measured the back office at a quarter of
what Kamailio alone sustains. Here a request costs one hop, as the engines' events do (webhook/edge.py, whose
body reading, host check and answer writing this reuses): the body is read and bounded on the event loop,
then one worker thread checks the token and runs `webhook.sip.answer`, the same function the Django views
call, so both doors refuse, answer and err alike. Anything else goes to Django.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections

from core.api.exceptions import DATABASE_RETRY_AFTER_SECONDS

from .edge import EngineEdge, Receive, Scope, Send
from .sip import ANSWERS, MAX_BODY, TOKEN_HEADER, Answer, answer

log = logging.getLogger(__name__)

PREFIX = "/api/v1/telephony/sip/"
KINDS = frozenset({*ANSWERS, "reports"})
_TOKEN = TOKEN_HEADER.lower().encode()


def _answer(kind: str, token: str, authorization: str, body: bytes) -> Answer:
    """The request's whole work in one worker thread; the connection leaves the pool and returns to it here."""
    close_old_connections()
    try:
        return answer(kind, token, authorization, body)
    finally:
        close_old_connections()


class SipEdge:
    """ASGI middleware: Kamailio's requests on the lean path; every other request to `app`."""

    def __init__(self, app) -> None:
        self.app = app
        self.run = SyncToAsync(_answer, thread_sensitive=False,
                               executor=ThreadPoolExecutor(max_workers=settings.ENGINE_EDGE_THREADS,
                                                           thread_name_prefix="sip-edge"))

    @staticmethod
    def kind_of(scope: Scope) -> str | None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") != "POST" or not path.startswith(PREFIX):
            return None
        kind = path[len(PREFIX):].rstrip("/")
        return kind if kind in KINDS and path.endswith("/") else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = self.kind_of(scope)
        if kind is None:
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        if not (length.isdigit() and int(length) <= MAX_BODY and EngineEdge._secure_enough(scope, headers)):
            return await self.app(scope, receive, send)  # Django's own answer (413, redirect…)
        if not EngineEdge._host_allowed(headers.get(b"host", b"").decode("latin-1")):
            return await EngineEdge._respond(send, 400, {"detail": "Bad Request: the Host header is not allowed."})
        body = await EngineEdge._read_body(receive, int(length))
        if body is None:
            return None  # Kamailio went away
        try:
            status, payload = await self.run(kind, headers.get(_TOKEN, b"").decode("latin-1"),
                                             headers.get(b"authorization", b"").decode("latin-1"), body)
        except (OperationalError, InterfaceError) as exc:
            # PostgreSQL down: nothing committed; an INVITE fails closed (503), a batch of reports is sent again
            log.warning("sip edge answered 503: the database does not answer (%s)", exc)
            return await EngineEdge._respond(send, 503, {"code": "database_unavailable", "detail": "The database "
                                             "does not answer; try again shortly."},
                                             retry_after=DATABASE_RETRY_AFTER_SECONDS)
        except Exception:  # never a stack trace to the proxy; the request's transactions were rolled back
            log.exception("sip edge request failed")
            status, payload = 500, {"detail": "A server error occurred."}
        return await EngineEdge._respond(send, status, payload)
