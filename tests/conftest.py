"""Collection fix-up for the schemathesis tests (tests/test_fuzz_api.py); a live web process for the tests that
use the API as an integrator would (the generated client, the integrator guide's examples)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
from django.conf import settings

from tests.processes import child_env


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Schemathesis names each operation's item `test[GET /path]` but, on pytest ≥ 9.2 (which builds the node
    id from `originalname`), every item gets the bare function's id: xdist then cannot tell them apart. Give
    each item the id its name says."""
    for item in items:
        if type(item).__name__ == "SchemathesisFunction" and item.name != getattr(item, "originalname", item.name):
            item._id = item.parent.id.child(item.name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def web_server():
    """Production's web command on a free port, on the test database, with the webhook engine backend (its
    commands wait in the outbox for the engine to poll)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "callcenter.asgi:application", "--host",
                                "127.0.0.1", "--port", str(port), "--lifespan", "off"], cwd=settings.BASE_DIR,
                               env=child_env(TELEPHONY_BACKEND="webhook"), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError(f"uvicorn did not start: {process.stderr.read().decode()[-2000:]}")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=20)
