from django.db import models
from django.utils.translation import gettext_lazy as _


class LeaseEnd(models.TextChoices):
    RELEASED = "released", _("Released when the call ended")
    REPAIRED = "repaired", _("Freed by the reconciler")
