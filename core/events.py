"""Real-time events: built inside an action, sent only after its transaction commits.

Like Zulip's `send_event_on_commit`: a rolled-back action never tells a browser something that did not
happen. The payload is JSON round-tripped when it is queued, so a non-serialisable event fails in the
action, not in a consumer.

Delivery to the channel layer runs on one background thread with its own event loop (one Redis
connection pool, reused): a state change never waits for Redis, and a slow or absent Redis never slows
or fails an action. The database stays the source of truth; a lost push is repaired by the clients'
snapshot-on-gap protocol.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import queue
import threading
from typing import Any

from channels.layers import get_channel_layer
from django.db import transaction
from redis.exceptions import RedisError

from .protocol import relay_message
from .sequence import take_seqs

log = logging.getLogger(__name__)
BATCH = 64  # pushes numbered together at most (one Redis round trip for their sequence numbers)


def account_group(account_id: int) -> str:
    return f"account.{account_id}"


def operator_group(operator_id: int) -> str:
    return f"operator.{operator_id}"


class Publisher:
    """A daemon thread that sends queued events to the channel layer in order."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        """Fresh queue, lock and thread: at start, and in a forked child (a thread does not survive a fork,
        and a lock or queue it held would stay held there forever)."""
        self._queue: queue.Queue[tuple[list[str], dict[str, Any]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def publish(self, groups: list[str], payload: dict[str, Any]) -> None:
        self._ensure_thread()
        self._queue.put((groups, payload))

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until everything queued so far was handed to the channel layer (tests, shutdown)."""
        if self._thread is None:
            return
        done = threading.Event()
        self._queue.put(([], {"__flush__": done}))
        done.wait(timeout)

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="centralino-events", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        # A plain thread with one long-lived loop (the channel layer pools its Redis connections per loop).
        # No executor threads: they would keep the interpreter from exiting.
        loop = asyncio.new_event_loop()
        layer = get_channel_layer()
        while True:
            batch = [self._queue.get()]
            while batch[-1] is not None and len(batch) < BATCH:  # whatever else is queued already
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = batch[-1] is None
            items = [item for item in batch if item is not None]
            if layer is not None and any("__flush__" not in payload for _groups, payload in items):
                loop.run_until_complete(self._send_batch(layer, items))
            for _groups, payload in items:
                marker = payload.get("__flush__")
                if marker is not None:
                    marker.set()
            if stop:
                return

    @staticmethod
    async def _send_batch(layer: Any, items: list[tuple[list[str], dict[str, Any]]]) -> None:
        """Number the batch's pushes in one Redis round trip (consecutive numbers per stream, in queue
        order, so each stream's numbers still rise in the order this process commits), then send them in
        that order, the whole batch at once (`core.channel_layer.RedisChannelLayer.group_send_many`)."""
        counts: dict[str, int] = {}
        for groups, payload in items:
            if "__flush__" not in payload:
                for group in groups:
                    counts[group] = counts.get(group, 0) + 1
        try:
            seqs = take_seqs(counts)
        except (RedisError, OSError) as exc:  # Redis down: one line per batch, not a traceback each
            log.warning("could not number %d pushes: %s", sum(counts.values()), exc)
            return
        sends = []
        for groups, payload in items:
            if "__flush__" in payload:
                continue
            for group in groups:
                seq, seqs[group] = seqs[group], seqs[group] + 1
                sends.append((group, relay_message(group, seq, payload)))
        try:
            await layer.group_send_many(sends)  # the whole batch in two Redis round trips
        except (RedisError, OSError) as exc:  # Redis down: one line per batch, not a traceback each
            log.warning("could not push %d events: %s", len(sends), exc)
        except Exception:  # a push is derived state: the database stays right
            log.exception("could not push %d events", len(sends))


publisher = Publisher()
atexit.register(publisher.flush)
os.register_at_fork(after_in_child=publisher._reset)


def send_event_on_commit(groups: list[str], payload: dict[str, Any]) -> None:
    payload = json.loads(json.dumps(payload))
    transaction.on_commit(lambda: publisher.publish(groups, payload))
