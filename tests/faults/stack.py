"""The processes a fault test runs and breaks: the Procfile's own commands (web, worker, beat), started on the
test's database and a Redis of the test's choosing (a private one when the test restarts it), each in its own
process group, their output kept for the assertion messages; and an engine posting signed webhook events."""

from __future__ import annotations

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
from pathlib import Path

from django.conf import settings

from callcenter.embedded import free_port
from telephony.signing import signed_headers
from tests.processes import child_env

EVENTS_PATH = "/api/v1/telephony/events/"


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
