"""Monthly invoices (idempotent, right amounts, printable) and the usage dashboard agreeing with the API."""

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from acd.tests.switch import only_ring
from agents import actions as presence
from billing.invoices import issue_invoice, issue_last_month
from billing.models import Invoice, InvoiceLine, Plan
from tests import factories
from tests.api import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def priced_month(starter, switch):
    starter.plan = Plan.objects.create(code="priced", name="Priced", included_channels=5, monthly_fee=Decimal("100"),
                                       extra_channels_allowed=True, extra_channel_price=Decimal("7.00"),
                                       included_minutes=1, overage_rate_per_minute=Decimal("0.05"),
                                       billing_first_seconds=60, billing_step_seconds=60)
    starter.extra_channels = 2
    starter.save()
    op = factories.make_operator(starter)
    number = factories.make_number(starter, factories.make_service(starter, [(op, 5)], wrapup_seconds=0))
    presence.login_operator(op.pk)
    for seconds in (61, 30):  # billed 120 s + 60 s = 3 minutes
        ref, commands = switch.incoming(number.number)
        switch.answer(ref, only_ring(commands))
        switch.clock.advance(seconds)
        switch.hangup(ref)


def test_invoice_amounts_and_idempotency(starter, switch):
    priced_month(starter, switch)
    invoice = issue_invoice(starter.pk, 2026, 3)
    lines = {line.kind: line.amount for line in invoice.lines.all()}
    assert lines == {"plan": Decimal("100.00"), "extra_channels": Decimal("14.00"), "overage": Decimal("0.10")}
    assert invoice.total == Decimal("114.10") and invoice.minutes_used == Decimal("3.0")
    again = issue_invoice(starter.pk, 2026, 3)
    assert again.pk == invoice.pk
    assert Invoice.objects.count() == 1 and InvoiceLine.objects.count() == 3
    assert issue_invoice(starter.pk, 2026, 2).total == Decimal("114.00")  # no calls in February


def test_monthly_run_issues_last_month_once(starter, switch):
    priced_month(starter, switch)
    switch.clock.set(dt.datetime(2026, 4, 2, 3, 0, tzinfo=dt.UTC))
    assert issue_last_month() >= 1
    assert issue_last_month() == 0
    assert Invoice.objects.filter(account=starter, period_start=dt.date(2026, 3, 1)).count() == 1


def test_invoice_api_and_document(starter, switch):
    priced_month(starter, switch)
    invoice = issue_invoice(starter.pk, 2026, 3)
    client = client_for(starter)
    listed = client.get(reverse("invoice-list")).json()["results"]
    assert [(i["id"], i["total"]) for i in listed] == [(invoice.pk, "114.10")]
    page = client.get(reverse("invoice-document", args=[invoice.pk]))
    assert page["Content-Type"].startswith("text/html")
    assert "114.10 USD" in page.content.decode() and "extra concurrent calls" in page.content.decode()
    assert client_for(factories.make_account()).get(reverse("invoice-document", args=[invoice.pk])).status_code == 404


def test_usage_dashboard_agrees_with_the_api(starter, switch, client):
    ops = [factories.make_operator(starter) for _ in range(4)]
    number = factories.make_number(starter, factories.make_service(starter, [(op, 5) for op in ops]))
    for op in ops:
        presence.login_operator(op.pk)
    for _ in range(5):  # 3 taken, 2 refused
        switch.incoming(number.number)
    switch.clock.advance(60)
    client.force_login(factories.make_supervisor(starter))
    page = client.get(reverse("admin:accounts_account_usage", args=[starter.pk]), {"days": 1})
    assert page.status_code == 200
    api = client_for(starter).get(reverse("usage"), {"start": page.context["doc"]["start"],
                                                     "end": page.context["doc"]["end"]}).json()
    assert page.context["doc"]["refusals"] == api["refusals"] == 2
    assert page.context["doc"]["limit"] == api["limit"] == 3
    assert [s["max_concurrent"] for s in page.context["doc"]["samples"]] == [s["max_concurrent"] for s in
                                                                             api["samples"]]
    html = page.content.decode()
    assert '<canvas id="usage-chart"' in html and 'id="refusals">2<' in html
    assert "vendor/chart.js/chart.umd.min.js" in html and "cdn" not in html.lower()
    chart = page.context["chart"]
    assert chart["max"] == [s["max_concurrent"] for s in page.context["doc"]["samples"]] and chart["limit"] == 3
    assert "Last 1 day," in html  # not "Last 1 days"


def test_usage_page_in_italian_keeps_numbers_out_of_the_locale(starter, switch, client):
    """Italian writes 0,5 but the chart's data must stay JSON (the old SVG broke on y1="10,0"); the labels are
    in Rome's time and Italian, the advisor too."""
    ops = [factories.make_operator(starter) for _ in range(4)]
    number = factories.make_number(starter, factories.make_service(starter, [(op, 5) for op in ops]))
    for op in ops:
        presence.login_operator(op.pk)
    refs = [switch.incoming(number.number)[0] for _ in range(3)]
    switch.clock.advance(1800)
    for ref in refs:
        switch.hangup(ref)
    client.force_login(factories.make_supervisor(starter))
    page = client.get(reverse("admin:accounts_account_usage", args=[starter.pk]), {"days": 1},
                      HTTP_ACCEPT_LANGUAGE="it")
    html = page.content.decode()
    data = json.loads(re.search(r'<script id="usage-data" type="application/json">(.*?)</script>', html).group(1))
    assert max(data["max"]) == 3 and data["limit"] == 3 and all(isinstance(v, (int, float)) for v in data["avg"])
    assert data["text"]["y"] == "Chiamate contemporanee" and data["text"]["x"] == "Ora (Europe/Rome)"
    assert "10:00" in data["labels"]  # 09:00 UTC is 10:00 in Rome
    assert "Ultimo giorno" in html and "Consulente di capacità" in html
    assert "Ora di punta" in html and "Erlang B" in html


def test_the_advisor_says_when_there_is_not_enough_traffic(starter, client):
    client.force_login(factories.make_supervisor(starter))
    page = client.get(reverse("admin:accounts_account_usage", args=[starter.pk]), {"days": "7"})
    html = page.content.decode()
    assert "Not enough traffic yet: 0 calls in this period" in html
    assert "needs 0" not in html and "0 operators" not in html
    assert 'id="usage-empty"' in html and "Last 7 days" in html
    assert client.get(reverse("admin:accounts_account_usage", args=[starter.pk]), {"days": "x"}).status_code == 200
    home = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:accounts_account_my_usage") in home
    assert client.get(reverse("admin:accounts_account_my_usage")).url == reverse(
        "admin:accounts_account_usage", args=[starter.pk])
