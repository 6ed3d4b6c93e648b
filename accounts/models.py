"""Tenants: customer accounts (optionally under a white-label reseller), the plans they are on, their staff and
API tokens."""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from decimal import Decimal

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core import netguard
from core.audit import AuditedHistory

from .choices import Currency, Language, TokenAccess


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(_("%(value)s is not a time zone."), params={"value": value}) from exc


def validate_country(value: str) -> None:
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(_("%(value)s is not a two-letter country code (e.g. IT)."), params={"value": value})


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class Plan(models.Model):
    """Commercial terms an account is on: its concurrent-call limit, and (for billing) its prices.

    Here, beside the account, because every account points at one and the channel budget reads the limit
    (included channels + the account's extras) below the apps that price it; billing edits and prices plans."""

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
        db_table = "billing_plan"  # the table keeps its name (the budget's SQL and existing databases)
        ordering = ["included_channels", "name"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not self.extra_channels_allowed and self.extra_channel_price:
            raise ValidationError({"extra_channel_price": _("This plan does not sell extra concurrent calls.")})


class Account(models.Model):
    """A customer running one or more virtual call centers; a reseller is an account with children."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    parent = models.ForeignKey("self", verbose_name=_("reseller"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children",
                               help_text=_("White label: this account's calls also count against the reseller's "
                                           "limit."))
    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.PROTECT,
                             related_name="accounts")
    extra_channels = models.PositiveIntegerField(_("extra concurrent calls bought"), default=0)
    is_reseller = models.BooleanField(
        _("white-label reseller"), default=False,
        help_text=_("Its API tokens may create and manage client accounts under it (set by the provider)."))
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Rome",
                                validators=[validate_timezone])
    country = models.CharField(
        _("country"), max_length=2, default="IT", validators=[validate_country],
        help_text=_("Two-letter ISO code (IT, FR, …): phone numbers typed without +country code are read "
                    "as national numbers of this country."))
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.ITALIAN)
    duty_email = models.EmailField(_("duty administrator e-mail"), blank=True,
                                   help_text=_("Voicemails left when nobody can answer are sent here."))
    webhook_secret = models.CharField(_("webhook secret"), max_length=64, default=new_webhook_secret,
                                      help_text=_("Shared secret that signs telephony webhooks (HMAC-SHA256)."))
    engine_url = models.URLField(
        _("telephony engine URL"), blank=True,
        help_text=_("Webhook backend: commands that no event is waiting for are POSTed here, signed like "
                    "the events. Leave empty if the engine polls for them."))
    is_active = models.BooleanField(_("active"), default=True)
    is_simulation = models.BooleanField(
        _("driven by the simulator"), default=False,
        help_text=_("Its calls run on the simulator's own clock; the periodic sweeper leaves it alone."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = AuditedHistory(excluded_fields=["webhook_secret"])

    class Meta:
        ordering = ["name"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.engine_url:
            try:
                netguard.resolve(self.engine_url)
            except netguard.UnsafeURL as exc:
                raise ValidationError({"engine_url": _("This engine URL is refused: %(why)s.") % {"why": exc}}
                                      ) from exc
        if self.extra_channels and self.plan_id and not self.plan.extra_channels_allowed:
            raise ValidationError({"extra_channels": _("The %(plan)s plan does not sell extra concurrent calls."),},
                                  params={"plan": self.plan.name})
        ancestor = self.parent
        while ancestor is not None:
            if self.pk and ancestor.pk == self.pk:
                raise ValidationError({"parent": _("An account cannot be its own reseller.")})
            ancestor = ancestor.parent

    @property
    def channel_limit(self) -> int:
        return self.plan.included_channels + self.extra_channels


class AccountMember(models.Model):
    """A Django staff user who supervises one account (admin and wallboard are scoped to it)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="members")

    history = AuditedHistory()

    class Meta:
        verbose_name = _("supervisor")
        verbose_name_plural = _("supervisors")

    def __str__(self) -> str:
        return f"{self.user} @ {self.account}"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """An integrator's key. It belongs to one account; only its SHA-256 is stored."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    access = models.CharField(_("access"), max_length=10, choices=TokenAccess.choices,
                              default=TokenAccess.READ_WRITE,
                              help_text=_("A read-only token can list and read everything of the account but "
                                          "change nothing (403)."))
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    history = AuditedHistory(excluded_fields=["key_hash", "last_used_at"])

    class Meta:
        ordering = ["account", "name"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
