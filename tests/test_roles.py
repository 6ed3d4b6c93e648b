"""Roles, walked over every API operation of the schema and every admin page (generic, after NetBox's mixins):
a read-only integrator token reads everything and changes nothing; another account's token and supervisor
meet every object of this account as missing; a supervisor opens every page of their own account."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.core.exceptions import FieldError
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.actions import create_api_token
from accounts.choices import TokenAccess
from accounts.models import ApiToken
from tests import factories
from tests.seed import seed_account

pytestmark = pytest.mark.django_db

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
OPERATIONS = [(method.upper(), path) for path, item in SCHEMA["paths"].items() for method in item
              if method in ("get", "post", "put", "patch", "delete") and "/telephony/" not in path]
WRITES = [op for op in OPERATIONS if op[0] != "GET"]
ON_AN_OBJECT = [op for op in OPERATIONS if "{id}" in op[1]]
LISTS = [op for op in OPERATIONS if op[0] == "GET" and "{id}" not in op[1]]


def url_for(path: str, ids: dict[str, int]) -> str:
    resource = path.removeprefix("/api/v1/").split("/", 1)[0]
    path = re.sub(r"\{token_id\}", str(ids.get("tokens", 1)), path)
    return re.sub(r"\{id\}", str(ids.get(resource, 1)), path)


def token_client(account, access=TokenAccess.READ_WRITE) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {create_api_token(account, 'roles', access)[1]}")
    return client


@pytest.fixture
def seeded(clock):
    return seed_account(clock)


@pytest.mark.parametrize(("method", "path"), WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_a_read_only_token_changes_nothing(seeded, method, path):
    client = token_client(seeded["account"], TokenAccess.READ_ONLY)
    before = {name: n for name, n in counts(seeded["account"]).items()}
    response = client.generic(method, url_for(path, seeded["ids"]), "{}", content_type="application/json")
    assert response.status_code == 403, response.content
    assert response.json() == {"detail": "This API token is read-only."}
    assert counts(seeded["account"]) == before


@pytest.mark.parametrize(("method", "path"), LISTS, ids=[f"{m} {p}" for m, p in LISTS])
def test_a_read_only_token_reads_everything(seeded, method, path):
    response = token_client(seeded["account"], TokenAccess.READ_ONLY).get(url_for(path, seeded["ids"]))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(("method", "path"), ON_AN_OBJECT, ids=[f"{m} {p}" for m, p in ON_AN_OBJECT])
def test_another_accounts_token_meets_every_object_as_missing(seeded, method, path):
    client = token_client(factories.make_account())
    before = counts(seeded["account"])
    response = client.generic(method, url_for(path, seeded["ids"]), "{}", content_type="application/json")
    assert response.status_code == 404, response.content
    assert counts(seeded["account"]) == before


def test_a_read_write_token_is_the_default_and_writes():
    account = factories.make_account()
    token, _raw = create_api_token(account, "CRM")
    assert token.access == TokenAccess.READ_WRITE
    response = token_client(account).post(reverse("pause-reason-list"), {"name": "Coffee"}, format="json")
    assert response.status_code == 201


def counts(account) -> dict[str, int]:
    return {"operators": account.operators.count(), "services": account.services.count(),
            "numbers": account.numbers.count(), "prompts": account.prompts.count(),
            "routes": account.caller_routes.count(), "tokens": ApiToken.objects.filter(account=account).count(),
            "plan": account.__class__.objects.get(pk=account.pk).plan_id}


# --- the admin, as each role ------------------------------------------------------------------------------

ADMINS = [(model, model_admin) for model, model_admin in admin.site._registry.items()]


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def own_object(model, account):
    manager = model._default_manager
    if model._meta.label == "accounts.Account":
        return account
    for path in ("account", "user__membership__account"):
        try:
            return manager.filter(**{path: account}).first()
        except FieldError:  # a model without that path to an account
            continue
    return None


@pytest.mark.parametrize(("model", "model_admin"), ADMINS, ids=[m._meta.label for m, _ in ADMINS])
def test_every_admin_page_as_supervisor_and_as_another_account(client, clock, model, model_admin):
    seeded = seed_account(clock)
    account = seeded["account"]
    supervisor = factories.make_supervisor(account)
    client.force_login(supervisor)
    changelist = client.get(admin_url(model, "changelist"))
    allowed = model_admin.has_view_permission(request_as(supervisor))
    assert changelist.status_code == (200 if allowed else 403)
    add = client.get(admin_url(model, "add"))
    assert add.status_code == (200 if model_admin.has_add_permission(request_as(supervisor)) else 403)
    obj = own_object(model, account)
    if obj is None or not allowed:
        return
    assert client.get(admin_url(model, "change", obj.pk)).status_code == 200
    assert client.get(admin_url(model, "history", obj.pk)).status_code == 200
    stranger = factories.make_supervisor(factories.make_account())
    client.force_login(stranger)
    # Django's admin answers a missing object with a redirect to the index and a message.
    assert client.get(admin_url(model, "change", obj.pk)).status_code in (302, 404)
    assert client.get(admin_url(model, "history", obj.pk)).status_code in (302, 404)
    if model_admin.has_view_permission(request_as(stranger)):
        listed = client.get(admin_url(model, "changelist")).context["cl"].result_list
        assert obj not in list(listed)


def request_as(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    return request
