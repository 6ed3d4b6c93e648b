"""Queue, each overflow action, opening hours and holidays."""

import datetime as dt

import pytest
from django.core import mail

from acd.choices import CallState, Outcome
from acd.models import CallEvent
from acd.tests.switch import kinds, only_ring
from acd.voicemail import send_voicemail_email_task
from agents import actions as presence
from routing.choices import OverflowAction
from routing.models import Holiday, OpeningHours
from telephony import port
from tests import factories
from tests.broker import take_queued

pytestmark = pytest.mark.django_db(transaction=True)


def one_op_service(account, **kw):
    op = factories.make_operator(account)
    service = factories.make_service(account, [(op, 5)], **kw)
    return op, service, factories.make_number(account, service)


def test_caller_waits_on_hold_and_is_served_in_order(account, switch):
    op, _, number = one_op_service(account, wrapup_seconds=0)
    presence.login_operator(op.pk)
    busy, commands = switch.incoming(number.number)
    switch.answer(busy, only_ring(commands))
    first, commands = switch.incoming(number.number)
    assert kinds(commands) == ["answer", "start_hold"]
    switch.clock.advance(5)
    second, _ = switch.incoming(number.number)
    assert switch.call(first).state == switch.call(second).state == CallState.QUEUED
    out = switch.hangup(busy)  # the operator is free (no wrap-up): the first caller rings
    assert only_ring(out)
    assert switch.call(first).state == CallState.RINGING
    assert switch.call(second).state == CallState.QUEUED


@pytest.mark.parametrize("action", [OverflowAction.BUSY, OverflowAction.VOICEMAIL, OverflowAction.REDIRECT])
def test_max_wait_runs_the_overflow_action(account, switch, action):
    op, _service, number = one_op_service(account, max_wait_seconds=60, overflow_action=action,
                                         overflow_number="+390299999999")
    presence.login_operator(op.pk)
    presence.pause_operator(op.pk)
    ref, _ = switch.incoming(number.number)
    assert switch.advance(59) == []
    commands = switch.advance(1)
    call = switch.call(ref)
    if action == OverflowAction.BUSY:
        assert kinds(commands) == ["stop_hold", "play", "hangup"]
        assert (call.state, call.outcome, call.end_cause) == (CallState.ENDED, Outcome.BUSY, "busy")
    elif action == OverflowAction.VOICEMAIL:
        assert kinds(commands) == ["stop_hold", "record_voicemail"]
        assert call.state == CallState.VOICEMAIL
    else:
        assert commands[-1] == port.Transfer(call_ref=ref, destination="+390299999999")
        assert (call.state, call.outcome) == (CallState.FORWARDED, Outcome.REDIRECTED)
        switch.hangup(ref)
        assert switch.call(ref).state == CallState.ENDED
    assert CallEvent.objects.filter(call=call, kind="overflowed", data__reason="max_wait").exists()


def test_voicemail_is_stored_and_mailed_to_the_duty_address(account, switch):
    account.duty_email = "duty@example.com"
    account.save()
    _op, _, number = one_op_service(account, overflow_action=OverflowAction.VOICEMAIL)
    ref, commands = switch.incoming(number.number, "+393401234567")  # nobody logged in: at once
    assert "record_voicemail" in kinds(commands)
    out = switch.event(port.VoicemailRecorded, ref, seconds=12.5, recording_url="https://pbx/rec/1.wav")
    assert kinds(out) == ["hangup"]
    switch.hangup(ref)
    call = switch.call(ref)
    assert (call.outcome, call.voicemail_seconds, call.voicemail_url) == (Outcome.VOICEMAIL, 12.5,
                                                                          "https://pbx/rec/1.wav")
    assert mail.outbox == []  # never inside the engine's request: by a task queued after the commit
    [args] = take_queued(send_voicemail_email_task.name, [call.pk])
    send_voicemail_email_task.apply(args=args)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["duty@example.com"]
    assert "+393401234567" in mail.outbox[0].body and "https://pbx/rec/1.wav" in mail.outbox[0].body


def test_nobody_logged_in_overflows_at_once(account, switch):
    _, _, number = one_op_service(account, overflow_action=OverflowAction.BUSY)
    ref, commands = switch.incoming(number.number)
    assert kinds(commands) == ["answer", "start_hold", "stop_hold", "play", "hangup"]
    assert switch.call(ref).outcome == Outcome.BUSY


def test_nobody_logged_in_waits_when_configured(account, switch):
    op, _, number = one_op_service(account, overflow_when_nobody_logged_in=False)
    _ref, commands = switch.incoming(number.number)
    assert kinds(commands) == ["answer", "start_hold"]
    presence.login_operator(op.pk)
    assert only_ring(switch.pending()).endpoint == op.endpoint


