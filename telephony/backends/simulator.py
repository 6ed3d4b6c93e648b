"""The simulator backend: commands go to the in-process simulation that owns the account, if any.

A simulation registers itself for its account while it runs. Commands that no event is waiting for (timers,
presence) are then handed to it straight after the commit that produced them: an engine in the same process
needs no outbox row, since a crash would take both down together, and skipping the table saves the
simulation an insert and a claiming transaction for every timer. A simulation running in another process
(the real-time demo, with commands from the web console or the Celery sweep) polls the outbox itself.
"""

from __future__ import annotations

from collections.abc import Callable

from telephony.port import Command

_listeners: dict[int, tuple[Callable[[int], None], Callable[[list[Command]], None]]] = {}


def register(account_id: int, pending: Callable[[int], None], take: Callable[[list[Command]], None]) -> None:
    """`pending(account_id)`: rows are waiting in the outbox; `take(commands)`: commands handed over in process."""
    _listeners[account_id] = (pending, take)


def unregister(account_id: int) -> None:
    _listeners.pop(account_id, None)


class SimulatorBackend:
    name = "simulator"

    def in_process(self, account_id: int) -> bool:
        return account_id in _listeners

    def deliver(self, account_id: int, commands: list[Command]) -> None:
        listener = _listeners.get(account_id)
        if listener is not None:
            listener[1](commands)

    def notify_pending(self, account_id: int) -> None:
        listener = _listeners.get(account_id)
        if listener is not None:
            listener[0](account_id)
