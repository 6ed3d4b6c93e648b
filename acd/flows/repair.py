"""Closing the calls whose engine went silent (their end event was lost), and the channels still held by calls
that are over: the ACD's side of the budget's reconciler.

The budget finds stale leases and knows nothing of calls; this flow ends each call behind one as lost, in the
lock order of every other flow (the call first, then its lease and counters), cuts its talk time at the last
sign of life the lease saw, and records the repair. Run by `reconcile_leases_task` every
`LEASE_RECONCILE_SECONDS`; running it twice, or beside the call's own late hangup, repairs nothing twice.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from budget import actions as budget
from budget.choices import LeaseEnd
from budget.models import ChannelLease
from core.clock import now
from telephony.port import HangupCall

from .. import locks
from ..calls import end_call
from ..choices import CallState, HangupCause, Outcome
from ..legs import cancel_ringing, release_after_call
from ..models import Call
from ..unit import unit_of_work

HELD_BY_ENDED_CALL = "the call had ended but its channel was still held"
LOST = "no sign of the call since {at:%Y-%m-%d %H:%M:%S} UTC (end event lost)"


def end_lost_call(call_id: int, *, last_alive: dt.datetime | None = None) -> bool:
    """End the call as lost: its ringing legs cancelled, its channel freed, its operator released, the engine
    told to hang up. Its talk time and end are cut at `last_alive` (the last sign of life; now if unknown), so
    the silence after it is neither billed nor counted as a concurrent call."""
    account_id = Call.objects.filter(pk=call_id).values_list("account_id", flat=True).first()
    if account_id is None:
        return False
    with unit_of_work(account_id) as work:
        call = locks.call_by_id(call_id)
        if call is None or call.state == CallState.ENDED:
            return False
        budget.release(call.pk, ended_by=LeaseEnd.REPAIRED)  # under the call's lock: end_call's release is a no-op
        cut = work.at if last_alive is None else min(work.at, max(last_alive, call.answered_at or last_alive))
        cancel_ringing(call, work)
        was_connected = call.state == CallState.CONNECTED
        outcome = call.outcome or (Outcome.ANSWERED if was_connected else Outcome.ABANDONED)
        if was_connected and call.answered_at:
            call.talk_seconds = (cut - call.answered_at).total_seconds()
        end_call(call, work, outcome=outcome, cause=HangupCause.LOST)
        call.ended_at = max(cut, call.arrived_at)
        work.save(call, ["ended_at"])
        if was_connected and call.operator_id:
            release_after_call(call.operator_id, call, work)
        work.command(HangupCall(call_ref=call.engine_ref, cause=HangupCause.LOST))
        return True


def reconcile_leases() -> int:
    """Free the channels of calls that are over, end the calls behind silent leases; record each repair."""
    at = now()
    repaired = 0
    held = ChannelLease.objects.filter(released_at__isnull=True, call__state=CallState.ENDED,
                                       account__is_simulation=False)  # the simulator's clock is its own
    for lease_id, call_id in held.order_by("call_id").values_list("pk", "call_id"):
        with transaction.atomic():
            if budget.release(call_id, ended_by=LeaseEnd.REPAIRED):
                budget.record_repair(lease_id, HELD_BY_ENDED_CALL, at)
                repaired += 1
    for stale in budget.stale_leases(at):
        with transaction.atomic():
            if end_lost_call(stale.call_id, last_alive=stale.last_alive):
                budget.record_repair(stale.lease_id, LOST.format(at=stale.last_alive), at)
                repaired += 1
            elif budget.release(stale.call_id, ended_by=LeaseEnd.REPAIRED):  # its call ended meanwhile
                budget.record_repair(stale.lease_id, HELD_BY_ENDED_CALL, at)
                repaired += 1
    return repaired
