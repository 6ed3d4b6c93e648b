"""`make run` end to end on a machine with no PostgreSQL or Redis: `python -m callcenter.run` with the URLs unset
starts the embedded servers (in a temporary folder, on free ports), migrates, loads the demo and runs the
Procfile's processes under honcho. The admin answers, the demo floor's calls are routed and answered, and events
published by the simulator process reach wallboard WebSockets held by each of the two web workers, through Redis.
On SIGTERM (as on Ctrl-C) every process and both servers stop."""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
import websockets
from django.conf import settings

from callcenter.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
from callcenter.services import for_tests, postgres_answers, redis_answers

pytestmark = pytest.mark.multiprocess
MAX_SOCKETS = 20

# The demo floor, faster: a caller a second and short calls, so one is answered and ended within seconds.
FLOOR = """
name: e2e-floor
hours: 1
seed: 3
account: {slug: e2e-floor, name: "E2E floor", plan: unlimited-plus, timezone: Europe/Rome}
operators:
  - {prefix: agente, count: 4, skill: 6, answer_probability: 1.0, answer_delay_rings: [1, 1]}
services:
  - {name: Floor, criterion: skill, operators: "*", wrapup_seconds: 1, max_wait_seconds: 60}
numbers:
  - {number: "+390255559901", service: Floor}
arrivals:
  - {number: "+390255559901", per_hour: 3600}
callers:
  patience_seconds: {mean: 60}
  handle_seconds: {mean: 2}
"""
SUPERVISOR = """
from accounts.actions import create_supervisor
from accounts.models import Account
create_supervisor(Account.objects.get(slug="e2e-floor"), "floor-supervisor", "e2e-password")
"""


def wait_for(what: str, check: Callable[[], Any], timeout: float, log: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}; make run's output:\n{log.read_text()[-6000:]}")


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0


