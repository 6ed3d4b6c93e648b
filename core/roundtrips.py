"""Count database round trips at the wire, the way the hot path's baselines are stated.

Django's `CaptureQueriesContext` sees only what passes through its cursor wrapper: it misses the `BEGIN`
psycopg sends before a transaction's first statement, the `COMMIT`, and statements run on a raw psycopg
cursor (the budget's prepared statements). A round trip is what the client waits for, so this counts at
the protocol level instead: libpq's trace of the connection, where each run of frontend messages up to the
point where the client waits for the answers (`Sync`, or a simple query) is one round trip (a pipeline of
several statements is one).

Used by the round-trip baseline tests (NetBox's query-count idea, at the wire) and `bench/bench_lifecycle.py`.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from django.db import connections
from psycopg import pq

T = TypeVar("T")


@dataclass
class RoundTrips:
    """What one `count_round_trips()` block sent: one entry per round trip, the frontend messages of each."""

    trips: list[list[str]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.trips)

    def describe(self) -> str:
        """One line per round trip, for an assertion message: what was sent."""
        lines = []
        for n, messages in enumerate(self.trips, 1):
            sql = [m.split("\t", 3)[-1].strip()[:160] for m in messages if "\tQuery\t" in m or "\tParse\t" in m]
            lines.append(f"{n}. {' | '.join(sql) or ' '.join(m.split()[2] for m in messages)}")
        return "\n".join(lines)


# The frontend messages after which the client waits for the server's answers: the end of an extended-protocol
# exchange (`Sync`; a pipeline sends one when it is done) and a simple query.
_WAITS = frozenset({"Sync", "Query"})


def _parse(trace: str) -> list[list[str]]:
    """Split the frontend messages of a trace into round trips: each ends where the client waits (`_WAITS`).

    Cutting where the backend's answers appear instead would count one pipeline twice whenever the server
    answers its first statements while the client is still sending the rest (it reads them as they come,
    without waiting): a count that depended on timing, not on the code. A `Flush` sent after the `Sync`
    belongs to the same trip."""
    trips: list[list[str]] = []
    current: list[str] = []
    for line in trace.splitlines():
        if not line.startswith("F\t"):
            continue
        fields = line.split("\t")
        kind = fields[2].split()[0] if len(fields) > 2 else ""
        if kind == "Flush" and not current and trips:
            trips[-1].append(line)
            continue
        current.append(line)
        if kind in _WAITS:
            trips.append(current)
            current = []
    if current:
        trips.append(current)
    return trips


@contextlib.contextmanager
def count_round_trips(using: str = "default") -> Iterator[RoundTrips]:
    """Count the round trips the block makes on Django's connection `using` (opened here if needed)."""
    connection = connections[using]
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    result = RoundTrips()
    with tempfile.TemporaryFile() as out:
        pgconn.trace(out.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            yield result
        finally:
            pgconn.untrace()
            out.seek(0)
            result.trips = _parse(out.read().decode(errors="replace"))


class Steps:
    """A walk through the call path, counted step by step: what the round-trip baselines and
    `bench/bench_lifecycle.py` record, and how a baseline reports the steps above their ceilings."""

    def __init__(self) -> None:
        self.seen: dict[str, RoundTrips] = {}

    def __call__(self, name: str, fn: Callable[[], T]) -> T:
        """Run `fn` as the step `name`, counting its round trips; return what it returned."""
        with count_round_trips() as rt:
            result = fn()
        self.seen[name] = rt
        return result

    def counts(self) -> dict[str, int]:
        return {name: rt.count for name, rt in self.seen.items()}

    def over(self, ceilings: dict[str, int]) -> str:
        """The steps above their ceiling, each with what it sent; empty when every step is within."""
        return "\n\n".join(f"{name}: {rt.count} > {ceilings[name]}:\n{rt.describe()}"
                            for name, rt in self.seen.items() if rt.count > ceilings[name])
