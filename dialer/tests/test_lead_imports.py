"""Lead files imported in the background (dialer/lead_imports.py): a real Celery worker imports an uploaded file
while its bar moves; the import happens exactly once whatever Celery does (two copies of the task at once, a
redelivery, a worker that died halfway); a file that cannot be read fails whole, saying why."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection, transaction

from dialer import imports, lead_imports
from dialer.choices import ImportState
from dialer.models import Campaign, Lead, LeadImport, LeadList
from tests import factories
from tests.processes import child_env

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 10_000  # ten times PROGRESS_EVERY: the bar moves ten times before the leads are saved


def big_csv(n: int = ROWS) -> bytes:
    lines = ["phone,name"] + [f"+39061{i:07d},Lead {i}" for i in range(n)] + ["not-a-number,Broken"]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def lead_list():
    account = factories.make_account()
    campaign = Campaign.objects.create(account=account, name="Winter", service=factories.make_service(account, []),
                                       caller_id="+390212345678")
    return LeadList.objects.create(account=account, campaign=campaign, name="December")


def test_a_real_worker_imports_the_file_and_the_bar_moves_on_the_way(lead_list):
    job = lead_imports.start_lead_import(lead_list.pk, big_csv(), "december.csv", by="sara")
    assert job.state == ImportState.QUEUED and not Lead.objects.filter(lead_list=lead_list).exists()
    queue = f"test-{uuid.uuid4().hex}"  # this test's own queue: no other worker takes its task
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "callcenter", "worker", "--pool", "prefork",
                               "--concurrency", "1", "-Q", queue, "-l", "warning", "--without-heartbeat",
                               "--without-mingle", "--without-gossip"], cwd=settings.BASE_DIR, env=child_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen: set[tuple[str, int]] = set()
    try:
        lead_imports.import_leads_task.apply_async((job.pk,), queue=queue)
        deadline = time.monotonic() + 90  # the worker's start-up included
        while time.monotonic() < deadline:
            job.refresh_from_db()
            seen.add((job.state, job.checked_rows))
            if job.state in (ImportState.DONE, ImportState.FAILED):
                break
            time.sleep(0.02)
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=20)
    assert job.state == ImportState.DONE, (job.state, job.error, errors[-2000:])
    assert (job.total_rows, job.checked_rows, job.imported, job.refused_count) == (ROWS + 1, ROWS + 1, ROWS, 1)
    assert job.refused == [{"row": ROWS + 2, "phone": "not-a-number", "reason": "bad_number",
                            "message": job.refused[0]["message"]}]
    assert Lead.objects.filter(lead_list=lead_list).count() == ROWS
    assert job.content == b"" and job.finished_at is not None
    # The bar was seen between empty and full, as a supervisor watching the page sees it (the leads are saved
    # only once every row was checked).
    assert {(ImportState.QUEUED, 0)} <= seen
    assert any(state == ImportState.RUNNING and 0 < checked < ROWS + 1 for state, checked in seen), seen


def test_two_copies_of_the_task_at_once_import_the_file_once(lead_list):
    job = lead_imports.start_lead_import(lead_list.pk, big_csv(), "twice.csv")
    results: list[bool] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait(10)
            results.append(lead_imports.run_lead_import(job.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(results) == [False, True]
    assert Lead.objects.filter(lead_list=lead_list).count() == ROWS
    assert lead_imports.run_lead_import(job.pk) is False  # a redelivery after it is done


def test_an_import_whose_worker_died_is_run_again_by_the_sweep_and_the_dead_run_cannot_finish(lead_list):
    job = lead_imports.start_lead_import(lead_list.pk, big_csv(10), "stalled.csv")
    dead_token = "dead-worker-token"
    assert lead_imports._claim(job.pk, dead_token)  # a worker took it, then was killed -9
    assert lead_imports.resume_stalled_imports() == 0  # its heartbeat is fresh: still its own
    LeadImport.objects.filter(pk=job.pk).update(heartbeat_at=job.created_at - dt.timedelta(minutes=5))
    assert lead_imports.resume_stalled_imports() == 1  # queued again (the claim decides who runs it)
    assert lead_imports.run_lead_import(job.pk) is True
    lead_imports._note_progress(job.pk, dead_token, 3)  # the dead run's late note changes nothing
    job.refresh_from_db()
    assert (job.state, job.checked_rows, job.imported) == (ImportState.DONE, 11, 10)
    assert Lead.objects.filter(lead_list=lead_list).count() == 10
    assert lead_imports.resume_stalled_imports() == 0


def test_a_lost_task_is_queued_again_once_the_import_waited_too_long(lead_list):
    job = lead_imports.start_lead_import(lead_list.pk, big_csv(3), "lost.csv")
    assert lead_imports.resume_stalled_imports() == 0
    LeadImport.objects.filter(pk=job.pk).update(created_at=job.created_at - lead_imports.QUEUED_PATIENCE * 2)
    assert lead_imports.resume_stalled_imports() == 1


def test_a_file_that_cannot_be_read_fails_whole_and_says_why(lead_list):
    job = lead_imports.start_lead_import(lead_list.pk, b"name,city\nAnna,Rome\n", "nophone.csv")
    assert lead_imports.run_lead_import(job.pk) is True
    job.refresh_from_db()
    assert job.state == ImportState.FAILED and "No phone column" in job.error and job.content == b""
    assert not Lead.objects.filter(lead_list=lead_list).exists()
    with pytest.raises(imports.ImportFileError, match=r"csv or \.xlsx"):
        lead_imports.start_lead_import(lead_list.pk, b"phone\n+390612345678\n", "leads.pdf")
    with pytest.raises(imports.ImportFileError, match="20 MB"):
        lead_imports.start_lead_import(lead_list.pk, b"x" * (lead_imports.MAX_UPLOAD_BYTES + 1), "big.csv")
    assert LeadImport.objects.filter(lead_list=lead_list).count() == 1  # the refused uploads left nothing


def test_two_imports_into_one_list_refuse_the_numbers_the_other_saved_first(lead_list):
    first = lead_imports.start_lead_import(lead_list.pk, big_csv(5), "a.csv")
    second = lead_imports.start_lead_import(lead_list.pk, big_csv(8), "b.csv")
    # Both checked their rows before either saved: the second finds the first's numbers at its save.
    token_a, token_b = "a" * 32, "b" * 32
    assert lead_imports._claim(first.pk, token_a) and lead_imports._claim(second.pk, token_b)
    report_b, leads_b = imports.check_rows(lead_list, imports.read_file(big_csv(8), "b.csv"),
                                           fallback_timezone="Europe/Rome")
    LeadImport.objects.filter(pk=first.pk).update(state=ImportState.QUEUED)  # let the first run on its own
    assert lead_imports.run_lead_import(first.pk) is True
    with transaction.atomic():
        imports.save_leads(lead_list, leads_b, report_b)
    assert report_b.imported == 3
    assert [r["row"] for r in report_b.refused if r["reason"] == "duplicate"] == [2, 3, 4, 5, 6]
    assert Lead.objects.filter(lead_list=lead_list).count() == 8
