"""The Redis channel layer, with one fix: a socket closing at the wrong moment no longer loses other
sockets' messages.

channels-redis keeps one Redis queue per server process. Whichever consumer holds its receive lock runs the
`BZPOPMIN` for every socket of that server and sorts what it took into their buffers. If that consumer's
socket closes while the poll is in flight, its task is cancelled; Redis has already popped the message and
the reply is dropped with the cancelled task (django/channels_redis#366, django/channels#1683). On a
wallboard that is a whole board missing an operator's change because some other tab closed; the benchmark
`fanout` showed it as one event lost for all 20 sockets of an account.

Here one pump task per event loop polls the server's queue and fills the sockets' buffers; a socket only
waits on its own buffer, and cancelling that wait cannot lose anything. If the pump fails (Redis went away)
every waiting socket gets the error, as it would have from channels-redis: the consumers close, the
browsers reconnect and start again from a snapshot (group memberships may be gone with Redis).

It also sends a batch of group messages at once (`group_send_many`, what `core.events` publishes): upstream's
`group_send` costs four Redis round trips per group and message, and the publisher's thread spent them on
every state change, competing with the process's own work (a third of a max-speed simulation's time).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from typing import Any

from channels_redis.core import ChannelLock
from channels_redis.core import RedisChannelLayer as UpstreamRedisChannelLayer

log = logging.getLogger(__name__)

# Each message of a batch is added to its channel's queue with its own score, rising in the batch's order: a
# queue is a sorted set popped lowest score first, and upstream's messages carry a random prefix, so equal
# scores would come out in a random order (a board would see its stream's numbers out of order).
_SEND_MANY_LUA = """
local n = #KEYS
local expiry = ARGV[3 * n + 1]
local over = 0
for i = 1, n do
    if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[n + i]) then
        redis.call('ZADD', KEYS[i], ARGV[2 * n + i], ARGV[i])
        redis.call('EXPIRE', KEYS[i], expiry)
    else
        over = over + 1
    end
end
return over
"""
_SCORE_STEP = 1e-6  # seconds between two messages of a batch (their order in a channel's queue)


class RedisChannelLayer(UpstreamRedisChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pumps: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}
        self._locks_loop: asyncio.AbstractEventLoop | None = None

    async def receive(self, channel: str) -> dict[str, Any]:
        if "!" not in channel:  # a named channel, read straight from Redis: nothing shared to protect
            return await super().receive(channel)
        assert self.require_valid_channel_name(channel)
        pump = self._pump_for(self.non_local_name(channel))
        buffer = self.receive_buffer[channel]
        if buffer.empty():
            getter = asyncio.ensure_future(buffer.get())
            try:
                await asyncio.wait({getter, pump}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not getter.done():
                    getter.cancel()  # asyncio.Queue.get leaves the item in place when cancelled
            if not getter.done() or getter.cancelled():
                pump.result()  # the pump died: raise its error in this socket's consumer
                raise RuntimeError("channel-layer pump stopped")
            message = getter.result()
        else:
            message = buffer.get_nowait()
        if buffer.empty() and self.receive_buffer.get(channel) is buffer:
            del self.receive_buffer[channel]  # as channels-redis does: a closed socket leaves no buffer behind
        return message

    async def group_send_many(self, sends: list[tuple[str, dict[str, Any]]]) -> None:
        """Send each (group, message) as `group_send` would, in order, in two round trips per Redis server:
        the groups' members (after dropping expired ones), then every channel's message with the cleanup of
        its expired ones. A channel in several sends gets their messages in the order given."""
        if not sends:
            return
        now = time.time()
        by_server: dict[int, list[str]] = collections.defaultdict(list)
        for group in dict.fromkeys(group for group, _message in sends):
            assert self.require_valid_group_name(group), "Group name not valid"
            by_server[self.consistent_hash(group)].append(group)
        members: dict[str, list[str]] = {}
        for index, groups in by_server.items():
            pipe = self.connection(index).pipeline(transaction=False)
            for group in groups:
                pipe.zremrangebyscore(self._group_key(group), min=0, max=int(now) - self.group_expiry)
                pipe.zrange(self._group_key(group), 0, -1)
            replies = await pipe.execute()
            for group, names in zip(groups, replies[1::2], strict=True):
                members[group] = [name.decode("utf8") for name in names]
        # Every channel key's messages, in the batch's order, bucketed by the Redis server that holds the key.
        queued: dict[int, list[tuple[bytes | str, bytes, int]]] = collections.defaultdict(list)
        for group, message in sends:
            if not members[group]:
                continue  # nobody listens (a floor without a board): nothing to send
            by_index, payloads, capacities = self._map_channel_keys_to_connection(members[group], message)
            for index, keys in by_index.items():
                queued[index].extend((key, payloads[key], capacities[key]) for key in keys)
        for index, items in queued.items():
            pipe = self.connection(index).pipeline(transaction=False)
            for key in dict.fromkeys(key for key, _payload, _capacity in items):
                pipe.zremrangebyscore(key, min=0, max=int(now) - int(self.expiry))
            keys = [key for key, _payload, _capacity in items]
            args = [payload for _key, payload, _capacity in items] + [capacity for *_rest, capacity in items]
            args += [now + n * _SCORE_STEP for n in range(len(items))] + [self.expiry]
            pipe.eval(_SEND_MANY_LUA, len(keys), *keys, *args)
            over = (await pipe.execute())[-1]
            if over:
                log.info("%s of %s messages over their channel's capacity", over, len(items))

    def _pump_for(self, server_channel: str) -> asyncio.Task:
        loop = asyncio.get_running_loop()
        pump = self._pumps.get(loop)
        if pump is None or pump.done():
            if any(other.is_running() and not task.done() for other, task in self._pumps.items() if other is not loop):
                raise RuntimeError("Two event loops are trying to receive() on one channel layer at once!")
            if self._locks_loop is not loop:
                # A poll that died with an earlier loop may have left a Redis-queue lock held and bound to that
                # loop (cancelled while waiting for it); the next contention would fail here. Those locks only
                # guarded that loop's polls: start clean.
                self.receive_clean_locks = ChannelLock()
                self._locks_loop = loop
            self._pumps = {loop: loop.create_task(self._pump(server_channel))}
            pump = self._pumps[loop]
        return pump

    async def close_pools(self) -> None:
        """Stop this loop's pump before its connections close under it (shutdown, `flush()`)."""
        pump = self._pumps.pop(asyncio.get_running_loop(), None)
        if pump is not None and not pump.done():
            pump.cancel()
            await asyncio.gather(pump, return_exceptions=True)
        await super().close_pools()

    async def _pump(self, server_channel: str) -> None:
        """Poll this server's queue for as long as the loop runs; sort each message into its sockets'
        buffers. Only the loop's end cancels it."""
        while True:
            targets, message = await self.receive_single(server_channel)
            for target in targets if isinstance(targets, list) else [targets]:
                self.receive_buffer[target].put_nowait(message)
