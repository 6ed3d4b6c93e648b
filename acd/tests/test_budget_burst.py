"""A burst of simultaneous first calls, over several OS processes, at a reseller's fresh client accounts.

The budget creates an account's channel counters on its first call. Issue 9 saw 40 such calls at once over
three server processes deadlock in the budget's statement (a transaction held a reseller's counter while
waiting to create a client's counter that another transaction was creating and which, in turn, waited for
the reseller's): a 500 and a lost call. Here every call must get its answer, and the limits stay exact.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from django.conf import settings

from accounts.models import Account, Plan
from acd.models import Call
from budget.models import ChannelLease, ChannelUsage, LimitRefusal
from tests import factories
from tests.processes import child_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.multiprocess]

PROCESSES = 8
CALLS_EACH = 5  # 40 calls in flight at once
RESELLER_LIMIT, CLIENT_LIMIT = 25, 15


def _fresh_accounts():
    plan = Plan.objects.create(code="burst", name="Burst", included_channels=0, included_minutes=0)
    reseller = factories.make_account(extra_channels=RESELLER_LIMIT)
    clients = [factories.make_account(parent=reseller, extra_channels=CLIENT_LIMIT) for _ in range(2)]
    Account.objects.filter(pk__in=[reseller.pk] + [c.pk for c in clients]).update(plan=plan)
    numbers = []
    for client in clients:
        service = factories.make_service(client, overflow_when_nobody_logged_in=False)  # nobody: calls wait
        numbers.append(factories.make_number(client, service))
    # The reseller already has its counter (its other clients have had calls); the two clients are fresh:
    # no counter yet, as on their very first call.
    ChannelUsage.objects.create(account=reseller, in_use=0)
    assert not ChannelUsage.objects.filter(account__in=clients).exists()
    return reseller, clients, numbers


def test_simultaneous_first_calls_over_processes_all_answered_and_limits_exact(tmp_path):
    reseller, clients, numbers = _fresh_accounts()
    env = child_env()
    procs = []
    for p in range(PROCESSES):
        targets = [f"{numbers[(p + i) % 2].account_id}:{numbers[(p + i) % 2].number}" for i in range(CALLS_EACH)]
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "acd.tests.burst_child", str(tmp_path / f"ready{p}"), str(tmp_path / "go"),
             f"b{p}", *targets], cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True))
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready{p}").exists() for p in range(PROCESSES)):
        assert time.monotonic() < deadline, "children did not start"
        assert all(proc.poll() is None for proc in procs), [proc.communicate()[1][-2000:] for proc in procs]
        time.sleep(0.01)
    (tmp_path / "go").touch()
    outs = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * PROCESSES, [err[-2000:] for _, err in outs]
    reports = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    errors = [e for r in reports for e in r["errors"]]
    assert not errors, errors[0]  # no deadlock, no exception: every call got its answer
    answers = [a for r in reports for a in r["answers"]]
    assert len(answers) == PROCESSES * CALLS_EACH

    # Exact limits: the reseller's channels are all taken, no account went past its limit, and every call
    # beyond them was refused (busy prompt, hang-up) with its refusal written.
    held = ChannelLease.objects.filter(account__in=clients, released_at__isnull=True)
    assert held.count() == RESELLER_LIMIT
    for client in clients:
        assert held.filter(account=client).count() <= CLIENT_LIMIT
        assert ChannelUsage.objects.get(account=client).in_use == held.filter(account=client).count()
    assert ChannelUsage.objects.get(account=reseller).in_use == RESELLER_LIMIT
    answered = [a for a in answers if a[0] == "answer"]
    refused = [a for a in answers if a == ["play", "hangup"]]
    assert len(answered) == RESELLER_LIMIT and len(refused) == PROCESSES * CALLS_EACH - RESELLER_LIMIT, answers
    assert LimitRefusal.objects.filter(account__in=clients).count() == len(refused)
    assert Call.objects.filter(account__in=clients, end_cause="REACH_PLAN_LIMIT").count() == len(refused)
