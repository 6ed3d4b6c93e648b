"""Offering calls to operators: ring, answer, give up, and match waiting calls with free operators.

Lock order, everywhere: the call row first, then operator rows. A path that starts from an operator
(someone just became free) claims calls only with SKIP LOCKED, so it never waits on a call row while
holding an operator: two transactions can never wait for each other.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import Q

from agents.actions import transition_locked
from agents.choices import OperatorState, PauseSource, Via
from agents.models import Operator
from core.events import operator_group, send_event_on_commit
from routing.choices import CodeUnavailableAction, Criterion
from routing.models import Service, ServiceMembership
from telephony.port import CancelLeg, Ring

from . import calls
from .choices import CallEventKind, CallState, OfferState
from .models import Call, Offer
from .screen import screen_info, whisper_text
from .selection import lock_candidates, skill_threshold, waiting_for_target
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
        transition_locked(op, OperatorState.RINGING, via=Via.ACD, call_id=call.pk)
        work.command(Ring(call_ref=call.engine_ref, leg_ref=offer.leg_ref, endpoint=op.endpoint,
                          timeout_seconds=timeout, caller_id=call.caller,
                          whisper=whisper_text(call, service, op), screen=screen))
        work.log(call, CallEventKind.OFFERED, operator_id=op.pk, leg=offer.leg_ref)
        send_event_on_commit([operator_group(op.pk)], {"type": "offer", "card": {**screen, "leg": offer.leg_ref},
                                                       "timeout_seconds": timeout, "version": op.version})
    Offer.objects.bulk_create(offers)
    if not is_transfer:
        calls.move(call, CallState.RINGING)
        call.save()
    if (call.criterion or service.criterion) == Criterion.SEQUENTIAL and members:
        Service.objects.filter(pk=service.pk).update(rotation_cursor=members[-1].pk)
    return offers


def offer_call(call: Call, work: Work) -> bool:
    """Try to ring someone for a queued call (locked by the caller). False: it keeps waiting."""
    service = call.service
    if call.target_operator_id is not None:
        members, _ = lock_candidates(service, call, work.at, only_target=True)
        if members:
            ring(call, service, members, work)
            return True
        if waiting_for_target(call, work.at):
            return False
        if call.criterion == Criterion.OPERATOR_CODE and \
                service.code_unavailable_action == CodeUnavailableAction.VOICEMAIL:
            from .overflow import overflow

            overflow(call, work, action_override="voicemail", reason="operator_unavailable")
            return True
        # The window for the wanted operator is over: anyone, longest idle first.
        call.target_operator = None
        call.criterion = Criterion.LONGEST_IDLE
        call.save(update_fields=["target_operator", "criterion"])
    members, ring_all = lock_candidates(service, call, work.at)
    if not members:
        return False
    ring(call, service, members, work, ring_all=ring_all)
    return True


def offer_operator(operator_id: int, work: Work) -> bool:
    """An operator just became free: give them the best waiting call they may take.

    Across all their services, the highest priority first, then the longest waiting (the operator's row
    is locked first here, so calls are claimed with SKIP LOCKED).
    """
    op = Operator.objects.select_for_update(of=("self",)).filter(pk=operator_id).first()
    if op is None or op.state != OperatorState.AVAILABLE or not op.is_active:
        return False
    if op.backoff_until and op.backoff_until > work.at:
        return False
    memberships = {m.service_id: m for m in ServiceMembership.objects.filter(operator=op).select_related(
        "service", "service__account")}
    if not memberships:
        return False
    waiting = (Call.objects.filter(state=CallState.QUEUED, service_id__in=list(memberships))
               .filter(Q(target_operator__isnull=True) | Q(target_operator=op) | Q(target_until__lte=work.at))
               .order_by("-priority", "queued_at", "id")
               .select_for_update(skip_locked=True, of=("self",))[:25])
    for call in waiting:
        member = memberships[call.service_id]
        call.service = member.service
        if call.target_operator_id not in (None, op.pk) and waiting_for_target(call, work.at):
            continue
        if (call.criterion or member.service.criterion) == Criterion.SKILL and \
                member.skill_level < skill_threshold(member.service, call, work.at):
            continue
        member.operator = op
        ring_all = (call.criterion or member.service.criterion) == Criterion.RING_ALL
        ring(call, member.service, [member], work, ring_all=ring_all)
        return True
    return False


def end_offer(offer: Offer, state: str, work: Work) -> None:
    offer.state = state
    offer.ended_at = work.at
    offer.save(update_fields=["state", "ended_at"])
    work.log(offer.call, CallEventKind.OFFER_ENDED, operator_id=offer.operator_id, leg=offer.leg_ref,
             result=state)


def release_operator_after_miss(offer: Offer, state: str, service: Service, work: Work) -> None:
    """The operator did not take the call: pause after N misses in a row, else a short back-off."""
    op = Operator.objects.select_for_update(of=("self",)).get(pk=offer.operator_id)
    if op.state != OperatorState.RINGING:
        return
    if state in (OfferState.NO_ANSWER, OfferState.EXPIRED):
        op.no_answer_streak += 1
        if op.no_answer_streak >= service.pause_after_misses:
            transition_locked(op, OperatorState.PAUSED, via=Via.ACD, pause_source=PauseSource.NO_ANSWER,
                              reason="no answer", call_id=offer.call_id)
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
    transition_locked(op, OperatorState.AVAILABLE, via=Via.ACD, call_id=offer.call_id)
    if not backoff:
        work.freed_operators.append(op.pk)


def cancel_ringing(call: Call, work: Work, *, except_offer: Offer | None = None) -> None:
    """Stop every other leg still ringing for the call; their operators are free again."""
    ringing = (Offer.objects.filter(call=call, state=OfferState.RINGING).select_related("call")
               .order_by("operator_id"))
    if except_offer is not None:
        ringing = ringing.exclude(pk=except_offer.pk)
    for offer in ringing.select_for_update(of=("self",)):
        end_offer(offer, OfferState.CANCELLED, work)
        release_operator_after_miss(offer, OfferState.CANCELLED, call.service, work)
        work.command(CancelLeg(call_ref=call.engine_ref, leg_ref=offer.leg_ref))


def requeue_if_nobody_rings(call: Call, work: Work) -> None:
    """After a failed offer: ring the next operator, or wait in the queue again."""
    if call.state != CallState.RINGING or Offer.objects.filter(call=call, state=OfferState.RINGING).exists():
        return
    calls.move(call, CallState.QUEUED)
    call.save(update_fields=["state"])
    if call.queue_deadline is not None and call.queue_deadline <= work.at:
        from .overflow import overflow

        overflow(call, work, reason="max_wait")
        return
    offer_call(call, work)


def serve_freed_operators(work: Work) -> None:
    """Operators freed during this unit of work take the next waiting call at once."""
    while work.freed_operators:
        offer_operator(work.freed_operators.pop(0), work)
