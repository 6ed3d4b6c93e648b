from django.db import models
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    ITALIAN = "it", _("Italian")


class Currency(models.TextChoices):
    USD = "USD", "USD"
    EUR = "EUR", "EUR"


class TokenAccess(models.TextChoices):
    """What an integrator's token may do: read-only tokens (reporting, dashboards) get 403 on every write."""

    READ_WRITE = "read_write", _("read and write")
    READ_ONLY = "read_only", _("read only")
