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
import functools
from collections.abc import Callable
from typing import Any

from accounts.models import Account
from agents.actions import transition_locked
from agents.choices import OperatorState, Via
from agents.models import Operator
from core.clock import now
from core.pipeline import fetch_prepared
from routing.choices import Criterion
from routing.models import Service, ServiceMembership
from telephony import port

from . import locks
from .choices import CallState, OfferState
from .criteria import candidates_statement, prelocked_from
from .flows import outbound
from .flows.inbound import fail_offer
from .models import Call, Offer
from .overflow import overflow
from .queue import offer_call
from .unit import unit_of_work
from .work import Work


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
    op = locks.operator_with_waiting(operator_id, work.at)  # with what they may take, in the first round trip
    if op is None:
        return
    if op.state == OperatorState.WRAP_UP and op.wrapup_until and op.wrapup_until <= work.at:
        transition_locked(op, OperatorState.AVAILABLE, via=Via.ACD, writes=work.writes)
    elif op.state == OperatorState.AVAILABLE and op.backoff_until and op.backoff_until <= work.at:
        op.backoff_until = None
        work.writes.update(Operator, op.pk, backoff_until=None)
    else:
        return
    work.freed(op)


# A waiting caller's retry locks the call and, in the same first round trip, its best free operator by the
# criterion (`acd.criteria.candidates_statement`, as an engine event that routes does); a call that holds
# out for a wanted operator is routed by `offer_call`'s own queries.
_RETRIED_CALL = f"""
SELECT x.service_id, coalesce(nullif(x.criterion, ''), s.criterion) AS criterion,
       coalesce(x.queued_at, x.arrived_at) AS waited_from
  FROM {Call._meta.db_table} x JOIN {Service._meta.db_table} s ON s.id = x.service_id
 WHERE x.id = %(call)s AND x.state = '{CallState.QUEUED}' AND x.target_operator_id IS NULL"""


def _retry_waiting(call_id: int, work: Work) -> None:
    call, (candidates,) = locks.call_by_id_with(call_id, work.at, [candidates_statement(_RETRIED_CALL)])
    if call is not None and call.state == CallState.QUEUED:
        prelocked_from(candidates, call)
        offer_call(call, work)


def sweep(account_ids: list[int] | None = None) -> int:
    """Run every due timer once; each item in its own short transaction. Returns how many were due.

    What is due comes from one statement; the items then run in a fixed order (offers, overflows,
    operators, waiting callers), each by id, so a simulation is the same for the same seed."""
    due = _due(account_ids, now())
    for offer_id, account_id in due[_OFFER]:
        _in_own_transaction(account_id, _expire_offer, offer_id)
    for call_id, account_id in due[_OVERFLOW]:
        _in_own_transaction(account_id, _overflow_due, call_id)
    for op_id, account_id in due[_OPERATOR]:
        _in_own_transaction(account_id, _free_operator, op_id)
    for call_id, account_id in due[_RETRY]:
        _in_own_transaction(account_id, _retry_waiting, call_id)
    return sum(len(items) for items in due.values())


_OFFER, _OVERFLOW, _OPERATOR, _TARGET, _TAKEABLE, _RETRY = "offer", "overflow", "operator", "target", "takeable", \
    "retry"


