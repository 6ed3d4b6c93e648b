"""Every row lock the ACD takes, and the one order in which it takes them (Saleor's `lock_objects` idea).

The lock order, written once:

1. the **call** (one row; a path that holds a call never waits for another call);
2. the call's **offers**, in their operators' id order;
3. **operators**, ascending id (so walking the offers above takes their operators in order too).

A path that starts from an operator (someone just became free) holds that operator first, so it may take
calls only with `SKIP LOCKED`: it never waits on a call while holding an operator, and two transactions can
never wait for each other. Candidate operators for a call are likewise taken with `SKIP LOCKED` (the
criterion's order, the first one nobody else holds), so routers running in parallel never queue behind
one another. Nothing in `acd/` calls `select_for_update` outside this module, and the routing statement
of `acd.criteria` takes its operator with this module's `SKIP_LOCKED_OPERATOR`.

An engine event takes its locks in its first round trip (`for_event`), one statement per step of the
order above, sent together: the server runs them in that order, so the order holds within the trip.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models import QuerySet

from accounts.models import Account
from agents.choices import OperatorState
from agents.models import Operator
from budget.models import ChannelLease
from core.pipeline import begin_with, columns, instance
from routing.models import Service, ServiceMembership
from telephony.models import ProcessedEvent

from .choices import CallState, OfferState
from .models import Call, Offer

M = TypeVar("M", bound=models.Model)


def _one(rows: QuerySet[M]) -> M | None:
    """The row of a lookup by a unique key: no ORDER BY (a model's default ordering would be compiled and
    sent for nothing on the hot path)."""
    found = list(rows.order_by()[:1])
    return found[0] if found else None


def _calls() -> QuerySet[Call]:
    return Call.objects.select_for_update(of=("self",)).select_related("service", "service__account")


def call_by_id(call_id: int, account_id: int | None = None) -> Call | None:
    """Step 1, from a timer, a supervisor action or the reconciler."""
    calls = _calls().select_related("account")
    if account_id is not None:
        calls = calls.filter(account_id=account_id)
    return _one(calls.filter(pk=call_id))


def _offers() -> QuerySet[Offer]:
    """Steps 2 and 3 in one statement: a leg and its operator (`offer.operator` comes locked)."""
    return Offer.objects.select_related("call", "operator").select_for_update(of=("self", "operator"))


def offer_by_leg(call: Call, leg_ref: str) -> Offer | None:
    """Steps 2-3: one leg of the (already locked) call, with its operator. An engine event that names the
    leg locked it in its first round trip (`for_event`)."""
    prefetched = call.__dict__.get("locked_leg")
    if prefetched is not None and prefetched[0] == leg_ref:
        return prefetched[1]
    return _one(_offers().filter(call=call, leg_ref=leg_ref))


def offer_by_id(offer_id: int) -> Offer:
    """Steps 2-3, for a timer that found the offer first: lock the call (step 1) before calling this."""
    return _offers().get(pk=offer_id)


def ringing_offers(call: Call, *, except_offer: Offer | None = None) -> list[Offer]:
    """Steps 2-3: every leg of the call still ringing with its operator, in the operators' id order (locked
    by the engine event's first round trip when it foresaw the need)."""
    prefetched = call.__dict__.get("locked_ringing")
    if prefetched is not None:
        return [o for o in prefetched if except_offer is None or o.pk != except_offer.pk]
    offers = _offers().filter(call=call, state=OfferState.RINGING).order_by("operator_id")
    if except_offer is not None:
        offers = offers.exclude(pk=except_offer.pk)
    return list(offers)


def operator(operator_id: int) -> Operator:
    """Step 3: one operator (several are taken one at a time in ascending id by the callers' loops)."""
    return Operator.objects.select_for_update(of=("self",)).get(pk=operator_id)


def operator_of_call(call: Call, operator_id: int) -> Operator:
    """Step 3: the call's operator (locked by a hang-up's first round trip, or here)."""
    prefetched = call.__dict__.get("locked_operator")
    if prefetched is not None and prefetched.pk == operator_id:
        return prefetched
    return operator(operator_id)


def operator_if_exists(operator_id: int) -> Operator | None:
    return _one(Operator.objects.select_for_update(of=("self",)).filter(pk=operator_id))


def skip_locked_operators(candidates: QuerySet) -> QuerySet:
    """Step 3 for routing: the candidates (memberships) whose operator nobody else holds right now."""
    return candidates.select_related("operator").select_for_update(skip_locked=True, of=("operator",))


def skip_locked_calls(calls: QuerySet[Call]) -> QuerySet[Call]:
    """From an operator already held: waiting calls nobody else holds (never wait for a call here)."""
    return calls.select_for_update(skip_locked=True, of=("self",))


