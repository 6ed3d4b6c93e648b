"""Issue 11, finding 1 and "bounded work per request": every time window and list has a documented maximum
and a 400 beyond it; bodies and JSON nesting are capped at the edge."""

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from billing.api.views import MAX_WINDOW_DAYS
from core.api.pagination import MAX_LIMIT
from core.clock import now
from tests import factories
from tests.api import client_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api():
    return client_for(factories.make_account())


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("path", ["/api/v1/usage/", "/api/v1/usage/?export=csv", "/api/v1/capacity/",
                                  "/api/v1/stats/"])
def test_a_window_over_the_maximum_is_400(api, path):
    sep = "&" if "?" in path else "?"
    response = api.get(f"{path}{sep}start=2000-01-01T00:00:00Z")
    assert response.status_code == 400, response.content[:200]
    assert "start" in response.json()
    far_end = api.get(f"{path}{sep}end=2100-01-01T00:00:00Z")  # the default start, 30 days before the end
    assert far_end.status_code in (200, 400)
    if "usage" in path or "capacity" in path:
        assert far_end.status_code == 200
    else:
        assert far_end.status_code == 400  # stats: from today's midnight to 2100


def test_a_window_at_the_maximum_is_answered(api):
    end = now()
    response = api.get("/api/v1/usage/", {"start": iso(end - dt.timedelta(days=MAX_WINDOW_DAYS)), "end": iso(end)})
    assert response.status_code == 200
    assert len(response.json()["samples"]) <= MAX_WINDOW_DAYS * 24 * 12 + 1


@pytest.mark.parametrize(("query", "ok"), [(f"limit={MAX_LIMIT}", True), (f"limit={MAX_LIMIT + 1}", False),
                                           ("limit=abc", False), ("limit=0", False), ("limit=-1", False),
                                           ("offset=99999999999999999999999", False), ("offset=20", True)])
def test_list_page_size_is_bounded(api, query, ok):
    response = api.get(f"/api/v1/calls/?{query}")
    assert response.status_code == (200 if ok else 400), response.content[:200]


def test_admin_usage_page_with_bad_days_falls_back(client):
    account = factories.make_account()
    client.force_login(factories.make_superuser())
    url = reverse("admin:accounts_account_usage", args=[account.pk])
    for days, shown in (("abc", 30), ("-5", 30), ("99999999999999999999", 30), ("7", 7), ("500", 90)):
        response = client.get(url, {"days": days})
        assert response.status_code == 200, days
        assert response.context["days"] == shown


def test_a_body_over_the_request_maximum_is_413(api):
    body = b"x" * (settings.REQUEST_MAX_BYTES + 1)
    response = api.generic("POST", "/api/v1/numbers/", body, content_type="application/octet-stream")
    assert response.status_code == 413


def test_a_json_body_over_the_memory_maximum_is_413(api):
    body = b'{"number": "' + b"1" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}'
    response = api.generic("POST", "/api/v1/numbers/", body, content_type="application/json")
    assert response.status_code == 413


def test_json_nested_deeper_than_the_maximum_is_400_everywhere(api):
    deep = b'{"number": ' + b"[" * (settings.JSON_MAX_DEPTH + 1) + b"]" * (settings.JSON_MAX_DEPTH + 1) + b"}"
    assert api.generic("POST", "/api/v1/numbers/", deep, content_type="application/json").status_code == 400
    console = Client().post(reverse("console-action"), deep, content_type="application/json")
    assert console.status_code == 400 and "nested deeper" in console.json()["detail"]
    shallow = b'{"number": ' + b"[" * 3 + b"]" * 3 + b"}"
    assert api.generic("POST", "/api/v1/numbers/", shallow, content_type="application/json").status_code == 400
