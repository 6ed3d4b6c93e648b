"""A two-level menu end to end through the signed webhook engine: an external engine posts signed JSON
events and carries out the JSON commands it gets back (path stored, whisper played, statistics per option),
and one account's engine cannot press keys in another account's menu."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse

from acd.models import Call
from agents import actions as presence
from ivr.stats import option_counts
from tests import factories
from tests.api import client_for, post_signed

from .menus import two_level_menu

pytestmark = pytest.mark.django_db(transaction=True)


def _post(account, event: dict) -> list[dict]:
    response = post_signed(account.slug, account.webhook_secret, json.dumps(event).encode())
    assert response.status_code == 200, response.content
    return response.json()["commands"]


def test_a_two_level_menu_through_the_webhook_engine():
    account = factories.make_account()
    op = factories.make_operator(account)
    tree = two_level_menu(account, [op])
    presence.login_operator(op.pk)
    commands = _post(account, {"type": "incoming_call", "event_id": "w1", "call_ref": "ext-1",
                               "dialed": tree.number.number, "caller": "+393331234567"})
    assert [c["type"] for c in commands] == ["answer", "collect_digits"]
    assert commands[1]["max_digits"] == 1 and commands[1]["timeout_seconds"] == 5
    commands = _post(account, {"type": "digits", "event_id": "w2", "call_ref": "ext-1", "digits": "2"})
    assert [c["type"] for c in commands] == ["collect_digits"]
    commands = _post(account, {"type": "digits", "event_id": "w3", "call_ref": "ext-1", "digits": "1"})
    ring = next(c for c in commands if c["type"] == "ring")
    assert ring["whisper"].endswith(".wav")  # Guasti's whisper prompt, played to the operator first
    assert ring["screen"]["menu_path"] == ["2 Assistenza", "1 Guasti"]
    # The redelivered key press answers the same and presses nothing twice.
    again = _post(account, {"type": "digits", "event_id": "w3", "call_ref": "ext-1", "digits": "1"})
    assert again == commands
    commands = _post(account, {"type": "leg_answered", "event_id": "w4", "call_ref": "ext-1",
                               "leg_ref": ring["leg_ref"]})
    assert [c["type"] for c in commands] == ["stop_hold", "bridge"]
    call = Call.objects.get(account=account, engine_ref="ext-1")
    assert [s["digit"] for s in call.menu_path] == ["2", "1"] and call.service_id == tree.faults.pk
    listed = client_for(account).get(reverse("call-detail", args=[call.pk])).json()
    assert [s["label"] for s in listed["menu_path"]] == ["Assistenza", "Guasti"]
    window = (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
    assert {o["digit"]: o["count"] for o in option_counts(tree.sub, *window)["options"]} == {"1": 1, "2": 0}
    assert {o["digit"]: o["count"] for o in option_counts(tree.top, *window)["options"]} == {"1": 0, "2": 1, "9": 0}


def test_another_accounts_engine_cannot_reach_the_menu_or_press_its_keys():
    account, other = factories.make_account(), factories.make_account()
    tree = two_level_menu(account)
    _post(account, {"type": "incoming_call", "event_id": "x1", "call_ref": "ext-9",
                    "dialed": tree.number.number, "caller": "+393331234567"})
    commands = _post(other, {"type": "incoming_call", "event_id": "x1", "call_ref": "ext-9",
                             "dialed": tree.number.number, "caller": "+393331234567"})
    assert [c["type"] for c in commands] == ["hangup"]  # not their number: refused, no menu
    assert _post(other, {"type": "digits", "event_id": "x2", "call_ref": "ext-9", "digits": "2"}) == []
    call = Call.objects.get(account=account, engine_ref="ext-9")
    assert call.menu_id == tree.top.pk and call.menu_path == []
