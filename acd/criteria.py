"""Which operator gets a call: one function per distribution criterion (domain.md, seed 001).

Each criterion is an ordering (and sometimes a filter) over the service's *free* operators; the winner is
locked with `FOR UPDATE SKIP LOCKED`, so two processes routing at once never take the same operator and
never wait for each other. The state filter is re-checked by PostgreSQL on the locked row version, so an
operator taken by a transaction that just committed is skipped, not double-booked.
"""

from __future__ import annotations

import datetime as dt
import functools

from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from agents.choices import OperatorState
from agents.models import Operator
from core.pipeline import DeferredWrites
from routing.choices import Criterion
from routing.models import SKILL_MAX, SKILL_MIN, Service, ServiceMembership

from . import locks
from .clockutil import period_start, start_of_day
from .models import Call


def free_memberships(account_id: int, at: dt.datetime) -> QuerySet[ServiceMembership]:
    """Memberships of the account's operators who may be offered a call right now: active, available, and not
    held back (the ACD's back-off after a miss, or a preview's reservation). The one definition of "free",
    for routing and for a supervisor's transfer alike."""
    # The account filter lets PostgreSQL walk operator_free_idx (account, state, available_since) in
    # order and stop at the first member it can lock, instead of sorting every member.
    return (ServiceMembership.objects.filter(operator__account_id=account_id, operator__state=OperatorState.AVAILABLE,
                                             operator__is_active=True)
            .filter(Q(operator__backoff_until__isnull=True) | Q(operator__backoff_until__lte=at)))


def free_members(service: Service, at: dt.datetime) -> QuerySet[ServiceMembership]:
    """The service's operators who can take a call right now."""
    return free_memberships(service.account_id, at).filter(service=service)


