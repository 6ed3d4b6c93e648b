"""Telephony backends. `TELEPHONY_BACKEND` picks one; the rest of the code never imports a backend."""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import Protocol

from django.conf import settings

from telephony.port import Command


class Backend(Protocol):
    name: str

    def notify_pending(self, account_id: int) -> None:
        """Commands for this account were written to the outbox: deliver them."""

    def in_process(self, account_id: int) -> bool:
        """This account's engine runs in this process: `deliver` takes its commands after commit, no outbox row."""

    def deliver(self, account_id: int, commands: list[Command]) -> None:
        """Hand commands to the in-process engine (called after the commit that produced them)."""


BACKENDS = {
    "simulator": "telephony.backends.simulator.SimulatorBackend",
    "webhook": "telephony.backends.webhook.WebhookBackend",
    "sip": "telephony.backends.sip.SipBackend",
}


@cache
def get_backend() -> Backend:
    dotted = BACKENDS.get(settings.TELEPHONY_BACKEND, settings.TELEPHONY_BACKEND)
    module, _, cls = dotted.rpartition(".")
    return getattr(import_module(module), cls)()