def waiting_for_freed(op: Operator) -> tuple[list[ServiceMembership], list[Call]] | None:
    """What a hang-up's first round trip found for the operator it freed (`EventLocks.freed_waiting`)."""
    return op.__dict__.pop("freed_waiting", None)


# --- The first round trip of an engine event -------------------------------------------------------------
#
# An engine event names its call by the engine's reference. Everything the event's flow must lock or read
# before deciding goes in the transaction's first round trip, with its BEGIN (`core.pipeline.begin_with`):
# one statement per thing, run by the server one after the other, so each later statement finds the call
# already locked by the first and the lock order above holds. The SQL is written once, from the models'
# metadata; each shape is a server-side prepared statement.


SKIP_LOCKED_OPERATOR = "FOR UPDATE OF p SKIP LOCKED"  # a candidate operator `p` nobody else holds


def _width(model: type[models.Model]) -> int:
    return len(model._meta.concrete_fields)


@dataclass
class EventLocks:
    """What an engine event's first round trip found: the answer already given to this event id (a
    redelivery), or the call locked with what its flow needs."""

    stored_commands: list[dict[str, Any]] | None = None
    call: Call | None = None
    leg: Offer | None = None  # the leg the event names, with its operator, locked
    operator: Operator | None = None  # the call's operator, locked (a connected call's hang-up)
    ringing: list[Offer] | None = None  # the call's ringing legs with their operators, locked (hang-up)
    # What the call's operator, freed by the hang-up without wrap-up, may take next: their memberships
    # and the waiting calls nobody else holds (locked with SKIP LOCKED), for `acd.queue.offer_operator`.
    freed_memberships: list[ServiceMembership] | None = None
    freed_waiting: list[Call] | None = None
    extra: list[list[tuple[Any, ...]]] = field(default_factory=list)


def _call_sql() -> str:
    calls, services = Call._meta.db_table, Service._meta.db_table
    return f"""
WITH c AS MATERIALIZED (
    SELECT {columns(Call, "x")} FROM {calls} x
     WHERE x.account_id = %(account)s AND x.engine_ref = %(ref)s
       AND NOT EXISTS (SELECT 1 FROM {ProcessedEvent._meta.db_table} e
                        WHERE e.source = %(source)s AND e.event_id = %(event_id)s)
       FOR UPDATE
)
SELECT (SELECT e.commands FROM {ProcessedEvent._meta.db_table} e
         WHERE e.source = %(source)s AND e.event_id = %(event_id)s),
       (SELECT l.expires_at FROM {ChannelLease._meta.db_table} l WHERE l.call_id = c.id AND l.released_at IS NULL),
       EXISTS (SELECT 1 FROM {Offer._meta.db_table} o WHERE o.call_id = c.id AND o.state = '{OfferState.RINGING}'),
       {columns(Call, "c")}, {columns(Service, "s")}, {columns(Account, "a")}
  FROM (SELECT 1) one
  LEFT JOIN c ON true
  LEFT JOIN {services} s ON s.id = c.service_id
  LEFT JOIN {Account._meta.db_table} a ON a.id = s.account_id"""


def _this_call() -> str:
    """The event's call, for the statements after the first (which holds its lock)."""
    return (f"SELECT id, state, operator_id FROM {Call._meta.db_table} "
            f"WHERE account_id = %(account)s AND engine_ref = %(ref)s")


def _leg_sql() -> str:
    """Steps 2-3: the leg the event names and its operator."""
    return f"""
SELECT {columns(Offer, "o")}, {columns(Operator, "p")}
  FROM {Offer._meta.db_table} o JOIN {Operator._meta.db_table} p ON p.id = o.operator_id
 WHERE o.call_id = ({_this_call().replace("id, state, operator_id", "id")}) AND o.leg_ref = %(leg)s
   FOR UPDATE OF o, p"""


def _ringing_sql() -> str:
    """Steps 2-3: the legs still ringing, in their operators' id order, when the hang-up abandons the call."""
    return f"""
WITH c AS ({_this_call()})
SELECT {columns(Offer, "o")}, {columns(Operator, "p")}
  FROM c JOIN {Offer._meta.db_table} o ON o.call_id = c.id
         JOIN {Operator._meta.db_table} p ON p.id = o.operator_id
 WHERE o.state = '{OfferState.RINGING}' AND c.state = ANY(%(abandon)s)
 ORDER BY p.id
   FOR UPDATE OF o, p"""


