"""The queue: callers wait here, and are matched with free operators by the service's criterion.

Two ways in: a call enters the queue (or a leg failed) and looks for an operator; or an operator became
free and looks for the best waiting call across their services. The lock order of `acd.locks` holds in
both: the call-first path takes operators with SKIP LOCKED, the operator-first path takes calls with
SKIP LOCKED.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from agents.choices import OperatorState
from agents.models import Operator
from routing.choices import CodeUnavailableAction, Criterion, OverflowAction
from routing.models import Service, ServiceMembership
from telephony.port import StartHold

from . import locks
from .calls import move
from .choices import CallEventKind, CallState, OfferState
from .criteria import lock_candidates, remember_rotation, skill_threshold, waiting_for_target
from .legs import ring
from .models import Call, Offer
from .overflow import overflow
from .prompts import BUILTIN_HOLD, prompt_ref
from .work import Work


def _sticky_target(call: Call, service: Service, work: Work) -> None:
    """Last-operator criterion: the operator who last answered this caller, within the window."""
    if not call.caller:
        return
    since = work.at - dt.timedelta(days=service.sticky_window_days)
    last = (Call.objects.filter(account_id=call.account_id, caller=call.caller, answered_at__gte=since,
                                operator__isnull=False).order_by("-answered_at").values_list("operator_id",
                                                                                              flat=True).first())
    if last and ServiceMembership.objects.filter(service=service, operator_id=last).exists():
        call.target_operator_id = last
        call.target_until = work.at + dt.timedelta(seconds=service.sticky_wait_seconds)


def enter_queue(call: Call, work: Work) -> None:
    """The caller waits, on hold, for an operator (rung at once when one is free)."""
    service = call.service
    move(call, CallState.QUEUED)
    call.queued_at = work.at
    if service.overflow_action != OverflowAction.HOLD:
        call.queue_deadline = work.at + dt.timedelta(seconds=service.max_wait_seconds)
    if call.criterion == Criterion.LAST_OPERATOR and call.target_operator_id is None:
        _sticky_target(call, service, work)
    work.log(call, CallEventKind.ENTERED_QUEUE, target=call.target_operator_id)
    work.command(StartHold(call_ref=call.engine_ref, prompt=prompt_ref(service.hold_prompt, BUILTIN_HOLD)))
    if offer_call(call, work):
        return  # ring() saved the call
    work.save(call)
    if service.overflow_when_nobody_logged_in and not _anyone_logged_in(call, service):
        overflow(call, work, reason="no_operator")


def _anyone_logged_in(call: Call, service: Service) -> bool:
    """Whether the service has an operator logged in at all (told by the routing statement of the event's
    first round trip, when it ran)."""
    known = call.__dict__.get("anyone_logged_in")
    if known is not None:
        return known
    return ServiceMembership.objects.filter(service=service, operator__is_active=True).exclude(
        operator__state=OperatorState.LOGGED_OUT).exists()


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
            overflow(call, work, action_override="voicemail", reason="operator_unavailable")
            return True
        # The window for the wanted operator is over: anyone, longest idle first.
        call.target_operator = None
        call.criterion = Criterion.LONGEST_IDLE
        work.save(call, ["target_operator", "criterion"])
    members, ring_all = lock_candidates(service, call, work.at)
    if not members:
        return False
    ring(call, service, members, work, ring_all=ring_all)
    remember_rotation(service, call, members, work.writes)
    return True


def offer_operator(op: Operator, work: Work) -> bool:
    """An operator just became free: give them the best waiting call they may take.

    Across all their services, the highest priority first, then the longest waiting. The operator comes
    locked (and as this unit changed it), so calls are claimed with SKIP LOCKED.
    """
    if op.state != OperatorState.AVAILABLE or not op.is_active:
        return False
    if op.backoff_until and op.backoff_until > work.at:
        return False
    prefetched = locks.waiting_for_freed(op)  # a hang-up that freed them looked already, in its first trip
    if prefetched is not None:
        memberships = {m.service_id: m for m in prefetched[0]}
        waiting = prefetched[1]
    else:
        memberships = {m.service_id: m for m in ServiceMembership.objects.filter(operator=op).select_related(
            "service", "service__account")}
        if not memberships:
            return False
        waiting = locks.skip_locked_calls(
            Call.objects.filter(state=CallState.QUEUED, service_id__in=list(memberships))
            .filter(Q(target_operator__isnull=True) | Q(target_operator=op) | Q(target_until__lte=work.at))
            .order_by("-priority", "queued_at", "id"))[:locks.WAITING_PEEK]
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
        remember_rotation(member.service, call, [member], work.writes)
        return True
    return False


def requeue_if_nobody_rings(call: Call, offer: Offer, work: Work) -> None:
    """After a failed offer: ring the next operator, or wait in the queue again."""
    if call.state != CallState.RINGING:
        return
    # Only ring-all calls can have another leg still ringing (the database allows one per call otherwise).
    if offer.ring_all and Offer.objects.filter(call=call, state=OfferState.RINGING).exclude(pk=offer.pk).exists():
        return
    move(call, CallState.QUEUED)
    work.save(call, ["state"])
    if call.queue_deadline is not None and call.queue_deadline <= work.at:
        overflow(call, work, reason="max_wait")
        return
    offer_call(call, work)


def serve_freed_operators(work: Work) -> None:
    """Operators freed during this unit of work take the next waiting call at once."""
    while work.freed_operators:
        offer_operator(work.freed_operators.pop(0), work)
