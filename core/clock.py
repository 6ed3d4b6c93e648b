"""The injectable clock: the only source of "now" in Centralino.

Production code calls `now()`; the call simulator swaps in a virtual clock with
`use_clock(...)` so that the very same code runs at simulated speed. Nothing else
may call `timezone.now()` or `datetime.now()` for business time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Protocol

from django.utils import timezone


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return timezone.now()


class ManualClock:
    """A clock that only moves when told to: for the simulator and for tests."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)
        if timezone.is_naive(self._now):
            raise ValueError("ManualClock needs an aware datetime")

    def now(self) -> dt.datetime:
        return self._now

    def set(self, moment: dt.datetime) -> None:
        if moment < self._now:
            raise ValueError("time does not go backwards")
        self._now = moment

    def advance(self, seconds: float) -> dt.datetime:
        self._now += dt.timedelta(seconds=seconds)
        return self._now


_SYSTEM = SystemClock()
_current: ContextVar[Clock] = ContextVar("centralino_clock", default=_SYSTEM)


def now() -> dt.datetime:
    return _current.get().now()


def get_clock() -> Clock:
    return _current.get()


@contextlib.contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)
