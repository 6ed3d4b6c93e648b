"""The ACD's entry points, the only names the rest of the product calls.

Engine events (`handle_event`), timers (`sweep`, `next_deadline`), an operator made available by presence
(`operator_ready`), supervisor and API actions (`transfer_call`, `originate_call`) and the lease
reconciler's repair (`reconcile_leases`, `end_lost_call`). Inside `acd/` the layers run, from the bottom: calls
(state machine, channel, end) → legs (ring, cancel, release) → queue (enter, offer, overflow) → flows
(inbound, transfer, phone login, originate, repair) → the event table and the timers. `pyproject.toml`
holds that order as an import-linter contract.
"""

from __future__ import annotations

from agents.models import Operator

from . import locks
from .events import handle_event
from .flows.originate import originate_call
from .flows.repair import end_lost_call, reconcile_leases
from .flows.transfer import transfer_call
from .queue import offer_operator
from .timers import deadline_of, next_deadline, next_deadline_statement, sweep
from .unit import unit_of_work

__all__ = ["deadline_of", "end_lost_call", "handle_event", "next_deadline", "next_deadline_statement",
           "operator_ready", "originate_call", "reconcile_leases", "sweep", "transfer_call"]


def operator_ready(operator_id: int, account_id: int | None = None) -> bool:
    """An operator became available through presence (login, resume): give them a waiting call. Presence
    tells the operator's account (their row's, which never changes); without it, it is looked up."""
    if account_id is None:
        account_id = Operator.objects.filter(pk=operator_id).values_list("account_id", flat=True).first()
    if account_id is None:
        return False
    with unit_of_work(account_id) as work:
        op = locks.operator_with_waiting(operator_id, work.at)  # with what they may take, in one round trip
        return op is not None and offer_operator(op, work)
