"""Round-trip baselines of the call path, counted at the wire (BEGIN and COMMIT included).

NetBox's query-count idea: each event type has a ceiling, and a change that adds a round trip fails here
with the list of what was sent. The ceilings are today's figures, issue 9's target: each event in two
round trips (BEGIN with every lock and read the event needs, then its writes with the COMMIT), a
sign of life in one, a redelivery in two; 9 for a whole answered call with a welcome prompt. Before the
unit of work sent its writes with the COMMIT they were incoming 9, prompt_finished 13, leg_ringing 5,
no-answer 20, answered 14, hangup 12 (55 for the whole call); before the first round trip carried the
BEGIN and the routing, 4, 4, 1, 5, 4, 5 and 5 for a duplicate (18). Lower a ceiling whenever a change
removes a round trip.
"""

from __future__ import annotations

import pytest

from acd import actions
from acd.choices import CallState
from acd.models import Offer
from acd.tests.switch import only_ring
from acd.tests.walks import WHOLE_CALL, answered_call, warm_floor
from agents import actions as presence
from agents.choices import OperatorState
from agents.models import Operator
from core.roundtrips import Steps, count_round_trips
from routing.choices import Criterion
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

CEILINGS = {
    "incoming_call (welcome)": 2,
    "prompt_finished (rings)": 2,
    "leg_ringing": 1,
    "leg_no_answer (rings the next)": 2,
    "leg_answered": 2,
    "hangup (wrap-up)": 2,
    "duplicate event": 2,
}
WHOLE_CALL_CEILING = 9


@pytest.fixture
def floor(switch):
    return warm_floor(switch)


def test_round_trips_per_event_stay_within_their_ceilings(floor, switch):
    steps = answered_call(switch, floor)
    assert not steps.over(CEILINGS), steps.over(CEILINGS)
    whole = sum(steps.counts()[name] for name in WHOLE_CALL)
    assert whole <= WHOLE_CALL_CEILING, steps.counts()


def test_hang_up_without_wrap_up_rings_the_next_waiting_caller_within_two_round_trips(account, switch):
    """The freed operator takes the best waiting call at once: their services and the waiting calls (SKIP
    LOCKED) were read in the hang-up's first round trip, the new leg goes with its COMMIT."""
    op = factories.make_operator(account)
    service = factories.make_service(account, [(op, 5)], wrapup_seconds=0)
    number = factories.make_number(account, service)
    presence.login_operator(op.pk)
    talking, commands = switch.incoming(number.number)
    switch.answer(talking, only_ring(commands))
    waiting, commands = switch.incoming(number.number)
    assert not [c for c in commands if c.type == "ring"]  # the only operator is busy: the caller waits
    with count_round_trips() as rt:
        commands = switch.hangup(talking)
    assert only_ring(commands).call_ref == waiting
    assert rt.count <= 2, rt.describe()


def test_a_call_that_finds_everyone_busy_waits_after_two_round_trips(account, switch):
    """Nobody free: the call queues; whether anyone is logged in at all came with the routing statement."""
    op = factories.make_operator(account)
    service = factories.make_service(account, [(op, 5)], wrapup_seconds=0)
    number = factories.make_number(account, service)
    presence.login_operator(op.pk)
    talking, commands = switch.incoming(number.number)
    switch.answer(talking, only_ring(commands))
    with count_round_trips() as rt:
        ref, commands = switch.incoming(number.number)
    assert [c.type for c in commands] == ["answer", "start_hold"]
    assert switch.call(ref).state == "queued"
    assert rt.count <= 2, rt.describe()


# Presence and the timers, at the wire. Before they took their locks with the BEGIN and sent their writes with
# the COMMIT: login 12 (with the ACD's offer after it), pause 7, resume 12, log-off 6; a sweep that ends a wrap-up
# and rings the waiting caller 6, one that retries a waiting caller 11 (a skill service walked level by level).
PRESENCE_CEILINGS = {"login (and the ACD's offer)": 4, "pause": 3, "resume (and the ACD's offer)": 4, "log off": 2}


def test_presence_changes_stay_within_their_ceilings(account, switch):
    op = factories.make_operator(account)
    factories.make_service(account, [(op, 5)])
    step = Steps()
    for name, action in [("login (and the ACD's offer)", presence.login_operator), ("pause", presence.pause_operator),
                         ("resume (and the ACD's offer)", presence.resume_operator),
                         ("log off", presence.logoff_operator)]:
        step(name, lambda action=action: action(op.pk))
    op.refresh_from_db()
    assert op.state == "logged_out" and op.events.count() == 4  # each change logged
    assert not step.over(PRESENCE_CEILINGS), step.over(PRESENCE_CEILINGS)


def test_a_wrap_up_that_ends_rings_the_waiting_caller_in_three_round_trips(account, switch):
    """The due items, then the operator locked with their services and the waiting calls (SKIP LOCKED) with
    the BEGIN, then the new leg with the COMMIT."""
    op = factories.make_operator(account)
    service = factories.make_service(account, [(op, 5)], wrapup_seconds=10)
    number = factories.make_number(account, service)
    presence.login_operator(op.pk)
    talking, commands = switch.incoming(number.number)
    switch.answer(talking, only_ring(commands))
    switch.hangup(talking)
    waiting, _ = switch.incoming(number.number)
    switch.clock.advance(10)
    with count_round_trips() as rt:
        actions.sweep([account.pk])
    assert switch.call(waiting).state == CallState.RINGING
    assert rt.count <= 3, rt.describe()


def test_a_waiting_callers_retry_rings_in_three_round_trips(account, switch):
    """The due items, then the call locked with its best free operator by the criterion (the routing
    statement, a skill service's levels in one walk) with the BEGIN, then the leg with the COMMIT."""
    ops = [factories.make_operator(account) for _ in range(2)]
    service = factories.make_service(account, [(ops[0], 9), (ops[1], 4)], criterion=Criterion.SKILL)
    number = factories.make_number(account, service)
    for op in ops:
        presence.login_operator(op.pk)
        presence.pause_operator(op.pk)
    ref, _ = switch.incoming(number.number)
    # Free the operator behind the ACD's back (as a hand-off that failed would leave them): the sweep pairs them.
    Operator.objects.filter(pk=ops[1].pk).update(state=OperatorState.AVAILABLE, pause_reason=None, pause_source="")
    with count_round_trips() as rt:
        actions.sweep([account.pk])
    assert switch.call(ref).state == CallState.RINGING
    assert Offer.objects.get(call__engine_ref=ref).operator_id == ops[1].pk
    assert rt.count <= 3, rt.describe()
