"""The channel layer on the real Redis: a socket closing mid-poll loses nothing for the others, and a lost
Redis reaches every waiting socket as an error (so browsers reconnect and take a fresh snapshot)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
import time
import uuid

from asgiref.sync import async_to_sync
from django.conf import settings

from core.channel_layer import RedisChannelLayer


def make_layer(url: str | None = None, prefix: str | None = None) -> RedisChannelLayer:
    return RedisChannelLayer(hosts=[url or settings.REDIS_URL], prefix=prefix or f"layer-test-{uuid.uuid4().hex}")


def test_a_socket_closing_while_its_server_polls_redis_loses_nothing_for_the_others():
    """Two sockets of one server in one group; the first one's task is the one waiting on Redis when the
    message lands, and it is cancelled (its browser closed) before it could read the reply."""
    server = make_layer()

    async def scenario():
        closing, staying = await server.new_channel(), await server.new_channel()
        for channel in (closing, staying):
            await server.group_add("board", channel)
        first = asyncio.ensure_future(server.receive(closing))
        await asyncio.sleep(0.3)  # the poll is now blocked in BZPOPMIN
        second = asyncio.ensure_future(server.receive(staying))
        await asyncio.sleep(0.1)

        def other_process_sends():  # another process's layer, on its own loop
            async def send():
                other = make_layer(prefix=server.prefix)
                await other.group_send("board", {"type": "board.event", "n": 1})
                await other.close_pools()

            asyncio.run(send())

        sender = threading.Thread(target=other_process_sends)
        sender.start()
        sender.join()  # this loop is blocked throughout: Redis's reply waits unread in the socket
        time.sleep(0.2)
        first.cancel()
        received = await asyncio.wait_for(second, 5)
        await server.flush()
        return received

    assert async_to_sync(scenario)() == {"type": "board.event", "n": 1}


def test_losing_redis_raises_in_every_waiting_socket():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    redis_process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        server = make_layer(url=f"redis://127.0.0.1:{port}/0")

        async def scenario():
            channels = [await server.new_channel() for _ in range(3)]
            waits = [asyncio.ensure_future(server.receive(channel)) for channel in channels]
            await asyncio.sleep(0.3)
            redis_process.kill()
            results = await asyncio.wait_for(asyncio.gather(*waits, return_exceptions=True), 10)
            return results

        results = async_to_sync(scenario)()
    finally:
        redis_process.kill()
        redis_process.wait()
    assert len(results) == 3
    assert all(isinstance(result, Exception) for result in results), results


def test_a_pump_left_behind_by_a_finished_event_loop_does_not_break_the_next_loop():
    """Tests (and management commands) run one event loop after another on the same layer. A poll cancelled
    with its loop while it waited for the Redis-queue lock leaves that lock held and bound to the dead loop."""
    server = make_layer()

    async def first_loop():
        channel = await server.new_channel()
        key = server.prefix + server.non_local_name(channel)
        await server.receive_clean_locks.acquire(key)
        waiter = asyncio.ensure_future(server.receive_clean_locks.acquire(key))  # binds the lock to this loop
        await asyncio.sleep(0)
        waiter.cancel()  # as the loop's end cancels a waiting poll: the lock stays held

    async def next_loop():
        channel = await server.new_channel()
        await server.group_add("after", channel)
        waiting = asyncio.ensure_future(server.receive(channel))
        await asyncio.sleep(0.1)
        await make_layer(prefix=server.prefix).group_send("after", {"type": "x.y", "n": 2})
        return await asyncio.wait_for(waiting, 5)

    async_to_sync(first_loop)()
    assert async_to_sync(next_loop)() == {"type": "x.y", "n": 2}


def test_a_batch_of_group_sends_arrives_whole_and_in_order_on_every_socket():
    """`group_send_many` (what the publisher sends a batch with) delivers what `group_send` one at a time would:
    every member of each group gets its groups' messages, a socket in two groups gets them interleaved in the
    order sent (a board checks its stream's numbers), and a group nobody listens to is skipped."""
    server = make_layer()

    async def scenario():
        a, b = await server.new_channel(), await server.new_channel()
        await server.group_add("account", a)
        await server.group_add("account", b)
        await server.group_add("operator", b)
        sends = []
        for n in range(40):
            sends.append(("account", {"type": "board.event", "n": n}))
            if n % 3 == 0:
                sends.append(("operator", {"type": "board.event", "n": n, "op": True}))
            sends.append(("nobody", {"type": "board.event", "n": n}))
        await server.group_send_many(sends)
        got_a = [await asyncio.wait_for(server.receive(a), 5) for _ in range(40)]
        got_b = [await asyncio.wait_for(server.receive(b), 5) for _ in range(40 + 14)]
        await server.flush()
        return got_a, got_b

    got_a, got_b = async_to_sync(scenario)()
    assert got_a == [{"type": "board.event", "n": n} for n in range(40)]
    expected_b = []
    for n in range(40):
        expected_b.append({"type": "board.event", "n": n})
        if n % 3 == 0:
            expected_b.append({"type": "board.event", "n": n, "op": True})
    assert got_b == expected_b
