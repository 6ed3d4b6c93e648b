"""Per-stream sequence numbers for pushed events: a client that sees a gap asks for a fresh snapshot.

With Redis, the numbers live in Redis (shared by every server and worker); in embedded mode (one process)
an in-process counter does. Part of the stream protocol (boards/PROTOCOL.md), kept in core because the
publisher (core.events) numbers every event it sends: core never imports the apps above it.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import defaultdict
from functools import cache

import redis
from django.conf import settings


def _key(stream: str) -> str:
    prefix = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "centralino")
    return f"{prefix}:seq:{stream}"


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


_local: dict[str, itertools.count] = defaultdict(lambda: itertools.count(1))
_local_last: dict[str, int] = defaultdict(int)
_lock = threading.Lock()


def next_seq(stream: str) -> int:
    if settings.REDIS_URL:
        return int(_redis().incr(_key(stream)))
    with _lock:
        _local_last[stream] = next(_local[stream])
        return _local_last[stream]


def current_seq(stream: str) -> int:
    if settings.REDIS_URL:
        return int(_redis().get(_key(stream)) or 0)
    with _lock:
        return _local_last[stream]


_claims: dict[int, float] = {}


def claim_stats(account_id: int, window_ms: int = 1000) -> bool:
    """True for exactly one caller per account and window, across every server (Redis SET NX PX)."""
    if settings.REDIS_URL:
        prefix = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "centralino")
        return bool(_redis().set(f"{prefix}:stats:{account_id}", 1, nx=True, px=window_ms))
    with _lock:
        if time.monotonic() - _claims.get(account_id, -1e9) < window_ms / 1000:
            return False
        _claims[account_id] = time.monotonic()
        return True
