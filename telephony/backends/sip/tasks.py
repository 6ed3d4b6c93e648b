"""Celery task of the SIP backend: the outbox's commands carried out over Kamailio's JSON-RPC."""

from __future__ import annotations

import logging

from celery import shared_task

from telephony import outbox, port
from telephony.port import HangupCall, Ring

from . import rpc

log = logging.getLogger(__name__)
NOT_RINGS = frozenset(t for t in port.COMMAND_TYPES if t != Ring.type)


@shared_task(acks_late=True, ignore_result=True)
def sip_commands_task(account_id: int) -> int:
    """Hang-ups end their dialog over JSON-RPC; a ring stays in the outbox for its waiting caller (Kamailio
    asks for it: webhook/sip.py); the rest needs a media server (README) and is dropped with a log line.
    Claiming is atomic, so a redelivered task finds nothing left; a hang-up Kamailio did not take goes back
    to the outbox for the next run."""
    done = 0
    for command in outbox.take_pending(account_id, types=NOT_RINGS):
        if not isinstance(command, HangupCall):
            log.info("sip: %s for %s needs a media server; not carried out", command.type, command.call_ref)
            continue
        try:
            rpc.end_call(command.call_ref)
            done += 1
        except rpc.RpcError as exc:
            log.warning("sip: hang-up of %s not taken (%s); kept for retry", command.call_ref, exc)
            outbox.record(account_id, [command], notify=False)
    return done
