"""What must hold after every fault (issue 11, fault injection): no call record lost, no channel leaked (the
budget's live leases are the live calls, and its counter says as much), no operator stuck on a call that has
ended. Read straight from the database, as a person checking the floor afterwards would."""

from __future__ import annotations

from collections.abc import Iterable

from acd.choices import CallState
from acd.models import Call
from agents.choices import OperatorState
from agents.models import Operator
from budget import actions as budget
from budget.models import ChannelLease

BUSY = (OperatorState.RINGING, OperatorState.ON_CALL)


def assert_floor_consistent(account, call_refs: Iterable[str] = ()) -> None:
    refs = set(call_refs)
    recorded = set(Call.objects.filter(account=account, engine_ref__in=refs).values_list("engine_ref", flat=True))
    assert recorded == refs, f"call records lost: {sorted(refs - recorded)}"
    live_calls = set(Call.objects.filter(account=account).exclude(state=CallState.ENDED).values_list("pk", flat=True))
    live_leases = set(ChannelLease.objects.filter(account=account, released_at__isnull=True)
                      .values_list("call_id", flat=True))
    assert live_leases == live_calls, f"leases {sorted(live_leases)} != live calls {sorted(live_calls)}"
    assert budget.in_use(account.pk) == len(live_calls), "the budget's counter drifted from its leases"
    for op in Operator.objects.filter(account=account, state__in=BUSY):
        assert Call.objects.filter(operator=op).exclude(state=CallState.ENDED).exists(), \
            f"operator {op.login} stuck {op.state} with no live call"
