"""Monthly invoices: plan fee, extra channels, minutes over the included ones (at the plan's increments).

`issue_invoice` is idempotent: the (account, month) pair is unique, so a re-run, a redelivered task or two
workers at once all end with one invoice and one set of lines.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from accounts.models import Account
from acd.models import Call
from core.clock import now

from .choices import InvoiceLineKind
from .minutes import billable_seconds
from .models import Invoice, InvoiceLine

CENT = Decimal("0.01")


def month_bounds(account: Account, year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    tz = zoneinfo.ZoneInfo(account.timezone)
    start = dt.datetime(year, month, 1, tzinfo=tz)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


def issue_invoice(account_id: int, year: int, month: int) -> Invoice:
    existing = Invoice.objects.filter(account_id=account_id, period_start=dt.date(year, month, 1)).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _issue(Account.objects.select_related("plan").get(pk=account_id), year, month)
    except IntegrityError:  # another worker issued it at the same moment
        return Invoice.objects.get(account_id=account_id, period_start=dt.date(year, month, 1))


def _issue(account: Account, year: int, month: int) -> Invoice:
    plan = account.plan
    start, end = month_bounds(account, year, month)
    seconds = sum(billable_seconds(t or 0, plan.billing_first_seconds, plan.billing_step_seconds)
                  for t in Call.objects.filter(account=account, answered_at__gte=start, answered_at__lt=end)
                  .values_list("talk_seconds", flat=True))
    minutes = (Decimal(seconds) / 60).quantize(Decimal("0.1"))
    lines = [InvoiceLine(kind=InvoiceLineKind.PLAN, description=f"{plan.name} — {start:%Y-%m}", quantity=1,
                         unit_price=plan.monthly_fee, amount=plan.monthly_fee.quantize(CENT))]
    if account.extra_channels:
        amount = (plan.extra_channel_price * account.extra_channels).quantize(CENT)
        lines.append(InvoiceLine(kind=InvoiceLineKind.EXTRA_CHANNELS,
                                 description=f"{account.extra_channels} extra concurrent calls",
                                 quantity=account.extra_channels, unit_price=plan.extra_channel_price, amount=amount))
    included = Decimal(plan.included_minutes or 0)
    over = max(Decimal(0), minutes - included) if plan.overage_rate_per_minute else Decimal(0)
    if over:
        lines.append(InvoiceLine(kind=InvoiceLineKind.OVERAGE,
                                 description=f"{over} minutes over the {included} included", quantity=over,
                                 unit_price=plan.overage_rate_per_minute,
                                 amount=(over * plan.overage_rate_per_minute).quantize(CENT)))
    invoice = Invoice.objects.create(account=account, period_start=start.date(), currency=plan.currency,
                                     total=sum((line.amount for line in lines), Decimal(0)), issued_at=now(),
                                     minutes_used=minutes)
    for line in lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)
    return invoice


def previous_month(moment: dt.datetime, tz_name: str) -> tuple[int, int]:
    local = moment.astimezone(zoneinfo.ZoneInfo(tz_name))
    return (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)


def issue_last_month() -> int:
    """For every active account, last month's invoice (in the account's time zone), if not issued yet."""
    issued = 0
    at = now()
    for account_id, tz in Account.objects.filter(is_active=True, is_simulation=False).values_list("id", "timezone"):
        year, month = previous_month(at, tz)
        if not Invoice.objects.filter(account_id=account_id, period_start=dt.date(year, month, 1)).exists():
            issue_invoice(account_id, year, month)
            issued += 1
    return issued


def render_invoice(invoice: Invoice) -> str:
    return render_to_string("billing/invoice.html", {"invoice": invoice})
