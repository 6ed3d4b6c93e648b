from django.db import models
from django.utils.translation import gettext_lazy as _

from core.outgoing import EventType

__all__ = ["DeliveryState", "EventType"]


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed (gave up)")
