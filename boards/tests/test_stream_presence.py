"""verify_action on every presence action: operator (console), API, admin, supervisor (wallboard), and the
ACD's answer to a login when a caller is waiting. Each commits for real; its events travel the Redis layer."""

from __future__ import annotations

import contextlib
import itertools
import threading
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from acd import actions as acd
from agents import actions
from agents.models import Operator, OperatorEvent
from core.errors import IllegalTransition
from telephony import port
from tests import factories
from tests.api import client_for

from ..session import session_data
from .verify import verify_action

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def floor(clock):
    account = factories.make_account()
    mario = factories.make_operator(account, name="Mario")
    giulia = factories.make_operator(account, name="Giulia")
    service = factories.make_service(account, [(mario, 5), (giulia, 5)])
    return SimpleNamespace(account=account, mario=mario, giulia=giulia, service=service,
                           number=factories.make_number(account, service),
                           lunch=factories.make_pause_reason(account, "Lunch"))


def operator_events(verified, op) -> list[dict]:
    return [e for e in verified.of(f"operator.{op.pk}") if e["type"] == "operator.state"]


def console_client(op: Operator) -> Client:
    client = Client()
    session = client.session
    session.update(session_data(op))
    session.save()
    return client


def test_versions_rise_by_one_with_each_change_in_commit_order(floor):
    versions = []
    for action, kwargs in ((actions.login_operator, {}), (actions.pause_operator, {"reason_id": floor.lunch.pk}),
                           (actions.resume_operator, {}), (actions.logoff_operator, {})):
        with verify_action(floor.account) as verified:
            action(floor.mario.pk, **kwargs)
        [event] = operator_events(verified, floor.mario)
        [on_board] = [e for e in verified.of(f"account.{floor.account.pk}") if e["type"] == "operator.state"]
        assert on_board["operator"] == event["operator"]
        versions.append(event["operator"]["version"])
    assert versions == [1, 2, 3, 4]
    assert Operator.objects.get(pk=floor.mario.pk).version == 4


def test_operator_on_the_console_logs_in_pauses_with_a_reason_resumes_and_logs_off(floor):
    client = console_client(floor.mario)
    url = reverse("console-action")
    for body, state in (({"action": "login"}, "available"), ({"action": "pause", "reason": floor.lunch.pk}, "paused"),
                        ({"action": "resume"}, "available"), ({"action": "logoff"}, "logged_out")):
        with verify_action(floor.account) as verified:
            answer = client.post(url, body, content_type="application/json")
        assert answer.status_code == 200
        assert answer.json() == verified.console(floor.mario.pk)["operator"]  # the answer carries the version too
        assert verified.console(floor.mario.pk)["operator"]["state"] == state
        if state == "paused":
            assert verified.console(floor.mario.pk)["operator"]["pause_reason"] == "Lunch"


def test_api_presence_actions(floor):
    api = client_for(floor.account)
    for verb, state in (("login", "available"), ("pause", "paused"), ("resume", "available"),
                        ("logoff", "logged_out")):
        body = {"reason": floor.lunch.pk} if verb == "pause" else {}
        with verify_action(floor.account) as verified:
            answer = api.post(reverse(f"operator-{verb}", args=[floor.giulia.pk]), body, format="json")
        assert answer.status_code == 200, answer.content
        assert answer.json()["version"] == verified.console(floor.giulia.pk)["operator"]["version"]
        assert verified.wallboard(floor.account.pk)["operators"][0]["state"] == state  # Giulia sorts first


def test_a_pause_without_a_reason_is_refused_when_the_account_keeps_a_list(floor):
    """The account has pause reasons: the console, the wallboard and the API must pick one (400, the field
    named, nothing changed); by phone, where no list is offered, a pause needs none."""
    actions.login_operator(floor.mario.pk)
    before = Operator.objects.get(pk=floor.mario.pk).version
    api = client_for(floor.account).post(reverse("operator-pause", args=[floor.mario.pk]), {}, format="json")
    assert api.status_code == 400 and api.json()["code"] == "pause_reason_required"
    assert api.json()["field"] == "reason"
    console = console_client(floor.mario).post(reverse("console-action"), {"action": "pause"},
                                               content_type="application/json")
    assert console.status_code == 400 and console.json()["field"] == "reason"
    board = Client()
    board.force_login(factories.make_supervisor(floor.account))
    refused = board.post(reverse("wallboard-action"), {"operator": floor.mario.pk, "action": "pause"},
                         content_type="application/json")
    assert refused.status_code == 400 and refused.json()["code"] == "pause_reason_required"
    assert Operator.objects.get(pk=floor.mario.pk).version == before
    with verify_action(floor.account) as verified:
        actions.pause_operator(floor.mario.pk, via="phone")
    assert verified.console(floor.mario.pk)["operator"]["state"] == "paused"


