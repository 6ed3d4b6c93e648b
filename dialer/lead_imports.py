"""Lead files imported in the background: the supervisor uploads a file, a Celery worker imports it, the import
page shows its bar meanwhile and its report of refused rows afterwards.

Why not in the request: a list of 100,000 rows takes tens of seconds to check and save, longer than a proxy
or a browser waits for an answer, and the supervisor saw nothing until it was over.

Exactly once, whatever Celery does: a worker claims the import with a token of its own (a conditional
UPDATE), renews its heartbeat as it checks the rows, and saves the leads in one transaction that first marks
the import done under that token; a redelivered task finds it claimed or done and does nothing, and a run whose
worker died (its heartbeat stopped) is claimed again by the periodic sweep (`resume_stalled_imports`), never by
an ETA. The uploaded file is dropped once the import is over.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from core.clock import now
from core.tasks import enqueue, enqueue_on_commit

from . import imports
from .choices import ImportState
from .models import LeadImport, LeadList

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
REFUSED_KEPT = 10_000  # refused rows kept with the report (the count is exact): the page stays readable
STALE_AFTER = dt.timedelta(minutes=2)  # no heartbeat for this long: the worker is gone, the sweep runs it again
QUEUED_PATIENCE = dt.timedelta(seconds=30)  # queued this long and not started: its task was lost, send another


def start_lead_import(lead_list_id: int, content: bytes, filename: str, *, by: str = "",
                      language: str = "") -> LeadImport:
    """Record the upload and queue its import for after the commit. The file is only bounded here; what is
    in it is checked by the import, which reports every refused row (or fails whole, saying why) in the
    uploader's `language` (the active one by default)."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise imports.ImportFileError(_("At most 20 MB."))
    if not filename.lower().endswith((".csv", ".xlsx")):
        raise imports.ImportFileError(_("Upload a .csv or .xlsx file."))
    with transaction.atomic():
        lead_list = LeadList.objects.get(pk=lead_list_id)
        job = LeadImport.objects.create(account_id=lead_list.account_id, lead_list=lead_list, content=content,
                                        filename=filename[:200], created_by=by[:150],
                                        language=(language or translation.get_language() or "")[:10],
                                        created_at=now())
        enqueue_on_commit(import_leads_task, job.pk)
    return job


def _claim(import_id: int, token: str) -> bool:
    at = now()
    claimable = Q(state=ImportState.QUEUED) | Q(state=ImportState.RUNNING, heartbeat_at__lt=at - STALE_AFTER)
    return LeadImport.objects.filter(claimable, pk=import_id).update(
        state=ImportState.RUNNING, run_token=token, heartbeat_at=at) == 1


def _note_progress(import_id: int, token: str, checked: int) -> None:
    LeadImport.objects.filter(pk=import_id, run_token=token, state=ImportState.RUNNING).update(
        checked_rows=checked, heartbeat_at=now())


def _fail(import_id: int, token: str, message: str) -> None:
    LeadImport.objects.filter(pk=import_id, run_token=token, state=ImportState.RUNNING).update(
        state=ImportState.FAILED, error=message[:2000], content=b"", finished_at=now())


def run_lead_import(import_id: int) -> bool:
    """Import the file: True when this run saved it, False when another run has it or had it already."""
    token = uuid.uuid4().hex
    if not _claim(import_id, token):
        return False
    job = LeadImport.objects.select_related("lead_list__account").get(pk=import_id)
    with translation.override(job.language or settings.LANGUAGE_CODE):
        return _run(job, token)


def _run(job: LeadImport, token: str) -> bool:
    import_id = job.pk
    lead_list = job.lead_list
    try:
        rows = imports.read_file(bytes(job.content), job.filename)
        imports.check_file_shape(rows)
    except imports.ImportFileError as exc:
        _fail(import_id, token, str(exc))
        return True
    LeadImport.objects.filter(pk=import_id, run_token=token).update(total_rows=len(rows), heartbeat_at=now())
    report, leads = imports.check_rows(lead_list, rows, fallback_timezone=lead_list.account.timezone,
                                       on_progress=lambda n: _note_progress(import_id, token, n))
    with transaction.atomic():
        # Done under this run's token first: a run the sweep took over meanwhile saves nothing (0 rows), and
        # the row stays locked until these leads are committed with it.
        mine = LeadImport.objects.filter(pk=import_id, run_token=token, state=ImportState.RUNNING).update(
            state=ImportState.DONE, checked_rows=len(rows), finished_at=now(), content=b"")
        if not mine:
            return False
        imports.save_leads(lead_list, leads, report)
        LeadImport.objects.filter(pk=import_id).update(imported=report.imported, refused_count=len(report.refused),
                                                       refused=report.refused[:REFUSED_KEPT])
    return True


def resume_stalled_imports() -> int:
    """Queue again the imports whose task was lost (queued and never started) or whose worker died (running,
    its heartbeat stopped): the claim decides which run goes on."""
    at = now()
    stalled = LeadImport.objects.filter(Q(state=ImportState.QUEUED, created_at__lt=at - QUEUED_PATIENCE)
                                        | Q(state=ImportState.RUNNING, heartbeat_at__lt=at - STALE_AFTER))
    ids = list(stalled.order_by("pk").values_list("pk", flat=True)[:100])
    for import_id in ids:
        enqueue(import_leads_task, import_id)
    return len(ids)


def progress(job: LeadImport) -> dict[str, object]:
    """What the import page's bar shows (also its JSON for the page's poll)."""
    total = job.total_rows or 0
    percent = 100 if job.state == ImportState.DONE else (round(100 * job.checked_rows / total) if total else 0)
    return {"id": job.pk, "state": job.state, "state_label": ImportState(job.state).label, "total": total,
            "checked": job.checked_rows, "percent": percent, "imported": job.imported,
            "refused": job.refused_count, "error": job.error,
            "over": job.state in (ImportState.DONE, ImportState.FAILED)}


@shared_task(acks_late=True, ignore_result=True)
def import_leads_task(import_id: int) -> bool:
    """Import one uploaded lead file. A redelivery or a second copy finds it claimed: nothing twice."""
    return run_lead_import(import_id)


@shared_task(ignore_result=True)
def resume_stalled_imports_task() -> int:
    """Every 30 s (Celery beat): imports whose task was lost or whose worker died are queued again."""
    return resume_stalled_imports()
