"""Closing a call whose engine went silent (its end event was lost), for the budget's reconciler."""

from __future__ import annotations

from django.db import transaction

from core.clock import now
from telephony import outbox
from telephony.port import HangupCall

from .choices import CallState, HangupCause, Outcome
from .handlers import release_after_call
from .models import Call
from .offers import cancel_ringing, serve_freed_operators
from .overflow import end_call
from .work import Work


@transaction.atomic
def end_lost_call(call_id: int) -> bool:
    call = Call.objects.select_for_update(of=("self",)).select_related("service", "account").filter(
        pk=call_id).first()
    if call is None or call.state == CallState.ENDED:
        return False
    work = Work(at=now())
    cancel_ringing(call, work)
    was_connected = call.state == CallState.CONNECTED
    outcome = call.outcome or (Outcome.ANSWERED if was_connected else Outcome.ABANDONED)
    if was_connected and call.answered_at:
        call.talk_seconds = (work.at - call.answered_at).total_seconds()
    end_call(call, work, outcome=outcome, cause=HangupCause.LOST)
    if was_connected and call.operator_id:
        release_after_call(call.operator_id, call, work)
    work.command(HangupCall(call_ref=call.engine_ref, cause=HangupCause.LOST))
    serve_freed_operators(work)
    work.flush()
    outbox.record(call.account_id, work.commands)
    return True