def _call_operator_sql() -> str:
    """Step 3: the operator of a connected call, which the hang-up frees (or sends to wrap-up)."""
    return f"""
WITH c AS ({_this_call()})
SELECT {columns(Operator, "p")}
  FROM c JOIN {Operator._meta.db_table} p ON p.id = c.operator_id
 WHERE c.state = '{CallState.CONNECTED}'
   FOR UPDATE OF p"""


def _freed_operator() -> str:
    """The operator a hang-up frees at once (a connected call of a service without wrap-up)."""
    return f"""
WITH c AS ({_this_call().replace("id, state, operator_id", "id, state, operator_id, service_id")}),
f AS (SELECT c.operator_id AS id FROM c LEFT JOIN {Service._meta.db_table} s ON s.id = c.service_id
       WHERE c.state = '{CallState.CONNECTED}' AND c.operator_id IS NOT NULL
         AND coalesce(s.wrapup_seconds, 0) = 0)"""


def _memberships_of(freed: str) -> str:
    """The memberships (with service and account) of the operator `f` of the CTE `freed`."""
    members = ServiceMembership._meta.db_table
    return f"""{freed}
SELECT {columns(ServiceMembership, "m")}, {columns(Service, "s")}, {columns(Account, "a")}
  FROM f JOIN {members} m ON m.operator_id = f.id
         JOIN {Service._meta.db_table} s ON s.id = m.service_id
         JOIN {Account._meta.db_table} a ON a.id = s.account_id"""


def _waiting_for(freed: str) -> str:
    """From an operator `f` (held): waiting calls of their services nobody else holds, best first, as
    `acd.queue.offer_operator` asks for them."""
    members = ServiceMembership._meta.db_table
    return f"""{freed}
SELECT {columns(Call, "x")}
  FROM f JOIN {Call._meta.db_table} x
    ON x.service_id IN (SELECT m.service_id FROM {members} m WHERE m.operator_id = f.id)
 WHERE x.state = '{CallState.QUEUED}'
   AND (x.target_operator_id IS NULL OR x.target_operator_id = f.id OR x.target_until <= %(at)s)
 ORDER BY x.priority DESC, x.queued_at, x.id
 LIMIT {WAITING_PEEK}
   FOR UPDATE OF x SKIP LOCKED"""


def _freed_memberships_sql() -> str:
    return _memberships_of(_freed_operator())


def _freed_waiting_sql() -> str:
    return _waiting_for(_freed_operator())


WAITING_PEEK = 25  # waiting calls a freed operator looks at (most are taken at the first)


# An operator who may take a call now (a timer ends their wrap-up or back-off, presence made them available):
# the one the statements after the first (which holds the operator's lock) look for calls for.
def _may_be_freed() -> str:
    return f"""
WITH f AS (SELECT p.id FROM {Operator._meta.db_table} p
            WHERE p.id = %(operator)s AND p.is_active
              AND p.state IN ('{OperatorState.WRAP_UP}', '{OperatorState.AVAILABLE}'))"""


def _operator_sql() -> str:
    return f"SELECT {columns(Operator, 'p')} FROM {Operator._meta.db_table} p WHERE p.id = %(operator)s FOR UPDATE OF p"


def _call_by_id_sql() -> str:
    """Step 1 by key, as `call_by_id` takes it: the call with its service, the service's account and its own."""
    return f"""
SELECT {columns(Call, "c")}, {columns(Service, "s")}, {columns(Account, "sa")}, {columns(Account, "a")}
  FROM {Call._meta.db_table} c
  JOIN {Account._meta.db_table} a ON a.id = c.account_id
  LEFT JOIN {Service._meta.db_table} s ON s.id = c.service_id
  LEFT JOIN {Account._meta.db_table} sa ON sa.id = s.account_id
 WHERE c.id = %(call)s
   FOR UPDATE OF c"""


@functools.cache
def _sql(name: str) -> str:
    return {"call": _call_sql, "leg": _leg_sql, "ringing": _ringing_sql, "call_operator": _call_operator_sql,
            "freed_memberships": _freed_memberships_sql, "freed_waiting": _freed_waiting_sql,
            "operator": _operator_sql, "operator_memberships": lambda: _memberships_of(_may_be_freed()),
            "operator_waiting": lambda: _waiting_for(_may_be_freed()), "call_by_id": _call_by_id_sql}[name]()


def operator_with_waiting(operator_id: int, at: Any) -> Operator | None:
    """Step 3 from a timer or presence, in the transaction's first round trip: the operator, locked, and,
    when they are in a state that may take a call, their memberships and the waiting calls nobody else
    holds (SKIP LOCKED), for `acd.queue.offer_operator` (as a hang-up's first round trip finds them)."""
    params = {"operator": operator_id, "at": at}
    rows, memberships, waiting = begin_with([(_sql("operator"), params), (_sql("operator_memberships"), params),
                                            (_sql("operator_waiting"), params)])
    if not rows:
        return None
    op = instance(Operator, rows[0])
    op.freed_waiting = ([_membership_from(row) for row in memberships], [instance(Call, row) for row in waiting])
    return op


