"""HMAC-SHA256 signatures for the webhook backend, both ways.

signature = hex(HMAC-SHA256(account.webhook_secret, f"{timestamp}.{body}")), sent as
`X-Centralino-Signature: sha256=<hex>` with `X-Centralino-Timestamp: <unix seconds>` and
`X-Centralino-Account: <account slug>`. A timestamp outside the replay window is refused.
"""

from __future__ import annotations

import hashlib
import hmac

REPLAY_WINDOW_SECONDS = 300
ACCOUNT_HEADER = "X-Centralino-Account"
TIMESTAMP_HEADER = "X-Centralino-Timestamp"
SIGNATURE_HEADER = "X-Centralino-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: float) -> str | None:
    """None when the request is authentic and fresh; otherwise the reason it is refused."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return f"{TIMESTAMP_HEADER} must be a Unix time in seconds"
    if abs(now - ts) > REPLAY_WINDOW_SECONDS:
        return f"the timestamp is outside the {REPLAY_WINDOW_SECONDS} s replay window"
    if not signature or not hmac.compare_digest(sign(secret, ts, body), signature):
        return "the signature does not match"
    return None


def signed_headers(account_slug: str, secret: str, body: bytes, now: float) -> dict[str, str]:
    ts = int(now)
    return {ACCOUNT_HEADER: account_slug, TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign(secret, ts, body),
            "Content-Type": "application/json"}
