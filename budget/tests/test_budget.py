"""The concurrency budget: counting, the exact limit, resellers, leases, repairs, plan changes."""

import datetime as dt
import json
import subprocess
import sys

import psycopg
import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from accounts.models import Plan
from acd import actions
from acd.choices import CallState, Outcome
from acd.tests.switch import kinds, only_ring
from agents import actions as presence
from budget import actions as budget
from budget.models import ChannelLease, LeaseRepair, LimitRefusal
from core.pipeline import DeferredWrites
from routing.choices import NumberPurpose, OverflowAction
from telephony import port
from tests import factories
from tests.processes import child_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["single_statement", "portable"])
def implementation(request, monkeypatch):
    """The budget's PostgreSQL statements and its portable path (embedded mode) must agree."""
    monkeypatch.setattr(budget, "PORTABLE_ONLY", request.param == "portable")
    return request.param


def floor(account, n_ops=2, **service_kw):
    ops = [factories.make_operator(account) for _ in range(n_ops)]
    service = factories.make_service(account, [(op, 5) for op in ops], wrapup_seconds=0, **service_kw)
    number = factories.make_number(account, service)
    for op in ops:
        presence.login_operator(op.pk)
    return ops, service, number


def test_every_stage_of_an_inbound_call_holds_one_channel(starter, switch):
    _ops, _service, number = floor(starter, 1, overflow_action=OverflowAction.VOICEMAIL, max_wait_seconds=30)
    ref, commands = switch.incoming(number.number)  # ringing
    assert budget.in_use(starter.pk) == 1
    switch.answer(ref, only_ring(commands))  # talking
    assert budget.in_use(starter.pk) == 1
    queued, _ = switch.incoming(number.number)  # queued behind it
    assert switch.call(queued).state == CallState.QUEUED and budget.in_use(starter.pk) == 2
    switch.advance(30)  # maximum wait: voicemail
    assert switch.call(queued).state == CallState.VOICEMAIL and budget.in_use(starter.pk) == 2
    switch.event(port.VoicemailRecorded, queued, seconds=5.0)
    assert budget.in_use(starter.pk) == 1
    switch.hangup(ref)
    assert budget.in_use(starter.pk) == 0


def test_limit_is_exact_at_n_and_refused_at_n_plus_one(starter, switch, implementation):
    floor(starter, 3)
    number = starter.numbers.get()
    refs = [switch.incoming(number.number)[0] for _ in range(3)]
    assert budget.in_use(starter.pk) == 3
    ref, commands = switch.incoming(number.number)
    assert kinds(commands) == ["play", "hangup"]
    assert commands[-1] == port.HangupCall(call_ref=ref, cause="REACH_PLAN_LIMIT")
    call = switch.call(ref)
    assert (call.state, call.outcome, call.end_cause) == (CallState.ENDED, Outcome.REJECTED, "REACH_PLAN_LIMIT")
    refusal = LimitRefusal.objects.get()
    assert (refusal.account, refusal.limited_by, refusal.call_ref) == (starter, starter, ref)
    from django.urls import reverse

    from tests.api import client_for

    listed = client_for(starter).get(reverse("refusal-list")).json()["results"]
    assert [(r["call_ref"], r["direction"], r["limited_by"]) for r in listed] == [(ref, "inbound", starter.slug)]
    assert client_for(factories.make_account()).get(reverse("refusal-list")).json()["count"] == 0
    assert budget.in_use(starter.pk) == 3
    switch.hangup(refs[0])
    assert kinds(switch.incoming(number.number)[1])[0] == "answer"  # room again


def test_reseller_limit_holds_across_its_clients(clock, implementation):
    reseller = factories.make_account(plan_code="starter")  # 3 channels for all its clients together
    a = factories.make_account(parent=reseller)
    b = factories.make_account(parent=reseller)
    from acd.tests.switch import Switch

    sa, sb = Switch(a, clock), Switch(b, clock)
    na, nb = floor(a, 3)[2], floor(b, 3)[2]
    sa.incoming(na.number)
    sa.incoming(na.number)
    sb.incoming(nb.number)
    assert (budget.in_use(a.pk), budget.in_use(b.pk), budget.in_use(reseller.pk)) == (2, 1, 3)
    _ref, commands = sb.incoming(nb.number)
    assert commands[-1].cause == "REACH_PLAN_LIMIT"
    assert LimitRefusal.objects.get().limited_by == reseller
    assert (budget.in_use(a.pk), budget.in_use(b.pk), budget.in_use(reseller.pk)) == (2, 1, 3)  # rolled back


def test_duplicate_and_late_end_events_never_free_twice(starter, switch, implementation):
    _, _, number = floor(starter, 2)
    ref, commands = switch.incoming(number.number)
    switch.incoming(number.number)
    switch.answer(ref, only_ring(commands))
    switch.hangup(ref)
    switch.send(port.Hangup(event_id="late-dup", call_ref=ref))
    switch.send(port.Hangup(event_id="late-dup", call_ref=ref))
    assert budget.in_use(starter.pk) == 1
    assert budget.release(switch.call(ref).pk) is False


