"""The transactional outbox: the recorder `core.outgoing` calls inside the action's transaction.

One statement per call, whatever the number of events: the events travel as arrays, and the statement
inserts one delivery per event and per active subscription of its account that wants that type. With no
such subscription it inserts nothing. With the unit of work's `writes` it is sent with the COMMIT (no
round trip of its own); without, it runs at once in the caller's transaction.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.db import connection

from core.clock import now
from core.outgoing import OutgoingEvent
from core.pipeline import DeferredWrites

from .choices import DeliveryState
from .models import Delivery, Subscription

log = logging.getLogger(__name__)

_INSERT = """
INSERT INTO {deliveries} (account_id, subscription_id, message_id, event_type, order_key, payload, created_at,
                          state, attempts, next_attempt_at, last_error)
SELECT s.account_id, s.id, gen_random_uuid(), e.type, e.order_key, e.payload, %(at)s, %(pending)s, 0, %(at)s, ''
  FROM unnest(%(accounts)s::bigint[], %(types)s::text[], %(keys)s::text[], %(payloads)s::jsonb[])
       WITH ORDINALITY AS e(account_id, type, order_key, payload, n)
  JOIN {subscriptions} s ON s.account_id = e.account_id AND s.is_active AND e.type = ANY(s.event_types)
 ORDER BY e.n, s.id"""


def envelope(event: OutgoingEvent, at_iso: str) -> dict:
    """The body integrators receive (the Standard Webhooks shape): type, timestamp, data."""
    return {"type": event.type, "timestamp": at_iso, "data": event.data}


def _payload(event: OutgoingEvent, at_iso: str) -> str:
    text = json.dumps(envelope(event, at_iso), separators=(",", ":"), default=str)
    if len(text) > settings.OUTGOING_EVENTS_MAX_PAYLOAD_BYTES:  # bounded: never a huge body to send
        log.error("outgoing %s event of account %s is %d bytes; sent without its data", event.type,
                  event.account_id, len(text))
        text = json.dumps(envelope(OutgoingEvent(event.account_id, event.type, {"truncated": True}), at_iso))
    return text


def record(events: list[OutgoingEvent], writes: DeferredWrites | None) -> None:
    at = now()
    at_iso = at.isoformat()
    params = {"at": at, "pending": DeliveryState.PENDING,
              "accounts": [e.account_id for e in events], "types": [str(e.type) for e in events],
              "keys": [e.order_key for e in events], "payloads": [_payload(e, at_iso) for e in events]}
    sql = _INSERT.format(deliveries=Delivery._meta.db_table, subscriptions=Subscription._meta.db_table)
    if writes is not None:
        writes.execute(sql, params)
    else:
        with connection.cursor() as cur:
            cur.execute(sql, params)
