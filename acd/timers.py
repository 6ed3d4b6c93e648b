"""The ACD's timers: database timestamps swept every second, never Celery ETAs.

`sweep()` runs every due timer once, each in its own short unit of work: ring timeouts with no engine
event, maximum waits, wrap-up ends and back-offs, waits for a wanted operator and skill escalation. It is
run every second by Celery beat (`acd.tasks.sweep_timers_task`) and, at the exact due moments, by the
simulator (`next_deadline`). A redelivered or overlapping sweep finds each item under its row lock,
re-checks it and does nothing the second time.

Only what is due is touched: a queued caller is retried when a retry can move them on (their wanted
operator's window is over, or a free operator of their service may take them now), never because they
are waiting; the simulator asks for the next due moment after every event, in one indexed statement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from agents.actions import transition_locked
from agents.choices import OperatorState, Via
from agents.models import Operator
from core.clock import now
from routing.choices import Criterion
from routing.models import Service, ServiceMembership
from telephony import port

from . import locks
from .choices import CallState, OfferState
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


def _free_members(at: dt.datetime) -> QuerySet[ServiceMembership]:
    """Memberships whose operator could take a call right now (as `acd.criteria.free_members` has them)."""
    return ServiceMembership.objects.filter(operator__state=OperatorState.AVAILABLE, operator__is_active=True) \
        .filter(Q(operator__backoff_until__isnull=True) | Q(operator__backoff_until__lte=at))


def escalation_level(levels: list[int], waited: float, step: float) -> int:
    """The lowest skill level a caller may be given after `waited` seconds, with `levels` the service's
    distinct levels best first: one level down every `step` seconds (`acd.criteria.skill_threshold`'s rule)."""
    return levels[min(int(waited // step), len(levels) - 1)] if levels else 0


def _waiting_calls_to_retry(scope: Q, at: dt.datetime) -> list[tuple[int, int]]:
    """Queued calls that a retry can move on now, and only those.

    1. A wanted operator's window is over (last operator, operator code): the call falls back to anyone, or
       to voicemail. Once it has (the wanted operator cleared), it is no longer due.
    2. A free member of the call's service may take it right now: the criterion allows them (skill
       escalation has come down to their level). That is how escalation steps happen. It is also the
       safety net of the hand-off: an operator who becomes free is offered the best waiting call in the same
       transaction, but a hand-off can fail (a rollback, a process that died between the two), and this
       pairing makes such a caller wait one sweep, never forever.

    A caller nobody free may take yet is left alone: in a busy center every operator is taken and dozens
    of callers wait, and retrying each of them on every sweep was most of what a simulated day cost.
    """
    queued = Call.objects.filter(scope, state=CallState.QUEUED)
    due = set(queued.filter(target_operator__isnull=False, target_until__lte=at).values_list("id", "account_id"))
    free = _free_members(at)
    rows = list(queued.filter(target_operator__isnull=True)
                .filter(Exists(free.filter(service_id=OuterRef("service_id"))))
                .values_list("id", "account_id", "service_id", "criterion", "service__criterion",
                             "service__escalation_seconds", "queued_at", "arrived_at"))
    escalating = {row[2] for row in rows if (row[3] or row[4]) == Criterion.SKILL and row[5]}
    levels: dict[int, list[int]] = {service_id: [] for service_id in escalating}
    best_free: dict[int, int] = {}
    if escalating:
        for service_id, level in (ServiceMembership.objects.filter(service_id__in=escalating).order_by()
                                  .values_list("service_id", "skill_level").distinct()):
            levels[service_id].append(level)
        for service_id, level in free.filter(service_id__in=escalating).order_by().values_list("service_id",
                                                                                                "skill_level"):
            best_free[service_id] = max(level, best_free.get(service_id, 0))
        for found in levels.values():
            found.sort(reverse=True)
    for call_id, account_id, service_id, criterion, service_criterion, step, queued_at, arrived_at in rows:
        if service_id in escalating and (criterion or service_criterion) == Criterion.SKILL:
            waited = (at - (queued_at or arrived_at)).total_seconds()
            if best_free[service_id] < escalation_level(levels[service_id], waited, step):
                continue  # the free members are below the level this caller may be given yet
        due.add((call_id, account_id))
    return sorted(due)


def next_deadline(account_id: int) -> dt.datetime | None:
    """The earliest moment at which `sweep()` has something to do for this account (for the simulator).

    The simulator asks after every event, so this is one statement, written once, each part answered from
    an index over the few live rows (ringing offers, waiting calls, operators of the account in a state).
    Skill escalation counts only while it can change something: the caller is not yet at the service's
    lowest level, and some member of the service is free (a busy member who frees up is offered waiting
    calls in that transaction; the next deadline is asked again after it).
    """
    params = {"account": account_id, "at": now(), "offer_ringing": OfferState.RINGING,
              "queued": CallState.QUEUED, "call_ringing": CallState.RINGING, "skill": Criterion.SKILL,
              "wrap_up": OperatorState.WRAP_UP, "available": OperatorState.AVAILABLE}
    with connection.cursor() as cur:
        cur.execute(_next_deadline_sql(), params)
        row = cur.fetchone()
    return row[0] if row else None


def _next_deadline_sql() -> str:
    return _NEXT_DEADLINE_SQL.format(offers=Offer._meta.db_table, calls=Call._meta.db_table,
                                     operators=Operator._meta.db_table, services=Service._meta.db_table,
                                     members=ServiceMembership._meta.db_table)


_NEXT_DEADLINE_SQL = """
SELECT LEAST(
  (SELECT min(expires_at) FROM {offers} WHERE account_id = %(account)s AND state = %(offer_ringing)s),
  (SELECT min(queue_deadline) FROM {calls}
    WHERE account_id = %(account)s AND state IN (%(queued)s, %(call_ringing)s) AND queue_deadline IS NOT NULL),
  (SELECT min(target_until) FROM {calls}
    WHERE account_id = %(account)s AND state = %(queued)s AND target_until IS NOT NULL
      AND target_operator_id IS NOT NULL),
  (SELECT min(wrapup_until) FROM {operators} WHERE account_id = %(account)s AND state = %(wrap_up)s),
  (SELECT min(backoff_until) FROM {operators}
    WHERE account_id = %(account)s AND state = %(available)s AND backoff_until IS NOT NULL),
  (SELECT min(c.queued_at + make_interval(secs => (s.escalation_seconds
                 * (floor(extract(epoch FROM %(at)s - c.queued_at) / s.escalation_seconds) + 1))::float8))
     FROM {services} s JOIN {calls} c ON c.service_id = s.id AND c.state = %(queued)s
    WHERE s.account_id = %(account)s AND s.escalation_seconds > 0 AND c.queued_at IS NOT NULL
      AND c.target_operator_id IS NULL AND COALESCE(NULLIF(c.criterion, ''), s.criterion) = %(skill)s
      AND floor(extract(epoch FROM %(at)s - c.queued_at) / s.escalation_seconds)
          < (SELECT count(DISTINCT m.skill_level) - 1 FROM {members} m WHERE m.service_id = s.id)
      AND EXISTS (SELECT 1 FROM {members} m JOIN {operators} o ON o.id = m.operator_id
                   WHERE m.service_id = s.id AND o.state = %(available)s AND o.is_active
                     AND (o.backoff_until IS NULL OR o.backoff_until <= %(at)s))))"""