def call_by_id_with(call_id: int, at: Any, extra: Sequence[str] = ()) -> tuple[Call | None, list[list[tuple]]]:
    """Step 1 by key from a timer, in the transaction's first round trip, followed by `extra` statements
    (routing's candidates) with the parameters `call` and `at`; their rows are returned beside the call."""
    params = {"call": call_id, "at": at}
    results = begin_with([(_sql("call_by_id"), params), *((sql, params) for sql in extra)])
    rows = results.pop(0)
    if not rows:
        return None, results
    row, widths = rows[0], [_width(Call), _width(Service), _width(Account), _width(Account)]
    cuts = [sum(widths[:i]) for i in range(len(widths) + 1)]
    call = instance(Call, row[cuts[0]:cuts[1]])
    service = instance(Service, row[cuts[1]:cuts[2]])
    if service is not None:
        service.account = instance(Account, row[cuts[2]:cuts[3]])
    call.service = service
    call.account = instance(Account, row[cuts[3]:cuts[4]])
    return call, results


def _membership_from(row: tuple[Any, ...]) -> ServiceMembership:
    width, service_width = _width(ServiceMembership), _width(Service)
    member = instance(ServiceMembership, row[:width])
    member.service = instance(Service, row[width:width + service_width])
    member.service.account = instance(Account, row[width + service_width:])
    return member


def _offers_from(rows: list[tuple[Any, ...]]) -> list[Offer]:
    offers = []
    width = _width(Offer)
    for row in rows:
        offer = instance(Offer, row[:width])
        offer.operator = instance(Operator, row[width:])
        offers.append(offer)
    return offers


def for_event(account_id: int, call_ref: str, source: str, event_id: str, at: Any, *, leg_ref: str = "",
              ringing_when: Sequence[str] = (), call_operator: bool = False,
              extra: Sequence[str] = (), extra_params: dict[str, Any] | None = None) -> EventLocks:
    """Step 1 (and 2-3 where the event needs them) for an engine event, in the transaction's first round
    trip. A redelivered event (its id already processed) locks nothing and gets its stored answer. The same
    round trip tells the call's channel lease expiry (the event extends it only when it runs low) and
    whether any leg of it is ringing. `extra` statements (routing's candidates, a menu's options) follow, in
    order, with the same parameters and `extra_params`."""
    params = {"account": account_id, "ref": call_ref, "source": source, "event_id": event_id,
              "leg": leg_ref, "abandon": list(ringing_when), "at": at, **(extra_params or {})}
    statements = [(_sql("call"), params)]
    if leg_ref:
        statements.append((_sql("leg"), params))
    if ringing_when:
        statements.append((_sql("ringing"), params))
    if call_operator:
        statements.append((_sql("call_operator"), params))
        statements.append((_sql("freed_memberships"), params))
        statements.append((_sql("freed_waiting"), params))
    statements.extend((sql, params) for sql in extra)
    results = begin_with(statements)
    row = results.pop(0)[0]
    found = EventLocks(stored_commands=row[0])
    if found.stored_commands is not None:
        found.stored_commands = ProcessedEvent._meta.get_field("commands").from_db_value(row[0], None, connection)
    call_at = 3
    call = instance(Call, row[call_at:call_at + _width(Call)])
    if call is not None:
        call.lease_expires_at, call.has_ringing_leg = row[1], row[2]
        service = instance(Service, row[call_at + _width(Call):call_at + _width(Call) + _width(Service)])
        if service is not None:
            service.account = instance(Account, row[call_at + _width(Call) + _width(Service):])
            call.service = service
    found.call = call
    if leg_ref:
        legs = _offers_from(results.pop(0))
        found.leg = legs[0] if legs else None
        if found.leg is not None and call is not None:
            found.leg.call = call
    if ringing_when:
        found.ringing = _offers_from(results.pop(0)) if call is not None else []
        for offer in found.ringing:
            offer.call = call
    if call_operator:
        rows = results.pop(0)
        found.operator = instance(Operator, rows[0]) if rows else None
        memberships, waiting = results.pop(0), results.pop(0)
        if found.operator is not None and (memberships or waiting):
            found.freed_memberships = [_membership_from(row) for row in memberships]
            found.freed_waiting = [instance(Call, row) for row in waiting]
    found.extra = results
    return found
