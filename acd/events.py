"""The event table: each engine event, claimed once, dispatched to its flow, answered with commands.

`handle_event` is the telephony port's inbound side. It is idempotent by event id: the event row is
claimed first, in the same transaction as its effects, so a redelivered event returns the commands the
first delivery produced and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import DatabaseError, IntegrityError, transaction

from budget import actions as budget
from budget.models import ChannelLease
from core.clock import now
from core.errors import ActionError
from core.pipeline import fetch_prepared
from routing.models import Service
from telephony import outbox, port
from telephony.models import ProcessedEvent

from . import locks
from .choices import CallState, OfferState
from .criteria import candidates_statement, prelocked_from
from .flows import inbound, menu, outbound
from .models import Call, Offer
from .unit import finish, send
from .work import Work

CALL_HANDLERS: dict[type[port.Event], Callable[..., None]] = {
    port.PromptFinished: inbound.on_prompt_finished,
    port.Digits: inbound.on_digits,
    port.LegAnswered: inbound.on_leg_answered,
    port.LegNoAnswer: inbound.on_leg_failed,
    port.LegBusy: inbound.on_leg_failed,
    port.LegRejected: inbound.on_leg_failed,
    port.LegFailed: inbound.on_leg_failed,
    port.VoicemailRecorded: inbound.on_voicemail,
    port.Hangup: inbound.on_hangup,
}


def _stored_commands(source: str, event_id: str) -> list[port.Command] | None:
    """The answer given to the first delivery of this event, or None if it was never handled."""
    stored = ProcessedEvent.objects.filter(source=source, event_id=event_id).values_list("commands", flat=True)
    found = stored.first()
    return None if found is None else [outbox.command_from_dict(c) for c in found]


def _sign_of_life(event: port.Event, account_id: int, source: str, at: dt.datetime) -> list[port.Command]:
    """An informational event (the operator's phone is alerting) changes nothing but the call's channel
    lease, which lives on (pushed forward when it runs low). One prepared statement in autocommit: record the
    event, extend the lease of the call if it is still live. A redelivery records nothing and extends nothing."""
    params = {"source": source, "event_id": event.event_id, "at": at, "account": account_id,
              "ref": event.call_ref, "expires": at + dt.timedelta(seconds=budget.lease_seconds()),
              "ended": CallState.ENDED,
              "renew_before": at + dt.timedelta(seconds=budget.lease_seconds() / 2)}
    fetch_prepared(_SIGN_OF_LIFE_SQL, params)
    return []


_EVENTS, _CALLS_T, _LEASES = ProcessedEvent._meta.db_table, Call._meta.db_table, ChannelLease._meta.db_table
_SIGN_OF_LIFE_SQL = f"""
WITH claim AS (
    INSERT INTO {_EVENTS} (source, event_id, received_at, commands)
    VALUES (%(source)s, %(event_id)s, %(at)s, '[]'::jsonb)
    ON CONFLICT (source, event_id) DO NOTHING RETURNING id
)
UPDATE {_LEASES} SET expires_at = %(expires)s
 WHERE released_at IS NULL AND expires_at < %(renew_before)s AND EXISTS (SELECT 1 FROM claim)
   AND call_id = (SELECT id FROM {_CALLS_T} WHERE account_id = %(account)s AND engine_ref = %(ref)s
                                           AND state <> %(ended)s)"""

INFORMATIONAL = frozenset({port.LegRinging})


def _still_up(event: port.CallAlive, account_id: int, at: dt.datetime) -> list[port.Command]:
    """The engine's heartbeat for a live call: its lease notes the moment (the repair flow ends the call once
    the notes stop). One statement in autocommit and no event row: the mark only moves forward, so a
    redelivery changes nothing that matters, and a heartbeat every 30 s per call adds no table to purge."""
    fetch_prepared(_STILL_UP_SQL, {"at": at, "account": account_id, "ref": event.call_ref, "ended": CallState.ENDED})
    return []


_STILL_UP_SQL = f"""
UPDATE {_LEASES} SET alive_at = %(at)s
 WHERE released_at IS NULL AND (alive_at IS NULL OR alive_at < %(at)s)
   AND call_id = (SELECT id FROM {_CALLS_T} WHERE account_id = %(account)s AND engine_ref = %(ref)s
                                           AND state <> %(ended)s)"""


def _lease_runs_low(expires_at: dt.datetime | None, at: dt.datetime) -> bool:
    """A live call's lease is pushed forward once less than half of it is left: every event proves the call
    alive, but writing that down on every event would cost a round trip each (hours-long leases are renewed
    a few times in a call's life)."""
    return expires_at is not None and (expires_at - at).total_seconds() < budget.lease_seconds() / 2


def handle_event(event: port.Event, *, account_id: int, source: str = "") -> list[port.Command]:
    """Apply one engine event for one account; return the commands for the engine.

    Exactly once, by event id: the event's row is written last, with its commands, in the same transaction
    as its effects. A redelivery (sequential or concurrent) finds the first delivery's row under the unique
    index: its own transaction is rolled back whole, and it answers with the stored commands.
    """
    source = source or f"acct:{account_id}"
    at = now()
    if type(event) in INFORMATIONAL:
        return _sign_of_life(event, account_id, source, at)
    if isinstance(event, port.CallAlive):
        return _still_up(event, account_id, at)
    try:
        try:
            return _apply(event, account_id, source, at)
        except DatabaseError as error:
            if isinstance(error, IntegrityError) or not budget.raced(error):
                raise
            # The channel the probe saw free was taken first: again, with the locking acquire (exact).
            return _apply(event, account_id, source, at, channel_at_commit=False)
    except (IntegrityError, ActionError):
        # A redelivery meets the unique index (or, first, a state it cannot apply to): it was handled.
        stored = _stored_commands(source, event.event_id)
        if stored is None:
            raise
        return stored


# What a call event's first round trip locks beside the call (`acd.locks.for_event`): the leg it names,
# the legs a hang-up cancels, the operator a hang-up frees.
LEG_EVENTS = frozenset(CALL_HANDLERS) - {port.PromptFinished, port.Digits, port.VoicemailRecorded}


# The events after which the flow routes the call, and the state (and leg) in which it does: their first
# round trip also locks the call's best free operator (`acd.criteria.candidates_statement`).
_CALLS, _SERVICES, _OFFERS = Call._meta.db_table, Service._meta.db_table, Offer._meta.db_table
_ROUTED_CALL = f"""
SELECT x.service_id, coalesce(nullif(x.criterion, ''), s.criterion) AS criterion,
       coalesce(x.queued_at, %(at)s) AS waited_from
  FROM {_CALLS} x JOIN {_SERVICES} s ON s.id = x.service_id
 WHERE x.account_id = %(account)s AND x.engine_ref = %(ref)s AND x.target_operator_id IS NULL"""
ROUTES_AFTER: dict[type[port.Event], str] = {
    # The welcome prompt ends: the caller enters the queue (unless they must dial an operator's code).
    port.PromptFinished: _ROUTED_CALL + f" AND x.state = '{CallState.WELCOME}'",
    # The only ringing leg failed: the next operator is rung at once (unless the wait is over).
    **dict.fromkeys(inbound.LEG_FAILURES, _ROUTED_CALL + f"""
   AND x.state = '{CallState.RINGING}' AND (x.queue_deadline IS NULL OR x.queue_deadline > %(at)s)
   AND EXISTS (SELECT 1 FROM {_OFFERS} o WHERE o.call_id = x.id AND o.leg_ref = %(leg)s
                  AND o.state = '{OfferState.RINGING}' AND NOT o.ring_all AND NOT o.is_transfer)"""),
}


# A key press in a voice menu reads the menu's options in its first round trip, and locks the best free
# operator when the key leads straight to a service that rings at once (`acd.flows.menu`).
_KEY_PRESS = [menu.OPTIONS_STATEMENT, candidates_statement(menu.KEYED_SERVICE)]


def _locks_for(event: port.Event, account_id: int, source: str, at: dt.datetime) -> locks.EventLocks:
    leg_ref = event.leg_ref if type(event) in LEG_EVENTS else ""
    hangup = isinstance(event, port.Hangup) and not event.leg_ref
    routed = ROUTES_AFTER.get(type(event))
    extra, extra_params = ([candidates_statement(routed)] if routed else []), {}
    if isinstance(event, port.Digits):
        extra, extra_params = _KEY_PRESS, {"digit": menu.pressed(event.digits)}
    return locks.for_event(account_id, event.call_ref, source, event.event_id, at, leg_ref=leg_ref or "",
                           ringing_when=sorted(inbound.ABANDON_STATES) if hangup else (),
                           call_operator=isinstance(event, port.Hangup), extra=extra, extra_params=extra_params)


@transaction.atomic
def _apply(event: port.Event, account_id: int, source: str, at: dt.datetime, *,
           channel_at_commit: bool = True) -> list[port.Command]:
    work = Work(at=at, channel_at_commit=channel_at_commit)
    if isinstance(event, port.IncomingCall):
        inbound.on_incoming(event, account_id, work)
    else:
        found = _locks_for(event, account_id, source, at)
        if found.stored_commands is not None:  # a redelivery: the first delivery's answer, nothing changed
            return [outbox.command_from_dict(c) for c in found.stored_commands]
        call = found.call
        handler = CALL_HANDLERS.get(type(event))
        if call is not None and outbound.handles(event, call):  # the far end of a dialer's call
            handler = outbound.on_far_end
        if call is not None and handler is not None:
            if type(event) in LEG_EVENTS:
                call.locked_leg = (event.leg_ref, found.leg)
            call.locked_ringing = found.ringing
            call.locked_operator = found.operator
            if found.operator is not None and found.freed_memberships is not None:
                found.operator.freed_waiting = (found.freed_memberships, found.freed_waiting)
            if isinstance(event, port.Digits):
                menu.options_from(found.extra[0], call)
                prelocked_from(found.extra[1], call)
            elif found.extra:
                prelocked_from(found.extra[0], call)
            if call.state != CallState.ENDED and _lease_runs_low(call.lease_expires_at, at):
                budget.extend(call.pk)  # the call is alive: its channel lease lives on
            handler(event, call, work)
    finish(work)
    work.writes.insert([ProcessedEvent(source=source, event_id=event.event_id, received_at=at,
                                       commands=[c.as_dict() for c in work.commands])])
    send(work)
    return work.commands
