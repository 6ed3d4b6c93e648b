"""Round-trip baselines of the menu's events, counted at the wire (BEGIN and COMMIT included), as
`acd/tests/test_round_trips.py` does for the rest of the call path. Today's figures: a call answered with a
menu costs one more round trip than a plain one (the number's menu is read after the first round trip) and
one more for its channel (the budget's statement in the first round trip wants a service); a digit reads
its menu's options (with the menu, and whether the service has opening hours) in one more round trip; one
that leads to a service then locks the best free operator (the criterion's statement) before the COMMIT."""

from __future__ import annotations

import pytest

from acd.tests.switch import only_ring
from agents import actions as presence
from core.roundtrips import Steps
from telephony import port
from tests import factories

from .menus import two_level_menu

pytestmark = pytest.mark.django_db(transaction=True)

CEILINGS = {
    "incoming_call (menu)": 4,
    "digits (sub-menu)": 3,
    "digits (invalid, repeat)": 3,
    "digits (service, rings)": 4,
}


def test_menu_events_stay_within_their_ceilings(account, switch):
    op = factories.make_operator(account)
    tree = two_level_menu(account, [op])
    presence.login_operator(op.pk)
    warm, _ = switch.incoming(tree.number.number)  # counters and caches warm
    switch.hangup(warm)
    step = Steps()

    ref, _ = step("incoming_call (menu)", lambda: switch.incoming(tree.number.number))
    step("digits (sub-menu)", lambda: switch.event(port.Digits, ref, digits="2"))
    tree.sub.max_retries = 1
    tree.sub.save()
    step("digits (invalid, repeat)", lambda: switch.event(port.Digits, ref, digits="8"))
    only_ring(step("digits (service, rings)", lambda: switch.event(port.Digits, ref, digits="1")))
    assert not step.over(CEILINGS), step.over(CEILINGS)
