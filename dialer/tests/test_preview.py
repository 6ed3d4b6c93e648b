"""Preview mode through the production ACD on the test switch: the operator holds a lead to read (nobody else
sees it, the placement loop never dials it), dials it with a click, and the person who answers is put
through to that operator, even with another one free and idle longer; a skip puts the lead back without
counting an attempt. The lead's custom fields ride on the call card of every dialer call."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from acd.tests.switch import only_ring
from agents import actions as presence
from boards.session import session_data
from boards.snapshots import console_snapshot
from core.errors import ActionError
from dialer import actions, pacer, preview
from dialer.choices import AttemptOutcome, CampaignMode, LeadState
from dialer.models import Attempt, Lead
from telephony import port

pytestmark = pytest.mark.django_db(transaction=True)

FIELDS = [{"label": "name", "value": "Ada <b>Lovelace</b>"}, {"label": "plan", "value": "Gold"}]


def _lead(f, phone: str) -> Lead:
    f.list.custom_fields = ["name", "plan"]
    f.list.save()
    return Lead.objects.create(account=f.account, lead_list=f.list, phone=phone, timezone="Europe/Rome",
                               fields={"plan": "Gold", "name": "Ada <b>Lovelace</b>"})


def _originate(switch) -> port.Originate:
    (orig,) = [c for c in switch.pending() if isinstance(c, port.Originate)]
    return orig


def test_the_operator_previews_dials_and_takes_the_answered_call(floor, switch):
    f = floor(operators=2, mode=CampaignMode.PREVIEW)
    first, second = _lead(f, "+390612345601"), _lead(f, "+390612345602")
    reader, other = f.ops[1], f.ops[0]  # `other` logged in first: the longest idle of the two
    assert pacer.place_tick(f.campaign.pk, owner="test").placed == []  # preview: the dialer dials nothing itself
    assert console_snapshot(reader.pk)["preview_ready"] is True

    card = preview.next_lead(reader.pk)
    assert (card["phone"], card["campaign"], card["fields"]) == (first.phone, f.campaign.name, FIELDS)
    assert preview.next_lead(reader.pk) == card  # a double click holds no second lead
    assert console_snapshot(reader.pk)["preview"] == card  # a reloaded console shows it again
    assert preview.next_lead(other.pk)["phone"] == second.phone  # nobody else sees the held lead
    switch.clock.advance(60)
    pacer.place_tick(f.campaign.pk, owner="test")
    assert switch.pending() == []  # however long it is read, the placement loop does not resend it

    with pytest.raises(ActionError):
        preview.dial(other.pk, card["attempt_id"])  # only the one who holds it dials it
    attempt = preview.dial(reader.pk, card["attempt_id"])
    assert attempt.outcome == AttemptOutcome.RINGING
    orig = _originate(switch)
    assert orig.destination == first.phone
    with pytest.raises(ActionError):
        preview.dial(reader.pk, card["attempt_id"])  # a second click dials nothing
    assert switch.pending() == []

    switch.clock.advance(5)
    ring = only_ring(switch.event(port.AmdResult, orig.call_ref, verdict="human"))
    assert ring.endpoint == reader.endpoint  # not the longest-idle operator: the one who dialled
    assert ring.screen["fields"] == FIELDS
    switch.answer(orig.call_ref, ring)
    actions.sync_attempts(f.campaign.pk)
    attempt.refresh_from_db()
    assert (attempt.outcome, attempt.operator_id) == (AttemptOutcome.CONNECTED, reader.pk)
    assert console_snapshot(reader.pk)["preview"] is None


def test_the_held_operator_busy_elsewhere_at_the_answer_means_the_2_s_rule(floor, switch):
    f = floor(operators=1, mode=CampaignMode.PREVIEW)
    _lead(f, "+390612345601")
    reader = f.ops[0]
    card = preview.next_lead(reader.pk)
    preview.dial(reader.pk, card["attempt_id"])
    orig = _originate(switch)
    presence.pause_operator(reader.pk)
    assert [c.type for c in switch.event(port.AmdResult, orig.call_ref, verdict="human")] == ["answer", "start_hold"]
    assert "play" in [c.type for c in switch.advance(2.5)]  # the safe-harbor message, as for any dialer call
    assert Attempt.objects.get(pk=card["attempt_id"]).outcome == AttemptOutcome.ABANDONED


def test_a_skip_puts_the_lead_back_uncounted_and_shows_the_next(floor, switch):
    f = floor(operators=1, mode=CampaignMode.PREVIEW)
    first, second = _lead(f, "+390612345601"), _lead(f, "+390612345602")
    reader = f.ops[0]
    card = preview.next_lead(reader.pk)
    preview.skip(reader.pk, card["attempt_id"])
    first.refresh_from_db()
    assert (first.state, first.attempts) == (LeadState.RETRY, 0)
    assert first.next_attempt_at == switch.clock.now() + dt.timedelta(hours=1)
    assert Attempt.objects.get(pk=card["attempt_id"]).outcome == AttemptOutcome.SKIPPED
    assert preview.next_lead(reader.pk)["phone"] == second.phone
    assert switch.pending() == []  # nothing was dialled


def test_progressive_calls_carry_the_leads_fields_on_the_card(floor, switch):
    f = floor(operators=1)
    _lead(f, "+390612345601")
    tick = pacer.place_tick(f.campaign.pk, owner="test")
    for pk in tick.placed:
        actions.place_attempt(pk)
    ring = only_ring(switch.event(port.AmdResult, _originate(switch).call_ref, verdict="human"))
    assert ring.screen["fields"] == FIELDS
    assert console_snapshot(f.ops[0].pk)["offer"]["fields"] == FIELDS


def test_the_console_buttons_go_through_the_actions(floor, switch, client):
    f = floor(operators=1, mode=CampaignMode.PREVIEW)
    lead = _lead(f, "+390612345601")
    session = client.session
    session.update(session_data(f.ops[0]))
    session.save()
    url = reverse("console-action")
    post = lambda body: client.post(url, body, content_type="application/json")  # noqa: E731
    card = post({"action": "preview_next"}).json()["preview"]
    assert card["phone"] == lead.phone
    assert post({"action": "preview_dial", "attempt": "x"}).status_code == 400
    answer = post({"action": "preview_dial", "attempt": card["attempt_id"]})
    assert answer.status_code == 200 and answer.json()["dialing"] == lead.phone
    assert post({"action": "preview_dial", "attempt": card["attempt_id"]}).status_code == 409
    busy = post({"action": "preview_next"})  # no second lead while the call they dialled is being placed
    assert busy.status_code == 409 and busy.json()["code"] == "dialing"
