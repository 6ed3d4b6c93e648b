"""What must hold after every fault (issue 11, fault injection) and at the end of the soak (bench/bench_soak.py):
no call record lost, no channel leaked (the budget's live leases are the live calls, and its counter says as
much), no operator stuck. Read straight from the database, as a person checking the floor afterwards would."""

from __future__ import annotations

from collections.abc import Iterable

from acd.choices import CallState, OfferState
from acd.models import Call, Offer
from agents.choices import OperatorState
from agents.models import Operator
from budget import actions as budget
from budget.models import ChannelLease
from core.clock import now


def floor_violations(account, call_refs: Iterable[str] = ()) -> list[str]:
    """Every broken invariant of the account's floor, each in a sentence (empty: the floor is consistent).

    An operator on a call is on a live call of theirs. An operator ringing is rung by a live call whose ring has
    not run out: the call is not theirs yet (`Call.operator` is set when they answer), the ringing leg is, and a
    leg past its deadline is one the ACD's sweep should have ended (a phone nobody will pick up)."""
    found = []
    refs = set(call_refs)
    recorded = set(Call.objects.filter(account=account, engine_ref__in=refs).values_list("engine_ref", flat=True))
    if recorded != refs:
        found.append(f"{account.name}: call records lost: {sorted(refs - recorded)}")
    live_calls = set(Call.objects.filter(account=account).exclude(state=CallState.ENDED).values_list("pk", flat=True))
    live_leases = set(ChannelLease.objects.filter(account=account, released_at__isnull=True)
                      .values_list("call_id", flat=True))
    if live_leases != live_calls:
        found.append(f"{account.name}: leases of calls {sorted(live_leases)} != live calls {sorted(live_calls)}")
    if budget.in_use(account.pk) != len(live_calls):
        found.append(f"{account.name}: the budget's counter says {budget.in_use(account.pk)} channels in use for "
                     f"{len(live_calls)} live calls")
    at = now()
    for op in Operator.objects.filter(account=account, state=OperatorState.ON_CALL):
        if not Call.objects.filter(operator=op).exclude(state=CallState.ENDED).exists():
            found.append(f"{account.name}: {op.login} stuck on_call with no live call")
    for op in Operator.objects.filter(account=account, state=OperatorState.RINGING):
        if not Offer.objects.filter(operator=op, state=OfferState.RINGING, expires_at__gt=at) \
                .exclude(call__state=CallState.ENDED).exists():
            found.append(f"{account.name}: {op.login} stuck ringing with no live ring")
    return found


def assert_floor_consistent(account, call_refs: Iterable[str] = ()) -> None:
    broken = floor_violations(account, call_refs)
    assert not broken, "; ".join(broken)
