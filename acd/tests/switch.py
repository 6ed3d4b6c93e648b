"""Drive the ACD the way an engine does, on a manual clock: a test harness, not a mock.

Every call goes through the production `handle_event`, `sweep` and actions; the harness only plays the
engine's part (sending events, remembering the commands it was given).
"""

from __future__ import annotations

import datetime as dt
import itertools

from accounts.models import Account
from acd import actions
from acd.models import Call
from core.clock import ManualClock
from telephony import outbox, port

_ids = itertools.count(1)


class Switch:
    def __init__(self, account: Account, clock: ManualClock) -> None:
        self.account = account
        self.clock = clock
        self.log: list[port.Command] = []

    def send(self, event: port.Event) -> list[port.Command]:
        commands = actions.handle_event(event, account_id=self.account.pk, source="test")
        self.log.extend(commands)
        return commands

    def incoming(self, dialed: str, caller: str = "+393331112222") -> tuple[str, list[port.Command]]:
        ref = f"call-{next(_ids)}"
        return ref, self.send(port.IncomingCall(event_id=f"e{next(_ids)}", call_ref=ref, dialed=dialed,
                                                caller=caller))

    def event(self, cls: type[port.Event], call_ref: str, **kw) -> list[port.Command]:
        return self.send(cls(event_id=f"e{next(_ids)}", call_ref=call_ref, **kw))

    def answer(self, call_ref: str, ring: port.Ring) -> list[port.Command]:
        return self.event(port.LegAnswered, call_ref, leg_ref=ring.leg_ref)

    def no_answer(self, call_ref: str, ring: port.Ring) -> list[port.Command]:
        return self.event(port.LegNoAnswer, call_ref, leg_ref=ring.leg_ref)

    def hangup(self, call_ref: str) -> list[port.Command]:
        return self.event(port.Hangup, call_ref)

    def advance(self, seconds: float) -> list[port.Command]:
        """Let time pass and run the timers, as the periodic sweeper would."""
        self.clock.advance(seconds)
        actions.sweep([self.account.pk])
        return self.pending()

    def pending(self) -> list[port.Command]:
        """Commands produced outside an event (timers, presence, transfers), as the engine receives them."""
        commands = outbox.take_pending(self.account.pk)
        self.log.extend(commands)
        return commands

    def call(self, call_ref: str) -> Call:
        return Call.objects.get(account=self.account, engine_ref=call_ref)


def rings(commands: list[port.Command]) -> list[port.Ring]:
    return [c for c in commands if isinstance(c, port.Ring)]


def only_ring(commands: list[port.Command]) -> port.Ring:
    found = rings(commands)
    assert len(found) == 1, f"expected one Ring, got {commands}"
    return found[0]


def kinds(commands: list[port.Command]) -> list[str]:
    return [c.type for c in commands]


def start_clock() -> ManualClock:
    return ManualClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))  # a Monday, 10:00 in Rome
