"""Lost calls reconciled in minutes (issue 11, item 8): a call whose engine reports it alive (`call_alive`) and
then falls silent is ended as lost once LEASE_SILENCE_SECONDS pass, its channel freed, its operator released,
its talk time cut at the last heartbeat; engines that send no heartbeat keep the hours-long lease."""

import datetime as dt
import json
import subprocess
import sys

import pytest
from django.conf import settings

from acd import actions
from acd.choices import CallEventKind, CallState, HangupCause
from acd.models import CallEvent
from acd.tests.switch import only_ring
from agents import actions as presence
from agents.choices import OperatorState
from agents.models import Operator
from budget import actions as budget
from budget.models import ChannelLease, LeaseRepair
from core.roundtrips import count_round_trips
from telephony import port
from telephony.signing import ACCOUNT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests import factories
from tests.processes import child_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def short_silence(settings):
    settings.LEASE_SILENCE_SECONDS = 120
    settings.CHANNEL_LEASE_SECONDS = 4 * 3600


def talking(account, switch, n_ops=1):
    """Calls answered by operators (no wrap-up), one per operator; returns their refs and the operators."""
    ops = [factories.make_operator(account) for _ in range(n_ops)]
    number = factories.make_number(account, factories.make_service(account, [(op, 5) for op in ops],
                                                                   wrapup_seconds=0))
    for op in ops:
        presence.login_operator(op.pk)
    refs = []
    for _ in ops:
        ref, commands = switch.incoming(number.number)
        switch.answer(ref, only_ring(commands))
        refs.append(ref)
    return refs, ops


def alive(switch, ref):
    return switch.event(port.CallAlive, ref)


def test_a_call_silent_after_its_heartbeats_is_ended_within_minutes(account, switch, short_silence):
    (ref,), (op,) = talking(account, switch)
    answered = switch.call(ref).answered_at
    for _ in range(2):
        switch.clock.advance(30)
        assert alive(switch, ref) == []
    last_heartbeat = answered + dt.timedelta(seconds=60)
    assert ChannelLease.objects.get(call__engine_ref=ref).alive_at == last_heartbeat
    switch.clock.advance(119)
    assert actions.reconcile_leases() == 0  # 119 s of silence: still within the deadline
    switch.clock.advance(2)
    assert actions.reconcile_leases() == 1

    call = switch.call(ref)
    assert (call.state, call.end_cause) == (CallState.ENDED, HangupCause.LOST)
    assert call.talk_seconds == 60.0  # cut at the last heartbeat, not when the silence was noticed
    assert call.ended_at == last_heartbeat
    assert budget.in_use(account.pk) == 0
    assert ChannelLease.objects.get(call=call).ended_by == "repaired"
    assert Operator.objects.get(pk=op.pk).state == OperatorState.AVAILABLE
    assert port.HangupCall(call_ref=ref, cause=HangupCause.LOST) in switch.pending()
    assert "end event lost" in LeaseRepair.objects.get().reason
    assert actions.reconcile_leases() == 0  # idempotent: nothing is repaired twice
    assert switch.hangup(ref) == []  # the engine's late hangup changes nothing
    assert budget.in_use(account.pk) == 0
    assert CallEvent.objects.filter(call=call, kind=CallEventKind.ENDED).count() == 1


def test_heartbeats_keep_a_long_call_past_its_lease(account, switch, settings):
    settings.LEASE_SILENCE_SECONDS = 120
    settings.CHANNEL_LEASE_SECONDS = 600
    (ref,), _ = talking(account, switch)
    for _ in range(20):  # 20 minutes on the phone, twice the lease, with a heartbeat every minute
        switch.clock.advance(60)
        alive(switch, ref)
        assert actions.reconcile_leases() == 0
    assert switch.call(ref).state == CallState.CONNECTED
    assert budget.in_use(account.pk) == 1


