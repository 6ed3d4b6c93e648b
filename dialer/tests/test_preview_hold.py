"""Preview mode's hold on the lead and on the operator, through the production ACD on the test switch.

A lead held in preview goes back to its list, due at once and uncounted, when its operator leaves (logs off,
is paused by a supervisor, is logged off by the account when their console closes) or holds it too long (the
dialer's periodic sweep); and the operator who reads a lead, then waits for the call they dialled, is rung by
no other call (inbound, or another campaign's) until the previewed call is answered or ends.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import random
import threading
import time
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import translation

from acd.choices import CallState
from acd.tests.switch import Switch, only_ring, rings
from agents import actions as presence
from agents.choices import OperatorState, PauseSource
from agents.models import Operator
from boards.session import session_data
from core.errors import ActionError
from dialer import actions as dialer_actions
from dialer import pacer, preview, tasks
from dialer.choices import AttemptOutcome, CampaignMode, CampaignState, LeadState
from dialer.models import Attempt, Campaign, Lead, LeadList
from dialer.tests.conftest import Floor
from telephony import port
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def _originate(switch) -> port.Originate:
    (orig,) = [c for c in switch.pending() if isinstance(c, port.Originate)]
    return orig


def _dialling_with_a_caller_waiting(floor, switch) -> SimpleNamespace:
    """One operator clicked to dial the lead they previewed; while its call is placed, a caller arrives."""
    f = floor(operators=1, mode=CampaignMode.PREVIEW)
    lead = f.lead("+390612345601")
    number = factories.make_number(f.account, f.service)
    reader = f.ops[0]
    card = preview.next_lead(reader.pk)
    preview.dial(reader.pk, card["attempt_id"])
    orig = _originate(switch)
    inbound, commands = switch.incoming(number.number)
    return SimpleNamespace(f=f, lead=lead, reader=reader, attempt_id=card["attempt_id"], orig=orig,
                           inbound=inbound, commands=commands)


def _released_and_due(lead: Lead, attempt_id: int, at: dt.datetime) -> None:
    lead.refresh_from_db()
    assert Attempt.objects.get(pk=attempt_id).outcome == AttemptOutcome.RELEASED
    assert (lead.state, lead.attempts, lead.next_attempt_at) == (LeadState.RETRY, 0, at)  # not a skip's hour


def _log_off(op: Operator, clock) -> None:
    presence.logoff_operator(op.pk)


def _supervisor_pauses(op: Operator, clock) -> None:
    presence.pause_operator(op.pk, source=PauseSource.SUPERVISOR, by="Sara Bianchi")


def _console_closes(op: Operator, clock) -> None:  # the account logs them off after the grace period
    presence.console_opened(op.pk)
    presence.console_closed(op.pk)
    clock.advance(settings.CONSOLE_LOGOFF_GRACE_SECONDS + 1)
    assert presence.logoff_unattended_consoles() == 1


@pytest.mark.parametrize("leave", [_log_off, _supervisor_pauses, _console_closes])
def test_an_operator_who_leaves_lets_the_held_lead_go_back_due_at_once(floor, switch, leave):
    f = floor(operators=2, mode=CampaignMode.PREVIEW)
    lead = f.lead("+390612345601")
    reader, other = f.ops
    card = preview.next_lead(reader.pk)
    assert preview.next_lead(other.pk) is None  # held: nobody else sees it

    leave(reader, switch.clock)
    _released_and_due(lead, card["attempt_id"], switch.clock.now())
    with pytest.raises(ActionError) as refused:
        preview.dial(reader.pk, card["attempt_id"])
    assert refused.value.code == "not_your_preview"
    assert preview.next_lead(other.pk)["phone"] == lead.phone  # at once, to the next operator
    assert preview.release_stale_holds() == 0  # the sweep finds nothing left to do
    assert switch.pending() == []  # nothing was dialled


def test_a_lead_held_too_long_goes_back_with_the_periodic_sweep(floor, switch):
    f = floor(operators=1, mode=CampaignMode.PREVIEW)
    lead = f.lead("+390612345601")
    reader = f.ops[0]
    card = preview.next_lead(reader.pk)
    switch.clock.advance(settings.PREVIEW_HOLD_SECONDS - 1)
    assert tasks.estimate_campaigns_task() == 1 and preview.release_stale_holds() == 0  # still being read
    assert Attempt.objects.get(pk=card["attempt_id"]).outcome == AttemptOutcome.PENDING
    switch.clock.advance(1)
    tasks.estimate_campaigns_task()  # the estimation loop (Celery beat, every 15 s) sweeps the holds
    _released_and_due(lead, card["attempt_id"], switch.clock.now())
    assert preview.release_stale_holds() == 0  # twice is once
    reader.refresh_from_db()
    assert (reader.state, reader.backoff_until) == (OperatorState.AVAILABLE, None)  # calls may ring them again
    assert preview.next_lead(reader.pk)["phone"] == lead.phone  # the lead itself is due again


def test_dialling_a_lead_held_too_long_is_refused_and_lets_it_go(floor, switch):
    f = floor(operators=1, mode=CampaignMode.PREVIEW)
    lead = f.lead("+390612345601")
    reader = f.ops[0]
    card = preview.next_lead(reader.pk)
    switch.clock.advance(settings.PREVIEW_HOLD_SECONDS + 5)  # before the sweep came by
    with translation.override("it"), pytest.raises(ActionError) as refused:
        preview.dial(reader.pk, card["attempt_id"])
    assert refused.value.code == "preview_expired"
    assert refused.value.message == "Questo contatto ti ha atteso troppo a lungo ed è tornato nella sua lista."
    _released_and_due(lead, card["attempt_id"], switch.clock.now())
    assert switch.pending() == []


def test_a_hold_whose_operator_left_unannounced_goes_back_at_the_next_sweep(floor, switch):
    """The signal is sent after the commit: a process that died right after it leaves the sweep to do it."""
    f = floor(operators=1, mode=CampaignMode.PREVIEW)
    lead = f.lead("+390612345601")
    reader = f.ops[0]
    card = preview.next_lead(reader.pk)
    Operator.objects.filter(pk=reader.pk).update(state=OperatorState.LOGGED_OUT, backoff_until=None)
    assert preview.release_stale_holds() == 1  # long before the hold's bound
    _released_and_due(lead, card["attempt_id"], switch.clock.now())


def test_an_inbound_call_does_not_ring_the_operator_reading_a_lead(floor, switch):
    f = floor(operators=2, mode=CampaignMode.PREVIEW)
    f.lead("+390612345601")
    number = factories.make_number(f.account, f.service)
    reader, other = f.ops  # `reader` logged in first: the longest idle, whom the ACD would ring first
    card = preview.next_lead(reader.pk)

    _first, commands = switch.incoming(number.number)
    assert only_ring(commands).endpoint == other.endpoint  # the reader is held back
    second, commands = switch.incoming(number.number, caller="+393334445555")
    assert rings(commands) == [] and switch.call(second).state == CallState.QUEUED  # waits for an operator
    assert rings(switch.advance(5)) == []  # the timers do not ring the reader either
    assert Operator.objects.get(pk=reader.pk).state == OperatorState.AVAILABLE

    preview.skip(reader.pk, card["attempt_id"])  # done with the lead: the waiting caller rings them at once
    assert only_ring(switch.pending()).endpoint == reader.endpoint
    assert switch.call(second).state == CallState.RINGING


def test_a_skip_on_the_console_with_a_caller_waiting_gives_the_operator_the_call(floor, switch, client):
    f = floor(operators=1, mode=CampaignMode.PREVIEW)
    f.lead("+390612345601")
    f.lead("+390612345602")
    number = factories.make_number(f.account, f.service)
    reader = f.ops[0]
    session = client.session
    session.update(session_data(reader))
    session.save()
    post = lambda body: client.post(reverse("console-action"), body, content_type="application/json")  # noqa: E731
    card = post({"action": "preview_next"}).json()["preview"]
    waiting, commands = switch.incoming(number.number)
    assert rings(commands) == []
    answer = post({"action": "preview_skip", "attempt": card["attempt_id"]})
    assert answer.status_code == 200 and answer.json()["preview"] is None  # no next lead: a caller rings them
    assert only_ring(switch.pending()).call_ref == waiting
    assert Operator.objects.get(pk=reader.pk).state == OperatorState.RINGING


def test_the_operator_stays_held_while_their_call_rings_and_takes_it_when_answered(floor, switch):
    d = _dialling_with_a_caller_waiting(floor, switch)
    lead, reader, orig, inbound, commands = d.lead, d.reader, d.orig, d.inbound, d.commands
    assert rings(commands) == []  # the lead's phone is ringing: the reader is not given another call
    switch.clock.advance(10)
    ring = only_ring(switch.event(port.AmdResult, orig.call_ref, verdict="human"))
    assert ring.endpoint == reader.endpoint and ring.call_ref == orig.call_ref  # the previewed call, not the inbound
    switch.answer(orig.call_ref, ring)
    assert switch.call(orig.call_ref).state == CallState.CONNECTED
    assert switch.call(inbound).state == CallState.QUEUED
    assert Lead.objects.get(pk=lead.pk).state == LeadState.DIALING


def test_a_previewed_call_nobody_answers_frees_the_operator_for_the_waiting_caller(floor, switch):
    d = _dialling_with_a_caller_waiting(floor, switch)
    reader, orig, inbound, commands = d.reader, d.orig, d.inbound, d.commands
    assert rings(commands) == []
    with pytest.raises(ActionError) as refused:
        preview.next_lead(reader.pk)  # no second lead while the first is being called
    assert refused.value.code == "dialing"

    switch.clock.advance(25)
    switch.event(port.LegNoAnswer, orig.call_ref, leg_ref="")
    assert Attempt.objects.get(pk=d.attempt_id).outcome == AttemptOutcome.NO_ANSWER
    ring = only_ring(switch.pending())  # the reservation ended with the call: the waiting caller rings them
    assert ring.endpoint == reader.endpoint and ring.call_ref == inbound


def test_a_dial_refused_at_dial_time_frees_the_operator(floor, switch):
    f = floor(operators=1, mode=CampaignMode.PREVIEW)
    f.lead("+390612345601")
    number = factories.make_number(f.account, f.service)
    reader = f.ops[0]
    card = preview.next_lead(reader.pk)
    waiting, _ = switch.incoming(number.number)
    dialer_actions.add_do_not_call(f.account.pk, "+390612345601")
    placed = preview.dial(reader.pk, card["attempt_id"])
    assert placed.outcome == AttemptOutcome.BLOCKED  # nothing dialled
    assert only_ring(switch.pending()).call_ref == waiting  # no call coming: the waiting caller rings them


def test_the_pacer_does_not_count_an_operator_reading_a_lead_as_free(floor, switch):
    """A progressive campaign on the same service places no call for an operator held by a preview."""
    f = floor(operators=1, mode=CampaignMode.PREVIEW)
    f.lead("+390612345601")
    reader = f.ops[0]
    progressive = Campaign.objects.create(account=f.account, name="Progressive", service=f.service,
                                          caller_id="+390212345678", mode=CampaignMode.PROGRESSIVE,
                                          state=CampaignState.RUNNING)
    leads = LeadList.objects.create(account=f.account, campaign=progressive, name="Other list")
    Lead.objects.create(account=f.account, lead_list=leads, phone="+390612345699", timezone="Europe/Rome")
    card = preview.next_lead(reader.pk)
    assert pacer.place_tick(progressive.pk, owner="test").placed == []
    preview.skip(reader.pk, card["attempt_id"])
    assert len(pacer.place_tick(progressive.pk, owner="test").placed) == 1


def _race(*fns):
    """Run the functions at once, each in its own thread, database connection and copy of the test's clock."""
    gate = threading.Barrier(len(fns))
    results: list[object] = [None] * len(fns)

    def run(i, fn):
        try:
            gate.wait()
            results[i] = fn()
        except Exception as exc:  # the result is what the test looks at
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=contextvars.copy_context().run, args=(run, i, fn))
               for i, fn in enumerate(fns)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_previewing_and_an_inbound_call_at_the_same_moment_never_both_take_the_operator(clock):
    """The preview holds the operator's row lock while it checks and reserves; routing takes operators with
    SKIP LOCKED and re-checks the filter: either the operator rings (and the preview is refused) or they
    hold the lead (and the caller waits), never both. Two threads, two connections, sixteen rounds."""
    outcomes = set()
    for i in range(16):
        account = factories.make_account()
        switch = Switch(account, clock)
        f = Floor(account, operators=1, mode=CampaignMode.PREVIEW)
        f.lead(f"+3906123456{i:02d}")
        number = factories.make_number(account, f.service)
        reader = f.ops[0]
        # A start staggered by 0-30 ms (the spread of the two paths' lengths): the rounds see both orders,
        # and the close ones in between. Jitter to vary the interleaving, not a wait for a condition.
        lag = random.Random(i).uniform(0, 0.03)
        card, (ref, _commands) = _race(lambda op=reader.pk, lag=lag: (time.sleep(lag), preview.next_lead(op))[1],
                                       lambda s=switch, n=number.number: s.incoming(n))
        op = Operator.objects.get(pk=reader.pk)
        held = Attempt.objects.filter(operator=reader, outcome=AttemptOutcome.PENDING).exists()
        call = switch.call(ref)
        if isinstance(card, ActionError):
            assert card.code == "not_available" and not held
            assert (op.state, call.state) == (OperatorState.RINGING, CallState.RINGING)
            outcomes.add("rung")
        else:
            assert isinstance(card, dict) and held, card
            assert (op.state, call.state) == (OperatorState.AVAILABLE, CallState.QUEUED)
            outcomes.add("held")
        switch.hangup(ref)
    assert outcomes  # which one wins is the scheduler's business; each round is one or the other


def test_a_previewed_call_answered_by_a_machine_frees_the_operator(floor, switch):
    d = _dialling_with_a_caller_waiting(floor, switch)
    orig, inbound = d.orig, d.inbound
    switch.clock.advance(8)
    assert rings(switch.event(port.AmdResult, orig.call_ref, verdict="machine")) == []
    assert Attempt.objects.get(pk=d.attempt_id).outcome == AttemptOutcome.MACHINE
    assert only_ring(switch.pending()).call_ref == inbound


def test_the_reservation_of_a_dial_nobody_reports_on_lapses_by_itself(floor, switch):
    """The engine never tells what became of the previewed call: after the ring time, the 2 s and the margin
    the operator is offered calls again by the ACD's own timers."""
    d = _dialling_with_a_caller_waiting(floor, switch)
    f, inbound = d.f, d.inbound
    bound = f.campaign.ring_seconds + 2 + preview.DIAL_MARGIN.total_seconds()
    assert rings(switch.advance(bound - 1)) == []
    assert only_ring(switch.advance(1)).call_ref == inbound
