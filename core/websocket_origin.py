"""WebSocket handshakes from the page's own origin only, port included.

Channels' AllowedHostsOriginValidator compares the Origin's host name with ALLOWED_HOSTS and ignores its port,
so a page served by another program on the same host (http://127.0.0.1:9999) could open a console's socket
with the operator's cookie. Here the Origin must be the very origin the socket is opened on (its Host header,
which must be an allowed host, with the same port), or one listed in CSRF_TRUSTED_ORIGINS, as Django's CSRF
check wants for a POST.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": "80", "https": "443"}


def _netloc(scheme: str, host: str) -> str:
    """host[:port] in lower case, without the scheme's default port."""
    host = host.lower()
    default = DEFAULT_PORTS.get(scheme)
    return host.removesuffix(f":{default}") if default else host


def same_origin(origin: str | None, host: str | None) -> bool:
    if not origin or not host:
        return False
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in DEFAULT_PORTS or not parts.netloc:
        return False
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    return _netloc(parts.scheme, parts.netloc) == _netloc(parts.scheme, host)


class SameOriginValidator:
    """ASGI middleware for WebSockets: the handshake is denied (403) unless the Origin is the socket's own."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        headers = dict(scope.get("headers", []))
        origin, host = headers.get(b"origin"), headers.get(b"host")
        if same_origin(origin.decode("latin1") if origin else None, host.decode("latin1") if host else None):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
