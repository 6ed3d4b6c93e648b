"""Fault: PostgreSQL frozen, not down (issue 11, fault injection).

Two freezes, each under the Procfile's web command (its connection pool, the engines' edge, the API):

- a lock held forever by another session, on the test's own database: the rows an engine's event and an API
  write need (the operator, the account's channel counter), or the whole operators table (as a migration queued
  for its exclusive lock does). Never on the machine's server as a whole: others use it;
- the whole server hung: a private PostgreSQL (the embedded one) whose every process is stopped (SIGSTOP), so
  it accepts bytes and answers nothing, and the server's own timeouts cannot fire.

Each request answers within a bound (DB_LOCK_TIMEOUT, DB_CLIENT_TIMEOUT, set short here), in the API's one error
shape: 503 `database_unavailable` with Retry-After; nothing of it is saved; once the freeze ends the engine's
retry of the same event (same id) is taken once, and the API works again, from the same process."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import time
from collections.abc import Iterator

import psutil
import psycopg
import pytest
from django.conf import settings
from django_celery_beat.models import PeriodicTask

from acd.models import Call
from agents.models import Operator
from budget.models import ChannelUsage
from callcenter.celery import app
from callcenter.embedded import EmbeddedPostgres, EmbeddedRedis
from telephony.models import ProcessedEvent
from telephony.signing import signed_headers
from telephony.tasks import purge_port_records_task
from tests import factories
from tests.faults.invariants import assert_floor_consistent
from tests.faults.stack import EVENTS_PATH, Process, private_postgres, start_web, wait_until
from tests.processes import test_db_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.multiprocess]

LOCK_TIMEOUT, STATEMENT_TIMEOUT, CLIENT_TIMEOUT = 2, 4, 4


def bounds(client_timeout: float) -> dict[str, str]:
    return {"DB_LOCK_TIMEOUT": str(LOCK_TIMEOUT), "DB_STATEMENT_TIMEOUT": str(STATEMENT_TIMEOUT),
            "DB_CLIENT_TIMEOUT": str(client_timeout)}


LOCKED_BOUND = LOCK_TIMEOUT + 3.0  # a request behind a held lock answers within this (the machine is shared)
HUNG_BOUND = CLIENT_TIMEOUT + 5.0 + 3.0  # a hung server: the client's bound, then a pool wait, then slack
DB_CONNECT_SLACK = 5.0  # beat may be opening a new connection when the freeze starts (DB_CONNECT_TIMEOUT)


class Client:
    """The API (a token) and an engine (signed events) against one web process, each answer timed."""

    def __init__(self, port: int, slug: str, secret: str, token: str) -> None:
        self.port, self.slug, self.secret, self.token = port, slug, secret, token

    def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> dict:
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=90)
        try:
            conn.request(method, path, body=body or None, headers=headers or {})
            response = conn.getresponse()
            payload = response.read()
        finally:
            conn.close()
        return {"status": response.status, "retry_after": response.getheader("Retry-After"),
                "body": json.loads(payload) if payload.startswith(b"{") else {"raw": payload[:300]},
                "seconds": time.monotonic() - started, "what": f"{method} {path}"}

    def api(self, method: str, path: str, data: dict | None = None) -> dict:
        body = json.dumps(data).encode() if data is not None else b""
        return self.request(method, path, body, {"Authorization": f"Bearer {self.token}",
                                                 "Content-Type": "application/json"})

    def event(self, event: dict) -> dict:
        body = json.dumps(event).encode()
        return self.request("POST", EVENTS_PATH, body, signed_headers(self.slug, self.secret, body, time.time()))


def incoming(ref: str, number: str) -> dict:
    return {"type": "incoming_call", "event_id": f"{ref}-in", "call_ref": ref, "dialed": number,
            "caller": "+390612345678"}


def assert_unavailable(answers: list[dict], bound: float) -> None:
    for answer in answers:
        assert answer["seconds"] < bound, f"{answer['what']} took {answer['seconds']:.1f} s (bound {bound} s)"
        assert answer["status"] == 503 and answer["body"].get("code") == "database_unavailable", answer
        assert answer["retry_after"] and answer["retry_after"].isdigit(), answer


FREEZES = {
    # The rows an API pause and an incoming call need: the operator's, the account's channel counter.
    "rows": ["SELECT 1 FROM {operators} WHERE id = %(operator)s FOR UPDATE",
             "SELECT 1 FROM {usage} WHERE account_id = %(account)s FOR UPDATE"],
    # A whole table, as a migration queued for its exclusive lock holds everyone behind it.
    "table": ["LOCK TABLE {operators} IN ACCESS EXCLUSIVE MODE"],
}


@pytest.mark.parametrize("freeze", sorted(FREEZES))
def test_a_lock_held_forever_answers_503_in_bounded_time_and_saves_nothing(freeze):
    account, op, number = factories.make_floor()
    client = Client(0, account.slug, account.webhook_secret, factories.make_token(account))
    # The client's own bound far off: what answers within LOCKED_BOUND is the server's lock_timeout.
    web, client.port = start_web(settings.REDIS_URL, **bounds(client_timeout=60))
    try:
        warmup = client.event(incoming("before-freeze", number.number))  # the counter row exists, the pool is warm
        assert warmup["status"] == 200, warmup
        assert client.event({"type": "hangup", "event_id": "before-freeze-end", "call_ref": "before-freeze"}
                            )["status"] == 200
        version = Operator.objects.get(pk=op.pk).version
        with psycopg.connect(test_db_url()) as holder:  # a transaction left open by some other session
            for statement in FREEZES[freeze]:
                holder.execute(statement.format(operators=Operator._meta.db_table,
                                                usage=ChannelUsage._meta.db_table),
                               {"operator": op.pk, "account": account.pk})
            frozen = [client.event(incoming("during-freeze", number.number)),
                      client.api("POST", f"/api/v1/operators/{op.pk}/pause/", {})]
            if freeze == "table":
                frozen.append(client.api("GET", "/api/v1/operators/"))
            saved_meanwhile = Call.objects.filter(engine_ref="during-freeze").exists()
            holder.rollback()
        assert_unavailable(frozen, LOCKED_BOUND)
        assert not saved_meanwhile
        assert not Call.objects.filter(engine_ref="during-freeze").exists()
        assert Operator.objects.get(pk=op.pk).version == version  # the pause was not half applied either
        retried = client.event(incoming("during-freeze", number.number))  # the engine's retry, the same id
        assert retried["status"] == 200 and any(c["type"] == "ring" for c in retried["body"]["commands"]), retried
        assert client.event(incoming("during-freeze", number.number))["body"] == retried["body"]  # once
        assert client.api("GET", "/api/v1/operators/")["status"] == 200
    finally:
        web.stop()
    assert Call.objects.filter(engine_ref="during-freeze").count() == 1
    assert_floor_consistent(account, ["before-freeze", "during-freeze"])
    assert not web.errors(), web.output()[-3000:]


@contextlib.contextmanager
def frozen_server(server: EmbeddedPostgres) -> Iterator[None]:
    """Every process of the server stopped (SIGSTOP): it accepts bytes and answers nothing; resumed at the end."""
    postmaster = psutil.Process(server.running_pid())
    stopped = [postmaster, *postmaster.children(recursive=True)]
    for process in stopped:
        signal_if_alive(process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for process in stopped:
            signal_if_alive(process.pid, signal.SIGCONT)


def signal_if_alive(pid: int, sig: int) -> None:
    """A backend that was ending when the freeze began (its client gone) is reaped once the postmaster runs
    again: it needs no resuming."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def test_a_hung_server_answers_503_in_bounded_time_and_the_web_process_recovers(tmp_path):
    with private_postgres(tmp_path) as (server, url, seed):
        web, port = start_web(settings.REDIS_URL, database_url=url, **bounds(client_timeout=CLIENT_TIMEOUT))
        client = Client(port, seed["slug"], seed["secret"], seed["token"])
        try:
            assert client.api("GET", "/api/v1/operators/")["status"] == 200  # the pool holds live connections
            with frozen_server(server):
                # One after another, more than the pool holds: no request waits on one stuck before it.
                frozen = [client.event(incoming("during-freeze", seed["number"])),
                          *[client.api("GET", "/api/v1/operators/") for _ in range(3)],
                          client.api("POST", f"/api/v1/operators/{seed['operator']}/pause/", {})]
            deadline = time.monotonic() + 30
            while (after := client.api("GET", "/api/v1/operators/"))["status"] != 200:
                assert time.monotonic() < deadline, f"the web process did not recover: {after}"
                time.sleep(0.5)
            with psycopg.connect(url) as conn:
                saved = conn.execute(f"SELECT count(*) FROM {Call._meta.db_table}").fetchone()[0]
                state = conn.execute(f"SELECT state FROM {Operator._meta.db_table} WHERE id = %s",
                                     [seed["operator"]]).fetchone()[0]
            retried = client.event(incoming("during-freeze", seed["number"]))
        finally:
            web.stop()
        assert_unavailable(frozen, HUNG_BOUND)
        assert saved == 0, "an event answered 503 left a call behind"
        assert state == "available", "a pause answered 503 was applied"
        assert retried["status"] == 200 and any(c["type"] == "ring" for c in retried["body"]["commands"]), retried
        assert "Traceback" not in web.output(), web.output()[-3000:]


