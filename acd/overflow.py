"""When nobody can answer (domain.md, seed 002): busy message, voicemail, or redirect."""

from __future__ import annotations

from billing import budget
from routing.choices import OverflowAction
from routing.models import Prompt
from telephony.port import HangupCall, Play, RecordVoicemail, StopHold, Transfer

from . import calls
from .choices import CallEventKind, CallState, HangupCause, Outcome
from .models import Call
from .voicemail import email_duty_after_commit
from .work import Work

BUILTIN_BUSY = "builtin:busy"
BUILTIN_VOICEMAIL = "builtin:voicemail-greeting"
BUILTIN_CLOSED = "builtin:closed"


def prompt_ref(prompt: Prompt | None, builtin: str) -> str:
    return prompt.audio.url if prompt is not None and prompt.audio else builtin


def prompt_seconds(prompt: Prompt | None) -> float:
    return float(prompt.duration_seconds) if prompt is not None else 0.0


def end_call(call: Call, work: Work, *, outcome: str, cause: str = HangupCause.NORMAL) -> None:
    calls.move(call, CallState.ENDED)
    call.outcome = call.outcome or outcome
    call.end_cause = cause
    call.ended_at = work.at
    if call.wait_seconds is None and call.queued_at is not None:
        call.wait_seconds = (work.at - call.queued_at).total_seconds()
    call.save()
    work.log(call, CallEventKind.ENDED, outcome=call.outcome, cause=cause)
    budget.release(call.pk)  # idempotent: a duplicate end never frees a channel twice


def overflow(call: Call, work: Work, *, reason: str, action_override: str | None = None) -> None:
    """Take the caller out of the queue by the service's overflow action."""
    from .offers import cancel_ringing

    service = call.service
    action = action_override or service.overflow_action
    if action == OverflowAction.HOLD:
        action = OverflowAction.BUSY  # nobody to wait for: holding would be endless
    cancel_ringing(call, work)
    work.log(call, CallEventKind.OVERFLOWED, action=action, reason=reason)
    work.command(StopHold(call_ref=call.engine_ref))
    if action == OverflowAction.VOICEMAIL:
        calls.move(call, CallState.VOICEMAIL)
        call.outcome = Outcome.VOICEMAIL
        call.wait_seconds = (work.at - (call.queued_at or call.arrived_at)).total_seconds()
        call.save()
        work.command(RecordVoicemail(call_ref=call.engine_ref,
                                     greeting=prompt_ref(service.voicemail_prompt, BUILTIN_VOICEMAIL)))
    elif action == OverflowAction.REDIRECT:
        calls.move(call, CallState.FORWARDED)
        call.outcome = Outcome.REDIRECTED
        call.transferred_to = service.overflow_number
        call.wait_seconds = (work.at - (call.queued_at or call.arrived_at)).total_seconds()
        call.save()
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
    call.save(update_fields=["voicemail_seconds", "voicemail_url"])
    work.log(call, CallEventKind.VOICEMAIL, seconds=seconds, url=url)
    if call.account.duty_email:
        email_duty_after_commit(call.pk)  # by a Celery task, after the commit: never inside this request
