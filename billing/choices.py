from django.db import models
from django.utils.translation import gettext_lazy as _


class DefaultPlan(models.TextChoices):
    """The plans shipped with the product (domain.md, seed 000). Plans are data: admins edit them."""

    STARTER = "starter", _("Starter")
    UNLIMITED_WHITE_LABEL = "unlimited-wl", _("Unlimited (White Label)")
    UNLIMITED_PLUS = "unlimited-plus", _("Unlimited Plus")


class InvoiceLineKind(models.TextChoices):
    PLAN = "plan", _("Plan fee")
    EXTRA_CHANNELS = "extra_channels", _("Extra concurrent calls")
    OVERAGE = "overage", _("Minutes over the included")
