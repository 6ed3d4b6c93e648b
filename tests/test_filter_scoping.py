"""Issue 11, finding 2: another tenant's data in the browsable API and the filters. With account A's token,
the list pages rendered as HTML name none of account B's services, operators or numbers; a filter on B's id
answers exactly as one on an id that does not exist (no id oracle); the admin's API-token list offers no
"by account" filter naming every account to a supervisor."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories
from tests.api import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_accounts():
    mine, theirs = factories.make_account(), factories.make_account()
    for account, tag in ((mine, "mine"), (theirs, "theirs")):
        op = factories.make_operator(account, login=f"login-{tag}", name=f"Operator {tag}")
        service = factories.make_service(account, [(op, 5)], name=f"Service {tag}")
        factories.make_number(account, service)
    return mine, theirs


@pytest.mark.parametrize("path", ["/api/v1/calls/", "/api/v1/numbers/", "/api/v1/caller-routes/",
                                  "/api/v1/operators/"])
def test_html_list_pages_name_nothing_of_another_account(two_accounts, path):
    mine, _ = two_accounts
    page = client_for(mine).get(path, HTTP_ACCEPT="text/html").content.decode()
    for text in ("Service theirs", "Operator theirs", "login-theirs"):
        assert text not in page, f"{path} shows {text!r}"


def test_a_filter_on_another_accounts_id_answers_as_a_missing_one(two_accounts):
    mine, theirs = two_accounts
    api = client_for(mine)
    theirs_service = theirs.services.get().pk
    missing = theirs_service + 10_000
    for field in ("service", "operator"):
        other_id = theirs_service if field == "service" else theirs.operators.get().pk
        a = api.get(f"/api/v1/calls/?{field}={other_id}")
        b = api.get(f"/api/v1/calls/?{field}={missing}")
        assert (a.status_code, a.json()) == (b.status_code, b.json())


def test_the_token_admin_offers_no_account_filter_to_a_supervisor(client, two_accounts):
    mine, theirs = two_accounts
    factories.make_token(theirs)
    client.force_login(factories.make_supervisor(mine))
    page = client.get(reverse("admin:accounts_apitoken_changelist")).content.decode()
    assert theirs.name not in page
