"""Commercial terms: invoices, and the plans they price.

The Plan model itself lives in `accounts` (an account row points at its plan, and the channel budget reads the
limit through the account, below billing); billing owns what a plan means commercially (its catalogue, changes,
invoices) and exports it here as `billing.models.Plan`. The channel budget (counters, leases, refusals) is the
`budget` app."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.choices import Currency
from accounts.models import Plan  # noqa: F401  (billing's name for the plan catalogue)

from .choices import InvoiceLineKind


class Invoice(models.Model):
    """One account's bill for one month. Issued once: running the month again returns the same invoice."""

    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="invoices")
    period_start = models.DateField(_("month"))
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    issued_at = models.DateTimeField(_("issued"))
    minutes_used = models.DecimalField(_("billable minutes used"), max_digits=12, decimal_places=1)

    class Meta:
        ordering = ["-period_start", "account"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [models.UniqueConstraint(fields=["account", "period_start"], name="invoice_one_per_month")]

    def __str__(self) -> str:
        return f"{self.account} {self.period_start:%Y-%m}"


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(_("kind"), max_length=16, choices=InvoiceLineKind.choices)
    description = models.CharField(_("description"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=4)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["invoice", "id"]
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        constraints = [models.UniqueConstraint(fields=["invoice", "kind"], name="invoice_line_once")]

    def __str__(self) -> str:
        return self.description
