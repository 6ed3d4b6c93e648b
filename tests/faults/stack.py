"""The processes a fault test runs and breaks: the Procfile's own commands (web, worker, beat), started on the
test's database and a Redis of the test's choosing (a private one when the test restarts it), each in its own
process group, their output kept for the assertion messages; and an engine posting signed webhook events."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from callcenter.embedded import EmbeddedPostgres, free_port
from telephony.signing import signed_headers
from tests.processes import child_env, test_db_url

EVENTS_PATH = "/api/v1/telephony/events/"


SEED = """
import json
from tests import factories
account, op, number = factories.make_floor()
print(json.dumps({"slug": account.slug, "secret": account.webhook_secret, "number": number.number,
                  "operator": op.pk, "token": factories.make_token(account)}))
"""


def copy_schema(server: EmbeddedPostgres, target_url: str) -> None:
    """This test database's tables, empty, on the private server (faster than migrating it again)."""
    bin_dir = server.bin_dir
    dump = subprocess.run([str(bin_dir / "pg_dump"), "--schema-only", "--no-owner", "--no-privileges",
                           test_db_url()], capture_output=True, check=True)
    # Per-column attribute options (`ALTER COLUMN … SET (…)`) are the source server's bookkeeping, not schema.
    schema = b"\n".join(line for line in dump.stdout.splitlines()
                        if not re.search(rb"ALTER COLUMN \S+ SET \(", line))
    loaded = subprocess.run([str(bin_dir / "psql"), "-q", "-v", "ON_ERROR_STOP=1", target_url], input=schema,
                            capture_output=True, check=False)
    assert loaded.returncode == 0, loaded.stderr.decode()[-2000:]


@contextlib.contextmanager
def private_postgres(directory: Path) -> Iterator[tuple[EmbeddedPostgres, str, dict]]:
    """A PostgreSQL of the test's own (the embedded one) with this test database's schema and a seeded floor
    (account, operator, number, API token): for the faults that stop, freeze or restart the whole server, which
    the machine's shared server must never see. Yields the server, its URL and the seed; stopped at the end
    (whichever instance the test restarted on its data directory)."""
    server = EmbeddedPostgres(directory / "postgres", durable=False)
    server.start()
    url = server.url("faults")
    try:
        server.create_database("faults")
        copy_schema(server, url)
        seeded = subprocess.run([sys.executable, "manage.py", "shell", "-c", SEED], cwd=settings.BASE_DIR,
                                env=child_env(DATABASE_URL=url), capture_output=True, text=True, check=True)
        yield server, url, json.loads(seeded.stdout.strip().splitlines()[-1])
    finally:
        EmbeddedPostgres(directory / "postgres").stop()


def procfile_command(name: str) -> str:
    for line in (Path(settings.BASE_DIR) / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise LookupError(f"the Procfile has no {name} process")


class Process:
    """One Procfile process, `bash -c` as honcho runs it, in its own session (stopped as a whole)."""

    def __init__(self, name: str, redis_url: str, database_url: str | None = None, **env: str) -> None:
        self.name = name
        self.log = Path(tempfile.mkstemp(prefix=f"fault-{name}-", suffix=".log")[1])
        environment = child_env(REDIS_URL=redis_url, TELEPHONY_BACKEND="webhook", PYTHONUNBUFFERED="1",
                                PATH=f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}",
                                **env)
        if database_url:
            environment["DATABASE_URL"] = database_url
        with self.log.open("w") as out:
            self.popen = subprocess.Popen(["bash", "-c", procfile_command(name)], cwd=settings.BASE_DIR,
                                          env=environment, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def errors(self) -> list[str]:
        """Lines that say something went wrong (tracebacks, ERROR logs)."""
        return [line for line in self.output().splitlines() if re.search(r"Traceback|\bERROR\b|CRITICAL", line)]

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, sig)
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
            except ProcessLookupError:
                pass


def start_web(redis_url: str, database_url: str | None = None, workers: int = 1, **env: str) -> tuple[Process, int]:
    port = free_port()
    web = Process("web", redis_url, database_url, PORT=str(port), HOST="127.0.0.1", WEB_CONCURRENCY=str(workers),
                  **env)
    wait_for_port(port, web)
    return web, port


def wait_for_port(port: int, process: Process, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.popen.poll() is None, f"{process.name} ended:\n{process.output()[-3000:]}"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"{process.name} did not listen on {port}:\n{process.output()[-3000:]}")


def wait_until(check, timeout: float, what: str, *logs: Process) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name}:\n{p.output()[-2000:]}" for p in logs)
            raise AssertionError(f"timed out waiting for {what}\n{tails}")
        time.sleep(0.2)


class Engine:
    """A telephony engine on the webhook: signed events, a fresh connection for each (a server may restart)."""

    def __init__(self, port: int, account, timeout: float = 30) -> None:
        self.port, self.slug, self.secret, self.timeout = port, account.slug, account.webhook_secret, timeout
        self.seq = 0

    def post(self, event: dict) -> tuple[int, dict]:
        self.seq += 1
        event = {"event_id": f"{event['call_ref']}-{event['type']}-{self.seq}", **event}
        body = json.dumps(event).encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request("POST", EVENTS_PATH, body=body, headers=signed_headers(self.slug, self.secret, body,
                                                                                time.time()))
            response = conn.getresponse()
            payload = response.read()
        finally:
            conn.close()
        return response.status, (json.loads(payload) if payload.startswith(b"{") else {"raw": payload[:300]})

    def incoming(self, ref: str, dialed: str) -> dict:
        status, answer = self.post({"type": "incoming_call", "call_ref": ref, "dialed": dialed,
                                    "caller": "+390612345678"})
        assert status == 200, answer
        ring = next((c for c in answer["commands"] if c["type"] == "ring"), None)
        assert ring is not None, answer
        return ring

    def answer(self, ref: str, ring: dict) -> None:
        for kind in ("leg_ringing", "leg_answered"):
            status, answer = self.post({"type": kind, "call_ref": ref, "leg_ref": ring["leg_ref"]})
            assert status == 200, answer