def skill_threshold(service: Service, call: Call, at: dt.datetime) -> int:
    """Skill escalation: start with the best level present, widen one level down every N seconds of wait."""
    if not service.escalation_seconds:
        return 0
    levels = list(ServiceMembership.objects.filter(service=service).values_list("skill_level", flat=True)
                  .distinct().order_by("-skill_level"))  # a few levels, not a row per member
    if not levels:
        return 0
    waited = (at - (call.queued_at or call.arrived_at)).total_seconds()
    steps = int(waited // service.escalation_seconds)
    return levels[min(steps, len(levels) - 1)]


def waiting_for_target(call: Call, at: dt.datetime) -> bool:
    """A last-operator or operator-code call still holds out for its own operator."""
    return call.target_operator_id is not None and (call.target_until is None or at < call.target_until)


def ordered_candidates(service: Service, call: Call, at: dt.datetime, *,
                       only_target: bool = False) -> tuple[QuerySet, bool]:
    """The free members in the order the criterion wants them; and whether to ring them all.

    `only_target` restricts to the call's wanted operator (dialled code, or the caller's last operator).
    Last-operator and operator-code calls otherwise fall back to the longest-idle operator.
    """
    criterion = call.criterion or service.criterion
    qs = free_members(service, at)
    tie = "operator__available_since"
    if only_target:
        return qs.filter(operator_id=call.target_operator_id), False
    if criterion == Criterion.SKILL:  # lock_candidates walks the levels one at a time (index-friendly)
        threshold = skill_threshold(service, call, at)
        return qs.filter(skill_level__gte=threshold).order_by("-skill_level", tie, "operator_id"), False
    if criterion == Criterion.SEQUENTIAL:
        cursor = Service.objects.filter(pk=service.pk).values_list("rotation_cursor", flat=True).first() or 0
        return qs.annotate(lap=Case(When(id__gt=cursor, then=Value(0)), default=Value(1),
                                    output_field=IntegerField())).order_by("lap", "id"), False
    if criterion == Criterion.INACTIVITY:
        return qs.order_by(F("operator__last_call_ended_at").asc(nulls_first=True), tie, "id"), False
    if criterion == Criterion.MINUTES_PRODUCED:
        since = period_start(at, service.account.timezone, service.minutes_period)
        talk = (Call.objects.filter(operator_id=OuterRef("operator_id"), answered_at__gte=since)
                .values("operator_id").annotate(total=Sum("talk_seconds")).values("total"))
        return qs.annotate(talk=Coalesce(Subquery(talk, output_field=FloatField()), Value(0.0))).order_by(
            "-talk", tie, "id"), False
    if criterion == Criterion.FEWEST_CALLS:
        since = start_of_day(at, service.account.timezone)
        calls = (Call.objects.filter(operator_id=OuterRef("operator_id"), answered_at__gte=since)
                 .values("operator_id").annotate(n=Count("id")).values("n"))
        return qs.annotate(n_calls=Coalesce(Subquery(calls, output_field=IntegerField()), Value(0))).order_by(
            "n_calls", tie, "id"), False
    if criterion == Criterion.RING_ALL:
        return qs.order_by(tie, "id"), True
    return qs.order_by(tie, "operator_id"), False  # LONGEST_IDLE and the fallbacks


def lock_candidates(service: Service, call: Call, at: dt.datetime, *,
                    only_target: bool = False) -> tuple[list[ServiceMembership], bool]:
    """Lock and return the operator(s) to ring: one, or every free one for ring-all.

    An engine event that foresaw the routing locked the candidates in its first round trip
    (`candidates_statement`); they are taken as they are when the criterion is the one they were chosen by.
    """
    criterion = call.criterion or service.criterion
    prelocked = call.__dict__.pop("locked_candidates", None)
    if prelocked is not None and not only_target and prelocked[0] == criterion:
        return prelocked[1], criterion == Criterion.RING_ALL
    if criterion == Criterion.SKILL and not only_target:
        # Best level first, one level at a time: each query walks the free-operator index in
        # "free the longest" order and stops at the first member it can lock, whatever the team size.
        threshold = skill_threshold(service, call, at)
        qs = locks.skip_locked_operators(free_members(service, at))
        for level in range(SKILL_MAX, max(threshold, SKILL_MIN) - 1, -1):
            rows = list(qs.filter(skill_level=level).order_by("operator__available_since", "operator_id")[:1])
            if rows:
                return rows, False
        return [], False
    qs, ring_all = ordered_candidates(service, call, at, only_target=only_target)
    qs = locks.skip_locked_operators(qs)
    if ring_all:
        return list(qs), True
    return list(qs[:1]), False



def remember_rotation(service: Service, call: Call, members: list[ServiceMembership], writes: DeferredWrites) -> None:
    """Sequential rotation: the next call starts after the member just rung (service-wide memory)."""
    if (call.criterion or service.criterion) == Criterion.SEQUENTIAL and members:
        writes.update(Service, service.pk, rotation_cursor=members[-1].pk)


# --- The criteria as ordering fragments of one statement ---------------------------------------------------
#
# An engine event that will route its call (the welcome prompt ends, a leg fails, a call arrives without a
# welcome) locks the winner in its first round trip, beside the call: one branch per criterion, each gated
# by the criterion of the call (a condition on the outer row only, which PostgreSQL evaluates once, so the
# other branches never run), each with its own ORDER BY … LIMIT 1 over the free-operator index
# (account, state, available since), so the cost does not grow with the team. The criteria that need the
# call history (minutes produced, fewest calls) or a wanted operator keep their queries in
# `lock_candidates`. The winner's row is locked with SKIP LOCKED: routers in parallel never wait for one
# another, and PostgreSQL re-checks the free condition on the row version it locks.

_ORDERS: dict[str, str] = {
    Criterion.LONGEST_IDLE: "p.available_since, m.operator_id",
    Criterion.INACTIVITY: "p.last_call_ended_at ASC NULLS FIRST, p.available_since, m.id",
    Criterion.SEQUENTIAL: "(m.id <= coalesce(c.rotation_cursor, 0)), m.id",
    Criterion.SKILL: "m.skill_level DESC, p.available_since, p.id",
    Criterion.RING_ALL: "p.available_since, m.id",
}
STATEMENT_CRITERIA = frozenset(_ORDERS)


def _branch(criterion: str, members: str, operators: str) -> str:
    if criterion == Criterion.SKILL:
        return _skill_branch(members, operators)
    limit = "" if criterion == Criterion.RING_ALL else " LIMIT 1"
    return f"""SELECT * FROM (
    SELECT {locks.columns(ServiceMembership, "m")},
           {locks.columns(Operator, "p")}
      FROM {members} m JOIN {operators} p ON p.id = m.operator_id
     WHERE c.criterion = '{criterion}' AND m.service_id = c.service_id AND p.account_id = c.account_id
       AND p.state = '{OperatorState.AVAILABLE}' AND p.is_active
       AND (p.backoff_until IS NULL OR p.backoff_until <= %(at)s)
     ORDER BY {_ORDERS[criterion]}{limit}
       {locks.SKIP_LOCKED_OPERATOR}) b"""


def _skill_branch(members: str, operators: str) -> str:
    """Best level first, one level at a time (as `lock_candidates` does): each level walks the free-operator
    index in "free the longest" order and stops at the first member it can lock, so the cost does not grow
    with the team. Sorting every member by level first would read them all. The levels come out of
    `generate_series` in order and each lateral runs only when the levels above found nobody (LIMIT 1)."""
    return f"""SELECT * FROM (
    SELECT y.* FROM generate_series({SKILL_MAX}, GREATEST(c.threshold, {SKILL_MIN}), -1) AS lvl(v)
    CROSS JOIN LATERAL (
    SELECT {locks.columns(ServiceMembership, "m")},
           {locks.columns(Operator, "p")}
      FROM {members} m JOIN {operators} p ON p.id = m.operator_id
     WHERE m.service_id = c.service_id AND p.account_id = c.account_id AND m.skill_level = lvl.v
       AND p.state = '{OperatorState.AVAILABLE}' AND p.is_active
       AND (p.backoff_until IS NULL OR p.backoff_until <= %(at)s)
     ORDER BY p.available_since, p.id LIMIT 1
       {locks.SKIP_LOCKED_OPERATOR}) y
     WHERE c.criterion = '{Criterion.SKILL}'
     LIMIT 1) b"""


def _threshold(members: str) -> str:
    """Skill escalation in SQL, as `skill_threshold` computes it: the best level present, one level lower
    for every `escalation_seconds` waited."""
    return f"""CASE WHEN s.escalation_seconds > 0 THEN (
        SELECT l.skill_level FROM (SELECT DISTINCT skill_level FROM {members} WHERE service_id = s.id) l
         ORDER BY l.skill_level DESC
        OFFSET GREATEST(0, LEAST(floor(extract(epoch FROM %(at)s - w.waited_from) / s.escalation_seconds)::bigint,
                     (SELECT count(DISTINCT skill_level) - 1 FROM {members} WHERE service_id = s.id)))
         LIMIT 1) ELSE 0 END"""


@functools.cache
def candidates_statement(source: str) -> str:
    """The statement that locks a call's candidates. `source` is a query yielding at most one row with
    `service_id`, `criterion` and `waited_from` (when the caller's wait started) for the call."""
    members, operators = ServiceMembership._meta.db_table, Operator._meta.db_table
    branches = "\n    UNION ALL ".join(_branch(name, members, operators) for name in _ORDERS)
    return f"""
WITH w AS ({source}),
c AS (
    SELECT w.service_id, w.criterion, s.account_id, s.rotation_cursor, {_threshold(members)} AS threshold
      FROM w JOIN {Service._meta.db_table} s ON s.id = w.service_id
)
SELECT c.criterion, c.threshold,  -- whether anyone is logged in: asked only when nobody is free
       CASE WHEN x IS NULL THEN EXISTS (
           SELECT 1 FROM {members} m JOIN {operators} p ON p.id = m.operator_id
            WHERE m.service_id = c.service_id AND p.is_active AND p.state <> '{OperatorState.LOGGED_OUT}')
       ELSE true END,
       x.* FROM c LEFT JOIN LATERAL (
    {branches}
) x ON true"""


def prelocked_from(rows: list[tuple], call: Call) -> None:
    """Hand the candidates locked by the first round trip to `lock_candidates`: their criterion and the
    members, each with its (locked) operator; and whether anyone of the service is logged in at all."""
    if not rows or rows[0][0] not in STATEMENT_CRITERIA:
        return  # not routed by the statement: `lock_candidates` asks the database itself
    call.anyone_logged_in = rows[0][2]
    width, first = len(ServiceMembership._meta.concrete_fields), 3
    members = []
    for row in rows:
        member = locks.instance(ServiceMembership, row[first:first + width])
        if member is None:
            continue  # nobody free (the outer join's empty row)
        member.operator = locks.instance(Operator, row[first + width:])
        members.append(member)
    call.locked_candidates = (rows[0][0], members)
