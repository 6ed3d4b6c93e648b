"""An attempt is open while its call is: a connected attempt whose call has ended is finished, even though
its outcome (connected) is one a call in flight also has. The loops that follow open attempts must not take
it for one: the estimation loop would sync a finished campaign forever, and every sync would finish the
attempt again (a callback the operator set would be overwritten by "done")."""

from __future__ import annotations

import datetime as dt

import pytest

from acd.tests.switch import only_ring
from dialer import actions, pacer, stats
from dialer.choices import AttemptOutcome, CampaignState, DispositionKind, LeadState
from dialer.models import Attempt, Lead
from telephony import port

pytestmark = pytest.mark.django_db(transaction=True)


def _connected_and_hung_up(f, switch) -> Attempt:
    tick = pacer.place_tick(f.campaign.pk, owner="test")
    (attempt,) = [a for a in (actions.place_attempt(pk) for pk in tick.placed) if a is not None]
    (orig,) = [c for c in switch.pending() if isinstance(c, port.Originate)]
    switch.clock.advance(5)
    ring = only_ring(switch.event(port.AmdResult, orig.call_ref, verdict="human"))
    switch.clock.advance(1)
    switch.answer(orig.call_ref, ring)
    switch.clock.advance(60)
    switch.hangup(orig.call_ref)
    actions.sync_attempts(f.campaign.pk)
    attempt.refresh_from_db()
    assert (attempt.outcome, attempt.ended_at) == (AttemptOutcome.CONNECTED, switch.clock.now())
    return attempt


def test_a_finished_connected_attempt_is_not_open(floor, switch):
    f = floor(operators=1)
    f.lead()
    attempt = _connected_and_hung_up(f, switch)
    actions.change_campaign_state(f.campaign.pk, CampaignState.FINISHED, by="test")
    assert pacer.campaigns_with_open_attempts() == []
    assert Attempt.objects.open().filter(pk=attempt.pk).exists() is False
    assert stats.figures(f.campaign, switch.clock.now())["in_flight"] == 0


def test_a_campaign_with_a_call_still_connected_is_followed(floor, switch):
    f = floor(operators=1)
    f.lead()
    pacer.place_tick(f.campaign.pk, owner="test")
    (pk,) = Attempt.objects.filter(campaign=f.campaign).values_list("pk", flat=True)
    actions.place_attempt(pk)
    (orig,) = [c for c in switch.pending() if isinstance(c, port.Originate)]
    ring = only_ring(switch.event(port.AmdResult, orig.call_ref, verdict="human"))
    switch.answer(orig.call_ref, ring)
    actions.sync_attempts(f.campaign.pk)
    assert Attempt.objects.get(pk=pk).outcome == AttemptOutcome.CONNECTED
    actions.change_campaign_state(f.campaign.pk, CampaignState.PAUSED, by="test")
    assert pacer.campaigns_with_open_attempts() == [f.campaign.pk]


def test_a_later_sync_does_not_finish_the_attempt_again_and_keeps_the_callback(floor, switch):
    f = floor(operators=1)
    lead = f.lead()
    attempt = _connected_and_hung_up(f, switch)
    callback = switch.clock.now() + dt.timedelta(days=1)
    actions.set_disposition(attempt.pk, DispositionKind.CALLBACK, callback_at=callback, operator_id=f.ops[0].pk)
    switch.clock.advance(10)
    assert actions.sync_attempts(f.campaign.pk) == 0  # the placement loop's next tick: nothing to bring up to date
    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.state, lead.next_attempt_at) == (LeadState.RETRY, callback)
