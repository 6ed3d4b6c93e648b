"""Generic API test mixin (after NetBox's): CRUD and account isolation for every resource, no copy-paste.

A resource's test class names its URL basename and gives `create_data()`, `update_data()` and
`make_object(account)`; the mixin checks list, create, retrieve, update, delete, and that another
account's object answers 404 to every verb.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.clock import now
from telephony.signing import ACCOUNT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests import factories


def client_for(account) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.make_token(account)}")
    return client


def post_signed(account_slug: str, secret: str, body: bytes, *, ts: int | None = None,
                path: str = "telephony-events"):
    """A request an engine signs: the account's slug, the timestamp and the HMAC of `timestamp.body`."""
    ts = int(now().timestamp()) if ts is None else ts
    headers = {ACCOUNT_HEADER: account_slug, TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign(secret, ts, body)}
    return APIClient().post(reverse(path), data=body, content_type="application/json", headers=headers)


@pytest.mark.django_db
class ApiResourceTests:
    basename: str
    model: Any
    multipart = False

    def create_data(self, account) -> dict[str, Any]:
        raise NotImplementedError

    def update_data(self, account) -> dict[str, Any]:
        raise NotImplementedError

    def make_object(self, account):
        raise NotImplementedError

    @pytest.fixture
    def account(self):
        return factories.make_account()

    @pytest.fixture
    def other(self):
        return factories.make_account()

    def list_url(self) -> str:
        return reverse(f"{self.basename}-list")

    def detail_url(self, pk: int) -> str:
        return reverse(f"{self.basename}-detail", args=[pk])

    def fmt(self) -> str:
        return "multipart" if self.multipart else "json"

    def test_anonymous_is_refused(self):
        response = APIClient().get(self.list_url())
        assert response.status_code in (401, 403)

    def test_list_shows_only_own_account(self, account, other):
        mine = self.make_object(account)
        self.make_object(other)
        response = client_for(account).get(self.list_url())
        assert response.status_code == 200
        assert [row["id"] for row in response.json()["results"]] == [mine.pk]
        assert response.json()["count"] == 1

    def test_create(self, account):
        response = client_for(account).post(self.list_url(), self.create_data(account), format=self.fmt())
        assert response.status_code == 201, response.content
        obj = self.model.objects.get(pk=response.json()["id"])
        assert obj.account == account

    def test_retrieve_update_delete(self, account):
        obj = self.make_object(account)
        client = client_for(account)
        assert client.get(self.detail_url(obj.pk)).status_code == 200
        response = client.patch(self.detail_url(obj.pk), self.update_data(account), format=self.fmt())
        assert response.status_code == 200, response.content
        for key, value in self.update_data(account).items():
            if not hasattr(value, "read"):
                assert response.json()[key] == value
        assert client.delete(self.detail_url(obj.pk)).status_code == 204
        assert not self.model.objects.filter(pk=obj.pk).exists()

    def test_other_accounts_object_is_404(self, account, other):
        theirs = self.make_object(other)
        client = client_for(account)
        url = self.detail_url(theirs.pk)
        assert client.get(url).status_code == 404
        assert client.patch(url, self.update_data(account), format=self.fmt()).status_code == 404
        assert client.delete(url).status_code == 404
        assert self.model.objects.filter(pk=theirs.pk).exists()
