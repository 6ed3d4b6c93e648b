"""WebSocket streams: the operator's console and the supervisor's wallboard.

Protocol (documented in boards/PROTOCOL.md): on connect the server sends a full `snapshot` carrying the
stream's current sequence number, then every event with the next number. A client that sees a gap sends
`{"type": "snapshot.request"}` and gets a fresh snapshot. Each stream is one small group: one operator, or
one account's board. A socket only ever joins its own principal's stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from redis.exceptions import RedisError

from agents.actions import console_closed, console_opened
from core.events import account_group, operator_group
from core.limits import too_deep
from core.protocol import PROTOCOL_VERSION, encode
from core.sequence import claim_stats, current_seq

from .scoping import board_account
from .session import signed_in_operator
from .snapshots import console_snapshot, wallboard_snapshot

log = logging.getLogger(__name__)
_board_snapshots: dict[str, tuple[int, dict[str, Any]]] = {}  # stream → (seq, snapshot), per server process
_stats_tasks: set[asyncio.Task] = set()  # running figure publications (a reference keeps each alive)
_stats_gate: dict[int, float] = {}  # account → monotonic time before which this server does not try the claim
STATS_DEBOUNCE_SECONDS = 1.0


# Close code for a socket whose channel layer went away under it: "service restart", the client comes back.
CLOSE_SERVICE_RESTART = 1012


class StreamConsumer(AsyncJsonWebsocketConsumer):
    stream: str = ""

    async def __call__(self, scope, receive, send) -> None:
        """Redis lost under an open socket (a restart, a failover): the socket could never hear its stream
        again, so it is closed (1012), and the page reconnects and gets a fresh snapshot once Redis is back.
        Without this the error escaped to the ASGI server as an unhandled exception."""
        try:
            await super().__call__(scope, receive, send)
        except (RedisError, OSError) as exc:
            log.warning("closed a %s socket: the channel layer went away (%s)", self.stream or "new", exc)
            with contextlib.suppress(Exception):  # the client may be gone too
                await send({"type": "websocket.close", "code": CLOSE_SERVICE_RESTART})

    async def principal(self) -> str | None:
        """The stream this socket may read, or None to refuse the connection."""
        raise NotImplementedError

    async def connect(self) -> None:
        stream = await self.principal()
        if stream is None:
            await self.close(code=4401)
            return
        self.stream = stream
        try:
            await self.channel_layer.group_add(self.stream, self.channel_name)
            seq = await database_sync_to_async(current_seq)(self.stream)
        except Exception:  # Redis is down: refuse the handshake cleanly; the page retries and shows it offline
            log.warning("refused a %s socket: the channel layer does not answer", self.stream, exc_info=True)
            self.stream = ""
            await self.close(code=1011)
            return
        await self.accept()
        await self.opened()
        await self.send_snapshot(seq)

    async def opened(self) -> None:
        """Accepted, before the snapshot: what a stream records of an open page."""

    async def disconnect(self, code: int) -> None:
        if self.stream:
            await self.channel_layer.group_discard(self.stream, self.channel_name)

    async def send_snapshot(self, seq: int | None = None) -> None:
        if seq is None:
            seq = await database_sync_to_async(current_seq)(self.stream)
        data = await database_sync_to_async(self.snapshot_at)(seq)
        await self.send(text_data=encode("snapshot", self.stream, seq=seq, data=data))

    def build_snapshot(self) -> dict[str, Any]:
        raise NotImplementedError

    def snapshot_at(self, seq: int) -> dict[str, Any]:
        """A snapshot valid at `seq`. Streams shared by many sockets reuse one built at the same number:
        no event has happened since, so it is still the truth (a connect storm costs one build)."""
        return self.build_snapshot()

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        """A client's message; None (an unknown message) when it is not JSON or is nested deeper than
        JSON_MAX_DEPTH (core.limits)."""
        if too_deep(text_data):
            return None
        try:
            return await super().decode_json(text_data)
        except ValueError:  # not JSON: answered as an unknown message, the socket stays open
            return None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "snapshot.request":
            await self.send_snapshot()
        elif kind == "subscribe":
            if content.get("stream") != self.stream:  # a forged subscription to someone else's stream
                await self.send_json({"type": "error", "v": PROTOCOL_VERSION, "code": "forbidden_stream"})
                await self.close(code=4403)
        else:
            await self.send_json({"type": "error", "v": PROTOCOL_VERSION, "code": "unknown_message"})

    async def centralino_event(self, message: dict[str, Any]) -> None:
        await self.send(text_data=message["text"])  # encoded once by the producer (core.protocol)


class ConsoleConsumer(StreamConsumer):
    """One operator's own stream: state changes, the incoming-call card, the auto-pause notice."""

    async def principal(self) -> str | None:
        # The same check as every console request: a deactivated operator or a changed password ends it.
        operator = await database_sync_to_async(signed_in_operator)(self.scope.get("session"))
        if operator is None:
            return None
        self.operator_id = operator.pk
        return operator_group(self.operator_id)

    async def opened(self) -> None:
        # One more console open (cancels a pending log-off), recorded before the page gets its snapshot.
        await database_sync_to_async(console_opened)(self.operator_id)

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        if self.stream:  # the last console to close starts the grace period before the log-off
            await database_sync_to_async(console_closed)(self.operator_id)

    def build_snapshot(self) -> dict[str, Any]:
        return console_snapshot(self.operator_id)


class WallboardConsumer(StreamConsumer):
    """One account's floor, for its supervisors (staff users of that account), or the account a superuser
    picked (`?account=<id>`)."""

    async def principal(self) -> str | None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_staff:
            return None
        requested = parse_qs(self.scope.get("query_string", b"").decode()).get("account", [None])[0]
        account = await database_sync_to_async(board_account)(user, requested)
        if account is None:
            return None
        self.account_id = account.pk
        return account_group(self.account_id)

    def build_snapshot(self) -> dict[str, Any]:
        return wallboard_snapshot(self.account_id)

    def snapshot_at(self, seq: int) -> dict[str, Any]:
        cached = _board_snapshots.get(self.stream)
        if cached is not None and cached[0] == seq:
            return cached[1]
        data = self.build_snapshot()
        _board_snapshots[self.stream] = (seq, data)
        return data

    async def centralino_event(self, message: dict[str, Any]) -> None:
        await super().centralino_event(message)
        # Figures (waiting, service level…) follow from many rows: one socket per account and second
        # (whichever wins the Redis claim, on any server) computes them once and sends them to the group.
        # The local gate keeps the other sockets of this server off Redis: a burst to 100 boards costs one
        # claim per server and second, not one per socket and event.
        moment = time.monotonic()
        if _stats_gate.get(self.account_id, 0.0) > moment:
            return
        _stats_gate[self.account_id] = moment + STATS_DEBOUNCE_SECONDS
        if await database_sync_to_async(claim_stats)(self.account_id):
            # Not tied to this socket: if it closes within the second, the board's other sockets still get
            # the figures.
            task = asyncio.create_task(_publish_stats_later(self.channel_layer, self.stream, self.account_id))
            _stats_tasks.add(task)
            task.add_done_callback(_stats_tasks.discard)

    async def centralino_stats(self, message: dict[str, Any]) -> None:
        await self.send(text_data=message["text"])


async def _publish_stats_later(layer: Any, stream: str, account_id: int) -> None:
    await asyncio.sleep(STATS_DEBOUNCE_SECONDS)
    data = await database_sync_to_async(wallboard_snapshot)(account_id)
    await layer.group_send(stream, {"type": "centralino.stats", "text": encode("stats", stream, data=data)})
