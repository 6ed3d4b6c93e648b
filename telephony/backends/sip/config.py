"""The Kamailio configuration, rendered from the settings.

`kamailio.cfg` beside this file is the whole routing script; it names its parameters as CC_* tokens and this
module prepends one `#!substdef` line per token (Kamailio's preprocessor replaces them everywhere, inside
strings too), so the script itself stays a plain, readable Kamailio file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

TEMPLATE = Path(__file__).with_name("kamailio.cfg")
MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules/"
MAX_BRANCHES = 30  # kamailio.cfg's max_branches: tm's ceiling (31 fails tm's start: its branch bitmap)
_SAFE = re.compile(r"^[^!\r\n\"]*$")  # a value the substdef line can carry as it is


@dataclass(frozen=True)
class ProxySettings:
    """What one Kamailio process needs to know; from the Django settings, or set by a test or benchmark."""

    sip_addr: str
    sip_port: int
    rpc_addr: str
    rpc_port: int
    backoffice_url: str  # .../api/v1/telephony/sip (no trailing slash)
    token: str
    http_timeout: int = 3  # seconds, the whole exchange; http_client's own default waits for ever
    ring_timeout_ms: int = 20000  # used only if the back office names none (it always does)
    dialog_timeout: int = 4 * 3600
    cps_limit: int = 0  # INVITEs per second per account (pipelimit); 0: no cap
    retry_after: int = 30
    children: int = 4
    async_workers: int = 4
    queue_size: int = 100000
    report_interval_us: int = 50000
    batch: int = 10  # reports a timer process sends in one request (bench-sip: 50 took longer than the 3 s timeout)
    drain_batches: int = 50  # batches a timer process sends back to back in one run before it sleeps again
    queue_poll_s: int = 1  # a queued caller's INVITE asks again this often
    queue_max_polls: int = 900
    max_expires: int = 3600  # the longest registration a phone gets (seconds)
    debug: int = 1

    @classmethod
    def from_settings(cls, **overrides) -> ProxySettings:
        values = {
            "sip_addr": settings.SIP_ADDR, "sip_port": settings.SIP_PORT, "rpc_addr": settings.SIP_RPC_ADDR,
            "rpc_port": settings.SIP_RPC_PORT, "backoffice_url": settings.SIP_BACKOFFICE_URL.rstrip("/"),
            "token": settings.SIP_EDGE_TOKEN, "http_timeout": settings.SIP_HTTP_TIMEOUT,
            "cps_limit": settings.SIP_CPS_LIMIT, "retry_after": settings.SIP_RETRY_AFTER,
            "children": settings.SIP_CHILDREN, "async_workers": settings.SIP_ASYNC_WORKERS,
            "queue_poll_s": max(1, settings.SIP_QUEUE_POLL_SECONDS), "queue_max_polls": settings.SIP_QUEUE_MAX_POLLS,
        }
        values.update(overrides)
        return cls(**values)

    def office_connection(self) -> str:
        """The back office's URL for the kept-alive `httpcon`, with the edge token as its basic-authentication
        password (a named connection cannot send the token's header)."""
        scheme, sep, rest = self.backoffice_url.partition("://")
        if not sep or not re.fullmatch(r"[A-Za-z0-9._~-]*", self.token):
            raise ValueError("SIP_BACKOFFICE_URL needs a scheme, and the edge token URL-safe characters")
        return f"{scheme}://kamailio:{self.token}@{rest}"

    def effective_queue_polls(self) -> int:
        """The queue's turns Kamailio can take: each suspends the INVITE's transaction twice and tm adds a
        branch at every suspension (the first question took one, a ring takes one), up to MAX_BRANCHES; more
        turns fail to suspend (bench-sip's queued callers met "maximum number of branches exceeded" and a
        503 with tm's default of 12)."""
        return min(self.queue_max_polls, (MAX_BRANCHES - 2) // 2)

    def tokens(self) -> dict[str, str]:
        return {"CC_SIP_ADDR": self.sip_addr, "CC_SIP_PORT": str(self.sip_port), "CC_RPC_ADDR": self.rpc_addr,
                "CC_RPC_PORT": str(self.rpc_port), "CC_BACKOFFICE_URL": self.backoffice_url, "CC_TOKEN": self.token,
                "CC_HTTP_TIMEOUT": str(self.http_timeout),
                "CC_RING_TIMEOUT_MS": str(self.ring_timeout_ms), "CC_DIALOG_TIMEOUT": str(self.dialog_timeout),
                "CC_CPS_LIMIT": str(self.cps_limit), "CC_RETRY_AFTER": str(self.retry_after),
                "CC_CHILDREN": str(self.children), "CC_ASYNC_WORKERS": str(self.async_workers),
                "CC_OFFICE_CON": self.office_connection(),
                "CC_QUEUE_SIZE": str(self.queue_size), "CC_REPORT_INTERVAL_US": str(self.report_interval_us),
                "CC_BATCH": str(self.batch), "CC_DRAIN_BATCHES": str(self.drain_batches),
                "CC_QUEUE_POLL_S": str(self.queue_poll_s),
                "CC_QUEUE_MAX_POLLS": str(self.effective_queue_polls()),
                "CC_QUEUE_HOLD_S": str(self.effective_queue_polls() * self.queue_poll_s + 60),
                "CC_DEBUG": str(self.debug), "CC_MAX_BRANCHES": str(MAX_BRANCHES),
                "CC_MAX_EXPIRES": str(self.max_expires), "CC_MODULES": MODULES}


def render(proxy: ProxySettings) -> str:
    """The configuration text: the substitutions first, longest token first (none is a prefix of a longer one's
    match then), then the script."""
    lines = ["#!KAMAILIO"]
    for token, value in sorted(proxy.tokens().items(), key=lambda kv: -len(kv[0])):
        if not _SAFE.match(value):
            raise ValueError(f"{token}: the value may not contain '!', '\"' or a line break")
        lines.append(f'#!substdef "!{token}!{value}!g"')
    return "\n".join(lines) + "\n" + TEMPLATE.read_text()


def write(proxy: ProxySettings, path: Path) -> Path:
    path.write_text(render(proxy))
    return path
