"""Celery tasks of the telephony port. Tasks take ids and delegate; they are safe to run twice."""

from __future__ import annotations

import json
import logging
import urllib.request

from celery import shared_task

from accounts.models import Account
from core.clock import now

from . import housekeeping, outbox
from .signing import signed_headers

log = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def purge_port_records_task() -> int:
    """Hourly (Celery beat): processed events and outbound commands past TELEPHONY_EVENT_RETENTION_HOURS, in
    bounded batches. Running it twice, or two at once, only finds fewer rows to delete."""
    purged = housekeeping.purge()
    return purged.events + purged.commands


@shared_task(acks_late=True)
def deliver_commands_task(account_id: int) -> int:
    """Push pending commands to the account's engine. Claiming is atomic, so a redelivered task finds
    nothing left to send; a failed push puts the commands back for the next attempt or a poll."""
    account = Account.objects.filter(pk=account_id).exclude(engine_url="").first()
    if account is None:
        return 0
    return push_commands(account)


def push_commands(account: Account, timeout: float = 5.0) -> int:
    commands = outbox.take_pending(account.pk)
    if not commands:
        return 0
    body = json.dumps({"commands": [c.as_dict() for c in commands]}).encode()
    request = urllib.request.Request(account.engine_url, data=body, method="POST",
                                     headers=signed_headers(account.slug, account.webhook_secret, body,
                                                            now().timestamp()))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except OSError:
        outbox.record(account.pk, commands, notify=False)
        log.warning("engine at %s did not take %d commands; kept for retry", account.engine_url, len(commands))
        raise
    return len(commands)
