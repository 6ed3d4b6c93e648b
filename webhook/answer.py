"""One engine event in, its commands out: the work both doors to the webhook share.

The DRF view (webhook/views.py: the schema, the test client, any deployment that mounts Django alone) and the
engines' lean ASGI edge (webhook/edge.py: what the production web process serves) call this, so the event is
parsed, refused and handled by one piece of code whichever door it came through.
"""

from __future__ import annotations

import json
from typing import Any

from acd.actions import handle_event
from telephony.port import PortError, event_from_dict


def answer_event(account_id: int, body: bytes) -> dict[str, Any]:
    """Parse `body` as one engine event and apply it for the account; PortError when it is not one."""
    try:
        doc = json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PortError(str(exc)) from exc
    event = event_from_dict(doc)
    commands = handle_event(event, account_id=account_id, source=f"webhook:{account_id}")
    return {"commands": [c.as_dict() for c in commands]}
