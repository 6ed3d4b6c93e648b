"""Which operator gets a call: one function per distribution criterion (domain.md, seed 001).

Each criterion is an ordering (and sometimes a filter) over the service's *free* operators; the winner is
locked with `FOR UPDATE SKIP LOCKED`, so two processes routing at once never take the same operator and
never wait for each other. The state filter is re-checked by PostgreSQL on the locked row version, so an
operator taken by a transaction that just committed is skipped, not double-booked.
"""

from __future__ import annotations

import datetime as dt

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
from core.pipeline import DeferredWrites
from routing.choices import Criterion
from routing.models import SKILL_MAX, SKILL_MIN, Service, ServiceMembership

from . import locks
from .clockutil import period_start, start_of_day
from .models import Call


def free_members(service: Service, at: dt.datetime) -> QuerySet[ServiceMembership]:
    """The service's operators who can take a call right now."""
    # The account filter lets PostgreSQL walk operator_free_idx (account, state, available_since) in
    # order and stop at the first member it can lock, instead of sorting every member.
    return (ServiceMembership.objects.filter(service=service, operator__account_id=service.account_id,
                                             operator__state=OperatorState.AVAILABLE, operator__is_active=True)
            .filter(Q(operator__backoff_until__isnull=True) | Q(operator__backoff_until__lte=at)))


def skill_threshold(service: Service, call: Call, at: dt.datetime) -> int:
    """Skill escalation: start with the best level present, widen one level down every N seconds of wait."""
    if not service.escalation_seconds:
        return 0
    levels = sorted(set(ServiceMembership.objects.filter(service=service).values_list("skill_level", flat=True)),
                    reverse=True)
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
    """Lock and return the operator(s) to ring: one, or every free one for ring-all."""
    qs, ring_all = ordered_candidates(service, call, at, only_target=only_target)
    qs = locks.skip_locked_operators(qs)
    if ring_all:
        return list(qs), True
    criterion = call.criterion or service.criterion
    if criterion == Criterion.SKILL and not only_target:
        # Best level first, one level at a time: each query walks the free-operator index in
        # "free the longest" order and stops at the first member it can lock, whatever the team size.
        threshold = skill_threshold(service, call, at)
        for level in range(SKILL_MAX, max(threshold, SKILL_MIN) - 1, -1):
            rows = list(qs.filter(skill_level=level).order_by("operator__available_since", "operator_id")[:1])
            if rows:
                return rows, False
        return [], False
    return list(qs[:1]), False



def remember_rotation(service: Service, call: Call, members: list[ServiceMembership], writes: DeferredWrites) -> None:
    """Sequential rotation: the next call starts after the member just rung (service-wide memory)."""
    if (call.criterion or service.criterion) == Criterion.SEQUENTIAL and members:
        writes.update(Service, service.pk, rotation_cursor=members[-1].pk)
