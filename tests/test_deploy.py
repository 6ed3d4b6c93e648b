"""Issue 11, finding 6: production settings come from the environment and `check --deploy` is clean with
production's values; without them the settings refuse to start instead of running insecurely."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from django.conf import settings

from tests.processes import test_db_url


def manage(args: list[str], **env: str) -> subprocess.CompletedProcess:
    # Production's settings module and nothing of the test run's environment besides the services.
    base = {"PATH": os.environ["PATH"], "DATABASE_URL": test_db_url(), "REDIS_URL": settings.REDIS_URL,
            "DJANGO_SETTINGS_MODULE": "callcenter.settings", "ENV_FILE": "/nonexistent"}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env={**base, **env},
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_values():
    result = manage(["check", "--deploy", "--fail-level", "WARNING"], SECRET_KEY=secrets.token_urlsafe(50),
                    ALLOWED_HOSTS="centralino.example.com")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_is_off_unless_asked_and_then_secret_key_is_required():
    result = manage(["check"])
    assert result.returncode != 0
    assert "SECRET_KEY is not set and DEBUG is off" in result.stderr
    shown = manage(["shell", "--no-imports", "-c", "from django.conf import settings; print(settings.DEBUG, "
                                   "settings.SESSION_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS)"],
                   SECRET_KEY=secrets.token_urlsafe(50))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["False", "True", "31536000"]


def test_loaddemo_refuses_without_debug():
    result = manage(["loaddemo"], SECRET_KEY=secrets.token_urlsafe(50))
    assert result.returncode != 0
    assert "only with DEBUG=true" in result.stderr
