"""Who may sign engine events: each web process remembers, for a short bounded time, the accounts that signed.

Why: every engine event (webhook/edge.py) asked PostgreSQL for the account's id and webhook secret in a round
trip of its own, before the ACD's one or two; under bench-webhook that was a third of an event's round trips.

What keeps it safe (the database stays the one source of truth):
- **Bounded staleness.** An entry is served for at most ENGINE_SIGNER_CACHE_SECONDS (2 s by default) after the
  moment its SELECT *started*, measured on the process's monotonic clock (not core.clock: the simulator's manual
  clock could freeze it). READ COMMITTED gives every statement a snapshot taken when it starts, so a secret
  rotation, a deactivation, a slug change or a deletion committed at T is seen by every lookup started after T,
  and an entry read before T expires before T + the bound: from T + the bound on, no web process accepts the old
  secret or the deactivated account, whichever path (admin, API, a bare UPDATE in psql) made the change.
  In the process that made it, saving or deleting an account clears the memory at commit (telephony/receivers.py).
- **Only committed rows, only for autocommit callers.** Inside a transaction (`atomic`) the cache is neither read
  nor filled: a row read there may be one the transaction itself wrote and later rolls back.
- **Only a good signature is answered from memory.** A request whose signature does not check against the
  remembered secret takes the path every refusal takes: one lookup, one HMAC check against the database's
  secret (a throw-away one for an unknown slug). So a refusal costs the same whatever the slug — known, unknown,
  remembered or not — and tells nothing about which accounts exist or sign often; and an engine that switched to
  a newly rotated secret is answered at once (its lookup replaces the entry).
- **Bounded size.** Unknown slugs are never remembered; known ones in a least-recently-used map of
  ENGINE_SIGNER_CACHE_SIZE entries, so no flood of slugs grows a process.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Signer:
    account_id: int
    secret: str
    read_at: float  # time.monotonic() just before the lookup that read it


class SignerCache:
    """A thread-safe LRU of slug → Signer whose entries expire `seconds` after they were read."""

    def __init__(self, seconds: float, size: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.size, self.clock = seconds, size, clock
        self._entries: OrderedDict[str, Signer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, slug: str) -> Signer | None:
        with self._lock:
            signer = self._entries.get(slug)
            if signer is None:
                return None
            if self.clock() - signer.read_at >= self.seconds:
                del self._entries[slug]
                return None
            self._entries.move_to_end(slug)
            return signer

    def put(self, slug: str, signer: Signer) -> None:
        if self.seconds <= 0 or self.size <= 0:
            return
        with self._lock:
            current = self._entries.get(slug)
            if current is not None and current.read_at > signer.read_at:
                return  # a later lookup already answered: never replace fresher knowledge with older
            self._entries[slug] = signer
            self._entries.move_to_end(slug)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def forget(self, slug: str) -> None:
        with self._lock:
            self._entries.pop(slug, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
