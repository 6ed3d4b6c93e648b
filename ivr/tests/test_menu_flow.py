"""A caller through a two-level voice menu, through the production ACD (`handle_event`), event by event."""

from __future__ import annotations

import datetime as dt

import pytest

from acd.choices import CallState, Outcome
from acd.prompts import BUILTIN_MENU, BUILTIN_MENU_GOODBYE, BUILTIN_MENU_INVALID
from acd.tests.switch import only_ring
from agents import actions as presence
from budget.models import ChannelLease
from ivr.choices import ChoiceResult
from ivr.models import MenuChoice
from ivr.stats import option_counts
from routing.models import CallerRoute, OpeningHours
from telephony import port
from tests import factories

from .menus import two_level_menu

pytestmark = pytest.mark.django_db


def _collect(commands):
    found = [c for c in commands if isinstance(c, port.CollectDigits)]
    assert len(found) == 1, commands
    return found[0]


def test_two_level_menu_stores_the_path_shows_it_and_whispers_it(account, switch):
    op = factories.make_operator(account)
    tree = two_level_menu(account, [op])
    presence.login_operator(op.pk)
    ref, commands = switch.incoming(tree.number.number)
    assert [c.type for c in commands] == ["answer", "collect_digits"]
    ask = _collect(commands)
    assert ask.prompt.endswith(".wav") and ask.max_digits == 1 and ask.timeout_seconds == 5
    call = switch.call(ref)
    assert call.state == CallState.COLLECTING and call.menu_id == tree.top.pk and call.service_id is None
    ask = _collect(switch.event(port.Digits, ref, digits="2"))
    assert ask.prompt == BUILTIN_MENU  # the sub-menu has no prompt of its own
    ring = only_ring(switch.event(port.Digits, ref, digits="1"))
    call = switch.call(ref)
    assert call.service_id == tree.faults.pk and call.menu_id is None
    assert [(s["digit"], s["label"]) for s in call.menu_path] == [("2", "Assistenza"), ("1", "Guasti")]
    assert ring.screen["menu_path"] == ["2 Assistenza", "1 Guasti"]
    assert ring.whisper.endswith(".wav")  # Guasti's whisper prompt, played to the operator before the bridge
    switch.answer(ref, ring)
    assert switch.call(ref).state == CallState.CONNECTED
    counts = option_counts(tree.top, dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
    assert {(c["digit"], c["count"]) for c in counts["options"]} == {("1", 0), ("2", 1), ("9", 0)}
    sub = option_counts(tree.sub, dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
    assert {(c["digit"], c["count"]) for c in sub["options"]} == {("1", 1), ("2", 0)}


def test_labels_are_whispered_without_a_prompt_and_not_at_all_unless_the_service_asks(account, switch):
    op = factories.make_operator(account)
    tree = two_level_menu(account, [op])
    presence.login_operator(op.pk)
    ref, _ = switch.incoming(tree.number.number)
    ring = only_ring(switch.event(port.Digits, ref, digits="1"))
    assert ring.whisper == "Vendite"
    switch.hangup(ref)
    tree.sales.whisper_menu_choice = False
    tree.sales.save()
    ref, _ = switch.incoming(tree.number.number, caller="+393330000001")
    ring = only_ring(switch.event(port.Digits, ref, digits="1"))
    assert ring.whisper == "" and ring.screen["menu_path"] == ["1 Vendite"]


def test_invalid_choice_repeats_then_the_top_menu_says_goodbye(account, switch):
    tree = two_level_menu(account)
    ref, _ = switch.incoming(tree.number.number)
    commands = switch.event(port.Digits, ref, digits="7")
    assert [c.type for c in commands] == ["play", "collect_digits"] and commands[0].prompt == BUILTIN_MENU_INVALID
    commands = switch.event(port.Digits, ref, digits="")  # silence: the retry is spent, the fallback hangs up
    assert [c.type for c in commands][-2:] == ["play", "hangup"] and commands[-2].prompt == BUILTIN_MENU_GOODBYE
    call = switch.call(ref)
    assert call.state == CallState.ENDED and call.outcome == Outcome.REJECTED
    results = list(MenuChoice.objects.filter(call_id=call.pk).order_by("id").values_list("result", flat=True))
    assert results == [ChoiceResult.INVALID, ChoiceResult.TIMEOUT, ChoiceResult.FALLBACK]


def test_timeout_in_the_sub_menu_falls_back_to_its_service(account, switch):
    op = factories.make_operator(account)
    tree = two_level_menu(account, [op])
    presence.login_operator(op.pk)
    ref, _ = switch.incoming(tree.number.number)
    switch.event(port.Digits, ref, digits="2")
    ring = only_ring(switch.event(port.Digits, ref, digits=""))  # no retries in the sub-menu
    call = switch.call(ref)
    assert call.service_id == tree.bills.pk and ring.screen["menu_path"] == ["2 Assistenza"]


def test_repeat_plays_the_menu_again_without_spending_a_retry(account, switch):
    tree = two_level_menu(account)
    ref, _ = switch.incoming(tree.number.number)
    for _ in range(3):
        assert _collect(switch.event(port.Digits, ref, digits="9")).prompt.endswith(".wav")
    assert switch.call(ref).menu_tries == 0


def test_opening_hours_still_apply_after_the_menu(account, switch):
    tree = two_level_menu(account)
    OpeningHours.objects.create(service=tree.sales, weekday=6, opens=dt.time(9), closes=dt.time(10))  # Sundays
    ref, _ = switch.incoming(tree.number.number)
    commands = switch.event(port.Digits, ref, digits="1")
    assert commands[-1].type == "hangup" and switch.call(ref).outcome == Outcome.CLOSED


def test_a_caller_route_wins_over_the_menu(account, switch):
    tree = two_level_menu(account)
    tree.number.route_by_caller = True
    tree.number.save()
    CallerRoute.objects.create(account=account, prefix="+39333", service=tree.bills)
    ref, commands = switch.incoming(tree.number.number, caller="+393331234567")
    assert not [c for c in commands if isinstance(c, port.CollectDigits)]
    assert switch.call(ref).service_id == tree.bills.pk


def test_hanging_up_in_the_menu_abandons_the_call_and_frees_its_channel(account, switch):
    tree = two_level_menu(account)
    ref, _ = switch.incoming(tree.number.number)
    call = switch.call(ref)
    assert ChannelLease.objects.filter(call_id=call.pk, released_at__isnull=True).exists()
    switch.hangup(ref)
    assert switch.call(ref).outcome == Outcome.ABANDONED
    assert not ChannelLease.objects.filter(call_id=call.pk, released_at__isnull=True).exists()


def test_a_key_pressed_in_a_menu_deleted_meanwhile_ends_the_call_politely(account, switch):
    tree = two_level_menu(account)
    ref, _ = switch.incoming(tree.number.number)
    tree.top.delete()  # its options, number link and choices go with it; the call keeps no menu
    commands = switch.event(port.Digits, ref, digits="1")
    assert [c.type for c in commands] == ["play", "hangup"] and commands[0].prompt == BUILTIN_MENU_GOODBYE
    assert switch.call(ref).state == CallState.ENDED
