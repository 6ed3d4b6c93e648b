"""Two events racing on one call take its lock in the other order than their times (issue 11).

An event's time is read when it arrives, before it waits for the call's lock. An answer and a hang-up sent from
two connections at once (tests/faults/test_end_events.py) can reach the call answer first although the hang-up
was stamped first. The call keeps the order it saw: it is answered, then it ends, and no duration is negative.
"""

import datetime as dt

import pytest

from acd.choices import CallState, Outcome
from acd.tests.switch import only_ring
from agents import actions as presence
from core.clock import ManualClock, use_clock
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def ringing_call(account, switch):
    """An incoming call ringing its service's one operator: its reference and its ring."""
    op = factories.make_operator(account)
    number = factories.make_number(account, factories.make_service(account, [(op, 5)], wrapup_seconds=0))
    presence.login_operator(op.pk)
    ref, commands = switch.incoming(number.number)
    return ref, only_ring(commands)


def test_a_hangup_stamped_before_the_answer_it_follows_ends_the_call_with_no_negative_talk(account, switch):
    ref, ring = ringing_call(account, switch)
    stamped = switch.clock.now() + dt.timedelta(seconds=1)  # the hang-up arrives first...
    switch.clock.advance(3)
    switch.answer(ref, ring)  # ...but the answer takes the call's lock first, 2 s later
    with use_clock(ManualClock(stamped)):
        switch.hangup(ref)
    call = switch.call(ref)
    assert (call.state, call.outcome) == (CallState.ENDED, Outcome.ANSWERED)
    assert call.talk_seconds == 0.0
    assert call.ended_at == call.answered_at
    assert call.wait_seconds >= 0


def test_an_answer_stamped_before_the_queueing_it_follows_waits_zero_seconds(account, switch):
    ref, ring = ringing_call(account, switch)
    queued = switch.call(ref).queued_at or switch.call(ref).arrived_at
    with use_clock(ManualClock(queued - dt.timedelta(seconds=2))):
        switch.answer(ref, ring)
    call = switch.call(ref)
    assert call.answered_at == queued
    assert call.wait_seconds == 0.0
