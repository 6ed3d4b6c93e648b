"""The simulator backend: commands go to the in-process simulation that owns the account, if any.

A simulation running in another process (the real-time demo) polls the outbox itself.
"""

from __future__ import annotations

from collections.abc import Callable

_listeners: dict[int, Callable[[int], None]] = {}


def register(account_id: int, listener: Callable[[int], None]) -> None:
    _listeners[account_id] = listener


def unregister(account_id: int) -> None:
    _listeners.pop(account_id, None)


class SimulatorBackend:
    name = "simulator"

    def notify_pending(self, account_id: int) -> None:
        listener = _listeners.get(account_id)
        if listener is not None:
            listener(account_id)
