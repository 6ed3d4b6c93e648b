"""Placing a call (click-to-call, internal and service calls; the dialer will use the same path).

The channel is taken before anything is dialled: over the limit the call is refused with
REACH_PLAN_LIMIT, recorded, and no Originate command leaves.
"""

from __future__ import annotations

import hashlib
import uuid

from budget import actions as budget
from core.validators import normalize_e164
from telephony.port import Originate

from ..choices import CallEventKind, CallState, Direction, HangupCause, Outcome
from ..models import Call
from ..unit import unit_of_work

ORIGINATE_TIMEOUT_SECONDS = 30


def idempotent_ref(idempotency_key: str) -> str:
    """The engine id of the call placed for a client's Idempotency-Key: the same key, the same id, and the
    account's unique (account, engine_ref) index lets only one such call ever exist (so one dial)."""
    return "orig-key-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:48]


def originate_call(account_id: int, destination: str, *, direction: str = Direction.OUTBOUND,
                   caller_id: str = "", amd: bool = False, idempotency_key: str = "",
                   timeout_seconds: int = ORIGINATE_TIMEOUT_SECONDS,
                   screen_fields: list[dict[str, str]] | None = None) -> Call:
    """Returns the call record; a refused one has outcome REJECTED and end cause REACH_PLAN_LIMIT. With an
    idempotency key a second call for the same key fails on the unique index (IntegrityError), dialling
    nothing: the caller then answers with the first one. `screen_fields` ride on the call card of the operator
    who takes the call ([{"label", "value"}], shown as text)."""
    if direction not in Direction.values or direction == Direction.INBOUND:
        raise ValueError(f"an originated call is outbound, internal or system, not {direction!r}")
    target = destination if direction == Direction.INTERNAL else normalize_e164(destination)
    with unit_of_work(account_id) as work:
        call = Call.objects.create(account_id=account_id, engine_ref=idempotent_ref(idempotency_key) if idempotency_key
                                   else f"orig-{uuid.uuid4().hex}",
                                   direction=direction, caller=caller_id, dialed=target, arrived_at=work.at,
                                   screen_fields=list(screen_fields or []))
        work.log(call, CallEventKind.ARRIVED, direction=direction, dialed=target)
        if budget.acquire(call, direction) is not None:
            call.state = CallState.ENDED
            call.outcome = Outcome.REJECTED
            call.end_cause = HangupCause.REACH_PLAN_LIMIT
            call.ended_at = work.at
            work.save(call)
            work.log(call, CallEventKind.REJECTED, cause=HangupCause.REACH_PLAN_LIMIT)
        else:
            work.command(Originate(call_ref=call.engine_ref, destination=target, caller_id=caller_id,
                                   timeout_seconds=timeout_seconds, amd=amd))
        return call
