"""Round-trip baselines of the menu's events, counted at the wire (BEGIN and COMMIT included), as
`acd/tests/test_round_trips.py` does for the rest of the call path: two each, as every engine event (issue 9).
A call answered with a menu reads the number's menu and probes its channel in the first round trip, as a
plain call does with its service; a key press reads its menu's options (with the menu, and whether each
option's service has opening hours) beside the call's lock, and locks the best free operator there when the
key leads straight to a service that rings at once; the writes and the channel go with the COMMIT."""

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
    "incoming_call (menu)": 2,
    "digits (sub-menu)": 2,
    "digits (invalid, repeat)": 2,
    "digits (service, rings)": 2,
}


def test_menu_events_stay_within_their_ceilings(account, switch):
    op = factories.make_operator(account)
    tree = two_level_menu(account, [op])
    presence.login_operator(op.pk)
    warm, _ = switch.incoming(tree.number.number)  # counters, caches and prepared statements warm
    switch.event(port.Digits, warm, digits="2")
    switch.event(port.Digits, warm, digits="8")
    switch.hangup(warm)
    step = Steps()

    ref, _ = step("incoming_call (menu)", lambda: switch.incoming(tree.number.number))
    step("digits (sub-menu)", lambda: switch.event(port.Digits, ref, digits="2"))
    tree.sub.max_retries = 1
    tree.sub.save()
    step("digits (invalid, repeat)", lambda: switch.event(port.Digits, ref, digits="8"))
    only_ring(step("digits (service, rings)", lambda: switch.event(port.Digits, ref, digits="1")))
    assert not step.over(CEILINGS), step.over(CEILINGS)
