"""A minimal engine that places calls through the real port as fast as it can: for load and race runs.

Each call: IncomingCall → (the ACD rings someone) → LegAnswered → Hangup, every step a real
`handle_event` transaction. Used by the multi-process race test and the `routing` benchmark.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from acd.actions import handle_event
from telephony import port


@dataclass
class DriveResult:
    calls: int = 0
    rang: int = 0
    queued: int = 0
    setup_seconds: list[float] = field(default_factory=list)


def _ring_of(commands: list[port.Command]) -> port.Ring | None:
    return next((c for c in commands if isinstance(c, port.Ring)), None)


def drive_calls(account_id: int, dialed: str, n: int, *, tag: str = "", answer: bool = True) -> DriveResult:
    """Place `n` calls one after another; time each IncomingCall (event in → operator reserved → commit)."""
    result = DriveResult()
    tag = tag or uuid.uuid4().hex[:8]
    source = f"drive:{account_id}:{tag}"  # event ids are unique per source: one per account, as the engines
    for i in range(n):
        ref = f"{tag}-{i}"
        started = time.perf_counter()
        commands = handle_event(port.IncomingCall(event_id=f"{ref}-in", call_ref=ref, dialed=dialed,
                                                  caller=f"+3934{i % 100_000_000:08d}"),
                                account_id=account_id, source=source)
        result.setup_seconds.append(time.perf_counter() - started)
        result.calls += 1
        ring = _ring_of(commands)
        if ring is None:
            result.queued += 1
            handle_event(port.Hangup(event_id=f"{ref}-bye", call_ref=ref), account_id=account_id, source=source)
            continue
        result.rang += 1
        if answer:
            handle_event(port.LegAnswered(event_id=f"{ref}-ans", call_ref=ref, leg_ref=ring.leg_ref),
                         account_id=account_id, source=source)
        handle_event(port.Hangup(event_id=f"{ref}-bye", call_ref=ref), account_id=account_id, source=source)
    return result
