"""The real Celery broker's default queue (the Redis list `celery`), read by tests: no worker listens to it
while the tests run, so a task queued by production code waits there to be found, taken and run."""

from __future__ import annotations

import base64
import json
from typing import Any

import redis
from django.conf import settings

DEFAULT_QUEUE = "celery"


def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def _args(raw: bytes) -> list[Any]:
    args, _kwargs, _embed = json.loads(base64.b64decode(json.loads(raw)["body"]))
    return args


def take_queued(task_name: str, args: list[Any]) -> list[list[Any]]:
    """Take off the queue every message for this task with these arguments; return their arguments."""
    taken = []
    for raw in _client().lrange(DEFAULT_QUEUE, 0, -1):
        if json.loads(raw)["headers"]["task"] == task_name and _args(raw) == args:
            _client().lrem(DEFAULT_QUEUE, 1, raw)
            taken.append(_args(raw))
    return taken
