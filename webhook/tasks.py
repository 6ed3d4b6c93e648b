"""Celery tasks of the engine edge. Tasks take ids (or nothing) and delegate; running one twice is safe."""

from __future__ import annotations

import logging

from celery import shared_task

from telephony.backends.sip.rpc import RpcError

from .reconcile import reconcile_dialogs

log = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def reconcile_sip_dialogs_task() -> int:
    """Every LEASE_RECONCILE_SECONDS with the SIP backend (Celery beat): end the calls whose dialog is gone.
    Twice, or beside the call's own late report, ends nothing twice: each call is ended under its lock."""
    try:
        return reconcile_dialogs()
    except RpcError as exc:
        log.warning("sip reconciler: Kamailio did not answer (%s); nothing ended", exc)
        return 0
