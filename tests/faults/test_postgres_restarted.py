"""Fault: PostgreSQL restarted under a running web process (issue 11, fault injection).

A private PostgreSQL (the embedded one, never the machine's) gets this test database's schema; the Procfile's
web command (with its connection pool) runs on it. While it is down every request answers within a bound, in
the API's one error shape (503, try again), and none hangs; once it is back on the same port the web process
reconnects by itself (its pooled connections died with the server and are replaced) and the engine's events
and the API work again, with nothing lost."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import psycopg
import pytest
from django.conf import settings

from acd.models import Call
from budget.models import ChannelLease
from callcenter.embedded import EmbeddedPostgres
from tests.faults.stack import Engine, private_postgres, start_web

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.multiprocess]
BOUND_SECONDS = 15.0  # what a request may take while the database is down, at most


def get(port: int, path: str, token: str) -> tuple[int, dict, float]:
    started = time.monotonic()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    return status, json.loads(body) if body.startswith(b"{") else {"raw": body[:300]}, time.monotonic() - started


class Account:  # what the engine needs of an account, read back from the seed
    def __init__(self, seed: dict) -> None:
        self.slug, self.webhook_secret = seed["slug"], seed["secret"]


def test_postgres_restarted_under_the_web_process(tmp_path):
    with private_postgres(tmp_path) as (server, url, seed):
        pg_port = server.port
        web, port = start_web(settings.REDIS_URL, database_url=url)
        engine = Engine(port, Account(seed))
        try:
            assert get(port, "/api/v1/operators/", seed["token"])[0] == 200
            server.stop()
            outage = [get(port, "/api/v1/operators/", seed["token"]) for _ in range(3)]
            status, answer = engine.post({"type": "incoming_call", "call_ref": "during-outage",
                                          "dialed": seed["number"], "caller": "+390612345678"})
            restarted = EmbeddedPostgres(tmp_path / "postgres", preferred_port=pg_port, durable=False)
            restarted.start()
            assert restarted.port == pg_port
            deadline = time.monotonic() + 30
            while (after := get(port, "/api/v1/operators/", seed["token"]))[0] != 200:
                assert time.monotonic() < deadline, f"the web process did not reconnect: {after}"
                time.sleep(0.5)
            ring = engine.incoming("after-restart", seed["number"])
            engine.answer("after-restart", ring)
        finally:
            web.stop()
        for status_down, body, seconds in outage:
            assert seconds < BOUND_SECONDS, f"a request took {seconds:.1f} s while the database was down"
            assert status_down == 503 and body.get("code") == "database_unavailable", body
        assert status == 503, answer  # the engine retries the event: it was not taken
        with psycopg.connect(url) as conn:
            calls = dict(conn.execute(f"select engine_ref, state from {Call._meta.db_table}").fetchall())
            leases = conn.execute(f"select count(*) from {ChannelLease._meta.db_table} "
                                  "where released_at is null").fetchone()[0]
        assert calls == {"after-restart": "connected"}
        assert leases == 1
        assert "Traceback" not in web.output(), web.output()[-3000:]
