"""Issue 11, finding 6: `make run` loads the demo (superuser admin, the public API token) only in its demo mode."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from accounts.models import ApiToken, hash_token
from callcenter import run
from callcenter.demo import DEMO_API_TOKEN
from callcenter.services import Services
from tests.processes import child_env


class Started:  # stands for an embedded server this run started (only its presence counts)
    def stop(self) -> None:
        pass


@pytest.mark.parametrize(("asked", "embedded", "demo"), [
    ("", True, True), ("", False, False), ("1", False, True), ("0", True, False), ("true", False, True)])
def test_demo_only_when_asked_or_on_embedded_servers(monkeypatch, asked, embedded, demo):
    monkeypatch.setenv("DEMO", asked)
    services = Services("postgres://x", "redis://x", [Started()] if embedded else [])
    assert run.demo_mode(services) is demo


def test_demo_env_asks_for_debug_and_keeps_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("EMBEDDED_DATA_DIR", str(tmp_path))
    first = run.demo_env({"PATH": "/bin"})
    assert first["DEBUG"] == "true" and len(first["SECRET_KEY"]) >= 50
    assert run.demo_env({"PATH": "/bin"})["SECRET_KEY"] == first["SECRET_KEY"]  # stable sessions between runs
    assert run.demo_env({"SECRET_KEY": "mine", "DEBUG": "false"}) == {"SECRET_KEY": "mine", "DEBUG": "false"}


@pytest.mark.django_db(transaction=True)
def test_prepare_outside_demo_mode_creates_no_demo_logins():
    run.prepare(child_env(), demo=False)  # the real migrate, in a child process, on the test database
    assert not User.objects.filter(username="admin").exists()
    assert not ApiToken.objects.filter(key_hash=hash_token(DEMO_API_TOKEN)).exists()