def test_forward_and_transfer_count_once(starter, switch):
    ops, _, number = floor(starter, 2)
    ref, commands = switch.incoming(number.number)
    switch.answer(ref, only_ring(commands))
    actions.transfer_call(switch.call(ref).pk, starter.pk, operator_id=ops[1].pk)
    switch.answer(ref, only_ring(switch.pending()))
    assert budget.in_use(starter.pk) == 1
    actions.transfer_call(switch.call(ref).pk, starter.pk, number="+390287654321")
    assert switch.call(ref).state == CallState.FORWARDED and budget.in_use(starter.pk) == 1
    switch.hangup(ref)
    assert budget.in_use(starter.pk) == 0
    assert ChannelLease.objects.get().released_at is not None


def test_service_calls_count_too(starter, switch):
    op = factories.make_operator(starter)
    login = factories.make_number(starter, purpose=NumberPurpose.OPERATOR_LOGIN)
    ref, _ = switch.incoming(login.number)
    assert budget.in_use(starter.pk) == 1
    assert ChannelLease.objects.get().direction == "system"
    switch.event(port.Digits, ref, digits=f"{op.code}*1234*1")
    assert budget.in_use(starter.pk) == 0


def test_lost_end_event_is_repaired_by_the_reconciler(starter, switch, settings, implementation):
    settings.CHANNEL_LEASE_SECONDS = 600
    ops, _, number = floor(starter, 1)
    ref, commands = switch.incoming(number.number)
    switch.answer(ref, only_ring(commands))
    switch.clock.advance(599)
    assert actions.reconcile_leases() == 0  # alive, within its lease
    switch.clock.advance(2)
    assert actions.reconcile_leases() == 1
    call = switch.call(ref)
    assert (call.state, call.end_cause) == (CallState.ENDED, "lost")
    assert budget.in_use(starter.pk) == 0
    assert "end event lost" in LeaseRepair.objects.get().reason
    assert port.HangupCall(call_ref=ref, cause="lost") in switch.pending()
    assert ops[0].__class__.objects.get(pk=ops[0].pk).state == "available"
    assert actions.reconcile_leases() == 0  # nothing twice


def test_events_keep_the_lease_alive(starter, switch, settings):
    settings.CHANNEL_LEASE_SECONDS = 600
    _, _, number = floor(starter, 1)
    ref, commands = switch.incoming(number.number)
    switch.clock.advance(500)
    switch.answer(ref, only_ring(commands))  # late, but a sign of life
    switch.clock.advance(500)
    assert actions.reconcile_leases() == 0
    assert budget.in_use(starter.pk) == 1


def test_upgrade_and_downgrade_during_live_calls(starter, switch):
    floor(starter, 5)
    number = starter.numbers.get()
    live = [switch.incoming(number.number)[0] for _ in range(3)]
    starter.plan = Plan.objects.get(code="unlimited-wl")
    starter.save()
    fourth, commands = switch.incoming(number.number)
    assert kinds(commands)[0] == "answer"  # the upgrade applies at once
    starter.plan = Plan.objects.get(code="starter")
    starter.save()
    assert all(switch.call(r).state != CallState.ENDED for r in [*live, fourth])  # nobody dropped
    assert budget.in_use(starter.pk) == 4
    assert switch.incoming(number.number)[1][-1].cause == "REACH_PLAN_LIMIT"
    switch.hangup(live[0])
    switch.hangup(live[1])
    assert kinds(switch.incoming(number.number)[1])[0] == "answer"  # 2 live under a limit of 3: fits again


def test_extra_channels_raise_the_limit(clock, implementation):
    from acd.tests.switch import Switch

    account = factories.make_account(plan_code="unlimited-wl")
    account.plan = Plan.objects.create(code="one", name="One", included_channels=1, extra_channels_allowed=True)
    account.save()
    _, _, number = floor(account, 3)
    switch_a = Switch(account, clock)
    switch_a.incoming(number.number)
    assert switch_a.incoming(number.number)[1][-1].cause == "REACH_PLAN_LIMIT"
    account.extra_channels = 1
    account.save()
    assert kinds(switch_a.incoming(number.number)[1])[0] == "answer"


