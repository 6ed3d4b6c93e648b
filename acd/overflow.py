"""When nobody can answer (domain.md, seed 002): busy message, voicemail, or redirect."""

from __future__ import annotations

from routing.choices import OverflowAction
from telephony.port import HangupCall, Play, RecordVoicemail, StopHold, Transfer

from .calls import elapsed, end_call, move
from .choices import CallEventKind, CallState, HangupCause, Outcome
from .legs import cancel_ringing
from .models import Call
from .prompts import BUILTIN_BUSY, BUILTIN_VOICEMAIL, prompt_ref, prompt_seconds
from .voicemail import email_duty_after_commit
from .work import Work


def overflow(call: Call, work: Work, *, reason: str, action_override: str | None = None) -> None:
    """Take the caller out of the queue by the service's overflow action."""
    service = call.service
    action = action_override or service.overflow_action
    if action == OverflowAction.HOLD:
        action = OverflowAction.BUSY  # nobody to wait for: holding would be endless
    cancel_ringing(call, work)
    work.log(call, CallEventKind.OVERFLOWED, action=action, reason=reason)
    work.command(StopHold(call_ref=call.engine_ref))
    if action == OverflowAction.VOICEMAIL:
        move(call, CallState.VOICEMAIL)
        call.outcome = Outcome.VOICEMAIL
        call.wait_seconds = elapsed(call.queued_at or call.arrived_at, call, work.at)
        work.save(call)
        work.command(RecordVoicemail(call_ref=call.engine_ref,
                                     greeting=prompt_ref(service.voicemail_prompt, BUILTIN_VOICEMAIL)))
    elif action == OverflowAction.REDIRECT:
        move(call, CallState.FORWARDED)
        call.outcome = Outcome.REDIRECTED
        call.transferred_to = service.overflow_number
        call.wait_seconds = elapsed(call.queued_at or call.arrived_at, call, work.at)
        work.save(call)
        work.command(Transfer(call_ref=call.engine_ref, destination=service.overflow_number))
    else:
        play_and_hang_up(call, work, prompt_ref(service.busy_prompt, BUILTIN_BUSY),
                         prompt_seconds(service.busy_prompt), outcome=Outcome.BUSY, cause=HangupCause.BUSY)


def play_and_hang_up(call: Call, work: Work, prompt: str, seconds: float, *, outcome: str, cause: str) -> None:
    work.command(Play(call_ref=call.engine_ref, prompt=prompt, seconds=seconds),
                 HangupCall(call_ref=call.engine_ref, cause=cause))
    end_call(call, work, outcome=outcome, cause=cause)


def voicemail_recorded(call: Call, work: Work, seconds: float, url: str) -> None:
    call.voicemail_seconds = seconds
    call.voicemail_url = url
    work.save(call, ["voicemail_seconds", "voicemail_url"])
    work.log(call, CallEventKind.VOICEMAIL, seconds=seconds, url=url)
    if call.account.duty_email:
        email_duty_after_commit(call.pk)  # by a Celery task, after the commit: never inside this request
