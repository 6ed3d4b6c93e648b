"""The real components are wired in: PostgreSQL, Redis as channel layer and broker, Celery."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

from callcenter.celery import app as celery_app


@pytest.mark.django_db
def test_database_is_postgresql():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cur:
        cur.execute("select version()")
        assert cur.fetchone()[0].startswith("PostgreSQL")


def test_channel_layer_is_redis_and_delivers():
    layer = get_channel_layer()
    from channels_redis.core import RedisChannelLayer

    assert isinstance(layer, RedisChannelLayer)

    async def roundtrip():
        channel = await layer.new_channel()
        await layer.group_add("infra-test", channel)
        await layer.group_send("infra-test", {"type": "ping", "n": 7})
        message = await layer.receive(channel)
        await layer.group_discard("infra-test", channel)
        return message

    assert async_to_sync(roundtrip)() == {"type": "ping", "n": 7}


def test_celery_uses_redis_broker_and_is_not_eager():
    assert celery_app.conf.broker_url.startswith("redis://")
    assert celery_app.conf.task_always_eager is False


def test_an_idle_websocket_survives_longer_than_the_redis_read_timeout():
    """Regression: channels-redis with redis-py 8 raised TimeoutError after 5 s of silence, killing every
    idle consumer (a wallboard with nothing happening). redis-py is pinned below 8 for that."""
    import asyncio

    layer = get_channel_layer()

    async def idle():
        channel = await layer.new_channel()
        try:
            await asyncio.wait_for(layer.receive(channel), 6.5)
        except TimeoutError:
            return "quiet"

    assert async_to_sync(idle)() == "quiet"


def test_every_periodic_task_is_a_registered_task():
    """Beat sends tasks by name: a name with no task behind it is silently never run (it was, once)."""
    celery_app.loader.import_default_modules()
    scheduled = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    missing = [name for name in scheduled if name not in celery_app.tasks]
    assert not missing, f"beat schedules tasks that do not exist: {missing}"
