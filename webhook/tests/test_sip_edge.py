"""The SIP edge without a proxy: Kamailio's questions as JSON, answered by the ACD (webhook/sip.py)."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from acd.choices import CallState, Outcome
from acd.models import Call
from agents import actions as presence
from agents.models import sip_realm
from budget.models import ChannelLease
from routing.choices import OverflowAction
from telephony import outbox, port
from telephony.backends.sip import translate
from telephony.backends.sip.tasks import sip_commands_task
from telephony.models import OutboundCommand
from tests import factories
from webhook.sip import TOKEN_HEADER

pytestmark = pytest.mark.django_db
TOKEN = "edge-token"


@pytest.fixture(autouse=True)
def edge(settings):
    settings.SIP_EDGE_TOKEN = TOKEN
    settings.TELEPHONY_BACKEND = "sip"


def ask(kind: str, doc: dict, token: str = TOKEN):
    return Client().post(f"/api/v1/telephony/sip/{kind}/", json.dumps(doc), content_type="application/json",
                         headers={TOKEN_HEADER: token})


def invite(number: str, call_id: str = "abc@host") -> dict:
    return {"type": "invite", "call_id": call_id, "dialed": number, "from_user": "+393331234567",
            "from_uri": "sip:+393331234567@carrier", "display": "Caller"}


def test_invite_rings_the_operator_and_a_retry_gets_the_same_answer():
    account, op, number = factories.make_floor()
    first = ask("decide", invite(number.number)).json()
    assert first["action"] == "ring" and first["uri"] == op.endpoint and first["account"] == str(account.pk)
    assert first["timeout_ms"] == number.service.ring_timeout_seconds * 1000
    again = ask("decide", invite(number.number)).json()  # Kamailio retried: the same Call-ID and event
    assert again == first
    assert Call.objects.filter(account=account).count() == 1


def test_reports_are_idempotent_by_call_id_and_event():
    account, op, number = factories.make_floor()
    leg = ask("decide", invite(number.number))
    doc = {"call_id": "abc@host", "account": str(account.pk), "leg": leg.json()["leg"]}
    for _ in range(2):
        assert ask("report", {**doc, "type": "answered"}).json() == {"taken": True}
    for _ in range(2):
        assert ask("report", {**doc, "type": "ended", "duration": 3}).json() == {"taken": True}
    call = Call.objects.get(account=account)
    assert call.state == CallState.ENDED and call.outcome == Outcome.ANSWERED and call.operator_id == op.pk


def test_unknown_number_and_bad_token():
    assert ask("decide", invite("+390000000001")).json()["code"] == 404
    assert ask("decide", invite("+390000000001"), token="wrong").status_code == 403
    assert ask("decide", {"type": "invite"}).status_code == 400


@pytest.mark.parametrize("code", [486, 403, 503])
def test_plan_limit_code_is_configurable(settings, code):
    settings.SIP_PLAN_LIMIT_CODE = code
    decision = translate.decide([port.HangupCall(call_ref="x", cause="REACH_PLAN_LIMIT")])
    assert decision.code == code and "REACH_PLAN_LIMIT" in decision.headers and "Retry-After:" in decision.headers


def test_failure_codes_mean_what_sip_means():
    doc = {"call_id": "c", "leg": "L1"}
    assert isinstance(translate.failure_event({**doc, "code": 408}), port.LegNoAnswer)
    assert isinstance(translate.failure_event({**doc, "code": 486}), port.LegBusy)
    assert isinstance(translate.failure_event({**doc, "code": 603}), port.LegRejected)
    assert isinstance(translate.failure_event({**doc, "code": 500}), port.LegFailed)


def test_long_call_ids_are_hashed_to_a_stable_reference():
    long_id = "x" * 300 + "@host"
    assert translate.call_ref(long_id) == translate.call_ref(long_id)
    assert len(translate.call_ref(long_id)) <= port.FIELD_MAX_LENGTH["call_ref"]
    assert translate.caller_of("anonymous", "sip:anonymous@anonymous.invalid") == "anonymous"
    assert translate.caller_of("", "sip:x@anonymous.invalid") == "anonymous"


def test_no_operator_with_a_busy_overflow_is_refused_486_and_the_call_ended():
    account, op, number = factories.make_floor()
    number.service.overflow_action = OverflowAction.BUSY
    number.service.save()
    presence.logoff_operator(op.pk)
    decision = ask("decide", invite(number.number, call_id="nobody@host")).json()
    assert decision["action"] == "refuse" and decision["code"] == 486, decision
    call = Call.objects.get(account=account)
    assert call.state == CallState.ENDED
    assert not ChannelLease.objects.filter(account=account, released_at__isnull=True).exists()


def test_credentials_answer_the_logins_ha1_in_its_accounts_realm_only():
    account, other = factories.make_account(), factories.make_account()
    op = factories.make_operator(account, login="anna")
    answer = ask("credentials", {"call_id": "r1", "user": "anna", "realm": sip_realm(account.slug)}).json()
    assert answer == {"ha1": op.sip_ha1, "account": str(account.pk), "operator": str(op.pk)}
    for user, realm in (("anna", sip_realm(other.slug)), ("nobody", sip_realm(account.slug)),
                        ("anna", account.slug), ("anna", "")):
        assert ask("credentials", {"call_id": "r2", "user": user, "realm": realm}).json() == {"ha1": ""}
    assert ask("credentials", {"call_id": "r3", "user": "anna", "realm": sip_realm(account.slug)},
               token="wrong").status_code == 403


def test_registration_reports_are_scoped_to_the_account_and_ring_the_contact():
    account, op, number = factories.make_floor()
    presence.logoff_operator(op.pk)
    other = factories.make_account()
    report = {"type": "registered", "call_id": "reg1", "operator": str(op.pk), "contact": "sip:op@192.0.2.1:5070",
              "expires": 1300, "now": 1000}
    assert ask("report", {**report, "account": str(other.pk)}).json() == {"taken": False}
    assert ask("report", {**report, "account": str(account.pk)}).json() == {"taken": True}
    op.refresh_from_db()
    assert op.state == "available"
    assert ask("decide", invite(number.number)).json()["uri"] == "sip:op@192.0.2.1:5070"


def reports(docs, **headers):
    return Client().post("/api/v1/telephony/sip/reports/", json.dumps(docs), content_type="application/json",
                         headers=headers or {TOKEN_HEADER: TOKEN})


def test_a_batch_of_reports_is_applied_in_order_and_a_retried_batch_changes_nothing():
    account, _op, number = factories.make_floor()
    leg = ask("decide", invite(number.number, call_id="b1@host")).json()["leg"]
    doc = {"call_id": "b1@host", "account": str(account.pk), "leg": leg}
    batch = [{**doc, "type": "answered"}, {**doc, "type": "ended", "duration": 3}, "junk", {"type": "answered"}]
    assert reports(batch).json() == {"taken": 2, "of": 4}
    call = Call.objects.get(account=account)
    assert call.state == CallState.ENDED and call.outcome == Outcome.ANSWERED  # answered first, then ended
    ended_at = call.ended_at
    assert reports(batch).json() == {"taken": 2, "of": 4}  # Kamailio sent it again: nothing twice
    call.refresh_from_db()
    assert call.ended_at == ended_at and call.outcome == Outcome.ANSWERED
    assert reports({"not": "a list"}).status_code == 400
    assert reports([doc] * 201).status_code == 413


def test_the_token_may_come_as_the_basic_authentication_password():
    good = "Basic " + base64.b64encode(f"kamailio:{TOKEN}".encode()).decode()
    bad = "Basic " + base64.b64encode(b"kamailio:nope").decode()
    assert reports([], Authorization=good).json() == {"taken": 0, "of": 0}
    assert reports([], Authorization=bad).status_code == 403
    assert reports([], Authorization="Basic %%%").status_code == 403


def test_a_late_unregistration_never_logs_out_a_phone_registered_since():
    """The registrar's reports carry its clock: an unregistration read before the registration already
    applied (another Call-ID, a retried batch) is older news and changes nothing."""
    account, op, number = factories.make_floor()
    presence.logoff_operator(op.pk)
    base = {"call_id": "reg-new", "account": str(account.pk), "operator": str(op.pk)}
    fresh = {**base, "type": "registered", "contact": "sip:op@192.0.2.7:5070", "expires": 1300, "now": 1000,
             "at": "1764800000.500000"}
    late = {**base, "call_id": "reg-old", "type": "unregistered", "at": "1764800000.100000"}
    assert reports([fresh, late]).json() == {"taken": 1, "of": 2}
    op.refresh_from_db()
    assert op.state == "available"
    assert ask("decide", invite(number.number, call_id="after@host")).json()["uri"] == "sip:op@192.0.2.7:5070"
    assert reports([{**late, "at": "1764800001.000000"}]).json() == {"taken": 1, "of": 1}  # a newer one applies
    op.refresh_from_db()
    assert op.state in ("logged_out", "ringing")  # ringing: the sweep logs off once the call has ended


def test_a_queued_caller_is_kept_waiting_then_given_the_ring_of_the_freed_operator():
    account, op, number = factories.make_floor()
    number.service.wrapup_seconds = 0
    number.service.save()
    first = ask("decide", invite(number.number, call_id="q1@host")).json()
    talk = {"call_id": "q1@host", "account": str(account.pk), "leg": first["leg"]}
    assert reports([{**talk, "type": "answered"}]).json()["taken"] == 1
    assert ask("decide", invite(number.number, call_id="q2@host")).json() == {
        "action": "queue", "account": str(account.pk), "retry_ms": 1000}
    waiting = {"type": "waiting", "call_id": "q2@host", "account": str(account.pk)}
    assert ask("decide", waiting).json()["action"] == "queue"  # nobody free yet: wait on
    ended = {**talk, "type": "ended", "duration": 2}
    assert reports([ended]).json()["taken"] == 1  # the operator frees: the ring for q2 waits in the outbox
    assert reports([ended]).json()["taken"] == 1  # a redelivery keeps no second ring
    assert OutboundCommand.objects.filter(account=account, call_ref="q2@host").count() == 1
    ring = ask("decide", waiting).json()
    assert ring["action"] == "ring" and ring["uri"] == op.endpoint and ring["leg"]
    assert Call.objects.get(account=account, engine_ref="q2@host").state == CallState.RINGING


def test_the_sip_task_leaves_rings_to_their_waiting_callers(settings):
    """Kamailio takes a queued caller's ring when it asks (decide/ waiting); the Celery task that carries out
    the outbox over JSON-RPC must not claim it. (No Kamailio listens here: the hang-up is kept for retry.)"""
    account, _op, _number = factories.make_floor()
    settings.SIP_RPC_PORT = 9  # nothing listens
    outbox.record(account.pk, [port.Ring(call_ref="w@host", leg_ref="L1", endpoint="sip:op@x"),
                               port.HangupCall(call_ref="other@host", cause="normal")], notify=False)
    assert sip_commands_task(account.pk) == 0
    assert [c.type for c in outbox.take_pending(account.pk, call_ref="w@host")] == ["ring"]
    assert [c.type for c in outbox.take_pending(account.pk)] == ["hangup"]  # kept for the next run