def test_admin_actions_on_several_operators(floor, admin_client):
    url = reverse("admin:agents_operator_changelist")
    selected = [floor.mario.pk, floor.giulia.pk]
    for action in ("login_selected", "pause_selected", "resume_selected", "logoff_selected"):
        with verify_action(floor.account) as verified:
            admin_client.post(url, {"action": action, "_selected_action": selected})
        assert len(operator_events(verified, floor.mario)) == len(operator_events(verified, floor.giulia)) == 1
    assert verified.wallboard(floor.account.pk)["operators"][0]["version"] == 4


def test_supervisor_pauses_and_logs_off_from_the_wallboard(floor):
    actions.login_operator(floor.mario.pk)
    client = Client()
    supervisor = factories.make_supervisor(floor.account)
    supervisor.first_name, supervisor.last_name = "Ugo", "Bianchi"
    supervisor.save()
    client.force_login(supervisor)
    for verb, state in (("pause", "paused"), ("resume", "available"), ("logoff", "logged_out")):
        with verify_action(floor.account) as verified:
            answer = client.post(reverse("wallboard-action"), {"operator": floor.mario.pk, "action": verb,
                                                               "reason": floor.lunch.pk},
                                 content_type="application/json")
        assert answer.status_code == 200, answer.content
        mario = verified.console(floor.mario.pk)["operator"]
        assert mario["state"] == state
        if state == "paused":  # the console says who paused, and why
            assert (mario["pause_source"], mario["paused_by"], mario["pause_reason"]) == (
                "supervisor", "Ugo Bianchi", "Lunch")
            assert OperatorEvent.objects.filter(operator=floor.mario, to_state="paused").get().by == "Ugo Bianchi"
        else:
            assert mario["paused_by"] is None


def test_a_refused_action_publishes_nothing_and_changes_nothing(floor):
    with verify_action(floor.account, state_change_expected=False) as verified, \
            pytest.raises(IllegalTransition):
        actions.resume_operator(floor.mario.pk)
    assert verified.events == []


def test_login_with_a_caller_waiting_rings_the_operator_at_once(floor):
    floor.service.overflow_when_nobody_logged_in = False
    floor.service.save()
    acd.handle_event(port.IncomingCall(event_id="p1", call_ref="waiting", dialed=floor.number.number,
                                       caller="+393331112222"), account_id=floor.account.pk)
    with verify_action(floor.account) as verified:
        actions.login_operator(floor.mario.pk)
    console = verified.console(floor.mario.pk)
    assert console["operator"]["state"] == "ringing" and console["offer"]["caller"] == "+393331112222"
    assert [e["operator"]["state"] for e in operator_events(verified, floor.mario)] == ["available", "ringing"]
    [offer] = [e for e in verified.of(f"operator.{floor.mario.pk}") if e["type"] == "offer"]
    assert offer["version"] == console["operator"]["version"] == 2


def test_a_configuration_edit_never_writes_presence_back(floor):
    """An admin form or API edit loaded before a state change must not put the old state (or version) back."""
    stale = Operator.objects.get(pk=floor.mario.pk)
    actions.login_operator(floor.mario.pk)
    stale.name = "Mario Rossi"
    stale.save()
    op = Operator.objects.get(pk=floor.mario.pk)
    assert (op.name, op.state, op.version) == ("Mario Rossi", "available", 1)


def test_concurrent_changes_of_one_operator_get_distinct_versions_in_commit_order(floor):
    """Four threads toggle one operator at once: each change gets the next version, none is lost or shared."""
    actions.login_operator(floor.mario.pk)

    def toggle() -> None:
        try:
            for _ in range(10):
                with contextlib.suppress(IllegalTransition):
                    actions.pause_operator(floor.mario.pk, reason_id=floor.lunch.pk)
                with contextlib.suppress(IllegalTransition):
                    actions.resume_operator(floor.mario.pk)
        finally:
            connection.close()

    with verify_action(floor.account) as verified:
        threads = [threading.Thread(target=toggle) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    published = [e["operator"] for e in operator_events(verified, floor.mario)]
    op = Operator.objects.get(pk=floor.mario.pk)
    assert sorted(o["version"] for o in published) == list(range(2, op.version + 1))
    assert op.version == 1 + OperatorEvent.objects.filter(operator=op, from_state__in=["available", "paused"],
                                                          to_state__in=["available", "paused"]).count()
    # The log in commit order alternates, as versions say: version n+1 always leaves the state version n left.
    by_version = sorted(published, key=lambda o: o["version"])
    assert all(a["state"] != b["state"] for a, b in itertools.pairwise(by_version))
