"""A dialer call end to end through the production ACD (handle_event, sweep) on the test switch: placed once,
answered by a person and connected through the same reservation as inbound calls; the 2-second rule; machines;
retries per outcome; the do-not-call list at dial time; the UK 72 h rule; the channel budget's headroom with
inbound traffic present; each mode."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Plan
from acd.choices import CallState, Direction
from acd.models import Call
from acd.tests.switch import kinds, only_ring
from agents import actions as presence
from agents.models import Operator
from budget import actions as budget
from dialer import actions, pacer, tasks
from dialer.choices import (
    AttemptOutcome,
    CampaignMode,
    DispositionKind,
    LeadState,
    MachineAction,
    RegulatoryProfile,
)
from dialer.models import Attempt, DoNotCall, Lead
from telephony import port
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def _place(campaign) -> list[Attempt]:
    tick = pacer.place_tick(campaign.pk, owner="test")
    placed = [actions.place_attempt(a) for a in tick.placed]
    return [a for a in placed if a is not None]


def _originates(switch) -> list[port.Originate]:
    return [c for c in switch.pending() if isinstance(c, port.Originate)]


def test_progressive_call_is_placed_once_answered_connected_and_disposed(floor, switch):
    f = floor(operators=1, ring_seconds=20)
    lead = f.lead()
    f.lead("+390612345679")
    (attempt,) = _place(f.campaign)  # one free operator: one call (progressive)
    (orig,) = _originates(switch)
    assert (orig.destination, orig.caller_id, orig.timeout_seconds, orig.amd) == (
        lead.phone, "+390212345678", 20, True)
    assert actions.place_attempt(attempt.pk) is None  # a redelivered originate task dials nothing
    assert _originates(switch) == [] and Call.objects.filter(direction=Direction.OUTBOUND).count() == 1
    assert pacer.place_tick(f.campaign.pk, owner="test").placed == []  # the call in flight covers the operator

    switch.clock.advance(6)
    commands = switch.event(port.AmdResult, orig.call_ref, verdict="human")
    assert kinds(commands) == ["answer", "start_hold", "ring"]  # the inbound reservation rings the operator
    ring = only_ring(commands)
    assert ring.endpoint == f.ops[0].endpoint
    switch.clock.advance(1)
    assert kinds(switch.answer(orig.call_ref, ring)) == ["stop_hold", "bridge"]
    switch.clock.advance(90)
    switch.hangup(orig.call_ref)
    actions.sync_attempts(f.campaign.pk)
    attempt.refresh_from_db()
    assert attempt.outcome == AttemptOutcome.CONNECTED
    assert attempt.operator_id == f.ops[0].pk and attempt.amd_verdict == "human"
    assert (attempt.answered_at - attempt.dialed_at).total_seconds() == 6
    assert (attempt.connected_at - attempt.answered_at).total_seconds() == 1
    assert (attempt.ended_at - attempt.connected_at).total_seconds() == 90
    assert Lead.objects.get(pk=lead.pk).state == LeadState.DONE
    assert budget.in_use(f.account.pk) == 0

    callback = switch.clock.now() + dt.timedelta(days=1)
    actions.set_disposition(attempt.pk, DispositionKind.CALLBACK, callback_at=callback, operator_id=f.ops[0].pk)
    lead.refresh_from_db()
    assert (lead.state, lead.next_attempt_at) == (LeadState.RETRY, callback)


def test_a_live_call_nobody_takes_within_2_s_hears_the_safe_harbor_and_counts_abandoned_uk_72h(floor, switch):
    f = floor(operators=1, profile=RegulatoryProfile.UK, retry_abandoned_minutes=60)
    lead = f.lead("+442079460000", "Europe/London")
    (attempt,) = _place(f.campaign)
    (orig,) = _originates(switch)
    presence.pause_operator(f.ops[0].pk)  # the operator walks away while the call rings
    switch.clock.advance(5)
    commands = switch.event(port.AmdResult, orig.call_ref, verdict="human")
    assert kinds(commands) == ["answer", "start_hold"]  # queued: nobody free
    assert switch.advance(1.5) == []  # 1.5 s: still within the 2 s
    commands = switch.advance(1)
    assert kinds(commands) == ["stop_hold", "play", "hangup"]
    assert commands[1].prompt == "builtin:safe-harbor"
    assert switch.call(orig.call_ref).state == CallState.ENDED
    attempt.refresh_from_db()
    assert attempt.outcome == AttemptOutcome.ABANDONED
    lead.refresh_from_db()
    assert lead.abandoned_at == attempt.ended_at
    assert lead.next_attempt_at - lead.abandoned_at == dt.timedelta(hours=72)  # UK: not the 60 min configured
    assert budget.in_use(f.account.pk) == 0

    # The estimation loop counts it: 1 abandoned of 1 live in the window.
    pacer.estimate_campaign(f.campaign.pk)
    f.campaign.refresh_from_db()
    assert (f.campaign.pacing["window_live"], f.campaign.pacing["window_abandoned"]) == (1, 1)

    # 72 h rule at dial time too: even if the lead is made due, it is not dialled before 72 h.
    presence.resume_operator(f.ops[0].pk)
    Lead.objects.filter(pk=lead.pk).update(next_attempt_at=switch.clock.now())
    switch.clock.advance(24 * 3600)
    assert _place(f.campaign) == []
    lead.refresh_from_db()
    assert lead.next_attempt_at == lead.abandoned_at + dt.timedelta(hours=72)
    switch.clock.set(lead.abandoned_at + dt.timedelta(hours=72, minutes=1))
    assert len(_place(f.campaign)) == 1


def test_machines_get_the_campaigns_message_and_a_retry(floor, switch):
    f = floor(operators=1, machine_action=MachineAction.PLAY_MESSAGE, retry_machine_minutes=240)
    lead = f.lead()
    (attempt,) = _place(f.campaign)
    (orig,) = _originates(switch)
    switch.clock.advance(8)
    commands = switch.event(port.AmdResult, orig.call_ref, verdict="machine")
    assert kinds(commands) == ["play", "hangup"]
    assert commands[0].prompt == "builtin:machine-message"
    attempt.refresh_from_db()
    lead.refresh_from_db()
    assert (attempt.outcome, attempt.amd_verdict) == (AttemptOutcome.MACHINE, "machine")
    assert (lead.state, lead.next_attempt_at) == (LeadState.RETRY, switch.clock.now() + dt.timedelta(minutes=240))
    assert Operator.objects.get(pk=f.ops[0].pk).state == "available"  # no operator was rung for a machine
    assert budget.in_use(f.account.pk) == 0


@pytest.mark.parametrize(("event", "outcome", "minutes"), [
    (port.LegBusy, AttemptOutcome.BUSY, 15),
    (port.LegNoAnswer, AttemptOutcome.NO_ANSWER, 120),
])
def test_retries_per_outcome_until_the_attempts_are_used_up(floor, switch, event, outcome, minutes):
    f = floor(operators=1, max_attempts=2, retry_busy_minutes=15, retry_no_answer_minutes=120)
    lead = f.lead()
    for number in (1, 2):
        (attempt,) = _place(f.campaign)
        assert attempt.number == number
        (orig,) = _originates(switch)
        switch.event(event, orig.call_ref)
        attempt.refresh_from_db()
        lead.refresh_from_db()
        assert attempt.outcome == outcome
        if number == 1:
            assert (lead.state, lead.next_attempt_at) == (LeadState.RETRY,
                                                          switch.clock.now() + dt.timedelta(minutes=minutes))
            assert _place(f.campaign) == []  # not before the delay
            switch.clock.advance(minutes * 60)
    assert (lead.state, lead.attempts) == (LeadState.EXHAUSTED, 2)
    assert Attempt.objects.filter(lead=lead).count() == 2
    switch.clock.advance(10 * 3600)
    assert _place(f.campaign) == []


def test_do_not_call_is_checked_at_dial_time_not_only_at_import(floor, switch):
    f = floor(operators=1)
    lead = f.lead()
    tick = pacer.place_tick(f.campaign.pk, owner="test")  # the lead is claimed...
    actions.add_do_not_call(f.account.pk, lead.phone, reason="asked by e-mail")  # ...then listed
    attempt = actions.place_attempt(tick.placed[0])
    assert attempt.outcome == AttemptOutcome.BLOCKED and attempt.call_id is None
    assert _originates(switch) == []
    lead.refresh_from_db()
    assert lead.state == LeadState.DO_NOT_CALL
    other = f.lead("+390612345670")
    DoNotCall.objects.create(account=f.account, phone=other.phone, added_at=switch.clock.now())
    assert _place(f.campaign) == []  # listed before the claim: never even claimed
    assert Lead.objects.get(pk=other.pk).state == LeadState.DO_NOT_CALL


def test_leads_outside_their_local_calling_hours_wait_for_the_opening(floor, switch):
    f = floor(operators=2)
    ny = f.lead("+12125550123", "America/New_York")  # 04:00 in New York at the test's 10:00 in Rome
    rome = f.lead()
    placed = _place(f.campaign)
    assert [a.lead_id for a in placed] == [rome.pk]
    ny.refresh_from_db()
    assert ny.next_attempt_at == dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)  # 09:00 EST


def test_the_dialer_keeps_the_inbound_reserve_and_never_passes_the_limit(floor, switch, account):
    account.plan = Plan.objects.get(code="starter")  # 3 channels
    account.save()
    f = floor(operators=3, inbound_reserve=1)
    for i in range(5):
        f.lead(f"+39061234560{i}")
    number = factories.make_number(account, factories.make_service(account, []))
    switch.incoming(number.number)  # an inbound call holds a channel
    assert budget.in_use(account.pk) == 1
    placed = _place(f.campaign)  # 3 free operators, but 3 - 1 inbound - 1 reserve = 1 channel
    assert len(placed) == 1 and budget.in_use(account.pk) == 2
    assert _place(f.campaign) == []
    _ref, commands = switch.incoming(number.number)  # the reserve is there for the next inbound caller
    assert budget.in_use(account.pk) == 3
    assert "REACH_PLAN_LIMIT" not in str(commands)


def test_predictive_mode_over_dials_and_preview_mode_waits_for_the_operator(floor, switch, account):
    f = floor(operators=6, mode=CampaignMode.PREDICTIVE)
    for i in range(40):
        f.lead(f"+3906123456{i:02d}")
    placed = _place(f.campaign)
    assert len(placed) > 6  # more calls than free operators: most will not reach a person
    assert budget.in_use(account.pk) == len(placed)
    f.campaign.mode = CampaignMode.PREVIEW
    f.campaign.save()
    assert pacer.place_tick(f.campaign.pk, owner="test").placed == []


def test_one_pacer_per_campaign(floor, switch):
    f = floor(operators=1)
    f.lead()
    assert pacer.take_lease(f.campaign.pk, "worker-a")
    assert not pacer.take_lease(f.campaign.pk, "worker-b")  # a second beat or worker does nothing
    assert pacer.place_tick(f.campaign.pk, owner="worker-b").decision is None
    switch.clock.advance(6)  # the holder died: its lease runs out, another worker takes over
    assert pacer.take_lease(f.campaign.pk, "worker-b")


def test_a_paused_campaigns_calls_in_flight_still_close_their_attempts(floor, switch):
    f = floor(operators=1)
    f.lead()
    (attempt,) = _place(f.campaign)
    (orig,) = _originates(switch)
    ring = only_ring(switch.event(port.AmdResult, orig.call_ref, verdict="human"))
    switch.answer(orig.call_ref, ring)
    actions.change_campaign_state(f.campaign.pk, "paused", by="test")
    switch.clock.advance(30)
    switch.hangup(orig.call_ref)  # the conversation ends while the campaign is paused
    tasks.estimate_campaigns_task()
    attempt.refresh_from_db()
    assert (attempt.outcome, attempt.ended_at) == (AttemptOutcome.CONNECTED, switch.clock.now())
    assert Lead.objects.get(pk=attempt.lead_id).state == LeadState.DONE
    assert pacer.place_tick(f.campaign.pk, owner="test").decision is None  # paused: nothing placed
