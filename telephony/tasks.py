"""Celery tasks of the telephony port. Tasks take ids and delegate; they are safe to run twice."""

from __future__ import annotations

import http.client
import json
import logging

from celery import shared_task
from django.conf import settings

from accounts.models import Account
from core import netguard
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


def push_commands(account: Account) -> int:
    """POST the pending commands to the account's engine URL, vetted again now (core.netguard): a refused URL,
    a failure or a slow engine (past ENGINE_CONNECT_TIMEOUT + ENGINE_READ_TIMEOUT) puts them back."""
    commands = outbox.take_pending(account.pk)
    if not commands:
        return 0
    body = json.dumps({"commands": [c.as_dict() for c in commands]}).encode()
    headers = signed_headers(account.slug, account.webhook_secret, body, now().timestamp())
    try:
        status = netguard.post(account.engine_url, body, headers, connect_timeout=settings.ENGINE_CONNECT_TIMEOUT,
                               read_timeout=settings.ENGINE_READ_TIMEOUT)
        if status >= 300:
            raise OSError(f"the engine answered {status}")
    except netguard.UnsafeURL as exc:
        outbox.record(account.pk, commands, notify=False)
        log.warning("engine URL of account %s refused (%s); %d commands kept for polling", account.pk, exc,
                    len(commands))
        return 0
    except (OSError, http.client.HTTPException) as exc:
        outbox.record(account.pk, commands, notify=False)
        log.warning("engine of account %s did not take %d commands (%s); kept for retry", account.pk,
                    len(commands), exc)
        raise OSError(str(exc)) from exc
    return len(commands)
