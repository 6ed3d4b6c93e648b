"""The SIP edge's limits on the wire, with real Kamailio and SIPp: the calls-per-second cap is the account's."""

from __future__ import annotations

import re
import shutil
import time

import pytest

from acd.models import Call
from agents import actions as presence
from telephony.backends.sip import rpc
from tests import factories

from .sipstack import SipStack
from .test_sip_calls import assert_nothing_left, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("sip"),
              pytest.mark.skipif(not (shutil.which("kamailio") and shutil.which("sipp")),
                                 reason="make test installs kamailio and sip-tester")]


def pipe_names() -> set[str]:
    """pipelimit's pipes (`pl.get_pipes`: one "PIPE: id=<name> algorithm=… limit=… counter=…" line each in
    Kamailio 5.6, a structure with a name in later versions)."""
    names = set()
    for pipe in rpc.call("pl.get_pipes") or []:
        if isinstance(pipe, dict):
            names.add(str(pipe.get("name", "")))
        elif match := re.search(r"\bid=(\S+)", str(pipe)):
            names.add(match.group(1))
    return names


@pytest.fixture
def capped(settings):
    sip = SipStack(cps_limit=1).start()
    settings.SIP_RPC_PORT = sip.rpc_port
    yield sip
    sip.stop()
    sip.cleanup()


def test_the_calls_per_second_cap_counts_an_accounts_numbers_together(capped):
    """Three numbers of one account, a cap of 1 call a second: three callers at once, one to each number.
    Capped per number, all three would pass; per account, at most two do (the three INVITEs fall in at most
    two of pipelimit's one-second intervals), and the rest are refused 503 before the back office is asked."""
    phones = [capped.phone("operator", ring_ms=0)[0] for _ in range(3)]
    account = factories.make_account()
    ops = [factories.make_operator(account, endpoint=uri) for uri in phones]
    service = factories.make_service(account, [(op, 5) for op in ops], wrapup_seconds=0)
    numbers = [factories.make_number(account, service, number=f"+3902555000{i}") for i in range(3)]
    for op in ops:
        presence.login_operator(op.pk)
    for i, number in enumerate(numbers):  # each number's first call: its account is not known yet, and is learnt
        assert capped.call(number.number, talk_ms=100, tag=f"warm{i}").returncode == 0, capped.log("kamailio.log")
    assert wait_for(lambda: Call.objects.filter(account=account, state="ended").count() == 3)
    time.sleep(1.2)
    callers = [capped.call(number.number, talk_ms=300, wait=False, tag=f"burst{i}") for i, number in
               enumerate(numbers)]
    for caller in callers:
        caller.wait(timeout=60)
    logs = [capped.log(f"burst{i}-messages.log") for i in range(3)]
    refused = [log for log in logs if "SIP/2.0 503" in log]
    assert 1 <= len(refused) <= 2, [log[-1200:] for log in logs]
    assert all("CPS_LIMIT" in log and "Retry-After: 1" in log for log in refused)
    assert Call.objects.filter(account=account).count() == 3 + 3 - len(refused)  # the refused were never asked
    pipes = pipe_names()
    assert f"account-{account.pk}" in pipes, pipes
    assert_nothing_left(account)
