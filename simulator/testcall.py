"""Test calls: a supervisor calls one of their numbers, and the simulator plays the caller and the carrier.

The call takes the production path: the events go to `acd.actions.handle_event` as any engine's would, so it
takes a channel, plays the welcome, queues and rings an operator's console, where the operator answers it.
The simulated caller's memory lives in a `TestCall` row (events due later, the moment it gives up), so the
web process that placed it, the Celery beat sweep (`drive_test_calls_task`, every second) and the console
that answers can each move it on. It ends itself after `TEST_CALL_MAX_SECONDS` whatever happens.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Account
from acd import actions
from acd.choices import OfferState
from acd.models import Call, Offer
from core.clock import now
from core.validators import normalize_phone
from routing.choices import NumberPurpose
from routing.models import PhoneNumber
from telephony import outbox, port
from telephony.models import TestCall

TEST_CALL_MAX_SECONDS = 120  # the caller hangs up after this long, answered or not
TALK_SECONDS = 20  # once answered, the simulated caller talks this long, then hangs up
VOICEMAIL_SECONDS = 5.0
NO_DIGITS_AFTER = 3.0  # asked for an operator code, the test caller types nothing
MAX_LIVE_PER_ACCOUNT = 5  # test calls hold real channels: a few at a time
SOURCE = "testcall"
DEFAULT_CALLER = "+390000000000"


@dataclass(frozen=True)
class PlacedTestCall:
    call_ref: str
    call_id: int | None
    state: str
    ends_at: dt.datetime


def place_test_call(account_id: int, number: str, caller: str = "", placed_by: str = "") -> PlacedTestCall:
    """Call `number` (one of the account's active numbers) from `caller`. Raises ValidationError naming the
    field for a number that is not the account's, a caller that is not a phone number, or too many at once."""
    account = Account.objects.get(pk=account_id)
    try:
        number = normalize_phone(number, account.country)
    except ValidationError as exc:
        raise ValidationError({"number": exc.messages}) from exc
    phone = PhoneNumber.objects.filter(account_id=account_id, number=number, is_active=True,
                                       purpose=NumberPurpose.CALLS).select_related("account").first()
    if phone is None:
        raise ValidationError({"number": _("Choose one of this account's active numbers.")})
    try:
        caller = normalize_phone(caller, phone.account.country) if caller else DEFAULT_CALLER
    except ValidationError as exc:
        raise ValidationError({"caller": exc.messages}) from exc
    at = now()
    with transaction.atomic():
        # The account's row serialises concurrent placements, so the limit holds even from zero live calls.
        Account.objects.select_for_update().filter(pk=account_id).first()
        live = TestCall.objects.filter(account_id=account_id, ended_at__isnull=True)
        if live.count() >= MAX_LIVE_PER_ACCOUNT:
            raise ValidationError({"number": _("%(n)d test calls are already in progress; wait for one to end.")
                                   % {"n": MAX_LIVE_PER_ACCOUNT}})
        ref = f"{outbox.TEST_CALL_PREFIX}{uuid.uuid4().hex[:16]}"
        test = TestCall.objects.create(account_id=account_id, call_ref=ref, number=phone.number, caller=caller,
                                       placed_by=placed_by[:150], started_at=at,
                                       ends_at=at + dt.timedelta(seconds=TEST_CALL_MAX_SECONDS))
    _send(test, port.IncomingCall(event_id=_event_id(test, "in"), call_ref=test.call_ref, dialed=phone.number,
                                  caller=caller))
    call = Call.objects.filter(account_id=account_id, engine_ref=test.call_ref).values("id", "state").first()
    return PlacedTestCall(call_ref=test.call_ref, call_id=call["id"] if call else None,
                          state=call["state"] if call else "", ends_at=test.ends_at)


def answer_test_call(operator_id: int) -> bool:
    """The operator answered from the console: the test call ringing them is connected (a real call is
    answered on the operator's phone, so only test calls are answered here). False if none rings them."""
    offer = (Offer.objects.filter(operator_id=operator_id, state=OfferState.RINGING,
                                  call__engine_ref__startswith=outbox.TEST_CALL_PREFIX)
             .select_related("call").first())
    if offer is None:
        return False
    test = TestCall.objects.filter(call_ref=offer.call.engine_ref, ended_at__isnull=True).first()
    if test is None:
        return False
    _send(test, port.LegAnswered(event_id=_event_id(test, "answer"), call_ref=test.call_ref, leg_ref=offer.leg_ref))
    return True


def is_test_call_ringing(operator_id: int) -> bool:
    return Offer.objects.filter(operator_id=operator_id, state=OfferState.RINGING,
                                call__engine_ref__startswith=outbox.TEST_CALL_PREFIX).exists()


def drive(limit: int = 200) -> int:
    """Move every live test call on: commands the ACD produced outside an event (the next ring, an
    overflow), events that fell due, and the hang-up of a call past its end. Safe to run in several
    processes at once: commands are claimed atomically and every event is applied once by its id."""
    moved = 0
    live = list(TestCall.objects.filter(ended_at__isnull=True).order_by("id")[:limit])
    for account_id in sorted({t.account_id for t in live}):
        for command in outbox.take_pending(account_id, test_calls=True):
            test = next((t for t in live if t.call_ref == command.call_ref), None)
            if test is not None:
                _carry_out(test, [command])
                moved += 1
    at = now()
    for test in live:
        for event in _take_due(test.pk, at):
            _send(test, event)
            moved += 1
        if at >= test.ends_at:
            _end(test, at)
            moved += 1
    return moved


# --- the simulated caller and carrier ------------------------------------------------------------------
def _event_id(test: TestCall, kind: str) -> str:
    """A unique id per event of this call (the ACD applies an event id once, so a redelivery is harmless)."""
    return f"{test.call_ref}-{kind}-{uuid.uuid4().hex[:10]}"


def _send(test: TestCall, event: port.Event) -> None:
    commands = actions.handle_event(event, account_id=test.account_id, source=SOURCE)
    if isinstance(event, port.Hangup) and not event.leg_ref:
        TestCall.objects.filter(pk=test.pk, ended_at__isnull=True).update(ended_at=now(), due=[])
    _carry_out(test, commands)


def _later(test: TestCall, seconds: float, event: port.Event) -> None:
    with transaction.atomic():
        row = TestCall.objects.select_for_update().get(pk=test.pk)
        due_at = min(now() + dt.timedelta(seconds=seconds), row.ends_at)
        row.due = [*row.due, {"at": due_at.isoformat(), "event": port.event_as_dict(event)}]
        row.save(update_fields=["due"])


def _take_due(test_id: int, at: dt.datetime) -> list[port.Event]:
    with transaction.atomic():
        row = TestCall.objects.select_for_update(skip_locked=True).filter(pk=test_id).first()
        if row is None or not row.due:
            return []
        due = [d for d in row.due if dt.datetime.fromisoformat(d["at"]) <= at]
        if not due:
            return []
        row.due = [d for d in row.due if d not in due]
        row.save(update_fields=["due"])
    return [port.event_from_dict(d["event"]) for d in due]


def _carry_out(test: TestCall, commands: list[port.Command]) -> None:
    for command in commands:
        if command.call_ref != test.call_ref:
            continue
        if isinstance(command, port.Play) and command.notify:
            _later(test, command.seconds, port.PromptFinished(event_id=_event_id(test, "prompt"),
                                                              call_ref=test.call_ref, prompt=command.prompt))
        elif isinstance(command, port.CollectDigits):
            _later(test, NO_DIGITS_AFTER, port.Digits(event_id=_event_id(test, "digits"), call_ref=test.call_ref))
        elif isinstance(command, port.Bridge | port.Transfer):
            TestCall.objects.filter(pk=test.pk, connected_at__isnull=True).update(connected_at=now())
            _later(test, TALK_SECONDS, port.Hangup(event_id=_event_id(test, "bye"), call_ref=test.call_ref))
        elif isinstance(command, port.RecordVoicemail):
            _later(test, VOICEMAIL_SECONDS, port.VoicemailRecorded(
                event_id=_event_id(test, "vm"), call_ref=test.call_ref, seconds=VOICEMAIL_SECONDS,
                recording_url=f"test://voicemail/{test.call_ref}.wav"))
        elif isinstance(command, port.HangupCall):
            TestCall.objects.filter(pk=test.pk, ended_at__isnull=True).update(ended_at=now())
        # answer, play without notify, hold, ring (the console rings), cancel leg: nothing to send back


def _end(test: TestCall, at: dt.datetime) -> None:
    """Past its end: the caller hangs up (an ended call ignores it) and the test call is over."""
    _send(test, port.Hangup(event_id=_event_id(test, "end"), call_ref=test.call_ref,
                            cause="normal" if test.connected_at else "caller_abandoned"))
