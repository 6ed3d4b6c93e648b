"""The audit trail: who changed what, when, before/after, from the admin and the API; never a secret."""

import pytest
from django.urls import reverse

from accounts.actions import create_api_token, revoke_api_token
from accounts.models import Account, ApiToken
from agents import actions as presence
from agents.models import Operator
from billing.models import Plan
from core.audit import is_audited_model
from routing.models import PhoneNumber, Service, ServiceMembership
from tests import factories
from tests.api import client_for

pytestmark = pytest.mark.django_db

AUDITED = [Account, ApiToken, Operator, PhoneNumber, Service, ServiceMembership, Plan]
SECRETS = {Operator: ["password", "pin"], ApiToken: ["key_hash"], Account: ["webhook_secret"]}


def history_url(model, obj_id, version=None):
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
    if version is None:
        return reverse(name + "history", args=[obj_id])
    return reverse(name + "simple_history", args=[obj_id, version])


@pytest.mark.parametrize("model", AUDITED, ids=lambda m: m._meta.label)
def test_every_configuration_model_is_audited_and_no_secret_is_copied(model):
    assert is_audited_model(model)
    columns = {f.name for f in model.history.model._meta.fields}
    for secret in SECRETS.get(model, []):
        assert secret not in columns
    assert {"history_user", "history_date", "history_type", "history_via"} <= columns


def test_api_changes_record_the_token_and_before_after_without_secrets():
    account = factories.make_account()
    client = client_for(account)
    created = client.post(reverse("operator-list"), {"name": "Mario", "login": "mario", "code": 7,
                                                     "password": "a-Long-pass-42", "pin": "4321",
                                                     "endpoint": "sip:mario@pbx.example.com"}, format="json")
    assert created.status_code == 201, created.content
    op = Operator.objects.get(pk=created.json()["id"])
    assert client.patch(reverse("operator-detail", args=[op.pk]), {"name": "Mario Rossi", "pin": "9999"},
                        format="json").status_code == 200
    rows = list(op.history.order_by("history_date"))
    assert [r.history_type for r in rows] == ["+", "~"]
    assert rows[1].history_user is None and rows[1].history_via.startswith("API token")
    delta = rows[1].diff_against(rows[0])
    assert [(c.field, c.old, c.new) for c in delta.changes] == [("name", "Mario", "Mario Rossi")]
    op.refresh_from_db()
    for row in op.history.values():
        flat = " ".join(str(v) for v in row.values())
        assert op.password not in flat and op.pin not in flat and "a-Long-pass-42" not in flat
    assert client.delete(reverse("operator-detail", args=[op.pk])).status_code == 204
    assert Operator.history.filter(id=op.pk).latest("history_date").history_type == "-"


def test_nested_memberships_and_plan_changes_through_the_api_are_recorded():
    account = factories.make_account()
    a, b = factories.make_operator(account), factories.make_operator(account)
    client = client_for(account)
    service = client.post(reverse("service-list"), {"name": "Sales", "memberships": [
        {"operator": a.pk, "skill_level": 3}]}, format="json").json()
    client.patch(reverse("service-detail", args=[service["id"]]),
                 {"memberships": [{"operator": b.pk, "skill_level": 8}]}, format="json")
    kinds = sorted((r.operator_id, r.history_type)
                   for r in ServiceMembership.history.filter(service_id=service["id"]))
    assert kinds == [(a.pk, "+"), (a.pk, "-"), (b.pk, "+")]
    assert client.post(reverse("account-plan"), {"plan": "unlimited-wl"}, format="json").status_code == 200
    last, before = account.history.order_by("-history_date")[:2]
    assert (before.plan.code, last.plan.code) == ("unlimited-plus", "unlimited-wl")


def test_presence_changes_leave_the_audit_trail_alone():
    account = factories.make_account()
    op = factories.make_operator(account)
    count = op.history.count()
    presence.login_operator(op.pk)
    presence.pause_operator(op.pk)
    presence.logoff_operator(op.pk)
    assert op.history.count() == count


def test_token_creation_and_revocation_are_recorded():
    account = factories.make_account()
    token, raw = create_api_token(account, "CRM")
    revoke_api_token(token)
    revoke_api_token(token)  # a second revocation changes nothing
    rows = list(token.history.order_by("history_date"))
    assert [r.history_type for r in rows] == ["+", "~"]
    assert rows[0].revoked_at is None and rows[1].revoked_at is not None
    assert all(raw not in str(v) and token.key_hash not in str(v) for r in token.history.values() for v in r.values())


def test_admin_change_records_the_supervisor_and_the_history_page_shows_before_after(client):
    account = factories.make_account()
    number = factories.make_number(account, label="Old label")
    supervisor = factories.make_supervisor(account)
    client.force_login(supervisor)
    url = reverse("admin:routing_phonenumber_change", args=[number.pk])
    form = {"number": number.number, "label": "Front desk", "purpose": number.purpose,
            "criterion_override": "", "is_active": "on"}
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    last = number.history.latest("history_date")
    assert last.history_user == supervisor and last.history_via == "admin" and last.label == "Front desk"
    page = client.get(history_url(PhoneNumber, number.pk)).content.decode()
    assert "Old label" in page and "Front desk" in page and supervisor.username in page


def test_another_accounts_history_is_not_shown_even_once_deleted(client):
    account, other = factories.make_account(), factories.make_account()
    number = factories.make_number(account)
    number.label = "Renamed"
    number.save()
    version = number.history.latest("history_date").history_id
    number_id = number.pk
    client.force_login(factories.make_supervisor(other))
    assert client.get(history_url(PhoneNumber, number_id)).status_code == 404
    assert client.get(history_url(PhoneNumber, number_id, version)).status_code == 404
    number.delete()
    assert client.get(history_url(PhoneNumber, number_id)).status_code == 404
    client.force_login(factories.make_supervisor(account))
    assert client.get(history_url(PhoneNumber, number_id)).status_code == 200
    assert client.get(history_url(PhoneNumber, number_id, version)).status_code == 200


def test_supervisors_never_see_the_plan_catalogues_history(client):
    plan = factories.make_account().plan
    client.force_login(factories.make_supervisor(factories.make_account()))
    assert client.get(history_url(Plan, plan.pk)).status_code in (302, 403, 404)
    client.force_login(factories.make_superuser())
    assert client.get(history_url(Plan, plan.pk)).status_code == 200


def test_records_without_a_trail_keep_djangos_history_page(client):
    from acd.models import Call

    account = factories.make_account()
    call = Call.objects.create(account=account, engine_ref="c1", caller="+393331112222",
                               arrived_at="2026-03-02T09:00Z")
    client.force_login(factories.make_supervisor(account))
    assert not is_audited_model(Call)
    assert client.get(history_url(Call, call.pk)).status_code == 200


def test_a_services_history_page_shows_its_membership_changes(client):
    account = factories.make_account()
    op = factories.make_operator(account, name="Giulia Verdi")
    service = factories.make_service(account, [(op, 4)])
    membership = service.memberships.get()
    membership.skill_level = 9
    membership.save()
    client.force_login(factories.make_supervisor(account))
    page = client.get(history_url(Service, service.pk)).content.decode()
    assert "Giulia Verdi" in page and "skill_level: 4 → 9" in page
    client.force_login(factories.make_supervisor(factories.make_account()))
    assert client.get(history_url(Service, service.pk)).status_code == 404
