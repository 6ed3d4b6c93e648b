"""The outgoing events run on their own Celery queue, and the Procfile serves it: an integrator's endpoint
that answers slowly holds only the delivery workers, never the dialer's pacing or the ACD's sweeps."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from django.conf import settings

from callcenter.celery import app
from dialer.tasks import pace_campaign_task
from integrations.tasks import deliver_event_task, notify_paused_task, sweep_deliveries_task


def queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def procfile_queues() -> dict[str, list[str]]:
    """Each Celery worker process of the Procfile and the queues it consumes (the default one when no -Q)."""
    workers = {}
    for line in (Path(settings.BASE_DIR) / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        words = shlex.split(re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: os.environ.get(m[1], m[2]), command))
        if line.startswith("#") or "worker" not in words or "celery" not in words:
            continue
        queues = words[words.index("-Q") + 1] if "-Q" in words else app.conf.task_default_queue
        workers[name] = queues.split(",")
    return workers


def test_the_delivery_tasks_route_to_their_own_queue_and_the_others_do_not():
    assert settings.OUTGOING_EVENTS_QUEUE == "deliveries"
    for task in (sweep_deliveries_task, deliver_event_task, notify_paused_task):
        assert queue_of(task.name) == "deliveries", task.name
    assert queue_of(pace_campaign_task.name) == app.conf.task_default_queue != "deliveries"


def test_the_procfile_serves_both_queues_with_separate_workers():
    workers = procfile_queues()
    assert workers["deliveries"] == ["deliveries"]
    assert workers["worker"] == [app.conf.task_default_queue]
