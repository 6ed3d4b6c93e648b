"""The timer sweep touches only what is due, and `next_deadline` names the moment it will be (the simulator
sweeps at exactly those moments)."""

import datetime as dt
import re

import pytest
from django.db import connection

from acd import actions, timers
from acd.choices import CallState
from acd.criteria import skill_threshold
from acd.models import Call
from acd.tests.switch import only_ring, rings
from acd.timers import _due, escalation_level
from agents import actions as presence
from agents.choices import OperatorState
from agents.models import Operator
from routing.choices import Criterion
from routing.models import ServiceMembership
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def staff(account, switch, levels, **service_kw):
    ops = [factories.make_operator(account, name=f"op{i}") for i in range(len(levels))]
    service = factories.make_service(account, list(zip(ops, levels, strict=True)), wrapup_seconds=0, **service_kw)
    number = factories.make_number(account, service)
    for op in ops:
        presence.login_operator(op.pk)
        switch.clock.advance(1)
    return ops, service, number


def due_calls(account, clock):
    return [call_id for call_id, _ in _due([account.pk], clock.now())["retry"]]


def test_escalation_is_due_at_each_step_while_it_can_change_something(account, switch):
    ops, _, number = staff(account, switch, [9, 6, 3], criterion=Criterion.SKILL, escalation_seconds=10)
    presence.pause_operator(ops[0].pk)
    presence.pause_operator(ops[1].pk)
    ref, commands = switch.incoming(number.number)
    assert rings(commands) == []  # only the level-3 operator is free: not allowed before two steps
    queued_at = switch.call(ref).queued_at
    assert actions.next_deadline(account.pk) == queued_at + dt.timedelta(seconds=10)
    assert due_calls(account, switch.clock) == []  # waiting is not a reason to retry
    assert rings(switch.advance(10)) == []  # level 6 now: still above the free operator
    assert actions.next_deadline(account.pk) == queued_at + dt.timedelta(seconds=20)
    assert who_rang(switch.advance(10)) == ops[2].pk  # level 3: the free operator takes the caller


def who_rang(commands):
    return Operator.objects.get(offers__leg_ref=only_ring(commands).leg_ref).pk


def test_no_escalation_deadline_when_nobody_is_free_or_the_lowest_level_is_reached(account, switch):
    ops, _, number = staff(account, switch, [9, 4], criterion=Criterion.SKILL, escalation_seconds=8)
    for op in ops:
        presence.pause_operator(op.pk)
    ref, _ = switch.incoming(number.number)
    # Nobody free: a step changes nothing (an operator who frees up is offered the call in that transaction).
    deadline = actions.next_deadline(account.pk)
    assert deadline == switch.call(ref).queue_deadline
    switch.clock.advance(9)  # past the only step: the caller may be given anyone now
    presence.resume_operator(ops[1].pk)  # takes the waiting caller at once
    assert switch.call(ref).state == CallState.RINGING


def test_a_caller_at_the_lowest_level_is_not_due_again(account, switch):
    ops, _, number = staff(account, switch, [9, 4], criterion=Criterion.SKILL, escalation_seconds=8)
    for op in ops:
        presence.pause_operator(op.pk)
    ref, _ = switch.incoming(number.number)
    switch.clock.advance(20)
    actions.sweep([account.pk])
    queued_at = switch.call(ref).queued_at
    # At the lowest level, with nobody free: only the overflow deadline remains.
    assert actions.next_deadline(account.pk) == switch.call(ref).queue_deadline
    assert actions.next_deadline(account.pk) > queued_at + dt.timedelta(seconds=16)
    assert due_calls(account, switch.clock) == []


