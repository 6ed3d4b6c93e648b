"""Race-freedom across OS processes, against the real PostgreSQL: no operator offered two calls at once,
no call offered to two operators, no call lost."""

import itertools
import subprocess
import sys

import pytest
from django.conf import settings

from acd.models import Call, Offer
from agents import actions as presence
from tests import factories
from tests.processes import child_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.multiprocess]

PROCESSES = 4
CALLS_EACH = 60
OPERATORS = 6  # fewer operators than calls in flight at peaks: contention on every reservation


def test_parallel_processes_never_double_offer_nor_lose_calls():
    account = factories.make_account()
    account.slug = "race-test"
    account.save()
    ops = [factories.make_operator(account) for _ in range(OPERATORS)]
    service = factories.make_service(account, [(op, 5) for op in ops], wrapup_seconds=0,
                                     overflow_when_nobody_logged_in=False)
    number = factories.make_number(account, service)
    for op in ops:
        presence.login_operator(op.pk)
    env = child_env()
    procs = [subprocess.Popen([sys.executable, "manage.py", "drive_calls", "--account", "race-test", "--number",
                               number.number, "--calls", str(CALLS_EACH), "--tag", f"t{i}"],
                              cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for i in range(PROCESSES)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * PROCESSES, [err[-2000:] for _, err in results]

    calls = Call.objects.filter(account=account)
    assert calls.count() == PROCESSES * CALLS_EACH
    assert not calls.exclude(state="ended").exists()  # every call reached an end: none lost
    # No call was offered to two operators: nobody declined, so every call rang at most one operator.
    assert max(Offer.objects.filter(call=c).count() for c in calls) <= 1
    assert Offer.objects.filter(account=account).values("operator", "call").distinct().count() == \
        Offer.objects.filter(account=account).count()
    # No operator was offered two calls at once. Every transition of an operator holds its row lock, so
    # its log in id order is the true order: it must chain (each change starts where the last ended) and
    # never ring twice without the first offer ending.
    from agents.models import OperatorEvent

    for op in ops:
        log = list(OperatorEvent.objects.filter(operator=op).order_by("id").values_list("from_state", "to_state"))
        assert all(prev[1] == cur[0] for prev, cur in itertools.pairwise(log)), op.login
        assert ("ringing", "ringing") not in log
        rang = sum(1 for _, to in log if to == "ringing")
        assert rang == Offer.objects.filter(operator=op).count()
    assert Offer.objects.filter(account=account, state="answered").count() == calls.filter(
        outcome="answered").count()