def escalation_level(levels: list[int], waited: float, step: float) -> int:
    """The lowest skill level a caller may be given after `waited` seconds, with `levels` the service's
    distinct levels best first: one level down every `step` seconds (`acd.criteria.skill_threshold`'s rule)."""
    return levels[min(int(waited // step), len(levels) - 1)] if levels else 0


def _due(account_ids: list[int] | None, at: dt.datetime) -> dict[str, list[tuple[int, int]]]:
    """Every due item, by kind: `(id, account_id)` pairs in id order.

    Waiting callers are retried only when a retry can move them on now:

    1. a wanted operator's window is over (last operator, operator code): the call falls back to anyone,
       or to voicemail; once it has (the wanted operator cleared), it is no longer due;
    2. a free member of the call's service may take it right now: the criterion allows them (skill
       escalation has come down to their level). That is how escalation steps happen. It is also the
       safety net of the hand-off: an operator who becomes free is offered the best waiting call in the same
       transaction, but a hand-off can fail (a rollback, a process that died between the two), and this
       pairing makes such a caller wait one sweep, never forever.

    A caller nobody free may take yet is left alone: in a busy center every operator is taken and dozens
    of callers wait, and retrying each of them on every sweep was most of what a simulated day cost.
    """
    params = {"at": at, "accounts": account_ids or []}
    due: dict[str, list[tuple[int, int]]] = {_OFFER: [], _OVERFLOW: [], _OPERATOR: [], _RETRY: []}
    retry: set[tuple[int, int]] = set()
    for kind, item_id, account_id, criterion, step, waiting_since, levels, best_free, _rank in _fetch(
            _due_sql(all_accounts=account_ids is None), params):
        if kind == _TARGET:
            retry.add((item_id, account_id))
        elif kind == _TAKEABLE:
            if criterion == Criterion.SKILL and step and (best_free or 0) < escalation_level(
                    levels or [], (at - waiting_since).total_seconds(), step):
                continue  # the free members are below the level this caller may be given yet
            retry.add((item_id, account_id))
        else:
            due[kind].append((item_id, account_id))
    due[_RETRY] = sorted(retry)
    return due


def _fetch(sql: str, params: dict[str, Any]) -> list[tuple]:
    """Run one of the timers' statements (SQL written once, below, over the models' own tables), prepared:
    planning them cost more than running them, on every sweep and every step of a simulation."""
    return fetch_prepared(sql, params)


def _tables() -> dict[str, str]:
    """The tables, and the states the statements select on, written into the SQL as literals (from the
    choices). A prepared statement runs on a generic plan once PostgreSQL finds it no dearer than planning
    each call: with the states as parameters, that plan could not use the partial indexes over the few live
    rows (ringing offers, waiting calls: `WHERE state = 'ringing'`, ...), so it read every call and offer of
    the day, and the planner kept planning each call afresh instead (most of a statement's cost). With the
    states in the text, the generic plan uses those indexes and is planned once per connection."""
    return {"offers": Offer._meta.db_table, "calls": Call._meta.db_table, "operators": Operator._meta.db_table,
            "services": Service._meta.db_table, "members": ServiceMembership._meta.db_table,
            "accounts": Account._meta.db_table, "offer_ringing": _literal(OfferState.RINGING),
            "queued": _literal(CallState.QUEUED), "call_ringing": _literal(CallState.RINGING),
            "wrap_up": _literal(OperatorState.WRAP_UP), "available": _literal(OperatorState.AVAILABLE),
            "skill": _literal(Criterion.SKILL)}


def _literal(choice: str) -> str:
    """A choice's value as an SQL string literal (choices are plain identifiers: nothing to escape)."""
    if not choice.replace("_", "").isalnum():
        raise ValueError(f"not a plain choice value: {choice!r}")
    return f"'{choice}'"


@functools.cache
def _due_sql(*, all_accounts: bool) -> str:
    """Celery beat sweeps every account that is not a simulation (whose clock is its own); the simulator its
    own account."""
    scope = "{alias}.account_id IN (SELECT id FROM {accounts} WHERE NOT is_simulation)" if all_accounts \
        else "{alias}.account_id = ANY(%(accounts)s)"
    tables = _tables()
    return _DUE_SQL.format(**tables, **{f"scope_{alias}": scope.format(alias=alias, **tables)
                                        for alias in ("o", "c", "p", "q")})


# A takeable caller of a skill service that escalates also brings the service's distinct levels (best first)
# and the best level among its free members, which `_due` compares with the caller's escalation level. Those,
# and whether any member is free at all, are worked out once per service with waiting callers (`v`), not once
# per caller: a busy center has hundreds of callers waiting on services of hundreds of members each.
_DUE_SQL = """
WITH v AS MATERIALIZED (
    SELECT s.id AS service_id, s.criterion, s.escalation_seconds,
           EXISTS (SELECT 1 FROM {members} m JOIN {operators} f ON f.id = m.operator_id
                    WHERE m.service_id = s.id AND f.state = {available} AND f.is_active
                      AND (f.backoff_until IS NULL OR f.backoff_until <= %(at)s)) AS any_free,
           CASE WHEN s.escalation_seconds > 0 THEN ARRAY(SELECT DISTINCT m.skill_level FROM {members} m
                                                        WHERE m.service_id = s.id ORDER BY 1 DESC) END AS levels,
           CASE WHEN s.escalation_seconds > 0 THEN (
               SELECT max(m.skill_level) FROM {members} m JOIN {operators} f ON f.id = m.operator_id
                WHERE m.service_id = s.id AND f.state = {available} AND f.is_active
                  AND (f.backoff_until IS NULL OR f.backoff_until <= %(at)s)) END AS best_free
      FROM {services} s
     WHERE s.id IN (SELECT q.service_id FROM {calls} q
                     WHERE q.state = {queued} AND q.target_operator_id IS NULL AND {scope_q})
)
SELECT 'offer', o.id, o.account_id, NULL::text, NULL::integer, NULL::timestamptz, NULL::integer[], NULL::integer, 1
  FROM {offers} o WHERE o.state = {offer_ringing} AND o.expires_at <= %(at)s AND {scope_o}
UNION ALL
SELECT 'overflow', c.id, c.account_id, NULL, NULL, NULL, NULL, NULL, 2
  FROM {calls} c WHERE c.state IN ({queued}, {call_ringing}) AND c.queue_deadline <= %(at)s AND {scope_c}
UNION ALL
SELECT 'operator', p.id, p.account_id, NULL, NULL, NULL, NULL, NULL, 3
  FROM {operators} p
 WHERE ((p.state = {wrap_up} AND p.wrapup_until <= %(at)s) OR (p.state = {available} AND p.backoff_until <= %(at)s))
   AND {scope_p}
UNION ALL
SELECT 'target', c.id, c.account_id, NULL, NULL, NULL, NULL, NULL, 4
  FROM {calls} c
 WHERE c.state = {queued} AND c.target_operator_id IS NOT NULL AND c.target_until <= %(at)s AND {scope_c}
UNION ALL
SELECT 'takeable', c.id, c.account_id, t.criterion, v.escalation_seconds, COALESCE(c.queued_at, c.arrived_at),
       CASE WHEN t.criterion = {skill} THEN v.levels END, CASE WHEN t.criterion = {skill} THEN v.best_free END, 4
  FROM {calls} c JOIN v ON v.service_id = c.service_id AND v.any_free
 CROSS JOIN LATERAL (SELECT COALESCE(NULLIF(c.criterion, ''), v.criterion) AS criterion) t
 WHERE c.state = {queued} AND c.target_operator_id IS NULL AND {scope_c}
 ORDER BY 9, 2"""


def next_deadline(account_id: int) -> dt.datetime | None:
    """The earliest moment at which `sweep()` has something to do for this account (for the simulator).

    The simulator asks after every event, so this is one statement, written once, each part answered from
    an index over the few live rows (ringing offers, waiting calls, operators of the account in a state).
    Skill escalation counts only while it can change something: the caller is not yet at the service's
    lowest level, and some member of the service is free (a busy member who frees up is offered waiting
    calls in that transaction; the next deadline is asked again after it). `next_deadline_statement` is
    the same statement, for a caller that sends it with a unit's COMMIT (`core.pipeline.read_after_commit`).
    """
    return deadline_of(_fetch(*next_deadline_statement(account_id)))


def next_deadline_statement(account_id: int) -> tuple[str, dict[str, Any]]:
    """`next_deadline`'s statement and its values for this account at this moment."""
    return _NEXT_DEADLINE, {"account": account_id, "at": now()}


def deadline_of(rows: list[tuple]) -> dt.datetime | None:
    """The deadline in the rows of `next_deadline_statement`."""
    return rows[0][0] if rows else None


# `account_id + 0`: the live calls' deadlines are read from their partial index (`call_deadline_idx`, the few
# waiting or ringing calls), never through an index on the account, which holds every call of its history: on
# the statistics of a day that has just begun (a handful of calls), the planner took that one.
_NEXT_DEADLINE_SQL = """
SELECT LEAST(
  (SELECT min(expires_at) FROM {offers} WHERE account_id = %(account)s AND state = {offer_ringing}),
  (SELECT min(queue_deadline) FROM {calls}
    WHERE account_id + 0 = %(account)s AND state IN ({queued}, {call_ringing}) AND queue_deadline IS NOT NULL),
  (SELECT min(target_until) FROM {calls}
    WHERE account_id = %(account)s AND state = {queued} AND target_until IS NOT NULL
      AND target_operator_id IS NOT NULL),
  (SELECT min(wrapup_until) FROM {operators} WHERE account_id = %(account)s AND state = {wrap_up}),
  (SELECT min(backoff_until) FROM {operators}
    WHERE account_id = %(account)s AND state = {available} AND backoff_until IS NOT NULL),
  (SELECT min(c.queued_at + make_interval(secs => (s.escalation_seconds
                 * (floor(extract(epoch FROM %(at)s - c.queued_at) / s.escalation_seconds) + 1))::float8))
     FROM {services} s JOIN {calls} c ON c.service_id = s.id AND c.state = {queued}
    WHERE s.account_id = %(account)s AND s.escalation_seconds > 0 AND c.queued_at IS NOT NULL
      AND c.target_operator_id IS NULL AND COALESCE(NULLIF(c.criterion, ''), s.criterion) = {skill}
      AND floor(extract(epoch FROM %(at)s - c.queued_at) / s.escalation_seconds)
          < (SELECT count(DISTINCT m.skill_level) - 1 FROM {members} m WHERE m.service_id = s.id)
      AND EXISTS (SELECT 1 FROM {members} m JOIN {operators} o ON o.id = m.operator_id
                   WHERE m.service_id = s.id AND o.state = {available} AND o.is_active
                     AND (o.backoff_until IS NULL OR o.backoff_until <= %(at)s))))"""
_NEXT_DEADLINE = _NEXT_DEADLINE_SQL.format(**_tables())  # the same text on every call: prepared once
