"""Fault: a Celery worker killed with SIGKILL in the middle of a task (issue 11, fault injection).

A real worker (prefork, on the Redis broker) runs the timer sweep that auto-pauses an operator whose ring ran
out. The test holds the lock of the ring's offer row, so the worker's sweep stops inside its transaction, before
it has sent a write (its writes and COMMIT leave in one pipeline: see core/pipeline.py); it is seen waiting
there in pg_stat_activity, then the worker and its pool are killed -9. PostgreSQL rolls the half-done sweep
back. A new worker's next sweep (beat sends one every second) does the work: the operator is paused exactly
once, the call record is there, no channel leaked."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import psycopg
import pytest
from django.conf import settings

from acd.actions import handle_event
from acd.legs import RING_GRACE_SECONDS
from acd.models import Offer
from acd.tasks import sweep_timers_task
from agents import actions
from agents.choices import OperatorState, PauseSource
from agents.models import Operator, OperatorEvent
from telephony import port
from tests import factories
from tests.faults.invariants import assert_floor_consistent
from tests.processes import child_env, test_db_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.multiprocess]


def start_worker(queue: str, log: Path) -> subprocess.Popen:
    with log.open("a") as out:  # the worker's own account of what it did, for a failing wait's message
        return subprocess.Popen([sys.executable, "-m", "celery", "-A", "callcenter", "worker", "--pool", "prefork",
                                 "--concurrency", "1", "-Q", queue, "-l", "info", "--without-heartbeat",
                                 "--without-mingle", "--without-gossip"], cwd=settings.BASE_DIR, env=child_env(),
                                stdout=out, stderr=subprocess.STDOUT)


def kill_9(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and its pool (the pool's processes leave its group: see callcenter/celery.py)."""
    processes = [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]
    for process in processes:
        process.kill()
    psutil.wait_procs(processes, timeout=10)


def sessions_blocked_by(conn: psycopg.Connection, blocker_pid: int) -> list[int]:
    """The sessions waiting for a lock the blocker holds (the worker's, inside its sweep's transaction)."""
    return [pid for (pid,) in conn.execute("select pid from pg_stat_activity where %s = any(pg_blocking_pids(pid))",
                                           [blocker_pid]).fetchall()]


def session_alive(conn: psycopg.Connection, pid: int) -> bool:
    return conn.execute("select count(*) from pg_stat_activity where pid = %s", [pid]).fetchone()[0] == 1


def wait_until(check, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-4000:] if log is not None else ""
            raise AssertionError(f"timed out waiting for {what}\n{tail}")
        time.sleep(0.1)


def test_a_worker_killed_mid_sweep_leaves_nothing_half_done_and_the_next_sweep_does_it_once(tmp_path):
    account = factories.make_account()
    op = factories.make_operator(account)
    service = factories.make_service(account, [(op, 5)], ring_count=1, ring_seconds=1, pause_after_misses=1)
    number = factories.make_number(account, service)
    actions.login_operator(op.pk)
    handle_event(port.IncomingCall(event_id="k1", call_ref="killed-worker-call", dialed=number.number,
                                   caller="+390612345678"), account_id=account.pk)
    assert Operator.objects.get(pk=op.pk).state == OperatorState.RINGING
    time.sleep(1 + RING_GRACE_SECONDS + 0.2)  # the ring ran out; the engine says nothing: the sweep's work
    offer = Offer.objects.get(call__engine_ref="killed-worker-call")
    queue = f"fault-{uuid.uuid4().hex}"
    log = tmp_path / "workers.log"
    worker = start_worker(queue, log)
    try:
        with psycopg.connect(test_db_url()) as blocker, psycopg.connect(test_db_url(), autocommit=True) as watcher:
            # The ring's offer, locked as the sweep will lock it: the sweep stops before it has sent a write.
            blocker.execute(f'select id from "{Offer._meta.db_table}" where id = %s for update', [offer.pk])
            sweep_timers_task.apply_async(queue=queue)
            wait_until(lambda: sessions_blocked_by(watcher, blocker.info.backend_pid), 90,
                       "the worker's sweep to block inside its transaction", log)
            (swept_by,) = sessions_blocked_by(watcher, blocker.info.backend_pid)
            kill_9(worker)
            blocker.rollback()  # the lock goes: the killed worker's session finds its client gone, rolls back
            wait_until(lambda: not session_alive(watcher, swept_by), 30, "the killed worker's session to end", log)
        op_now = Operator.objects.get(pk=op.pk)
        assert op_now.state == OperatorState.RINGING and op_now.no_answer_streak == 0  # nothing half-done
        assert not OperatorEvent.objects.filter(operator=op, to_state=OperatorState.PAUSED).exists()
        worker = start_worker(queue, log)

        def paused_after_a_sweep() -> bool:  # as beat does: a sweep every second (the later ones find nothing)
            sweep_timers_task.apply_async(queue=queue)
            time.sleep(0.9)
            return Operator.objects.get(pk=op.pk).state == OperatorState.PAUSED

        wait_until(paused_after_a_sweep, 90, "the new worker's sweep", log)
        sweep_timers_task.apply_async(queue=queue)
        time.sleep(1.5)  # one more sweep's turn: it finds nothing left to do
    finally:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(30)
    op = Operator.objects.get(pk=op.pk)
    assert (op.state, op.pause_source, op.no_answer_streak) == (OperatorState.PAUSED, PauseSource.NO_ANSWER, 1)
    assert OperatorEvent.objects.filter(operator=op, to_state=OperatorState.PAUSED).count() == 1
    assert_floor_consistent(account, ["killed-worker-call"])
