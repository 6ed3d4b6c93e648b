"""The ACD's entry points: engine events in, timers, operators becoming free, transfers.

`handle_event` is the telephony port's inbound side. It is idempotent by event id: the event row is
claimed first, in the same transaction as its effects, so a redelivered event returns the commands the
first delivery produced and changes nothing. Timers are database timestamps swept by `sweep()` (run
every second by Celery beat, or at the exact due moments by the simulator) — never Celery ETAs.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection, transaction
from django.db.models import Exists, Q, Subquery

from accounts.models import Account
from agents.choices import OperatorState
from agents.models import Operator
from billing import budget
from core.clock import now
from telephony import outbox, port
from telephony.models import ProcessedEvent

from .calls import lock_call
from .choices import CallState, OfferState
from .handlers import CALL_HANDLERS, fail_offer, on_incoming
from .models import Call, Offer
from .offers import offer_call, offer_operator, serve_freed_operators
from .overflow import overflow
from .work import Work

log = logging.getLogger(__name__)


def _claim_event(source: str, event_id: str, at: dt.datetime) -> bool:
    """Insert the event's row; False when it was already there (a redelivery).

    A concurrent delivery of the same event waits on the unique index until the first commits, then
    finds the row: the event is applied exactly once.
    """
    table = connection.ops.quote_name(ProcessedEvent._meta.db_table)
    empty = ProcessedEvent._meta.get_field("commands").get_db_prep_value([], connection)
    received = ProcessedEvent._meta.get_field("received_at").get_db_prep_value(at, connection)
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {table} (source, event_id, received_at, commands) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (source, event_id) DO NOTHING RETURNING id", [source, event_id, received, empty])
        return cur.fetchone() is not None


def _commands_of(source: str, event_id: str) -> list[port.Command]:
    stored = ProcessedEvent.objects.filter(source=source, event_id=event_id).values_list("commands", flat=True)
    return [outbox.command_from_dict(c) for c in (stored.first() or [])]


@transaction.atomic
def handle_event(event: port.Event, *, account_id: int, source: str = "") -> list[port.Command]:
    """Apply one engine event for one account; return the commands for the engine."""
    source = source or f"acct:{account_id}"
    work = Work(at=now())
    if not _claim_event(source, event.event_id, work.at):
        return _commands_of(source, event.event_id)
    if isinstance(event, port.IncomingCall):
        on_incoming(event, account_id, work)
    else:
        call = lock_call(account_id, event.call_ref)
        handler = CALL_HANDLERS.get(type(event))
        if call is not None and handler is not None:
            if call.state != CallState.ENDED:
                budget.extend(call.pk)  # the call is alive: its channel lease lives on
            handler(event, call, work)
    serve_freed_operators(work)
    work.flush()
    if work.commands:
        ProcessedEvent.objects.filter(source=source, event_id=event.event_id).update(
            commands=[c.as_dict() for c in work.commands])
    return work.commands


@transaction.atomic
def operator_ready(operator_id: int) -> bool:
    """An operator became available through presence (login, resume): give them a waiting call."""
    work = Work(at=now())
    account_id = Operator.objects.filter(pk=operator_id).values_list("account_id", flat=True).first()
    if account_id is None:
        return False
    offered = offer_operator(operator_id, work)
    work.flush()
    outbox.record(account_id, work.commands)
    return offered


# --- Timers ---------------------------------------------------------------------------------------------


def _accounts_filter(account_ids: list[int] | None) -> Q:
    return Q(account_id__in=account_ids) if account_ids is not None else Q(account__is_simulation=False)


def _in_own_transaction(account_id: int, fn, *args) -> None:
    with transaction.atomic():
        work = Work(at=now())
        fn(*args, work)
        serve_freed_operators(work)
        work.flush()
        outbox.record(account_id, work.commands)


def _expire_offer(offer_id: int, work: Work) -> None:
    offer = Offer.objects.filter(pk=offer_id).values("call_id").first()
    if offer is None:
        return
    call = Call.objects.select_for_update(of=("self",)).select_related("service", "service__account").get(
        pk=offer["call_id"])
    current = Offer.objects.select_for_update(of=("self",)).select_related("call").get(pk=offer_id)
    if current.state != OfferState.RINGING or current.expires_at > work.at:
        return
    work.command(port.CancelLeg(call_ref=call.engine_ref, leg_ref=current.leg_ref))
    fail_offer(current, call, OfferState.EXPIRED, work)


def _overflow_due(call_id: int, work: Work) -> None:
    call = Call.objects.select_for_update(of=("self",)).select_related("service", "service__account",
                                                                       "account").get(pk=call_id)
    if call.state not in (CallState.QUEUED, CallState.RINGING) or call.queue_deadline is None \
            or call.queue_deadline > work.at:
        return
    overflow(call, work, reason="max_wait")


def _free_operator(operator_id: int, work: Work) -> None:
    from agents.actions import transition_locked
    from agents.choices import Via

    op = Operator.objects.select_for_update(of=("self",)).get(pk=operator_id)
    if op.state == OperatorState.WRAP_UP and op.wrapup_until and op.wrapup_until <= work.at:
        transition_locked(op, OperatorState.AVAILABLE, via=Via.ACD)
    elif op.state == OperatorState.AVAILABLE and op.backoff_until and op.backoff_until <= work.at:
        Operator.objects.filter(pk=op.pk).update(backoff_until=None)
    else:
        return
    work.freed_operators.append(op.pk)


def _retry_waiting(call_id: int, work: Work) -> None:
    call = Call.objects.select_for_update(of=("self",)).select_related("service", "service__account").get(
        pk=call_id)
    if call.state == CallState.QUEUED:
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
    for call_id, account_id in Call.objects.filter(scope, state=CallState.QUEUED).filter(
            Q(target_until__lte=at) | Q(service__escalation_seconds__isnull=False)).values_list("id", "account_id"):
        _in_own_transaction(account_id, _retry_waiting, call_id)
        done += 1
    return done


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
