"""Celery tasks of the simulator. Tasks take ids and delegate; they are safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import testcall


@shared_task(acks_late=True, ignore_result=True)
def drive_test_calls_task() -> int:
    """Every second (Celery beat): move the supervisors' test calls on, and end those past their time."""
    return testcall.drive()
