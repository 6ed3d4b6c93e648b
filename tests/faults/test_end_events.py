"""Fault: end events dropped, doubled and out of order, over the real webhook (issue 11, fault injection).

Eight answered calls run through the Procfile's web process (its own event ids, signed). Then their ends go
wrong as a network and an engine get them wrong: two hangups never arrive (the engine had said the calls were
alive), two arrive twice (redelivered with the same id, and re-sent under a new one), two arrive before the
answer they follow (the answer and a heartbeat come late), and two race their own answer's redelivery from two
connections at once. Every event answers 200; the lost-call reconciler ends exactly the two silent calls. At the
end no call record is lost, no channel leaked, no operator stuck."""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings as django_settings

from acd import actions
from acd.choices import CallState, HangupCause
from acd.models import Call
from agents import actions as presence
from agents.choices import OperatorState
from agents.models import Operator
from tests import factories
from tests.faults.invariants import assert_floor_consistent
from tests.faults.stack import Engine, start_web

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.multiprocess]
SILENCE_SECONDS = 2
CALLS = 8


def ok(answer: tuple[int, dict]) -> dict:
    status, body = answer
    assert status == 200, body
    return body


def test_end_events_dropped_doubled_and_out_of_order(settings):
    settings.LEASE_SILENCE_SECONDS = SILENCE_SECONDS  # the reconciler here; the web process keeps its own
    account = factories.make_account()
    ops = [factories.make_operator(account) for _ in range(CALLS)]
    number = factories.make_number(account, factories.make_service(account, [(op, 5) for op in ops],
                                                                   wrapup_seconds=0))
    for op in ops:
        presence.login_operator(op.pk)
    web, port = start_web(django_settings.REDIS_URL)
    engine = Engine(port, account)
    refs = [f"ends-{i}" for i in range(CALLS)]
    try:
        rings = {ref: engine.incoming(ref, number.number) for ref in refs}
        for ref in refs[:6]:
            engine.answer(ref, rings[ref])
        for ref in refs[:2]:  # dropped: the engine said they were alive, then nothing more ever came
            ok(engine.post({"type": "call_alive", "call_ref": ref}))
        for ref in refs[2:4]:  # doubled: redelivered with the same id, and re-sent under a new one
            hangup = {"type": "hangup", "call_ref": ref, "event_id": f"{ref}-end"}
            for event in (hangup, dict(hangup), {"type": "hangup", "call_ref": ref}):
                ok(engine.post(event))
        for ref in refs[4:6]:  # out of order: the hangup first, then a late answer and a late heartbeat
            ok(engine.post({"type": "hangup", "call_ref": ref}))
            ok(engine.post({"type": "leg_answered", "call_ref": ref, "leg_ref": rings[ref]["leg_ref"]}))
            ok(engine.post({"type": "call_alive", "call_ref": ref}))
        answers: list[tuple[int, dict]] = []

        def send(event: dict) -> None:
            answers.append(engine.post(event))

        for ref in refs[6:]:  # racing: answer, its redelivery and the hangup from three connections at once
            ok(engine.post({"type": "leg_ringing", "call_ref": ref, "leg_ref": rings[ref]["leg_ref"]}))
            answered = {"type": "leg_answered", "call_ref": ref, "leg_ref": rings[ref]["leg_ref"],
                        "event_id": f"{ref}-answered"}
            threads = [threading.Thread(target=send, args=(event,)) for event in
                       (answered, dict(answered), {"type": "hangup", "call_ref": ref})]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
        assert [status for status, _ in answers] == [200] * len(answers), answers
    finally:
        web.stop()
    assert actions.reconcile_leases() == 0  # the silent calls are still within their deadline
    time.sleep(SILENCE_SECONDS + 0.5)
    assert actions.reconcile_leases() == 2
    assert actions.reconcile_leases() == 0  # nothing is repaired twice
    calls = {call.engine_ref: call for call in Call.objects.filter(account=account)}
    assert all(call.state == CallState.ENDED for call in calls.values()), {r: c.state for r, c in calls.items()}
    assert {ref for ref, call in calls.items() if call.end_cause == HangupCause.LOST} == set(refs[:2])
    answered = {ref: (call.talk_seconds, call.answered_at, call.ended_at) for ref, call in calls.items()
                if call.answered_at is not None}
    assert all(talk is not None and talk >= 0 and ended >= at for talk, at, ended in answered.values()), answered
    assert set(Operator.objects.filter(account=account).values_list("state", flat=True)) == {OperatorState.AVAILABLE}
    assert_floor_consistent(account, refs)
    assert "Traceback" not in web.output(), web.output()[-3000:]
