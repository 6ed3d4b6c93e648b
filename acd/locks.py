"""Every row lock the ACD takes, and the one order in which it takes them (Saleor's `lock_objects` idea).

The lock order, written once:

1. the **call** (one row; a path that holds a call never waits for another call);
2. the call's **offers**, in their operators' id order;
3. **operators**, ascending id (so walking the offers above takes their operators in order too).

A path that starts from an operator (someone just became free) holds that operator first, so it may take
calls only with `SKIP LOCKED`: it never waits on a call while holding an operator, and two transactions can
never wait for each other. Candidate operators for a call are likewise taken with `SKIP LOCKED` (the
criterion's order, the first one nobody else holds), so routers running in parallel never queue behind
one another. Nothing in `acd/` calls `select_for_update` outside this module.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import models
from django.db.models import Exists, OuterRef, QuerySet, Subquery

from agents.models import Operator
from budget.models import ChannelLease

from .choices import OfferState
from .models import Call, Offer

M = TypeVar("M", bound=models.Model)


def _one(rows: QuerySet[M]) -> M | None:
    """The row of a lookup by a unique key: no ORDER BY (a model's default ordering would be compiled and
    sent for nothing on the hot path)."""
    found = list(rows.order_by()[:1])
    return found[0] if found else None


def _calls() -> QuerySet[Call]:
    return Call.objects.select_for_update(of=("self",)).select_related("service", "service__account")


def call_by_ref(account_id: int, call_ref: str) -> Call | None:
    """Step 1, from an engine event: the call the event is about. The same statement tells its channel
    lease's expiry (the event extends the lease only when it runs low) and whether any leg of it is still
    ringing (when none is, ending the call need not look for legs to cancel)."""
    live_lease = ChannelLease.objects.filter(call_id=OuterRef("pk"), released_at__isnull=True)
    ringing = Offer.objects.filter(call_id=OuterRef("pk"), state=OfferState.RINGING)
    calls = (_calls().annotate(lease_expires_at=Subquery(live_lease.values("expires_at")[:1]),
                               has_ringing_leg=Exists(ringing))
            .filter(account_id=account_id, engine_ref=call_ref))
    return _one(calls)


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
    """Steps 2-3: one leg of the (already locked) call, with its operator."""
    return _one(_offers().filter(call=call, leg_ref=leg_ref))


def offer_by_id(offer_id: int) -> Offer:
    """Steps 2-3, for a timer that found the offer first: lock the call (step 1) before calling this."""
    return _offers().get(pk=offer_id)


def ringing_offers(call: Call, *, except_offer: Offer | None = None) -> QuerySet[Offer]:
    """Steps 2-3: every leg of the call still ringing with its operator, in the operators' id order."""
    offers = _offers().filter(call=call, state=OfferState.RINGING).order_by("operator_id")
    if except_offer is not None:
        offers = offers.exclude(pk=except_offer.pk)
    return offers


def operator(operator_id: int) -> Operator:
    """Step 3: one operator (several are taken one at a time in ascending id by the callers' loops)."""
    return Operator.objects.select_for_update(of=("self",)).get(pk=operator_id)


def operator_if_exists(operator_id: int) -> Operator | None:
    return _one(Operator.objects.select_for_update(of=("self",)).filter(pk=operator_id))


def skip_locked_operators(candidates: QuerySet) -> QuerySet:
    """Step 3 for routing: the candidates (memberships) whose operator nobody else holds right now."""
    return candidates.select_related("operator").select_for_update(skip_locked=True, of=("operator",))


def skip_locked_calls(calls: QuerySet[Call]) -> QuerySet[Call]:
    """From an operator already held: waiting calls nobody else holds (never wait for a call here)."""
    return calls.select_for_update(skip_locked=True, of=("self",))
