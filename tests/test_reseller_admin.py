"""A reseller sees its clients in the admin, and only them (issue 11, roles): its supervisor lists its client
accounts, opens their usage and their calls, read-only; it changes none of them and cannot set them up. A
client's supervisor does not see its reseller, its sibling clients or their calls; another account sees none."""

from __future__ import annotations

import pytest
from django.urls import reverse

from acd.models import Call
from tests import factories
from tests.seed import seed_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(clock):
    reseller = factories.make_account(name="Reseller")
    client_a = factories.make_account(name="Client A", parent=reseller)
    client_b = factories.make_account(name="Client B", parent=reseller)
    grandchild = factories.make_account(name="Client A's client", parent=client_a)
    stranger = factories.make_account(name="Stranger")
    seed_account(clock, client_a, with_client=False)
    seed_account(clock, stranger, with_client=False)
    return {"reseller": reseller, "a": client_a, "b": client_b, "grandchild": grandchild, "stranger": stranger}


def listed(client, url: str) -> list:
    response = client.get(url)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_a_resellers_supervisor_lists_its_clients_and_their_calls_and_nobody_elses(client, family):
    client.force_login(factories.make_supervisor(family["reseller"]))
    accounts = listed(client, reverse("admin:accounts_account_changelist"))
    assert {a.name for a in accounts} == {"Reseller", "Client A", "Client B", "Client A's client"}
    calls = listed(client, reverse("admin:acd_call_changelist"))
    assert calls and {c.account_id for c in calls} == {family["a"].pk}
    assert Call.objects.filter(account=family["stranger"]).exists()  # there, but not the reseller's to see
    call = calls[0]
    assert client.get(reverse("admin:acd_call_change", args=[call.pk])).status_code == 200
    stranger_call = Call.objects.filter(account=family["stranger"]).first()
    assert client.get(reverse("admin:acd_call_change", args=[stranger_call.pk])).status_code in (302, 404)


def test_a_resellers_supervisor_reads_a_clients_usage_and_account_but_changes_nothing(client, family):
    client.force_login(factories.make_supervisor(family["reseller"]))
    a = family["a"]
    usage = client.get(reverse("admin:accounts_account_usage", args=[a.pk]))
    assert usage.status_code == 200 and usage.context["account"] == a
    page = client.get(reverse("admin:accounts_account_change", args=[a.pk]))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    before = (a.name, a.timezone)
    response = client.post(reverse("admin:accounts_account_change", args=[a.pk]),
                           {"name": "Taken over", "timezone": "UTC", "country": "IT", "language": "en"})
    assert response.status_code == 403
    a.refresh_from_db()
    assert (a.name, a.timezone) == before
    assert client.get(reverse("admin:accounts_account_delete", args=[a.pk])).status_code == 403
    assert client.get(reverse("admin:accounts_account_setup", args=[a.pk])).status_code == 404
    # Its own account stays its own to change and set up.
    own = family["reseller"]
    assert client.get(reverse("admin:accounts_account_change", args=[own.pk])).context["has_change_permission"]
    assert client.get(reverse("admin:accounts_account_setup", args=[own.pk])).status_code == 200
    # A client's operators and numbers are the client's to manage: the reseller's lists do not hold them.
    assert listed(client, reverse("admin:agents_operator_changelist")) == []


def test_a_clients_supervisor_sees_neither_its_reseller_nor_its_siblings(client, family):
    client.force_login(factories.make_supervisor(family["b"]))
    assert {a.name for a in listed(client, reverse("admin:accounts_account_changelist"))} == {"Client B"}
    assert listed(client, reverse("admin:acd_call_changelist")) == []
    for other in ("reseller", "a", "stranger"):
        pk = family[other].pk
        assert client.get(reverse("admin:accounts_account_change", args=[pk])).status_code in (302, 404)
        assert client.get(reverse("admin:accounts_account_usage", args=[pk])).status_code == 404


def test_another_accounts_supervisor_sees_none_of_the_family(client, family):
    client.force_login(factories.make_supervisor(family["stranger"]))
    assert {a.name for a in listed(client, reverse("admin:accounts_account_changelist"))} == {"Stranger"}
    calls = listed(client, reverse("admin:acd_call_changelist"))
    assert calls and {c.account_id for c in calls} == {family["stranger"].pk}
    for member in ("reseller", "a", "b", "grandchild"):
        pk = family[member].pk
        assert client.get(reverse("admin:accounts_account_usage", args=[pk])).status_code == 404


def test_a_client_of_a_client_is_its_resellers_too(client, family):
    """A's client is read by A's supervisor (A resells to it) and by the top reseller, through A."""
    client.force_login(factories.make_supervisor(family["a"]))
    assert {a.name for a in listed(client, reverse("admin:accounts_account_changelist"))} == {
        "Client A", "Client A's client"}
    grandchild = family["grandchild"]
    assert client.get(reverse("admin:accounts_account_usage", args=[grandchild.pk])).status_code == 200
