"""Supervisors: made anywhere, they get the rights of one; the admin never answers a supervisor with a 500."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.actions import SUPERVISORS_GROUP
from accounts.models import Account, AccountMember
from agents.models import Operator, PauseReason
from routing.models import Service
from tests import factories
from tests.api import client_for

pytestmark = pytest.mark.django_db


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def is_supervisor(user) -> bool:
    user.refresh_from_db()
    return user.is_staff and user.groups.filter(name=SUPERVISORS_GROUP).exists()


def test_supervisor_opens_and_saves_their_own_account(client):
    account = factories.make_account()
    client.force_login(factories.make_supervisor(account))
    page = client.get(admin_url(Account, "change", account.pk))
    assert page.status_code == 200  # was a 500: a prepopulated slug that is read-only for them
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update({"duty_email": "duty@example.com", "name": account.name})
    saved = client.post(admin_url(Account, "change", account.pk), data)
    assert saved.status_code == 302, saved.context["adminform"].form.errors
    account.refresh_from_db()
    assert account.duty_email == "duty@example.com"


@pytest.mark.parametrize(("model", "field", "existing", "data"), [
    (Operator, "code", {"code": 7}, {"name": "B", "login": "b", "code": "7", "new_password": "pw-long-enough",
                                      "endpoint_kind": "sip", "endpoint": "sip:b@pbx.example.com", "is_active": "on"}),
    (Operator, "login", {"login": "same"}, {"name": "B", "login": "same", "code": "8",
                                            "new_password": "pw-long-enough", "endpoint_kind": "sip",
                                            "endpoint": "sip:b@pbx.example.com", "is_active": "on"}),
    (Service, "name", {"name": "Care"}, None),
    (PauseReason, "name", {"name": "Lunch"}, {"name": "Lunch", "is_active": "on"}),
])
def test_a_duplicate_is_a_form_error_not_a_500(client, model, field, existing, data):
    account = factories.make_account()
    if model is Operator:
        factories.make_operator(account, **existing)
    elif model is Service:
        factories.make_service(account, name="Care")
    else:
        factories.make_pause_reason(account, "Lunch")
    client.force_login(factories.make_supervisor(account))
    if data is None:  # the service form: take what the add page offers and repeat the name
        page = client.get(admin_url(model, "add"))
        data = _form_data(page)
        data["name"] = "Care"
    response = client.post(admin_url(model, "add"), data)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert model.objects.filter(account=account).count() == 1


def _form_data(page) -> dict:
    """The values an unchanged add form would post, inline management forms included."""
    data = {}
    form = page.context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else value
    for formset in page.context.get("inline_admin_formsets", []):
        mgmt = formset.formset.management_form
        for name in mgmt.fields:
            data[f"{mgmt.prefix}-{name}"] = mgmt[name].value()
        data[f"{formset.formset.prefix}-TOTAL_FORMS"] = "0"
    return data


def test_every_admin_page_a_supervisor_can_open_answers_without_a_500(client):
    """Walk every registered model's list, add and change pages, and post each empty add form, as a supervisor
    of an account that has one of everything."""
    account = factories.make_account()
    op = factories.make_operator(account)
    service = factories.make_service(account, [(op, 5)])
    factories.make_number(account, service)
    factories.make_pause_reason(account)
    client.force_login(factories.make_supervisor(account))
    client.raise_request_exception = True
    for model, model_admin in admin.site._registry.items():
        changelist = client.get(admin_url(model, "changelist"))
        assert changelist.status_code in (200, 302, 403), model
        add = client.get(admin_url(model, "add"))
        assert add.status_code in (200, 302, 403), model
        if add.status_code == 200:
            posted = client.post(admin_url(model, "add"), {})
            assert posted.status_code in (200, 302), model
        obj = model_admin.get_queryset(_request(client)).first()
        if obj is not None:
            assert client.get(admin_url(model, "change", obj.pk)).status_code in (200, 302, 403), model


def _request(client):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = get_user_model().objects.get(pk=client.session["_auth_user_id"])
    return request


def test_a_supervisor_made_in_the_admin_gets_the_rights(client):
    account = factories.make_account()
    user = get_user_model().objects.create_user("carla", password="x-long-password")  # not staff, no group
    client.force_login(factories.make_superuser())
    page = client.get(admin_url(Account, "change", account.pk))
    data = _form_data(page)
    data.update({"members-TOTAL_FORMS": "1", "members-0-user": str(user.pk), "members-0-account": str(account.pk)})
    response = client.post(admin_url(Account, "change", account.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert AccountMember.objects.filter(user=user, account=account).exists()
    assert is_supervisor(user)
    client.force_login(user)
    assert client.get(admin_url(Operator, "add")).status_code == 200


def test_a_supervisor_made_through_the_api_gets_the_rights():
    account = factories.make_account()
    api = client_for(account)
    response = api.post("/api/v1/supervisors/", {"username": "dora", "password": "a-good-passw0rd"}, format="json")
    assert response.status_code == 201, response.json()
    user = get_user_model().objects.get(username="dora")
    assert is_supervisor(user) and user.membership.account == account
    again = api.post("/api/v1/supervisors/", {"username": "dora", "password": "a-good-passw0rd"}, format="json")
    assert again.status_code == 400 and "username" in again.json()
    weak = api.post("/api/v1/supervisors/", {"username": "eva", "password": "123"}, format="json")
    assert weak.status_code == 400 and "password" in weak.json()
    assert [s["username"] for s in api.get("/api/v1/supervisors/").json()] == ["dora"]


def test_createsupervisor_command():
    account = factories.make_account()
    call_command("createsupervisor", account.slug, "ugo", "--password", "a-good-passw0rd")
    assert is_supervisor(get_user_model().objects.get(username="ugo"))
    with pytest.raises(CommandError, match="No account"):
        call_command("createsupervisor", "nope", "x", "--password", "a-good-passw0rd")
    with pytest.raises(CommandError, match="already exists"):
        call_command("createsupervisor", account.slug, "ugo", "--password", "a-good-passw0rd")
    with pytest.raises(CommandError, match="Password refused"):
        call_command("createsupervisor", account.slug, "vera", "--password", "short")


def test_the_setup_page_offers_no_link_that_fails(client):
    account = factories.make_account()
    user = factories.make_supervisor(account)
    user.groups.clear()  # an administrator took the rights away
    client.force_login(user)
    page = client.get(reverse("admin:accounts_account_setup", args=[account.pk]))
    assert page.status_code == 200
    assert all(step.url is None for step in page.context["steps"])
    assert "Ask your administrator for access" in page.content.decode()
