"""A real Celery worker (a separate prefork process on the Redis broker) runs the timer sweep; the auto-pause
it causes reaches the operator's console and the account's wallboard through the channel layer."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings

from acd.actions import handle_event
from acd.legs import RING_GRACE_SECONDS
from acd.tasks import sweep_timers_task
from agents import actions
from agents.models import Operator
from boards.session import session_data
from boards.tests.test_consumers import communicator, session_cookie, user_cookie
from telephony import port
from tests import factories
from tests.processes import child_env

pytestmark = pytest.mark.django_db(transaction=True)


def start_worker(queue: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "callcenter", "worker", "--pool", "prefork",
                             "--concurrency", "1", "-Q", queue, "-l", "warning", "--without-heartbeat",
                             "--without-mingle", "--without-gossip"],
                            cwd=settings.BASE_DIR, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def test_a_sweep_run_by_a_celery_worker_pushes_the_auto_pause_to_console_and_wallboard():
    account = factories.make_account()
    op = factories.make_operator(account)
    service = factories.make_service(account, [(op, 5)], ring_count=1, ring_seconds=1, pause_after_misses=1)
    number = factories.make_number(account, service)
    supervisor = factories.make_supervisor(account)
    actions.login_operator(op.pk)
    queue = f"test-{uuid.uuid4().hex}"  # this test's own queue: no other worker can take its task
    worker = start_worker(queue)
    try:
        async def scenario():
            console = communicator("/ws/console/", await asyncio.to_thread(lambda: session_cookie(**session_data(op))))
            board = communicator("/ws/wallboard/", await asyncio.to_thread(user_cookie, supervisor))
            for comm in (console, board):
                assert (await comm.connect())[0]
                assert (await comm.receive_json_from(timeout=5))["type"] == "snapshot"
            await asyncio.to_thread(handle_event, port.IncomingCall(
                event_id="w1", call_ref="worker-call", dialed=number.number, caller="+390612345678"),
                account_id=account.pk)
            assert (await console.receive_json_from(timeout=5))["type"] in ("operator.state", "offer")
            # The one ring runs out and the engine says nothing: after the grace period only the sweep notices.
            await asyncio.sleep(1 + RING_GRACE_SECONDS + 0.2)
            await asyncio.to_thread(sweep_timers_task.apply_async, queue=queue)
            seen = {}
            for name, comm in (("console", console), ("board", board)):
                deadline = time.monotonic() + 30  # the worker's start-up included
                while time.monotonic() < deadline:
                    message = await comm.receive_json_from(timeout=deadline - time.monotonic())
                    if message["type"] == "operator.state" and message["operator"]["state"] == "paused":
                        seen[name] = message
                        break
            for comm in (console, board):
                await comm.disconnect()
            return seen

        seen = async_to_sync(scenario)()
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=20)
    assert set(seen) == {"console", "board"}, errors
    for message in seen.values():
        assert message["operator"]["id"] == op.pk
        assert message["operator"]["pause_source"] == "no_answer"
    op = Operator.objects.get(pk=op.pk)
    assert (op.state, op.pause_source, op.no_answer_streak) == ("paused", "no_answer", 1)
