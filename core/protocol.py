"""The stream protocol's wire format (boards/PROTOCOL.md), in one place.

An event is encoded to JSON text once, where it is produced, and every socket of the stream sends that same
text: the fan-out costs one encoding per event, not one per socket. It lives in core, below every app,
because the publisher (core.events) encodes what any action sends; the boards' consumers read it from here.
"""

from __future__ import annotations

import json
from typing import Any

PROTOCOL_VERSION = 1


def encode(kind: str, stream: str, **fields: Any) -> str:
    """One server → client message as JSON text: `type`, `v`, `stream`, then the fields."""
    return json.dumps({"type": kind, "v": PROTOCOL_VERSION, "stream": stream, **fields}, separators=(",", ":"))


def encode_event(stream: str, seq: int, payload: dict[str, Any]) -> str:
    """A pushed event: the action's payload (which carries its own `type`) plus version, stream and number."""
    return json.dumps({**payload, "v": PROTOCOL_VERSION, "stream": stream, "seq": seq}, separators=(",", ":"))


def relay_message(stream: str, seq: int, payload: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer message a server relays to the stream's sockets: the encoded text, plus its number
    (readable without parsing)."""
    return {"type": "centralino.event", "text": encode_event(stream, seq, payload), "seq": seq}