def test_a_free_operator_and_a_caller_they_may_take_are_paired_by_the_sweep(account, switch):
    """The hand-off's safety net: a caller left waiting while someone who may take them is free."""
    ops, _, number = staff(account, switch, [5], criterion=Criterion.LONGEST_IDLE)
    presence.pause_operator(ops[0].pk)
    ref, _ = switch.incoming(number.number)
    # Free the operator behind the ACD's back (as a hand-off that failed would leave them).
    Operator.objects.filter(pk=ops[0].pk).update(state=OperatorState.AVAILABLE, pause_reason=None, pause_source="")
    call = Call.objects.get(engine_ref=ref)
    assert due_calls(account, switch.clock) == [call.pk]
    only_ring(switch.advance(1))
    assert switch.call(ref).state == CallState.RINGING


def test_a_wanted_operators_window_is_due_once(account, switch):
    ops, service, number = staff(account, switch, [5, 5], criterion=Criterion.LAST_OPERATOR)
    service.sticky_wait_seconds = 15
    service.save()
    ref, commands = switch.incoming(number.number, "+393400000001")
    switch.answer(ref, only_ring(commands))
    switch.clock.advance(20)
    switch.hangup(ref)
    for op in ops:
        presence.pause_operator(op.pk)
    ref, _ = switch.incoming(number.number, "+393400000001")
    until = switch.call(ref).target_until
    assert actions.next_deadline(account.pk) == until
    switch.advance(15)  # the window is over: the caller is anyone's now (nobody is free yet)
    assert switch.call(ref).target_operator_id is None
    # No longer due: a deadline in the past would make the simulator sweep after every event.
    assert actions.next_deadline(account.pk) == switch.call(ref).queue_deadline
    assert due_calls(account, switch.clock) == []


@pytest.mark.parametrize("waited", [0, 7.9, 8, 15.999, 16, 17, 300])
def test_the_sweeps_escalation_rule_is_the_criterions(account, clock, waited):
    ops = [factories.make_operator(account) for _ in range(3)]
    service = factories.make_service(account, list(zip(ops, [9, 6, 2], strict=True)), criterion=Criterion.SKILL,
                                     escalation_seconds=8)
    call = Call(account=account, service=service, arrived_at=clock.now(), queued_at=clock.now())
    levels = sorted(set(ServiceMembership.objects.filter(service=service).values_list("skill_level", flat=True)),
                    reverse=True)
    at = clock.now() + dt.timedelta(seconds=waited)
    assert escalation_level(levels, waited, 8) == skill_threshold(service, call, at)


def _generic_plan(sql: str, params: dict) -> str:
    """The plan PostgreSQL keeps for `sql` once prepared (its generic plan), with sequential scans priced out so
    that an index the plan *can* use is the one it shows."""
    names: list[str] = []

    def placeholder(match: re.Match) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    prepared = re.sub(r"%\((\w+)\)s", placeholder, sql)
    types = {"at": "timestamptz", "accounts": "bigint[]", "account": "bigint"}
    with connection.cursor() as cur:
        cur.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute(f"PREPARE timers_plan({', '.join(types[n] for n in names)}) AS {prepared}")
        try:
            cur.execute(f"EXPLAIN EXECUTE timers_plan({', '.join(['%s'] * len(names))})", [params[n] for n in names])
            return "\n".join(row[0] for row in cur.fetchall())
        finally:
            cur.execute("DEALLOCATE timers_plan")


@pytest.mark.django_db(transaction=False)
def test_the_timers_prepared_plans_read_the_live_rows_through_their_partial_indexes(account, clock):
    """The statements are prepared (planned once per connection): their generic plan must reach the ringing
    offers and the waiting calls through the partial indexes over those few live rows, not read the day's calls
    and offers, which it cannot if the states it selects on are parameters."""
    due = _generic_plan(timers._due_sql(all_accounts=False), {"at": clock.now(), "accounts": [account.pk]})
    deadline_sql, deadline_params = timers.next_deadline_statement(account.pk)
    deadline = _generic_plan(deadline_sql, deadline_params)
    for plan in (due, deadline):
        assert "offer_expiry_idx" in plan or "offer_one_ringing" in plan
        assert "call_deadline_idx" in plan
        assert "call_target_idx" in plan
        assert "Seq Scan on acd_call" not in plan and "Seq Scan on acd_offer" not in plan
