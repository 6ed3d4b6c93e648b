"""The ACD's timers: database timestamps swept every second, never Celery ETAs.

`sweep()` runs every due timer once, each in its own short unit of work: ring timeouts with no engine
event, maximum waits, wrap-up ends and back-offs, waits for a wanted operator and skill escalation. It is
run every second by Celery beat (`acd.tasks.sweep_timers_task`) and, at the exact due moments, by the
simulator (`next_deadline`). A redelivered or overlapping sweep finds each item under its row lock,
re-checks it and does nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db.models import Exists, OuterRef, Q, Subquery

from accounts.models import Account
from agents.actions import transition_locked
from agents.choices import OperatorState, Via
from agents.models import Operator
from core.clock import now
from routing.models import ServiceMembership
from telephony import port

from . import locks
from .choices import CallState, OfferState
from .flows import outbound
from .flows.inbound import fail_offer
from .models import Call, Offer
from .overflow import overflow
from .queue import offer_call
from .unit import unit_of_work
from .work import Work


def _accounts_filter(account_ids: list[int] | None) -> Q:
    return Q(account_id__in=account_ids) if account_ids is not None else Q(account__is_simulation=False)


def _in_own_transaction(account_id: int, fn: Callable[..., None], *args: int) -> None:
    with unit_of_work(account_id) as work:
        fn(*args, work)


def _expire_offer(offer_id: int, work: Work) -> None:
    offer = Offer.objects.filter(pk=offer_id).values("call_id").first()
    if offer is None:
        return
    call = locks.call_by_id(offer["call_id"])
    current = locks.offer_by_id(offer_id)
    if current.state != OfferState.RINGING or current.expires_at > work.at:
        return
    work.command(port.CancelLeg(call_ref=call.engine_ref, leg_ref=current.leg_ref))
    fail_offer(current, call, OfferState.EXPIRED, work)


def _overflow_due(call_id: int, work: Work) -> None:
    call = locks.call_by_id(call_id)
    if call is None or call.state not in (CallState.QUEUED, CallState.RINGING) or call.queue_deadline is None \
            or call.queue_deadline > work.at:
        return
    if outbound.on_deadline(call, work):  # a dialer's live call: the 2-second rule, safe harbor
        return
    overflow(call, work, reason="max_wait")


def _free_operator(operator_id: int, work: Work) -> None:
    op = locks.operator(operator_id)
    if op.state == OperatorState.WRAP_UP and op.wrapup_until and op.wrapup_until <= work.at:
        transition_locked(op, OperatorState.AVAILABLE, via=Via.ACD, writes=work.writes)
    elif op.state == OperatorState.AVAILABLE and op.backoff_until and op.backoff_until <= work.at:
        op.backoff_until = None
        work.writes.update(Operator, op.pk, backoff_until=None)
    else:
        return
    work.freed(op)


def _retry_waiting(call_id: int, work: Work) -> None:
    call = locks.call_by_id(call_id)
    if call is not None and call.state == CallState.QUEUED:
        offer_call(call, work)


def sweep(account_ids: list[int] | None = None) -> int:
    """Run every due timer once; each item in its own short transaction. Returns how many were due."""
    at = now()
    scope = _accounts_filter(account_ids)
    done = 0
    for offer_id, account_id in Offer.objects.filter(scope, state=OfferState.RINGING, expires_at__lte=at) \
            .values_list("id", "account_id"):
        _in_own_transaction(account_id, _expire_offer, offer_id)
        done += 1
    for call_id, account_id in Call.objects.filter(scope, state__in=[CallState.QUEUED, CallState.RINGING],
                                                   queue_deadline__lte=at).values_list("id", "account_id"):
        _in_own_transaction(account_id, _overflow_due, call_id)
        done += 1
    for op_id, account_id in Operator.objects.filter(scope).filter(
            Q(state=OperatorState.WRAP_UP, wrapup_until__lte=at)
            | Q(state=OperatorState.AVAILABLE, backoff_until__lte=at)).values_list("id", "account_id"):
        _in_own_transaction(account_id, _free_operator, op_id)
        done += 1
    for call_id, account_id in _waiting_calls_to_retry(scope, at):
        _in_own_transaction(account_id, _retry_waiting, call_id)
        done += 1
    return done


def _waiting_calls_to_retry(scope: Q, at: dt.datetime) -> list[tuple[int, int]]:
    """Queued calls whose chances changed with time (a wanted operator's window over, skill escalation),
    and queued calls that a free operator of their service could take right now.

    The second kind should not exist: an operator who becomes free is offered the best waiting call in the
    same transaction. But a hand-off can fail (the operator's transaction rolled back after commit of the
    call, a process died between the two); this pairing makes such a caller wait one second, never forever.
    """
    free_member = ServiceMembership.objects.filter(
        service_id=OuterRef("service_id"), operator__state=OperatorState.AVAILABLE, operator__is_active=True,
    ).filter(Q(operator__backoff_until__isnull=True) | Q(operator__backoff_until__lte=at))
    queued = Call.objects.filter(scope, state=CallState.QUEUED)
    timed = queued.filter(Q(target_until__lte=at) | Q(service__escalation_seconds__isnull=False))
    stranded = queued.filter(Q(target_operator__isnull=True) | Q(target_until__lte=at)).filter(Exists(free_member))
    found = dict(timed.values_list("id", "account_id"))
    found.update(stranded.values_list("id", "account_id"))
    return sorted(found.items())


def _earliest(qs, field: str) -> Subquery:
    return Subquery(qs.order_by(field).values(field)[:1])


def next_deadline(account_id: int) -> dt.datetime | None:
    """The earliest moment at which `sweep()` has something to do for this account (for the simulator).

    One round trip (the simulator asks after every event), each part answered from an index.
    """
    ringing = Offer.objects.filter(account_id=account_id, state=OfferState.RINGING, expires_at__isnull=False)
    waiting = Call.objects.filter(account_id=account_id, state__in=[CallState.QUEUED, CallState.RINGING],
                                  queue_deadline__isnull=False)
    targeted = Call.objects.filter(account_id=account_id, state=CallState.QUEUED, target_until__isnull=False)
    wrapping = Operator.objects.filter(account_id=account_id, state=OperatorState.WRAP_UP,
                                       wrapup_until__isnull=False)
    backing_off = Operator.objects.filter(account_id=account_id, state=OperatorState.AVAILABLE,
                                          backoff_until__isnull=False)
    escalating = Call.objects.filter(account_id=account_id, state=CallState.QUEUED,
                                     service__escalation_seconds__isnull=False, queued_at__isnull=False)
    row = Account.objects.filter(pk=account_id).annotate(
        offer=_earliest(ringing, "expires_at"), deadline=_earliest(waiting, "queue_deadline"),
        target=_earliest(targeted, "target_until"), wrapup=_earliest(wrapping, "wrapup_until"),
        backoff=_earliest(backing_off, "backoff_until"), escalating=Exists(escalating),
    ).values("offer", "deadline", "target", "wrapup", "backoff", "escalating").first()
    if row is None:
        return None
    due = [row[k] for k in ("offer", "deadline", "target", "wrapup", "backoff") if row[k] is not None]
    if row["escalating"]:  # the next moment a waiting caller reaches the next skill level
        at = now()
        for queued_at, step in escalating.values_list("queued_at", "service__escalation_seconds")[:500]:
            steps_done = int((at - queued_at).total_seconds() // step)
            due.append(queued_at + dt.timedelta(seconds=step * (steps_done + 1)))
    return min(due) if due else None
