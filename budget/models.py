"""The channel budget's state: the counters of channels in use, the leases that hold them, the refusals.

The tables keep the names they had under `billing` (the budget's SQL names them, and an existing database keeps
its rows: the models moved by a state-only migration)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import LeaseEnd


class ChannelUsage(models.Model):
    """Channels an account holds right now (its own calls, plus its clients' for a reseller).

    Derived from the live leases and changed only by `budget.actions` in the same transaction as the
    lease, with a conditional update that can never pass the limit.
    """

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE, primary_key=True,
                                   related_name="channel_usage")
    in_use = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "billing_channelusage"
        verbose_name = _("channels in use")
        verbose_name_plural = _("channels in use")

    def __str__(self) -> str:
        return f"{self.account_id}: {self.in_use}"


class ChannelLease(models.Model):
    """One held channel, tied to one call. Its expiry moves with the call's activity; the reconciler frees
    leases whose call is gone or silent past the expiry.

    The call is a foreign key by name (integrity, and the lease goes with its call): the budget's code never
    reads a call, so no import runs up to the ACD."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="leases")
    call = models.OneToOneField("acd.Call", on_delete=models.CASCADE, related_name="lease")
    direction = models.CharField(_("kind of call"), max_length=10)
    chain = models.JSONField(help_text=_("The accounts whose counters this lease holds (itself and resellers)."))
    acquired_at = models.DateTimeField(_("acquired"))
    expires_at = models.DateTimeField(_("expires"))
    # Not indexed on purpose: the engine's heartbeat rewrites it, and an unindexed column keeps that a HOT update.
    alive_at = models.DateTimeField(
        _("last reported alive"), null=True, blank=True,
        help_text=_("The engine's last \"still up\" for the call. Once it reports one, a silence longer than "
                    "LEASE_SILENCE_SECONDS frees the channel instead of the expiry."))
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    ended_by = models.CharField(_("ended by"), max_length=10, choices=LeaseEnd.choices, blank=True)

    class Meta:
        db_table = "billing_channellease"
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
        db_table = "billing_limitrefusal"
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
        db_table = "billing_leaserepair"
        ordering = ["-at"]

    def __str__(self) -> str:
        return self.reason
