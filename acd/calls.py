"""The bottom layer of the ACD: a call's state machine, its channel, and its end.

Every change of a call's state goes through `move()`; every call that ends goes through `end_call()`,
which gives its channel back to the budget (idempotently: a duplicate end never frees a channel twice).
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from budget import actions as budget
from core.errors import IllegalTransition
from telephony import port

from .choices import CallEventKind, CallState, HangupCause, Outcome
from .models import Call
from .prompts import BUILTIN_BUSY, prompt_ref, prompt_seconds
from .work import Work

C = CallState

_WAYS_OUT = frozenset({C.VOICEMAIL, C.FORWARDED, C.ENDED})
CALL_TRANSITIONS: dict[str, frozenset[str]] = {
    C.OFFERED: frozenset({C.WELCOME, C.COLLECTING, C.QUEUED}) | _WAYS_OUT,
    C.WELCOME: frozenset({C.COLLECTING, C.QUEUED}) | _WAYS_OUT,
    C.COLLECTING: frozenset({C.WELCOME, C.QUEUED}) | _WAYS_OUT,  # a voice menu leads to a service's welcome
    C.QUEUED: frozenset({C.RINGING}) | _WAYS_OUT,
    C.RINGING: frozenset({C.CONNECTED, C.QUEUED}) | _WAYS_OUT,
    C.CONNECTED: frozenset({C.QUEUED, C.FORWARDED, C.ENDED}),
    C.VOICEMAIL: frozenset({C.ENDED}),
    C.FORWARDED: frozenset({C.ENDED}),
    C.ENDED: frozenset(),
}


def move(call: Call, to_state: str) -> None:
    """Change the state in memory (the caller saves), refusing what the state machine forbids."""
    if to_state not in CALL_TRANSITIONS[call.state]:
        raise IllegalTransition(
            "illegal_call_transition",
            _("A call that is %(from)s cannot become %(to)s.") % {"from": C(call.state).label,
                                                                  "to": C(to_state).label})
    call.state = to_state


def not_before(call: Call, at: dt.datetime) -> dt.datetime:
    """The moment of a step of the call: never before the steps it follows.

    An event's time is read when it arrives, before it waits for the call's lock; two events racing on one
    call (an answer and a hang-up from two connections) can take the lock in the other order than their
    times. The order the call saw wins: the later step is stamped no earlier than the latest one before it,
    so no duration of the call is ever negative."""
    return max(moment for moment in (at, call.arrived_at, call.queued_at, call.answered_at) if moment is not None)


def elapsed(since: dt.datetime, call: Call, at: dt.datetime) -> float:
    """Seconds from `since` to the call's step at `at` (`not_before`)."""
    return (not_before(call, at) - since).total_seconds()


def end_call(call: Call, work: Work, *, outcome: str, cause: str = HangupCause.NORMAL) -> None:
    move(call, CallState.ENDED)
    call.outcome = call.outcome or outcome
    call.end_cause = cause
    call.ended_at = not_before(call, work.at)
    if call.wait_seconds is None and call.queued_at is not None:
        call.wait_seconds = elapsed(call.queued_at, call, work.at)
    work.save(call)
    work.log(call, CallEventKind.ENDED, outcome=call.outcome, cause=cause)
    budget.release_with_commit(call.pk, work.writes)  # idempotent: a duplicate end never frees a channel twice


def reject(call: Call, work: Work, cause: str) -> None:
    """Refuse a call before answering it (unknown number, no service, closed)."""
    call.state = CallState.ENDED
    call.outcome = Outcome.REJECTED
    call.end_cause = cause
    call.ended_at = work.at
    work.save(call)
    work.log(call, CallEventKind.REJECTED, cause=cause)
    work.command(port.HangupCall(call_ref=call.engine_ref, cause=cause))


def take_channel(call: Call, work: Work) -> bool:
    """The concurrency budget decides before the call is answered (domain.md, seed 003).

    Over the limit the caller hears the busy prompt and the call ends with `REACH_PLAN_LIMIT`. An incoming
    call's first round trip already ran the budget's statement (`acquired_row`), or its probe when the channel
    is to be taken at the COMMIT (`channel_at_commit`); other calls run it here.
    """
    row = call.__dict__.pop("acquired_row", None)
    probed = call.__dict__.pop("channel_at_commit", False)
    if probed and row is not None and budget.held_by(row):
        # The probe found room: the channel is taken with the COMMIT (or the event runs again if it is gone).
        budget.acquire_at_commit(work.closing, call.account_id, call.direction, call.engine_ref, call.pk, work.at)
        return True
    if probed:  # near the limit, or the account's first call: the locking acquire decides now
        row = None
    try:
        if row is None:
            raise budget.NotWanted
        limited_by = budget.acquire_outcome(row, call, call.direction)
    except budget.NotWanted:
        limited_by = budget.acquire(call, call.direction)
    if limited_by is None:
        return True
    busy = call.service.busy_prompt if call.service else None
    work.command(port.Play(call_ref=call.engine_ref, prompt=prompt_ref(busy, BUILTIN_BUSY),
                           seconds=prompt_seconds(busy)))
    work.log(call, CallEventKind.REJECTED, cause=HangupCause.REACH_PLAN_LIMIT, limited_by=limited_by.pk)
    call.state = CallState.ENDED
    call.outcome = Outcome.REJECTED
    call.end_cause = HangupCause.REACH_PLAN_LIMIT
    call.ended_at = work.at
    work.save(call)
    work.command(port.HangupCall(call_ref=call.engine_ref, cause=HangupCause.REACH_PLAN_LIMIT))
    return False
