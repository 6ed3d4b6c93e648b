"""An originated call's far end: answered by a person (queued for an operator through the SAME reservation as
inbound calls), by a machine, or not at all; and the 2-second rule for a live call nobody takes.

The engine reports the far end of an originated call with `AmdResult(verdict)` when AMD was asked for, and
otherwise with `LegAnswered` / `LegNoAnswer` / `LegBusy` / `LegRejected` / `LegFailed` whose leg is the call
itself (an empty `leg_ref`, or the call's own ref). What to do with the answer is the business of whoever
placed the call: the dialer registers a director (`set_director`) — it sits above the ACD, so the ACD never
imports it. Calls no director claims keep the ACD's default handling.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from routing.models import Service
from telephony import port

from ..calls import end_call
from ..choices import CallEventKind, CallState, Direction, HangupCause, Outcome
from ..legs import cancel_ringing
from ..models import Call
from ..overflow import play_and_hang_up
from ..queue import enter_queue
from ..work import Work

CONNECT_WITHIN = dt.timedelta(seconds=2)  # the 2-second rule (FTC TSR, Ofcom)


@dataclass(frozen=True)
class AnswerPlan:
    """What to do with an answered originated call."""

    queue_service_id: int | None = None  # a person: wait for an operator of this service (2 s at most)
    operator_id: int | None = None       # … this operator of it (preview: the one who clicked to dial)
    prompt: str = ""                     # else: play this (a machine message) and hang up; "" = hang up
    prompt_seconds: float = 0.0


class Director(Protocol):
    def claims(self, call: Call) -> bool: ...

    def answered(self, call: Call, verdict: str, work: Work) -> AnswerPlan: ...

    def not_answered(self, call: Call, event: port.Event, work: Work) -> None: ...

    def abandoned(self, call: Call, work: Work) -> tuple[str, float]:
        """The live call found no operator in time: returns the safe-harbor prompt and its length."""
        ...


_director: Director | None = None


def set_director(director: Director | None) -> None:
    global _director
    _director = director


FAR_END_EVENTS = (port.AmdResult, port.LegAnswered, port.LegNoAnswer, port.LegBusy, port.LegRejected,
                  port.LegFailed)


def handles(event: port.Event, call: Call) -> bool:
    """Is this the far end of an originated call that a director placed, not yet answered?"""
    if call.direction != Direction.OUTBOUND or call.state != CallState.OFFERED or _director is None:
        return False
    if not isinstance(event, FAR_END_EVENTS):
        return False
    if isinstance(event, port.LegEvent) and event.leg_ref not in ("", call.engine_ref):
        return False
    return _director.claims(call)


def on_far_end(event: port.Event, call: Call, work: Work) -> None:
    assert _director is not None
    if isinstance(event, port.AmdResult | port.LegAnswered):
        verdict = event.verdict if isinstance(event, port.AmdResult) else "human"
        plan = _director.answered(call, verdict or "unknown", work)
        if plan.queue_service_id is not None:
            call.service = Service.objects.select_related("account", "hold_prompt").get(pk=plan.queue_service_id)
            call.criterion = call.service.criterion
            if plan.operator_id is not None:  # held for that operator only, for the 2 s the rule allows
                call.target_operator_id = plan.operator_id
                call.target_until = work.at + CONNECT_WITHIN
            work.command(port.Answer(call_ref=call.engine_ref))
            enter_queue(call, work)  # rings a free operator at once, by the service's criterion
            if call.state in (CallState.QUEUED, CallState.RINGING):
                call.queue_deadline = work.at + CONNECT_WITHIN
                work.save(call, ["queue_deadline"])
            return
        work.log(call, CallEventKind.ENDED, verdict=verdict)
        if plan.prompt:
            play_and_hang_up(call, work, plan.prompt, plan.prompt_seconds, outcome=Outcome.ANSWERED,
                             cause=HangupCause.NORMAL)
        else:
            work.command(port.HangupCall(call_ref=call.engine_ref))
            end_call(call, work, outcome=Outcome.ANSWERED)
        return
    _director.not_answered(call, event, work)
    cause = HangupCause.BUSY if isinstance(event, port.LegBusy) else HangupCause.NORMAL
    end_call(call, work, outcome=Outcome.REJECTED, cause=cause)


def on_deadline(call: Call, work: Work) -> bool:
    """The 2 s passed with the live call still waiting (queued, or ringing an operator): the safe-harbor
    message plays and the call ends, abandoned. False: not a director's call (the caller overflows it)."""
    if _director is None or call.direction != Direction.OUTBOUND or not _director.claims(call):
        return False
    prompt, seconds = _director.abandoned(call, work)
    cancel_ringing(call, work)
    work.log(call, CallEventKind.ABANDONED, reason="no_operator_within_2s")
    work.command(port.StopHold(call_ref=call.engine_ref))
    play_and_hang_up(call, work, prompt, seconds, outcome=Outcome.ABANDONED, cause=HangupCause.NO_OPERATOR)
    return True
