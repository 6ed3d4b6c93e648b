"""Reseller provisioning through the API: a reseller's token creates a client account within its own limit,
its supervisor and its token; the client sees only itself and takes calls within the reseller's limit."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import Account, AccountMember
from acd.actions import handle_event
from acd.models import Call
from billing.defaults import ensure_default_plans
from telephony import port
from tests import factories
from tests.api import client_for

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def reseller():
    ensure_default_plans()
    return factories.make_account(plan_code="starter", is_reseller=True)  # 3 concurrent calls in all


def test_a_reseller_creates_a_client_its_supervisor_and_token_and_the_client_sees_only_itself(reseller):
    api = client_for(reseller)
    created = api.post("/api/v1/clients/", {"name": "Client Srl", "slug": "client-srl", "plan": "starter"},
                       format="json")
    assert created.status_code == 201, created.content
    client = Account.objects.get(pk=created.json()["id"])
    assert (client.parent_id, client.plan.code, created.json()["channel_limit"]) == (reseller.pk, "starter", 3)
    sup = api.post(f"/api/v1/clients/{client.pk}/supervisors/",
                   {"username": "client-boss", "password": "a-long-Passw0rd!"}, format="json")
    assert sup.status_code == 201, sup.content
    assert AccountMember.objects.get(user__username="client-boss").account == client
    token = api.post(f"/api/v1/clients/{client.pk}/tokens/", {"name": "crm"}, format="json")
    assert token.status_code == 201, token.content
    raw = token.json()["key"]
    assert raw.startswith("cnt_")
    assert "key" not in api.get(f"/api/v1/clients/{client.pk}/tokens/").json()[0]  # shown once only
    theirs = bearer(raw)
    assert theirs.get("/api/v1/account/plan/").status_code == 200
    assert theirs.get("/api/v1/clients/").json()["results"] == []  # a client is no reseller: it has none
    assert [s["username"] for s in theirs.get("/api/v1/supervisors/").json()] == ["client-boss"]
    # Another reseller's token finds nothing of this client.
    other = client_for(factories.make_account(is_reseller=True))
    assert other.get(f"/api/v1/clients/{client.pk}/").status_code == 404
    assert other.patch(f"/api/v1/clients/{client.pk}/", {"is_active": False}, format="json").status_code == 404
    # The reseller revokes the token: it stops working.
    token_id = token.json()["id"]
    assert api.post(f"/api/v1/clients/{client.pk}/tokens/{token_id}/revoke/").status_code == 204
    assert theirs.get("/api/v1/account/plan/").status_code == 401


def test_limits_are_kept_within_the_resellers_own_and_errors_name_the_field(reseller):
    api = client_for(reseller)
    too_big = api.post("/api/v1/clients/", {"name": "Big", "slug": "big", "plan": "unlimited-wl"}, format="json")
    assert too_big.status_code == 400 and "extra_channels" in too_big.json(), too_big.content
    no_extras = api.post("/api/v1/clients/", {"name": "X", "slug": "x", "plan": "starter", "extra_channels": 1},
                         format="json")
    assert no_extras.status_code == 400 and "extra_channels" in no_extras.json()
    bad_plan = api.post("/api/v1/clients/", {"name": "Y", "slug": "y", "plan": "nope"}, format="json")
    assert bad_plan.status_code == 400 and "plan" in bad_plan.json()
    plain = client_for(factories.make_account())
    assert plain.post("/api/v1/clients/", {"name": "Z", "slug": "z", "plan": "starter"},
                      format="json").status_code == 403
    assert not Account.objects.filter(slug__in=["big", "x", "y", "z"]).exists()


@pytest.mark.django_db(transaction=True)
def test_a_provisioned_client_takes_calls_within_the_resellers_limit(reseller):
    api = client_for(reseller)
    client = Account.objects.get(pk=api.post("/api/v1/clients/", {"name": "C", "slug": "c-calls", "plan": "starter"},
                                             format="json").json()["id"])
    own = factories.make_number(reseller, factories.make_service(reseller))
    theirs = factories.make_number(client, factories.make_service(client))

    def call(number, account, n):
        handle_event(port.IncomingCall(event_id=f"e{n}", call_ref=f"r{n}", dialed=number.number,
                                       caller="+390611111111"), account_id=account.pk)
        return Call.objects.get(account=account, engine_ref=f"r{n}")

    assert call(own, reseller, 1).end_cause == ""  # the reseller's own call holds 1 of its 3
    assert [call(theirs, client, n).end_cause for n in (2, 3)] == ["", ""]  # the client's two fit
    refused = call(theirs, client, 4)  # the client's limit (3) has room, the reseller's has none
    assert refused.end_cause == "REACH_PLAN_LIMIT"
    assert client.refusals.get().limited_by_id == reseller.pk
