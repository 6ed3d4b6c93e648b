"""Fault: Redis restarted during live calls and an open console (issue 11, fault injection).

A private Redis (the embedded one, never the machine's) carries the web process's channel layer, the Celery
broker of a worker and beat (the Procfile's commands), and the cache. With a call connected and the operator's
console open, Redis is stopped; the engine's events go on (a hangup, a new caller) and each answers 200 (the
change is committed; only its real-time event is lost). Redis comes back on the same port: the timers resume
(beat and the worker reconnect; the wrap-up ends and the waiting caller rings the operator), the console that
was open either closes (the page reconnects) or carries the new events, never a deaf socket; a console opened
again shows the truth in its snapshot and the events after it. At the end no call record is lost, no channel
leaked, no operator stuck."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from acd.choices import CallState, OfferState
from acd.models import Call
from agents import actions as presence
from agents.choices import OperatorState
from agents.models import Operator
from boards.session import session_data
from boards.tests.test_consumers import session_cookie
from callcenter.embedded import EmbeddedRedis
from tests import factories
from tests.faults.invariants import assert_floor_consistent
from tests.faults.stack import Engine, Process, start_web, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.multiprocess]


async def next_state(socket, wanted: str, timeout: float = 30) -> dict:
    """The console's next operator.state event with state `wanted` (other events are skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await socket.recv())
            if message["type"] == "operator.state" and message["operator"]["state"] == wanted:
                return message


async def open_console(port: int, cookie: str):
    socket = await websockets.connect(f"ws://127.0.0.1:{port}/ws/console/", open_timeout=20,
                                      additional_headers={"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"})
    snapshot = json.loads(await asyncio.wait_for(socket.recv(), 20))
    assert snapshot["type"] == "snapshot"
    return socket, snapshot


async def closed_or_told(socket, wanted: str) -> str:
    """What the console open through the restart did: closed (the page reconnects) or carried the event."""
    try:
        await next_state(socket, wanted)
        return "told"
    except websockets.ConnectionClosed as exc:
        return f"closed {exc.rcvd.code if exc.rcvd else None}"


def op_state(op) -> str:
    return Operator.objects.get(pk=op.pk).state


def test_redis_restarted_during_a_live_call_and_an_open_console(tmp_path):
    redis_server = EmbeddedRedis(tmp_path / "redis", durable=False)
    redis_server.start()
    port_of_redis = redis_server.port
    url = redis_server.url(0)
    account = factories.make_account()
    op = factories.make_operator(account)
    number = factories.make_number(account, factories.make_service(account, [(op, 5)], wrapup_seconds=1))
    presence.login_operator(op.pk)
    cookie = session_cookie(**session_data(op))
    web, port = start_web(url)
    worker, beat = Process("worker", url, CELERY_CONCURRENCY="1"), Process("beat", url)
    engine = Engine(port, account)
    processes = (web, worker, beat)
    try:
        async def before_the_fault():
            socket, snapshot = await open_console(port, cookie)
            assert snapshot["data"]["operator"]["state"] == OperatorState.AVAILABLE
            ring = await asyncio.to_thread(engine.incoming, "live-1", number.number)
            await asyncio.to_thread(engine.answer, "live-1", ring)
            await next_state(socket, OperatorState.ON_CALL)
            return socket

        async def the_fault(socket):
            await asyncio.to_thread(redis_server.stop)
            # The engine goes on while Redis is down: every committed change answers 200, not 500.
            for event in ({"type": "hangup", "call_ref": "live-1"},
                          {"type": "incoming_call", "call_ref": "live-2", "dialed": number.number,
                           "caller": "+390698765432"}):
                status, answer = await asyncio.to_thread(engine.post, event)
                assert status == 200, answer
            assert await asyncio.to_thread(op_state, op) == OperatorState.WRAP_UP
            await asyncio.sleep(2)  # the wrap-up is over, but no sweep can reach the worker
            assert await asyncio.to_thread(op_state, op) == OperatorState.WRAP_UP
            restarted = EmbeddedRedis(tmp_path / "redis", preferred_port=port_of_redis, durable=False)
            await asyncio.to_thread(restarted.start)
            assert restarted.port == port_of_redis
            # The timers resume: beat's sweep ends the wrap-up and the waiting caller rings the operator.
            await asyncio.to_thread(wait_until, lambda: op_state(op) == OperatorState.RINGING, 90,
                                    "the sweep after the restart", *processes)

        async def after_the_fault(old_socket):
            fresh, snapshot = await open_console(port, cookie)
            assert snapshot["data"]["operator"]["state"] == OperatorState.RINGING  # the truth, again
            call = await asyncio.to_thread(lambda: Call.objects.get(account=account, engine_ref="live-2"))
            assert snapshot["data"]["offer"] is not None and call.state == CallState.RINGING
            ring = await asyncio.to_thread(
                lambda: call.offers.get(state=OfferState.RINGING).leg_ref)
            await asyncio.to_thread(engine.answer, "live-2", {"leg_ref": ring})
            fresh_told = await next_state(fresh, OperatorState.ON_CALL)
            old = await closed_or_told(old_socket, OperatorState.ON_CALL)
            status, answer = await asyncio.to_thread(engine.post, {"type": "hangup", "call_ref": "live-2"})
            assert status == 200, answer
            await next_state(fresh, OperatorState.AVAILABLE)  # the wrap-up's end, swept by the worker again
            await fresh.close()
            await old_socket.close()
            return fresh_told, old

        async def scenario():
            socket = await before_the_fault()
            await the_fault(socket)
            return await after_the_fault(socket)

        fresh_told, old = asyncio.run(scenario())
    finally:
        for process in processes:
            process.stop()
        EmbeddedRedis(tmp_path / "redis").stop()  # whichever of the two is running (its pid file says)
    assert fresh_told["operator"]["id"] == op.pk
    assert old in ("closed 1012", "told")  # never a socket left open and deaf; 1012: "service restart"
    assert op_state(op) == OperatorState.AVAILABLE
    assert_floor_consistent(account, ["live-1", "live-2"])
    assert not web.errors(), web.output()[-3000:]
