"""The one Celery app, configured from Django settings (`CELERY_*`)."""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callcenter.settings")

app = Celery("callcenter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def leave_the_workers_process_group(**kwargs: object) -> None:
    """A pool process leaves its worker's process group. A supervisor that stops a process by signalling its
    whole group (honcho under `make run`, foreman, supervisord's stopasgroup) then reaches only the worker's main
    process, which stops the pool once the running tasks are done (a warm shutdown), instead of the pool dying
    under a task (WorkerLostError, the task redelivered)."""
    os.setpgrp()
