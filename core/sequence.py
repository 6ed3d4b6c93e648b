"""Per-stream sequence numbers for pushed events: a client that sees a gap asks for a fresh snapshot.

The numbers live in Redis, shared by every web worker, Celery worker and simulator process. Part of the
stream protocol (boards/PROTOCOL.md), kept in core because the publisher (core.events) numbers every event
it sends: core never imports the apps above it.
"""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings


def _prefix() -> str:
    return settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "centralino")


def _key(stream: str) -> str:
    return f"{_prefix()}:seq:{stream}"


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def next_seq(stream: str) -> int:
    return int(_redis().incr(_key(stream)))


def take_seqs(counts: dict[str, int]) -> dict[str, int]:
    """Reserve `counts[stream]` consecutive numbers on each stream in one Redis round trip; returns each
    stream's first. The publisher numbers a whole batch of queued events this way instead of one INCR per
    push (9 % of a web worker's time under bench-webhook went to those round trips)."""
    pipe = _redis().pipeline(transaction=False)
    for stream, n in counts.items():
        pipe.incrby(_key(stream), n)
    return {stream: int(last) - n + 1 for (stream, n), last in zip(counts.items(), pipe.execute(), strict=True)}


def current_seq(stream: str) -> int:
    return int(_redis().get(_key(stream)) or 0)


def claim_stats(account_id: int, window_ms: int = 1000) -> bool:
    """True for exactly one caller per account and window, across every server (Redis SET NX PX)."""
    return bool(_redis().set(f"{_prefix()}:stats:{account_id}", 1, nx=True, px=window_ms))
