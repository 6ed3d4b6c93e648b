"""Outbound HTTP to a URL a tenant typed (the account's engine URL), without server-side request forgery.

A supervisor could point the engine URL at http://127.0.0.1:…, the cloud's metadata address or a private
host, and the Celery worker would POST signed commands there. A URL is accepted only with http(s), and only
when every address its host resolves to is a public one (not loopback, private, link-local — 169.254.169.254
included —, shared, reserved or multicast), unless the platform allows private engines
(ENGINE_URL_ALLOW_PRIVATE, for a PBX on the provider's own network) or lists the host in
ENGINE_URL_ALLOWED_HOSTS. The check runs when the URL is saved and again at every push, on the address the
connection then actually uses (a DNS answer that changed in between is caught), with short connect and read
timeouts and an overall deadline so a slow target cannot hold a worker's slot.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeURL(ValueError):
    """The URL may not be fetched; the message says why, for the form and the log."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the vetted IP the connection goes to


def _allowed_host(host: str, allowed_hosts: list[str] | None = None) -> bool:
    hosts = settings.ENGINE_URL_ALLOWED_HOSTS if allowed_hosts is None else allowed_hosts
    return host.lower() in {h.lower() for h in hosts}


def check_address(address: str) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        raise UnsafeURL(f"{address} is not a public address (loopback, private, link-local or reserved)")


def resolve(url: str, *, allow_private: bool | None = None, allowed_hosts: list[str] | None = None) -> Target:
    """The URL's parts and one vetted address to connect to, or UnsafeURL. `allow_private`/`allowed_hosts`
    default to the engine URL's settings; the integrators' webhooks pass their own."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("only http:// and https:// URLs with a host name are allowed")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeURL("the port is not a number from 1 to 65535") from exc
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"the host {host} does not resolve") from exc
    addresses = [info[4][0] for info in infos]
    private_ok = settings.ENGINE_URL_ALLOW_PRIVATE if allow_private is None else allow_private
    if not (private_ok or _allowed_host(host, allowed_hosts)):
        for address in addresses:  # every one: the connection could use any
            check_address(address)
    path = parts.path or "/"
    return Target(parts.scheme, host, port, path + (f"?{parts.query}" if parts.query else ""), addresses[0])


def post(url: str, body: bytes, headers: dict[str, str], *, connect_timeout: float, read_timeout: float,
         max_response_bytes: int = 65536, allow_private: bool | None = None, allowed_hosts: list[str] | None = None,
         excerpt: bytearray | None = None) -> int:
    """POST `body` to a vetted address of `url`; the status code. The whole exchange, connect included, ends
    within connect_timeout + read_timeout (a target that dribbles its answer is cut off). `excerpt`, when
    given, receives the answer's first bytes (for a delivery log)."""
    target = resolve(url, allow_private=allow_private, allowed_hosts=allowed_hosts)
    deadline = time.monotonic() + connect_timeout + read_timeout
    sock = socket.create_connection((target.address, target.port), timeout=connect_timeout)
    try:
        if target.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=target.host)
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        connection = http.client.HTTPConnection(target.host, target.port)
        connection.sock = sock  # already connected to the vetted address
        connection.request("POST", target.path, body=body, headers={**headers, "Host": target.host})
        response = connection.getresponse()
        received = 0
        while received <= max_response_bytes:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the engine did not answer in time")
            sock.settimeout(remaining)
            chunk = response.read1(4096)
            if not chunk:
                break
            if excerpt is not None and len(excerpt) < 500:
                excerpt.extend(chunk[:500 - len(excerpt)])
            received += len(chunk)
        return response.status
    finally:
        sock.close()
