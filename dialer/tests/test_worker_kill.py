"""Killing a real Celery worker (kill -9) in the middle of a campaign loses nothing: no lead is dialled more
often than its attempts, no channel is left held without a live call, and the campaign goes on with the other
worker (the pacing lease runs out; the placement loop sends the originates the dead worker took with it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.db.models import Count

from acd.choices import CallState, Direction
from acd.models import Call
from agents import actions as presence
from budget import actions as budget
from budget.models import ChannelLease
from dialer import actions
from dialer.choices import AttemptOutcome, CampaignMode, CampaignState
from dialer.models import Attempt, Campaign, Lead, LeadList
from dialer.tasks import pace_campaign_task
from tests import factories
from tests.processes import child_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.multiprocess]

ALL_DAY = {d: ["00:00", "23:59"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def start_worker(queue: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "callcenter", "worker", "--pool", "solo",
                             "-Q", queue, "-l", "warning", "--without-heartbeat", "--without-mingle",
                             "--without-gossip"], cwd=settings.BASE_DIR, env=child_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_kill_9_a_worker_mid_campaign_loses_nothing():
    account = factories.make_account()
    ops = [factories.make_operator(account) for _ in range(10)]
    service = factories.make_service(account, [(op, 5) for op in ops])
    for op in ops:
        presence.login_operator(op.pk)
    campaign = Campaign.objects.create(account=account, name="Kill", service=service, caller_id="+390212345678",
                                       mode=CampaignMode.PREDICTIVE, calling_hours=ALL_DAY)
    actions.change_campaign_state(campaign.pk, CampaignState.RUNNING, by="test")
    lead_list = LeadList.objects.create(account=account, campaign=campaign, name="L")
    Lead.objects.bulk_create([Lead(account=account, lead_list=lead_list, phone=f"+3906123456{i:02d}",
                                   timezone="Europe/Rome") for i in range(80)])
    queue = f"test-{uuid.uuid4().hex}"
    first = start_worker(queue)
    second = None
    try:
        pace_campaign_task.apply_async((campaign.pk,), queue=queue)
        # Kill the worker once it has started dialling, with originates still queued or in its hands.
        assert _wait(lambda: Call.objects.filter(account=account).count() >= 2, 60), first.stderr
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        placed_before = Attempt.objects.filter(campaign=campaign).count()
        pending_before = Attempt.objects.filter(campaign=campaign, outcome=AttemptOutcome.PENDING).count()
        assert pending_before > 0  # the dead worker left work undone

        second = start_worker(queue)

        def drained() -> bool:
            pace_campaign_task.apply_async((campaign.pk,), queue=queue)  # the beat's next ticks
            time.sleep(1)
            return not Attempt.objects.filter(campaign=campaign, outcome=AttemptOutcome.PENDING).exists()

        assert _wait(drained, 90), "attempts left undialled after the worker's death"
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.communicate(timeout=20)

    attempts = Attempt.objects.filter(campaign=campaign)
    assert attempts.count() >= placed_before
    # Never two calls for one attempt, never two attempts with the same number, never past the lead's count.
    calls = Call.objects.filter(account=account, direction=Direction.OUTBOUND)
    assert calls.count() == attempts.filter(call__isnull=False).count()
    assert not attempts.values("lead", "number").annotate(n=Count("id")).filter(n__gt=1).exists()
    for lead in Lead.objects.filter(lead_list=lead_list, attempts__gt=0):
        assert lead.attempts == attempts.filter(lead=lead).count() <= campaign.max_attempts
    assert attempts.filter(outcome=AttemptOutcome.RINGING).count() == calls.exclude(state=CallState.ENDED).count()
    # No channel held without a live call, and the budget's count agrees with the leases.
    live = calls.exclude(state=CallState.ENDED).count()
    assert budget.in_use(account.pk) == live
    assert ChannelLease.objects.filter(call__account=account, released_at__isnull=True).count() == live