@pytest.mark.multiprocess
def test_parallel_processes_never_pass_any_limit():
    reseller = factories.make_account(plan_code="starter")  # 3
    reseller.plan = Plan.objects.create(code="five", name="Five", included_channels=5)
    reseller.save()
    child = factories.make_account(plan_code="starter")  # 3
    child.parent = reseller
    child.slug = "hammer-child"
    child.save()
    env = child_env()
    procs = [subprocess.Popen([sys.executable, "manage.py", "budget_hammer", "--account", "hammer-child",
                               "--attempts", "150", "--tag", f"p{i}"], cwd=settings.BASE_DIR, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(6)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, [e[-1500:] for _, e in outs]
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    peak_child = max(r["peak"][str(child.pk)] for r in results)
    peak_reseller = max(r["peak"][str(reseller.pk)] for r in results)
    assert peak_child <= 3 and peak_reseller <= 5
    assert peak_child == 3  # the contention did reach the limit: the check was exercised
    assert sum(r["acquired"] for r in results) + sum(r["refused"] for r in results) == 900
    assert budget.in_use(child.pk) == 0 and budget.in_use(reseller.pk) == 0
    assert not ChannelLease.objects.filter(released_at__isnull=True).exists()


def test_lease_expiry_is_an_absolute_timestamp(starter, switch):
    _, _, number = floor(starter, 1)
    switch.incoming(number.number)
    lease = ChannelLease.objects.get()
    assert lease.expires_at - lease.acquired_at == dt.timedelta(seconds=settings.CHANNEL_LEASE_SECONDS)


def test_seed_003_worked_example_counts_seven(starter, switch, implementation):
    """2 inbound (1 talking, 1 ringing an agent) + 1 outbound + 1 internal + 3 OTP = 7 concurrent calls."""
    from django.urls import reverse

    from tests.api import client_for

    starter.plan = Plan.objects.create(code="seven", name="Seven", included_channels=7)
    starter.save()
    _, _, number = floor(starter, 2)
    talking, commands = switch.incoming(number.number)
    switch.answer(talking, only_ring(commands))
    switch.incoming(number.number)  # ringing the other operator
    client = client_for(starter)
    url = reverse("call-originate")
    placed = [client.post(url, {"destination": "+390298765432"}, format="json"),
              client.post(url, {"destination": "201", "direction": "internal"}, format="json"),
              *[client.post(url, {"destination": f"+39347000000{i}", "direction": "system"}, format="json")
                for i in range(3)]]
    assert [r.status_code for r in placed] == [201] * 5
    assert budget.in_use(starter.pk) == 7
    assert sorted(ChannelLease.objects.values_list("direction", flat=True)) == [
        "inbound", "inbound", "internal", "outbound", "system", "system", "system"]
    originated = [c for c in switch.pending() if isinstance(c, port.Originate)]
    assert len(originated) == 5
    refused = client.post(url, {"destination": "+390298765433"}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "REACH_PLAN_LIMIT"
    assert refused.json()["call"]["end_cause"] == "REACH_PLAN_LIMIT"
    assert not [c for c in switch.pending() if isinstance(c, port.Originate)]  # nothing dialled
    switch.hangup(originated[0].call_ref)  # the outbound call ends: its channel comes back
    assert budget.in_use(starter.pk) == 6


def test_a_channel_taken_between_the_probe_and_the_commit_is_refused_exactly(starter, switch, monkeypatch):
    """An incoming call probes the counter, then takes its channel with its COMMIT. When another call takes
    the last channel in between, the commit-time acquire aborts the unit and the event runs again with the
    locking acquire: the call is refused, the counter never passes the limit, nothing of the first try stays."""
    floor(starter, 3)
    number = starter.numbers.get()
    [switch.incoming(number.number) for _ in range(2)]  # 2 of the Starter plan's 3 channels
    db = connection.settings_dict
    real = budget.acquire_at_commit

    def another_call_takes_the_last_channel(*args, **kwargs):
        with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"],
                             autocommit=True) as other:
            other.execute("UPDATE billing_channelusage SET in_use = in_use + 1 WHERE account_id = %s",
                          [starter.pk])
        real(*args, **kwargs)

    monkeypatch.setattr(budget, "acquire_at_commit", another_call_takes_the_last_channel)
    ref, commands = switch.incoming(number.number)
    assert kinds(commands) == ["play", "hangup"]
    assert commands[-1] == port.HangupCall(call_ref=ref, cause="REACH_PLAN_LIMIT")
    assert budget.in_use(starter.pk) == 3
    assert not ChannelLease.objects.filter(call__engine_ref=ref).exists()
    assert LimitRefusal.objects.get().call_ref == ref
    assert switch.call(ref).end_cause == "REACH_PLAN_LIMIT"


def test_the_commit_time_acquire_raises_raced_and_writes_nothing_when_full(starter, switch):
    floor(starter, 3)
    number = starter.numbers.get()
    refs = [switch.incoming(number.number)[0] for _ in range(3)]
    call = switch.call(refs[0])
    writes = DeferredWrites()
    budget.acquire_at_commit(writes, starter.pk, "inbound", "late", call.pk, switch.clock.now())
    with pytest.raises(DatabaseError) as raised, transaction.atomic():
        writes.flush(commit=False)
    assert budget.raced(raised.value)
    assert budget.in_use(starter.pk) == 3 and ChannelLease.objects.count() == 3
    assert not LimitRefusal.objects.exists()