def test_without_heartbeats_the_lease_still_decides(account, switch, short_silence):
    (ref,), _ = talking(account, switch)
    switch.clock.advance(3600)  # an hour of talk: an engine that sends no heartbeat is not cut short
    assert actions.reconcile_leases() == 0
    assert switch.call(ref).state == CallState.CONNECTED
    switch.clock.advance(3 * 3600 + 1)
    assert actions.reconcile_leases() == 1
    call = switch.call(ref)
    assert call.end_cause == HangupCause.LOST
    assert call.talk_seconds == 0.0  # the last sign of life the lease saw was the answer: no phantom hours billed


def test_a_heartbeat_for_an_ended_or_unknown_call_changes_nothing(account, switch, short_silence):
    (ref,), _ = talking(account, switch)
    switch.hangup(ref)
    assert alive(switch, ref) == []
    assert alive(switch, "no-such-call") == []
    assert ChannelLease.objects.get().alive_at is None


def test_the_simulators_own_clock_is_left_alone(switch, clock, short_silence):
    account = factories.make_account(is_simulation=True)
    from acd.tests.switch import Switch

    sim = Switch(account, clock)
    (ref,), _ = talking(account, sim)
    alive(sim, ref)
    clock.advance(3600)
    assert actions.reconcile_leases() == 0
    assert sim.call(ref).state == CallState.CONNECTED


def test_a_heartbeat_costs_one_round_trip(account, switch, short_silence):
    (ref,), _ = talking(account, switch)
    with count_round_trips() as rt:
        alive(switch, ref)
    assert rt.count == 1, rt.describe()


def test_call_alive_is_a_port_event():
    event = port.event_from_dict({"type": "call_alive", "event_id": "hb-1", "call_ref": "c1"})
    assert event == port.CallAlive(event_id="hb-1", call_ref="c1")
    with pytest.raises(port.PortError):
        port.event_from_dict({"type": "call_alive", "event_id": "hb-1"})


def test_an_engine_sends_call_alive_over_the_signed_webhook(account, switch, short_silence):
    from django.urls import reverse
    from rest_framework.test import APIClient

    (ref,), _ = talking(account, switch)
    switch.clock.advance(45)
    body = json.dumps({"type": "call_alive", "event_id": "hb-1", "call_ref": ref}).encode()
    ts = int(switch.clock.now().timestamp())
    headers = {ACCOUNT_HEADER: account.slug, TIMESTAMP_HEADER: str(ts),
               SIGNATURE_HEADER: sign(account.webhook_secret, ts, body)}
    response = APIClient().post(reverse("telephony-events"), data=body, content_type="application/json",
                                headers=headers)
    assert (response.status_code, response.json()) == (200, {"commands": []})
    assert ChannelLease.objects.get().alive_at == switch.call(ref).answered_at + dt.timedelta(seconds=45)


@pytest.mark.multiprocess
def test_reconcilers_in_parallel_processes_end_each_lost_call_once(clock):
    account = factories.make_account()
    from acd.tests.switch import Switch

    switch = Switch(account, clock)
    refs, _ = talking(account, switch, n_ops=6)
    for ref in refs:
        alive(switch, ref)
    # The children run on the system clock: their heartbeats are an hour old there.
    ChannelLease.objects.update(alive_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    env = child_env(LEASE_SILENCE_SECONDS="120")
    script = "from acd.tasks import reconcile_leases_task; import json; print(json.dumps(reconcile_leases_task()))"
    procs = [subprocess.Popen([sys.executable, "manage.py", "shell", "-c", script], cwd=settings.BASE_DIR, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err[-1500:] for _, err in outs]
    assert sum(json.loads(out.strip().splitlines()[-1]) for out, _ in outs) == len(refs)
    for ref in refs:
        call = switch.call(ref)
        assert call.end_cause == HangupCause.LOST
        assert CallEvent.objects.filter(call=call, kind=CallEventKind.ENDED).count() == 1
    assert LeaseRepair.objects.count() == len(refs)
    assert budget.in_use(account.pk) == 0
    assert Operator.objects.filter(account=account, state=OperatorState.AVAILABLE).count() == len(refs)
