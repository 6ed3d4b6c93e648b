from __future__ import annotations

from celery import shared_task

from .invoices import issue_last_month


@shared_task(acks_late=True, ignore_result=True)
def issue_invoices_task() -> int:
    """Daily (Celery beat): last month's invoices not issued yet. Idempotent by (account, month)."""
    return issue_last_month()
