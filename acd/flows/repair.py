"""Closing a call whose engine went silent (its end event was lost), for the budget's reconciler."""

from __future__ import annotations

from telephony.port import HangupCall

from .. import locks
from ..calls import end_call
from ..choices import CallState, HangupCause, Outcome
from ..legs import cancel_ringing, release_after_call
from ..models import Call
from ..unit import unit_of_work


def end_lost_call(call_id: int) -> bool:
    """End the call as lost: its ringing legs cancelled, talk time cut now, its operator freed."""
    account_id = Call.objects.filter(pk=call_id).values_list("account_id", flat=True).first()
    if account_id is None:
        return False
    with unit_of_work(account_id) as work:
        call = locks.call_by_id(call_id)
        if call is None or call.state == CallState.ENDED:
            return False
        cancel_ringing(call, work)
        was_connected = call.state == CallState.CONNECTED
        outcome = call.outcome or (Outcome.ANSWERED if was_connected else Outcome.ABANDONED)
        if was_connected and call.answered_at:
            call.talk_seconds = (work.at - call.answered_at).total_seconds()
        end_call(call, work, outcome=outcome, cause=HangupCause.LOST)
        if was_connected and call.operator_id:
            release_after_call(call.operator_id, call, work)
        work.command(HangupCall(call_ref=call.engine_ref, cause=HangupCause.LOST))
        return True