def test_hold_action_waits_without_deadline(account, switch):
    op, _, number = one_op_service(account, overflow_action=OverflowAction.HOLD, max_wait_seconds=10)
    presence.login_operator(op.pk)
    presence.pause_operator(op.pk)
    ref, _ = switch.incoming(number.number)
    assert switch.call(ref).queue_deadline is None
    assert switch.advance(3600) == []
    assert switch.call(ref).state == CallState.QUEUED


def test_welcome_prompt_then_queue(account, switch):
    op, service, number = one_op_service(account)
    prompt = factories_prompt(account, "welcome")
    service.welcome_prompt = prompt
    service.save()
    presence.login_operator(op.pk)
    ref, commands = switch.incoming(number.number)
    assert kinds(commands) == ["answer", "play"]
    assert commands[1].notify and commands[1].seconds == 1.0
    assert switch.call(ref).state == CallState.WELCOME
    assert only_ring(switch.event(port.PromptFinished, ref, prompt=commands[1].prompt))


def factories_prompt(account, kind):
    from django.core.files.base import ContentFile

    from core.audio import tone_wav
    from routing.models import Prompt

    data = tone_wav(1.0)
    prompt = Prompt(account=account, name=f"{kind}-prompt", kind=kind, audio_format="wav", duration_seconds=1,
                    size_bytes=len(data))
    prompt.audio.save(f"{kind}.wav", ContentFile(data))
    return prompt


def test_outside_opening_hours_plays_closed_and_hangs_up(account, switch):
    op, service, number = one_op_service(account)
    presence.login_operator(op.pk)
    # Monday 2026-03-02 10:00 in Rome: open 8-9 only.
    OpeningHours.objects.create(service=service, weekday=0, opens=dt.time(8), closes=dt.time(9))
    ref, commands = switch.incoming(number.number)
    assert kinds(commands) == ["answer", "play", "hangup"]
    assert switch.call(ref).outcome == Outcome.CLOSED
    OpeningHours.objects.create(service=service, weekday=0, opens=dt.time(9), closes=dt.time(18))
    ref, commands = switch.incoming(number.number)
    assert only_ring(commands)


def test_holiday_closes_the_service_and_runs_the_out_of_hours_action(account, switch):
    op, service, number = one_op_service(account, closed_action=OverflowAction.REDIRECT,
                                         overflow_number="+390211111111")
    presence.login_operator(op.pk)
    Holiday.objects.create(service=service, date=dt.date(2026, 3, 2), name="Chiusura")
    ref, commands = switch.incoming(number.number)
    assert commands[-1] == port.Transfer(call_ref=ref, destination="+390211111111")
    assert switch.call(ref).outcome == Outcome.REDIRECTED


def test_unknown_or_inactive_number_is_rejected(account, switch):
    ref, commands = switch.incoming("+390200000000")
    assert commands == [port.HangupCall(call_ref=ref, cause="unallocated")]
    assert switch.call(ref).outcome == Outcome.REJECTED
    _, _, number = one_op_service(account)
    number.is_active = False
    number.save()
    ref, commands = switch.incoming(number.number)
    assert kinds(commands) == ["hangup"]


def test_a_failed_hand_off_never_strands_a_caller(account, switch):
    """An operator became free but the hand-off to the waiting call did not happen (a process died between
    the two transactions): the next sweep pairs them, so the caller waits a second, not forever."""
    from agents.models import Operator

    op, _, number = one_op_service(account, wrapup_seconds=0)
    presence.login_operator(op.pk)
    presence.pause_operator(op.pk)
    ref, _ = switch.incoming(number.number)
    assert switch.call(ref).state == CallState.QUEUED
    # The operator is available in the database, but nobody offered them the waiting call.
    Operator.objects.filter(pk=op.pk).update(state="available", pause_source="")
    assert switch.call(ref).state == CallState.QUEUED
    ring = only_ring(switch.advance(1))
    assert ring.endpoint == op.endpoint
    assert switch.call(ref).state == CallState.RINGING
    assert switch.advance(1) == []  # paired once: the next sweep has nothing to do


def test_a_caller_waiting_for_their_own_operator_is_not_paired_with_another(account, switch):
    """Operator-code calls that wait for one operator stay queued while another operator is free."""
    from agents.models import Operator
    from routing.choices import CodeUnavailableAction, Criterion

    wanted, other = factories.make_operator(account, code=41), factories.make_operator(account, code=42)
    service = factories.make_service(account, [(wanted, 5), (other, 5)], criterion=Criterion.OPERATOR_CODE,
                                     code_unavailable_action=CodeUnavailableAction.WAIT)
    number = factories.make_number(account, service)
    presence.login_operator(wanted.pk)
    presence.pause_operator(wanted.pk)
    ref, _ = switch.incoming(number.number)
    switch.event(port.Digits, ref, digits="41#")
    assert switch.call(ref).state == CallState.QUEUED
    Operator.objects.filter(pk=other.pk).update(state="available")
    assert switch.advance(1) == []
    assert switch.call(ref).state == CallState.QUEUED
