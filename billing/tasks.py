from __future__ import annotations

from celery import shared_task

from budget import actions as budget


@shared_task(acks_late=True, ignore_result=True)
def reconcile_leases_task() -> int:
    """Every minute: free channels whose call ended or went silent. Safe to run twice (conditional release)."""
    return budget.reconcile()


@shared_task(acks_late=True, ignore_result=True)
def issue_invoices_task() -> int:
    """Daily (Celery beat): last month's invoices not issued yet. Idempotent by (account, month)."""
    from .invoices import issue_last_month

    return issue_last_month()
