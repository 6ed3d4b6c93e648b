"""Where a call goes once it has its service: closed (out of hours), or after the welcome to the queue or
to the operator's code. Shared by the inbound flow and the voice menus (`menu`)."""

from __future__ import annotations

from routing.choices import Criterion, OverflowAction
from routing.models import Service
from telephony import port

from ..calls import end_call, move
from ..choices import CallEventKind, CallState, HangupCause, Outcome
from ..models import Call
from ..overflow import overflow
from ..prompts import BUILTIN_CLOSED, BUILTIN_OPERATOR_CODE, prompt_ref, prompt_seconds
from ..queue import enter_queue
from ..work import Work


def closed(call: Call, service: Service, work: Work) -> None:
    work.log(call, CallEventKind.OVERFLOWED, action=service.closed_action, reason="closed")
    work.command(port.Play(call_ref=call.engine_ref, prompt=prompt_ref(service.closed_prompt, BUILTIN_CLOSED),
                           seconds=prompt_seconds(service.closed_prompt)))
    if service.closed_action in (OverflowAction.VOICEMAIL, OverflowAction.REDIRECT):
        overflow(call, work, reason="closed", action_override=service.closed_action)
        return
    work.command(port.HangupCall(call_ref=call.engine_ref, cause=HangupCause.CLOSED))
    end_call(call, work, outcome=Outcome.CLOSED, cause=HangupCause.CLOSED)


def after_welcome(call: Call, work: Work) -> None:
    if call.criterion == Criterion.OPERATOR_CODE:
        move(call, CallState.COLLECTING)
        work.save(call, ["state"])
        work.command(port.CollectDigits(call_ref=call.engine_ref, prompt=BUILTIN_OPERATOR_CODE))
        return
    enter_queue(call, work)
