"""The event table: each engine event, claimed once, dispatched to its flow, answered with commands.

`handle_event` is the telephony port's inbound side. It is idempotent by event id: the event row is
claimed first, in the same transaction as its effects, so a redelivered event returns the commands the
first delivery produced and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import connection, transaction

from billing import budget
from core.clock import now
from telephony import outbox, port
from telephony.models import ProcessedEvent

from . import locks
from .choices import CallState
from .flows import inbound
from .models import Call
from .unit import finish
from .work import Work


def _informational(event: port.Event, call: Call, work: Work) -> None:
    """The endpoint is alerting: nothing changes (the offer's expiry already runs from the Ring command)."""


CALL_HANDLERS: dict[type[port.Event], Callable[..., None]] = {
    port.PromptFinished: inbound.on_prompt_finished,
    port.Digits: inbound.on_digits,
    port.LegRinging: _informational,
    port.LegAnswered: inbound.on_leg_answered,
    port.LegNoAnswer: inbound.on_leg_failed,
    port.LegBusy: inbound.on_leg_failed,
    port.LegRejected: inbound.on_leg_failed,
    port.LegFailed: inbound.on_leg_failed,
    port.VoicemailRecorded: inbound.on_voicemail,
    port.Hangup: inbound.on_hangup,
}


def _claim_event(source: str, event_id: str, at: dt.datetime) -> bool:
    """Insert the event's row; False when it was already there (a redelivery).

    A concurrent delivery of the same event waits on the unique index until the first commits, then
    finds the row: the event is applied exactly once.
    """
    table = connection.ops.quote_name(ProcessedEvent._meta.db_table)
    empty = ProcessedEvent._meta.get_field("commands").get_db_prep_value([], connection)
    received = ProcessedEvent._meta.get_field("received_at").get_db_prep_value(at, connection)
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {table} (source, event_id, received_at, commands) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (source, event_id) DO NOTHING RETURNING id", [source, event_id, received, empty])
        return cur.fetchone() is not None


def _commands_of(source: str, event_id: str) -> list[port.Command]:
    stored = ProcessedEvent.objects.filter(source=source, event_id=event_id).values_list("commands", flat=True)
    return [outbox.command_from_dict(c) for c in (stored.first() or [])]


@transaction.atomic
def handle_event(event: port.Event, *, account_id: int, source: str = "") -> list[port.Command]:
    """Apply one engine event for one account; return the commands for the engine."""
    source = source or f"acct:{account_id}"
    work = Work(at=now())
    if not _claim_event(source, event.event_id, work.at):
        return _commands_of(source, event.event_id)
    if isinstance(event, port.IncomingCall):
        inbound.on_incoming(event, account_id, work)
    else:
        call = locks.call_by_ref(account_id, event.call_ref)
        handler = CALL_HANDLERS.get(type(event))
        if call is not None and handler is not None:
            if call.state != CallState.ENDED:
                budget.extend(call.pk)  # the call is alive: its channel lease lives on
            handler(event, call, work)
    finish(work)
    if work.commands:
        ProcessedEvent.objects.filter(source=source, event_id=event.event_id).update(
            commands=[c.as_dict() for c in work.commands])
    return work.commands
