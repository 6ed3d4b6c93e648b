"""Operator legs: ring an operator, end a leg, cancel the legs still ringing, free the operator after it.

A leg is an `Offer` row: the call ringing one operator. The database itself forbids two ringing legs for
one operator, or (except ring-all) for one call. Operators come here already locked, or are locked here in
the order `acd.locks` writes down.
"""

from __future__ import annotations

import datetime as dt
import uuid

from agents.actions import transition_locked
from agents.choices import OperatorState, PauseSource, Via
from core.events import operator_group, send_event_on_commit
from routing.models import Service, ServiceMembership
from telephony.port import CancelLeg, Ring

from . import locks
from .calls import move
from .choices import CallEventKind, CallState, OfferState
from .models import Call, Offer
from .screen import screen_info, whisper_text
from .work import Work

RING_GRACE_SECONDS = 5  # an offer with no engine event this long after its ring timeout has expired
NO_ANSWER_RETRY_SECONDS = 5  # an operator who let a call ring out is not rung again at once
BUSY_BACKOFF_SECONDS = 10
REJECT_BACKOFF_SECONDS = 10
FAILED_BACKOFF_SECONDS = 30


def ring(call: Call, service: Service, members: list[ServiceMembership], work: Work, *,
         ring_all: bool = False, is_transfer: bool = False) -> list[Offer]:
    """Reserve the (already locked) operators for the call and tell the engine to ring them."""
    timeout = service.ring_timeout_seconds
    offers = []
    screen = screen_info(call, service, work.at)
    for member in members:
        op = member.operator
        offer = Offer(account_id=call.account_id, call=call, operator=op, leg_ref=uuid.uuid4().hex,
                      ring_all=ring_all, is_transfer=is_transfer, created_at=work.at,
                      expires_at=work.at + dt.timedelta(seconds=timeout + RING_GRACE_SECONDS))
        offers.append(offer)
        transition_locked(op, OperatorState.RINGING, via=Via.ACD, call_id=call.pk, writes=work.writes)
        work.command(Ring(call_ref=call.engine_ref, leg_ref=offer.leg_ref, endpoint=op.endpoint,
                          timeout_seconds=timeout, caller_id=call.caller,
                          whisper=whisper_text(call, service, op), screen=screen))
        work.log(call, CallEventKind.OFFERED, operator_id=op.pk, leg=offer.leg_ref)
        send_event_on_commit([operator_group(op.pk)], {"type": "offer", "card": {**screen, "leg": offer.leg_ref},
                                                       "timeout_seconds": timeout, "version": op.version})
    work.writes.insert(offers)
    call.has_ringing_leg = True
    if not is_transfer:
        move(call, CallState.RINGING)
        work.save(call)
    return offers


def end_offer(offer: Offer, state: str, work: Work) -> None:
    offer.state = state
    offer.ended_at = work.at
    work.save(offer, ["state", "ended_at"])
    work.log(offer.call, CallEventKind.OFFER_ENDED, operator_id=offer.operator_id, leg=offer.leg_ref,
             result=state)


def release_operator_after_miss(offer: Offer, state: str, service: Service, work: Work) -> None:
    """The operator did not take the call: pause after N misses in a row, else a short back-off.

    The offer comes from `acd.locks`, which locked its operator with it."""
    op = offer.operator
    if op.state != OperatorState.RINGING:
        return
    if state in (OfferState.NO_ANSWER, OfferState.EXPIRED):
        op.no_answer_streak += 1
        if op.no_answer_streak >= service.pause_after_misses:
            transition_locked(op, OperatorState.PAUSED, via=Via.ACD, pause_source=PauseSource.NO_ANSWER,
                              reason="no answer", call_id=offer.call_id, writes=work.writes)
            return
        backoff = NO_ANSWER_RETRY_SECONDS
    elif state == OfferState.BUSY:
        backoff = BUSY_BACKOFF_SECONDS
    elif state == OfferState.REJECTED:
        backoff = REJECT_BACKOFF_SECONDS
    elif state == OfferState.FAILED:
        backoff = FAILED_BACKOFF_SECONDS
    else:  # cancelled: the caller left or someone else answered; the operator is free at once
        backoff = 0
    op.backoff_until = work.at + dt.timedelta(seconds=backoff) if backoff else None
    transition_locked(op, OperatorState.AVAILABLE, via=Via.ACD, call_id=offer.call_id, writes=work.writes)
    if not backoff:
        work.freed(op)


def cancel_ringing(call: Call, work: Work, *, except_offer: Offer | None = None) -> None:
    """Stop every other leg still ringing for the call; their operators are free again.

    A call locked by an engine event says whether it has a ringing leg at all (`acd.locks.for_event`);
    one that has none costs no query here."""
    if getattr(call, "has_ringing_leg", True) is False:
        return
    for offer in locks.ringing_offers(call, except_offer=except_offer):
        end_offer(offer, OfferState.CANCELLED, work)
        release_operator_after_miss(offer, OfferState.CANCELLED, call.service, work)
        work.command(CancelLeg(call_ref=call.engine_ref, leg_ref=offer.leg_ref))


def release_after_call(operator_id: int, call: Call, work: Work) -> None:
    """The operator's conversation is over: wrap-up if the service has one, else free at once."""
    op = locks.operator_of_call(call, operator_id)
    if op.state != OperatorState.ON_CALL:
        return
    op.last_call_ended_at = work.at
    wrapup = call.service.wrapup_seconds if call.service else 0
    if wrapup:
        op.wrapup_until = work.at + dt.timedelta(seconds=wrapup)
        transition_locked(op, OperatorState.WRAP_UP, via=Via.ACD, call_id=call.pk, writes=work.writes)
    else:
        transition_locked(op, OperatorState.AVAILABLE, via=Via.ACD, call_id=call.pk, writes=work.writes)
        work.freed(op)
