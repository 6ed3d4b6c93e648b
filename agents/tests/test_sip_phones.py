"""The presence actions of operators' SIP phones: a registration logs in, an unregistration or a lapsed
registration (the beat sweep, by database timestamp) logs off; each state+events = a fresh snapshot."""

from __future__ import annotations

import hashlib

import pytest

from acd.tests.switch import Switch, only_ring
from agents import actions
from agents.choices import OperatorState
from agents.forms import OperatorAdminForm
from agents.models import Operator, OperatorEvent, SipRegistration, sip_realm
from agents.tasks import expire_phone_registrations_task
from boards.tests.verify import verify_action
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)
CONTACT = "sip:anna@192.0.2.7:5062"


def state(op: Operator) -> str:
    return Operator.objects.get(pk=op.pk).state


def test_the_password_sets_the_digest_secret_for_the_login_and_the_accounts_realm(settings):
    settings.SIP_DOMAIN = "sip.example.com"
    account = factories.make_account()
    op = factories.make_operator(account, login="anna")
    expected = hashlib.md5(f"anna:{account.slug}.sip.example.com:{factories.PASSWORD}".encode()).hexdigest()
    assert op.sip_ha1 == expected
    op.set_password("another one")
    assert op.sip_ha1 != expected and len(op.sip_ha1) == 32


def test_the_admin_form_computes_the_secret_with_the_forms_login():
    account = factories.make_account()
    op = factories.make_operator(account, login="anna")
    data = {"account": account.pk, "name": op.name, "login": "anna2", "code": op.code, "endpoint_kind": "sip",
            "endpoint": op.endpoint, "is_active": True, "new_password": "s3cret-pass-9", "new_pin": ""}
    form = OperatorAdminForm(data, instance=op)
    assert form.is_valid(), form.errors
    form.save()
    op.refresh_from_db()
    realm = sip_realm(account.slug)
    assert op.sip_ha1 == hashlib.md5(f"anna2:{realm}:s3cret-pass-9".encode()).hexdigest()


def test_registration_logs_in_and_unregistration_logs_off(clock):
    op = factories.make_operator(factories.make_account(), login="anna")
    with verify_action(op.account) as verified:
        actions.register_phone(op.pk, contact=CONTACT, expires_seconds=300)
    assert verified.console(op.pk)["operator"]["state"] == OperatorState.AVAILABLE
    phone = [m for m in verified.events if m.get("type") == "operator.phone"]
    assert phone and phone[0]["registered"] is True and phone[0]["contact"] == CONTACT, verified.events
    actions.register_phone(op.pk, contact=CONTACT, expires_seconds=300)  # a refresh: no second login
    assert OperatorEvent.objects.filter(operator=op).count() == 1
    with verify_action(op.account) as verified:
        actions.unregister_phone(op.pk)
    assert verified.console(op.pk)["operator"]["state"] == OperatorState.LOGGED_OUT
    assert actions.unregister_phone(op.pk).swept  # twice is once
    assert list(OperatorEvent.objects.filter(operator=op).order_by("id").values_list("to_state", "via")) == [
        (OperatorState.AVAILABLE, "sip_phone"), (OperatorState.LOGGED_OUT, "sip_phone")]


def test_a_lapsed_registration_is_swept_once_and_a_refresh_wins(clock):
    op = factories.make_operator(factories.make_account(), login="anna")
    actions.register_phone(op.pk, contact=CONTACT, expires_seconds=60)
    clock.advance(59)
    assert expire_phone_registrations_task() == 0
    actions.register_phone(op.pk, contact=CONTACT, expires_seconds=60)  # refreshed in time
    clock.advance(59)
    assert expire_phone_registrations_task() == 0 and state(op) == OperatorState.AVAILABLE
    clock.advance(2)
    with verify_action(op.account) as verified:
        assert expire_phone_registrations_task() == 1
    assert verified.console(op.pk)["operator"]["state"] == OperatorState.LOGGED_OUT
    assert expire_phone_registrations_task() == 0  # a redelivered sweep changes nothing
    assert actions.phone_contact(op.pk) == ""


def test_an_unregistration_during_a_call_logs_off_after_it(clock):
    account = factories.make_account()
    op = factories.make_operator(account, login="anna")
    actions.register_phone(op.pk, contact=CONTACT, expires_seconds=300)
    assert actions.phone_contact(op.pk) == CONTACT
    service = factories.make_service(account, [(op, 5)], wrapup_seconds=0)
    switch = Switch(account, clock)
    ref, commands = switch.incoming(factories.make_number(account, service).number)
    switch.answer(ref, only_ring(commands))
    actions.unregister_phone(op.pk)
    assert state(op) == OperatorState.ON_CALL
    assert expire_phone_registrations_task() == 0  # still on the call: stays due
    switch.hangup(ref)
    assert expire_phone_registrations_task() == 1
    assert state(op) == OperatorState.LOGGED_OUT
    assert SipRegistration.objects.get(operator=op).swept


def test_the_admin_shows_the_registered_phone(admin_client):
    op = factories.make_operator(factories.make_account(), login="anna")
    page = admin_client.get(f"/admin/agents/operator/{op.pk}/change/").content.decode()
    assert "not registered" in page and "set the password once" not in page
    actions.register_phone(op.pk, contact=CONTACT, expires_seconds=300)
    page = admin_client.get(f"/admin/agents/operator/{op.pk}/change/").content.decode()
    assert f"{CONTACT}, registered until" in page
