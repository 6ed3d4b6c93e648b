"""Commercial terms: plans. Budget, usage and invoices come with the billing issue."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.audit import AuditedHistory

from .choices import Currency, InvoiceLineKind, LeaseEnd


class Plan(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    monthly_fee = models.DecimalField(_("monthly fee"), max_digits=10, decimal_places=2, default=Decimal("0"),
                                      validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.USD)
    included_channels = models.PositiveIntegerField(
        _("concurrent calls included"), help_text=_("Real-time capacity: calls handled at the same instant."))
    extra_channels_allowed = models.BooleanField(_("extra concurrent calls can be bought"), default=False)
    extra_channel_price = models.DecimalField(_("price of one extra concurrent call"), max_digits=10,
                                              decimal_places=2, default=Decimal("0"),
                                              validators=[MinValueValidator(Decimal("0"))])
    included_minutes = models.PositiveIntegerField(
        _("minutes included per month"), null=True, blank=True,
        help_text=_("Monthly consumption; empty when the plan states none."))
    overage_rate_per_minute = models.DecimalField(_("price of a minute over the included"), max_digits=10,
                                                  decimal_places=4, default=Decimal("0"),
                                                  validators=[MinValueValidator(Decimal("0"))])
    billing_first_seconds = models.PositiveSmallIntegerField(
        _("first billed block (s)"), default=60, validators=[MinValueValidator(1)])
    billing_step_seconds = models.PositiveSmallIntegerField(
        _("then billed in steps of (s)"), default=60, validators=[MinValueValidator(1)])
    is_active = models.BooleanField(_("on sale"), default=True)

    history = AuditedHistory()

    class Meta:
        ordering = ["included_channels", "name"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not self.extra_channels_allowed and self.extra_channel_price:
            raise ValidationError({"extra_channel_price": _("This plan does not sell extra concurrent calls.")})


class ChannelUsage(models.Model):
    """Channels an account holds right now (its own calls, plus its clients' for a reseller).

    Derived from the live leases and changed only by `billing.budget` in the same transaction as the
    lease, with a conditional update that can never pass the limit.
    """

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE, primary_key=True,
                                   related_name="channel_usage")
    in_use = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("channels in use")
        verbose_name_plural = _("channels in use")

    def __str__(self) -> str:
        return f"{self.account_id}: {self.in_use}"


class ChannelLease(models.Model):
    """One held channel, tied to one call. Its expiry moves with the call's activity; the reconciler frees
    leases whose call is gone or silent past the expiry."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="leases")
    call = models.OneToOneField("acd.Call", on_delete=models.CASCADE, related_name="lease")
    direction = models.CharField(_("kind of call"), max_length=10)
    chain = models.JSONField(help_text=_("The accounts whose counters this lease holds (itself and resellers)."))
    acquired_at = models.DateTimeField(_("acquired"))
    expires_at = models.DateTimeField(_("expires"))
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    ended_by = models.CharField(_("ended by"), max_length=10, choices=LeaseEnd.choices, blank=True)

    class Meta:
        ordering = ["-acquired_at"]
        verbose_name = _("channel lease")
        verbose_name_plural = _("channel leases")
        indexes = [models.Index(fields=["expires_at"], name="lease_live_idx",
                                condition=models.Q(released_at__isnull=True))]

    def __str__(self) -> str:
        return f"lease of call {self.call_id}"


class LimitRefusal(models.Model):
    """A call refused with REACH_PLAN_LIMIT: when, for which account, and whose limit was full."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="refusals")
    limited_by = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+",
                                   verbose_name=_("limit reached on"))
    at = models.DateTimeField(_("at"), db_index=True)
    direction = models.CharField(_("kind of call"), max_length=10)
    call_ref = models.CharField(_("engine call id"), max_length=100, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("refusal (plan limit)")
        verbose_name_plural = _("refusals (plan limit)")

    def __str__(self) -> str:
        return f"{self.account_id} refused at {self.at}"


class LeaseRepair(models.Model):
    """What the reconciler fixed, and why."""

    lease = models.ForeignKey(ChannelLease, on_delete=models.CASCADE, related_name="repairs")
    at = models.DateTimeField()
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return self.reason


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
