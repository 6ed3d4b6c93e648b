"""Test set-up: the real PostgreSQL and Redis, or a loud failure. Never SQLite, never an in-memory layer."""

from __future__ import annotations

import pytest
from django.conf import settings

REAL_SERVICES_HELP = (
    "Centralino's tests run against the real PostgreSQL and Redis. Run them with `make test` "
    "(which starts both, or embedded ones, when they do not answer), or set DATABASE_URL=postgres://… "
    "and REDIS_URL=redis://…"
)


def pytest_configure(config: pytest.Config) -> None:
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(f"DATABASE_URL is not PostgreSQL (engine {engine}). {REAL_SERVICES_HELP}")
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    if "RedisChannelLayer" not in layer:
        raise pytest.UsageError(f"REDIS_URL is unset (channel layer {layer}). {REAL_SERVICES_HELP}")
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL).ping()
    except redis.RedisError as exc:
        raise pytest.UsageError(f"Redis at {settings.REDIS_URL} does not answer: {exc}. {REAL_SERVICES_HELP}") \
            from exc


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def clock():
    """The injectable clock, frozen at a Monday 10:00 in Rome; tests move it forward explicitly."""
    from acd.tests.switch import start_clock
    from core.clock import use_clock

    clock = start_clock()
    with use_clock(clock):
        yield clock


@pytest.fixture(autouse=True)
def _english():
    """A request with Accept-Language: it leaves Italian active on the thread; each test starts in English."""
    from django.utils import translation

    translation.activate("en")
    from boards.consumers import _board_snapshots, _stats_gate

    _board_snapshots.clear()  # ids repeat across tests' flushed databases; never in production
    from telephony.api.authentication import SIGNERS

    SIGNERS.clear()  # a flush (TRUNCATE) saves no account: nothing else would tell this process
    _stats_gate.clear()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True, scope="session")
def _own_redis_namespace(worker_id):
    """Parallel workers share one Redis: give each its own channel-layer prefix and sequence keys, so
    account.1 of one worker's database never meets account.1 of another's."""
    from channels.layers import channel_layers
    from django.conf import settings

    prefix = f"centralino-test-{worker_id}"
    settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = prefix
    channel_layers.backends.clear()
    import os

    os.environ["CHANNELS_PREFIX"] = prefix  # for the servers the browser tests start
    yield