def admin_login(base: str, username: str, password: str) -> str:
    """Sign in through the admin's own form; the session cookie the browser would get."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/admin/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    form = {"username": username, "password": password, "csrfmiddlewaretoken": token, "next": "/admin/"}
    with opener.open(f"{base}/admin/login/", urllib.parse.urlencode(form).encode(), timeout=10) as response:
        assert response.url.endswith("/admin/"), "the supervisor's login was refused"
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def web_worker_holding(run_pid: int, port: int, client_port: int) -> int | None:
    """The process of the run that holds the server side of our connection: which web worker accepted it."""
    for process in psutil.Process(run_pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            for conn in process.net_connections(kind="tcp"):
                if conn.laddr.port == port and conn.raddr and conn.raddr.port == client_port:
                    return process.pid
    return None


async def next_event(socket: websockets.ClientConnection, snapshot: dict) -> dict:
    while True:
        event = json.loads(await asyncio.wait_for(socket.recv(), 20))
        if event["type"] in ("operator.state", "calls.changed") and event["seq"] > snapshot["seq"]:
            return event


async def events_on_every_web_worker(base: str, cookie: str, run_pid: int, port: int) -> list[tuple[int, dict]]:
    """Open wallboard sockets until both web workers hold one (the kernel gives a connection to whichever
    worker accepts first), then wait on each for an event the simulator process publishes after its snapshot."""
    url = base.replace("http://", "ws://") + "/ws/wallboard/"
    opened: list[tuple[websockets.ClientConnection, dict, int | None]] = []
    try:
        while len({worker for *_, worker in opened}) < 2 and len(opened) < MAX_SOCKETS:
            socket = await websockets.connect(url, additional_headers={"Cookie": cookie, "Origin": base})
            snapshot = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert snapshot["type"] == "snapshot"
            worker = await asyncio.to_thread(web_worker_holding, run_pid, port, socket.local_address[1])
            opened.append((socket, snapshot, worker))
            await asyncio.sleep(0.2)
        events = await asyncio.gather(*(next_event(socket, snapshot) for socket, snapshot, _ in opened))
        return [(worker, event) for (_, _, worker), event in zip(opened, events, strict=True)]
    finally:
        for socket, *_ in opened:
            await socket.close()


def answered_calls(database_url: str) -> int:
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        return conn.execute("select count(*) from acd_call c join accounts_account a on a.id = c.account_id "
                            "where a.slug = 'e2e-floor' and c.answered_at is not null and c.state = 'ended'"
                            ).fetchone()[0]


def test_make_run_on_embedded_services_serves_the_admin_routes_calls_and_streams_events():
    folder = Path(tempfile.mkdtemp(prefix="centralino-e2e-"))
    log = folder / "run.log"
    (folder / "floor.yaml").write_text(FLOOR)
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(EMBEDDED_DATA_DIR=str(folder), PORT=str(port), DEMO_SIMULATION="1",
               DEMO_SCENARIO=str(folder / "floor.yaml"), WEB_CONCURRENCY="2", CELERY_CONCURRENCY="1",
               FAST_PASSWORD_HASHER="1", PYTHONUNBUFFERED="1", ENV_FILE=os.devnull)  # never a developer's .env
    with log.open("w") as out:
        run = subprocess.Popen([sys.executable, "-m", "callcenter.run"], cwd=settings.BASE_DIR, env=env,
                               stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        banner = wait_for("migrations and the demo", lambda: re.search(
            r"DATABASE_URL=(\S+)\n\s*REDIS_URL=(\S+)", log.read_text()), 60, log)
        database_url, redis_url = banner[1], banner[2]
        assert database_url.startswith("postgres://postgres@127.0.0.1:") and database_url.endswith("/centralino")
        assert redis_url.startswith("redis://127.0.0.1:")
        wait_for("the admin login page", lambda: http_status(f"{base}/admin/login/") == 200, 40, log)
        wait_for("an answered and ended demo call", lambda: answered_calls(database_url) > 0, 40, log)

        subprocess.run([sys.executable, "manage.py", "shell", "-c", SUPERVISOR], cwd=settings.BASE_DIR, check=True,
                       env={**env, "DATABASE_URL": database_url, "REDIS_URL": redis_url}, capture_output=True)
        cookie = admin_login(base, "floor-supervisor", "e2e-password")
        received = asyncio.run(events_on_every_web_worker(base, cookie, run.pid, port))
        assert len({worker for worker, _ in received} - {None}) == 2, received
        assert all(event["stream"] == received[0][1]["stream"] for _, event in received)
        output = log.read_text()
        for name in ("web", "worker", "deliveries", "beat", "demo"):
            assert f"{name} started" in output
        assert "Traceback" not in output, output[-6000:]
    finally:
        run.send_signal(signal.SIGTERM)  # as a Ctrl-C: honcho stops the processes, then the servers are stopped
        try:
            returncode = run.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            returncode = None
        servers = EmbeddedPostgres(folder / "postgres"), EmbeddedRedis(folder / "redis")
        still_running = [server.data_dir.name for server in servers if server.running_pid()]
        for server in servers:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    assert returncode == 128 + signal.SIGTERM, log.read_text()[-3000:]
    assert not still_running, f"make run left {still_running} running after it stopped"


def test_make_tests_services_are_embedded_where_nothing_answers(monkeypatch):
    """`make test` on a machine with neither service: local URLs where nothing answers (and not on Debian's
    ports) get embedded servers with the same database name and Redis db, stopped afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="centralino-fallback-"))
    monkeypatch.setenv("EMBEDDED_DATA_DIR", str(folder))
    services = for_tests(f"postgres://postgres@127.0.0.1:{free_port()}/centralino_fallback",
                         f"redis://127.0.0.1:{free_port()}/3")
    try:
        assert services.database_url.endswith("/centralino_fallback")
        assert services.redis_url.endswith("/3")
        with psycopg.connect(services.database_url, connect_timeout=5) as conn:
            assert conn.execute("show server_version").fetchone()[0].startswith("18.")
        assert redis_answers(services.redis_url)
        assert [server.data_dir for server in services.started] == [folder / "test" / "postgres",
                                                                    folder / "test" / "redis"]
    finally:
        services.stop()
        shutil.rmtree(folder, ignore_errors=True)
    assert not postgres_answers(services.database_url)
    assert not redis_answers(services.redis_url)
