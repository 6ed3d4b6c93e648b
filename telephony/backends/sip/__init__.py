"""The SIP backend: Kamailio in front of the back office (kamailio.cfg, rendered by config.py).

Kamailio asks the back office for every decision over HTTP (the `webhook/sip.py` edge); commands produced
outside any question (a supervisor's or the reconciler's hang-up) are carried out over Kamailio's JSON-RPC
(`rpc.py`) by a Celery task. This package is the only code that knows Kamailio.
"""

from __future__ import annotations

from core.tasks import enqueue
from telephony.port import Command

from .tasks import sip_commands_task


class SipBackend:
    name = "sip"

    def in_process(self, account_id: int) -> bool:
        return False  # Kamailio is another process: commands wait in the outbox for the task below

    def deliver(self, account_id: int, commands: list[Command]) -> None:
        raise NotImplementedError("Kamailio takes its commands from the outbox, over JSON-RPC")

    def notify_pending(self, account_id: int) -> None:
        enqueue(sip_commands_task, account_id)
