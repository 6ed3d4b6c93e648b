"""The voicemail e-mail leaves by a Celery task queued on the real broker after the commit, never inside the
engine's request, and a redelivered (or duplicated) task does not send it twice."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connection

from acd import actions as acd
from acd.models import Call, VoicemailEmail
from acd.voicemail import send_voicemail_email, send_voicemail_email_task
from telephony import port
from tests import factories
from tests.broker import take_queued

pytestmark = pytest.mark.django_db(transaction=True)


def voicemail_call(clock) -> Call:
    account = factories.make_account(duty_email="duty@example.com")
    service = factories.make_service(account, name="Care", overflow_action="voicemail", max_wait_seconds=30,
                                     overflow_when_nobody_logged_in=False)
    number = factories.make_number(account, service)
    acd.handle_event(port.IncomingCall(event_id="v1", call_ref="vm", dialed=number.number, caller="+393331112222"),
                     account_id=account.pk)
    clock.advance(31)
    acd.sweep([account.pk])  # nobody answered: the caller leaves a message
    acd.handle_event(port.VoicemailRecorded(event_id="v2", call_ref="vm", seconds=12.0,
                                            recording_url="https://rec.example.com/vm.wav"), account_id=account.pk)
    return Call.objects.get(account=account, engine_ref="vm")


def test_the_engines_request_only_queues_the_task_and_a_redelivery_sends_once(clock):
    call = voicemail_call(clock)
    assert mail.outbox == []  # nothing was sent inside the engine's request
    [args] = take_queued(send_voicemail_email_task.name, [call.pk])  # one task, by id, on the real broker
    for _ in range(2):  # the worker runs it, then Redis redelivers it
        send_voicemail_email_task.apply(args=args)
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["duty@example.com"] and sent.subject == "Voicemail from +393331112222 (Care)"
    assert "Length: 12 s" in sent.body and "https://rec.example.com/vm.wav" in sent.body
    assert VoicemailEmail.objects.get(call=call).to == "duty@example.com"


def test_two_deliveries_at_once_send_one_email(clock):
    call = voicemail_call(clock)
    take_queued(send_voicemail_email_task.name, [call.pk])
    results = []

    def deliver() -> None:
        try:
            results.append(send_voicemail_email(call.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert len(mail.outbox) == 1


def test_a_failed_send_is_not_recorded_as_sent(clock, settings):
    call = voicemail_call(clock)
    take_queued(send_voicemail_email_task.name, [call.pk])
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens: the send fails
    with pytest.raises(OSError):
        send_voicemail_email(call.pk)
    assert not VoicemailEmail.objects.filter(call=call).exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_voicemail_email(call.pk) is True and len(mail.outbox) == 1
