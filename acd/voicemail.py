"""The voicemail notification: an e-mail to the account's duty address, sent by a Celery task once the
transaction that recorded the message has committed — never inside the engine's request, whose answer must
not wait for (or fail with) a mail server.

The task takes the call's id and is idempotent: the sending is recorded (one `VoicemailEmail` row per call,
its primary key the call) in the same transaction that sends, so a redelivered or duplicated task finds the
row and sends nothing; two at once meet on the row's key and the second waits, then sends nothing. A send
that fails rolls the row back: the message is not marked as sent.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from core.clock import now
from core.tasks import enqueue_on_commit

from .models import Call, VoicemailEmail


def email_duty_after_commit(call_id: int) -> None:
    """Queue the notification for when the current transaction commits (nothing if it rolls back)."""
    enqueue_on_commit(send_voicemail_email_task, call_id)  # a broker that is down never fails the event


@transaction.atomic
def send_voicemail_email(call_id: int) -> bool:
    """Send the call's voicemail notification unless it was sent already. True when this call sent it."""
    call = Call.objects.select_related("account", "service").filter(pk=call_id).first()
    if call is None or call.voicemail_seconds is None or not call.account.duty_email:
        return False
    duty = call.account.duty_email
    _, created = VoicemailEmail.objects.get_or_create(call=call, defaults={"to": duty, "sent_at": now()})
    if not created:
        return False
    subject = f"Voicemail from {call.caller or 'anonymous'} ({call.service.name if call.service else ''})"
    body = (f"Caller: {call.caller}\nNumber dialled: {call.dialed}\nAt: {call.arrived_at.isoformat()}\n"
            f"Length: {call.voicemail_seconds:.0f} s\nRecording: {call.voicemail_url}\n")
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [duty])
    return True


@shared_task(acks_late=True, ignore_result=True)
def send_voicemail_email_task(call_id: int) -> bool:
    """After a voicemail is recorded: e-mail the duty address. Safe to run twice (see the module)."""
    return send_voicemail_email(call_id)