def test_a_hung_server_fails_a_workers_task_within_the_bound_and_beat_goes_on(tmp_path):
    """The Celery worker and beat (the Procfile's commands) open plain connections, not the web's pool: the
    project's database backend bounds their waits too. A task that meets the hung server fails within the bound
    (it would otherwise sit in a socket read for as long as the freeze lasts); beat's database scheduler meets
    the same bound and goes on; once the server wakes the next task does its work."""
    redis_server = EmbeddedRedis(tmp_path / "redis", durable=False)
    redis_server.start()
    redis_url = redis_server.url(0)
    try:
        with private_postgres(tmp_path) as (server, url, _seed):
            with psycopg.connect(url) as conn:  # a processed event past its retention: the purge task's work
                conn.execute(f"INSERT INTO {ProcessedEvent._meta.db_table} (source, event_id, received_at, commands) "
                             "VALUES ('fault', 'old', now() - interval '90 days', '[]')")
            env = bounds(client_timeout=CLIENT_TIMEOUT)
            worker = Process("worker", redis_url, database_url=url, CELERY_CONCURRENCY="1", **env)
            beat = Process("beat", redis_url, database_url=url, **env)
            try:
                with psycopg.connect(url) as conn:
                    wait_until(lambda: conn.execute(f"SELECT count(*) FROM {PeriodicTask._meta.db_table}"
                                                    ).fetchone()[0] > 0, 60, "beat's schedule", beat)
                time.sleep(1)  # the worker is consuming
                with frozen_server(server):
                    started = time.monotonic()
                    with app.connection_for_write(redis_url) as broker:
                        purge_port_records_task.apply_async(connection=broker)
                    wait_until(lambda: "DB_CLIENT_TIMEOUT" in worker.output(), HUNG_BOUND,
                               "the worker's task to fail on the hung server", worker)
                    worker_bound = time.monotonic() - started
                    wait_until(lambda: "DB_CLIENT_TIMEOUT" in beat.output(), HUNG_BOUND + DB_CONNECT_SLACK,
                               "beat's scheduler to give up on the hung server", beat)
                    still_up = worker.popen.poll() is None and beat.popen.poll() is None
                with psycopg.connect(url) as conn:
                    assert conn.execute(f"SELECT count(*) FROM {ProcessedEvent._meta.db_table}").fetchone()[0] == 1
                    with app.connection_for_write(redis_url) as broker:
                        purge_port_records_task.apply_async(connection=broker)
                    wait_until(lambda: conn.execute(f"SELECT count(*) FROM {ProcessedEvent._meta.db_table}"
                                                    ).fetchone()[0] == 0, 60, "the purge after the freeze", worker)
                assert beat.popen.poll() is None, beat.output()[-3000:]
            finally:
                worker.stop()
                beat.stop()
        assert worker_bound < HUNG_BOUND, worker_bound
        assert still_up, "a worker or beat died of the freeze"
    finally:
        redis_server.stop()
