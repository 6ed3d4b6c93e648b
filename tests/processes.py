"""What a child process (a worker, a second server, a load driver) needs to share the test's services."""

from __future__ import annotations

import os

from django.conf import settings
from django.db import connection


def test_db_url() -> str:
    """The URL of the database this test runs on (a test database, not the one in DATABASE_URL)."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment, pointed at the test's database and Redis."""
    return {**os.environ, "DATABASE_URL": test_db_url(), "REDIS_URL": settings.REDIS_URL, **extra}


test_db_url.__test__ = False  # a helper, not a test, wherever it is imported
