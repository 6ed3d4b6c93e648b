"""The webhook backend: an external engine (a PBX, a CPaaS) talks to the back office over signed HTTP.

Events arrive at POST /api/v1/telephony/events/ and are answered with commands. Commands that no event
is waiting for are pushed by a Celery task to the account's engine URL, or polled by the engine at
POST /api/v1/telephony/commands/.
"""

from __future__ import annotations

from core.tasks import enqueue
from telephony.port import Command
from telephony.tasks import deliver_commands_task


class WebhookBackend:
    name = "webhook"

    def in_process(self, account_id: int) -> bool:
        return False  # the engine is elsewhere: commands wait in the outbox, pushed or polled

    def deliver(self, account_id: int, commands: list[Command]) -> None:
        raise NotImplementedError("a webhook engine takes its commands from the outbox")

    def notify_pending(self, account_id: int) -> None:
        # Runs after the commit: a broker that is down must not fail the request (the commands stay pending).
        enqueue(deliver_commands_task, account_id)
