"""verify_action on the call path, driven only through the ACD's public entry points: engine events into
`acd.actions.handle_event`, timers by `acd.actions.sweep`, presence by the agents actions."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest

from acd import actions as acd
from agents import actions
from telephony import port
from tests import factories

from .verify import verify_action

pytestmark = pytest.mark.django_db(transaction=True)

_ids = itertools.count(1)


class Engine:
    """Plays the engine: sends events for one account, and remembers the legs it was told to ring."""

    def __init__(self, account) -> None:
        self.account = account

    def send(self, cls: type[port.Event], call_ref: str, **kw) -> list[port.Command]:
        return acd.handle_event(cls(event_id=f"ev-{next(_ids)}", call_ref=call_ref, **kw),
                                account_id=self.account.pk)

    def incoming(self, number: str, call_ref: str, caller: str = "+393331112222") -> list[port.Command]:
        return self.send(port.IncomingCall, call_ref, dialed=number, caller=caller)


@pytest.fixture
def floor(clock):
    account = factories.make_account(duty_email="duty@example.com")
    mario = factories.make_operator(account, name="Mario")
    giulia = factories.make_operator(account, name="Giulia")
    service = factories.make_service(account, [(mario, 5), (giulia, 5)], wrapup_seconds=30, pause_after_misses=2,
                                     max_wait_seconds=60)
    return SimpleNamespace(account=account, mario=mario, giulia=giulia, service=service, clock=clock,
                           number=factories.make_number(account, service).number, engine=Engine(account))


def leg_of(verified, op) -> str:
    [offer] = [e for e in verified.of(f"operator.{op.pk}") if e["type"] == "offer"]
    return offer["card"]["leg"]


def states(verified, op) -> list[str]:
    return [e["operator"]["state"] for e in verified.of(f"operator.{op.pk}") if e["type"] == "operator.state"]


def test_a_call_rings_is_answered_hangs_up_into_wrap_up_and_the_sweep_ends_the_wrap_up(floor):
    actions.login_operator(floor.mario.pk)
    with verify_action(floor.account) as verified:
        floor.engine.incoming(floor.number, "c1")
    console = verified.console(floor.mario.pk)
    assert states(verified, floor.mario) == ["ringing"]
    assert console["offer"]["caller"] == "+393331112222" and console["offer"]["leg"] == leg_of(verified, floor.mario)
    assert verified.wallboard(floor.account.pk)["services"][0]["waiting_now"] == 1
    leg = leg_of(verified, floor.mario)

    floor.clock.advance(4)
    with verify_action(floor.account) as verified:
        floor.engine.send(port.LegAnswered, "c1", leg_ref=leg)
    assert states(verified, floor.mario) == ["on_call"]
    assert verified.console(floor.mario.pk)["offer"] is None
    assert verified.wallboard(floor.account.pk)["services"][0]["answered"] == 1

    floor.clock.advance(90)
    with verify_action(floor.account) as verified:
        floor.engine.send(port.Hangup, "c1")
    assert states(verified, floor.mario) == ["wrap_up"]
    board = verified.wallboard(floor.account.pk)
    mario = next(o for o in board["operators"] if o["id"] == floor.mario.pk)
    assert (mario["state"], mario["calls_today"], mario["talk_minutes"]) == ("wrap_up", 1, 1.5)

    floor.clock.advance(30)
    with verify_action(floor.account) as verified:
        acd.sweep([floor.account.pk])
    assert states(verified, floor.mario) == ["available"]


def test_a_ringing_card_keeps_the_wait_the_caller_had_when_rung(floor):
    actions.login_operator(floor.mario.pk)
    floor.clock.advance(1)
    with verify_action(floor.account) as verified:
        floor.engine.incoming(floor.number, "c1")
    waited = verified.console(floor.mario.pk)["offer"]["waited_seconds"]
    floor.clock.advance(7)
    with verify_action(floor.account) as verified:  # any later change: Mario's card is as it was
        actions.login_operator(floor.giulia.pk)
    assert verified.console(floor.mario.pk)["offer"]["waited_seconds"] == waited


def test_a_waiting_caller_goes_to_the_operator_whose_wrap_up_the_sweep_ends(floor):
    actions.login_operator(floor.mario.pk)
    with verify_action(floor.account) as verified:
        floor.engine.incoming(floor.number, "c1")
    floor.engine.send(port.LegAnswered, "c1", leg_ref=leg_of(verified, floor.mario))
    floor.engine.send(port.Hangup, "c1")
    with verify_action(floor.account) as verified:
        floor.engine.incoming(floor.number, "c2", caller="+393330000002")
    assert states(verified, floor.mario) == []  # in wrap-up: the caller waits
    assert verified.wallboard(floor.account.pk)["services"][0]["waiting_now"] == 1
    floor.clock.advance(30)
    with verify_action(floor.account) as verified:
        acd.sweep([floor.account.pk])
    assert states(verified, floor.mario) == ["available", "ringing"]
    assert verified.console(floor.mario.pk)["offer"]["caller"] == "+393330000002"


def test_an_unanswered_offer_backs_off_then_auto_pauses_after_n_misses(floor):
    actions.login_operator(floor.mario.pk)
    with verify_action(floor.account) as verified:
        floor.engine.incoming(floor.number, "c1")
    leg = leg_of(verified, floor.mario)
    with verify_action(floor.account) as verified:
        floor.engine.send(port.LegNoAnswer, "c1", leg_ref=leg)
    assert states(verified, floor.mario) == ["available"]  # one miss of two: a short back-off
    assert verified.console(floor.mario.pk)["operator"]["no_answer_streak"] == 1
    floor.clock.advance(10)
    with verify_action(floor.account) as verified:  # the back-off is over: the waiting caller rings again
        acd.sweep([floor.account.pk])
    assert states(verified, floor.mario) == ["ringing"]
    leg = leg_of(verified, floor.mario)
    with verify_action(floor.account) as verified:
        floor.engine.send(port.LegNoAnswer, "c1", leg_ref=leg)
    mario = verified.console(floor.mario.pk)["operator"]
    assert (mario["state"], mario["pause_source"], mario["no_answer_streak"]) == ("paused", "no_answer", 2)


def test_an_offer_the_engine_never_answers_expires_by_the_sweep_into_an_auto_pause(floor):
    floor.service.pause_after_misses = 1
    floor.service.save()
    actions.login_operator(floor.mario.pk)
    floor.engine.incoming(floor.number, "c1")
    floor.clock.advance(floor.service.ring_timeout_seconds + 6)
    with verify_action(floor.account) as verified:
        acd.sweep([floor.account.pk])
    mario = verified.console(floor.mario.pk)["operator"]
    assert (mario["state"], mario["pause_source"]) == ("paused", "no_answer")
    assert verified.console(floor.mario.pk)["offer"] is None


def test_the_caller_hangs_up_while_ringing_and_the_next_operator_takes_the_next_caller(floor):
    actions.login_operator(floor.mario.pk)
    floor.engine.incoming(floor.number, "c1")
    floor.engine.incoming(floor.number, "c2", caller="+393330000002")
    floor.clock.advance(3)
    with verify_action(floor.account) as verified:
        floor.engine.send(port.Hangup, "c1")
    assert states(verified, floor.mario) == ["available", "ringing"]  # freed, then rung for c2 at once
    card = verified.console(floor.mario.pk)["offer"]
    assert card["caller"] == "+393330000002"
    assert verified.wallboard(floor.account.pk)["services"][0]["abandoned"] == 1


def test_ring_all_rings_every_free_operator_and_the_answer_frees_the_others(floor):
    floor.service.criterion = "ring_all"
    floor.service.save()
    actions.login_operator(floor.mario.pk)
    actions.login_operator(floor.giulia.pk)
    with verify_action(floor.account) as verified:
        floor.engine.incoming(floor.number, "c1")
    assert states(verified, floor.mario) == states(verified, floor.giulia) == ["ringing"]
    leg = leg_of(verified, floor.giulia)
    with verify_action(floor.account) as verified:
        floor.engine.send(port.LegAnswered, "c1", leg_ref=leg)
    assert states(verified, floor.giulia) == ["on_call"]
    assert states(verified, floor.mario) == ["available"]


def test_the_maximum_wait_sends_the_caller_to_voicemail_and_only_the_figures_change(floor):
    floor.service.overflow_when_nobody_logged_in = False
    floor.service.save()
    floor.engine.incoming(floor.number, "c1")
    floor.clock.advance(61)
    with verify_action(floor.account) as verified:
        acd.sweep([floor.account.pk])
    assert {e["type"] for e in verified.events} == {"calls.changed"}  # no operator is involved
    services = verified.wallboard(floor.account.pk)["services"]
    assert (services[0]["waiting_now"], services[0]["overflow"]["voicemail"]) == (0, 1)
