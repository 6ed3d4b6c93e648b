"""The audit trail: every change to an account's configuration, who made it, when, and the values before/after.

django-simple-history keeps, per audited model, a historical table with one row per save or delete: the
full row as it was after the change (so any two consecutive rows give before/after), `history_date`,
`history_type` (+ created, ~ changed, - deleted), `history_user` (the admin user or supervisor) and, here,
`history_via`: how the change came in (the admin, or which API token). Secrets are never copied: each model
names its password/PIN/token/secret columns in `excluded_fields`, hashes included.

Presence is not configuration: the operator's state machine columns change on every call and have their
own log (agents.OperatorEvent), so a save that writes only those columns records nothing here and costs the
hot path no extra statement.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record


class AuditFields(models.Model):
    """What every historical row adds to the model's own columns."""

    history_via = models.CharField(_("via"), max_length=150, blank=True,
                                   help_text=_("The admin, an API token (name and prefix), or empty for the system."))

    class Meta:
        abstract = True


def request_user(request: Any, **kwargs: Any) -> AbstractBaseUser | None:
    """The Django user behind a request; an API token's principal is no user (it is told in `history_via`)."""
    user = getattr(request, "user", None)
    if isinstance(user, AbstractBaseUser) and user.is_authenticated:
        return user
    return None


def describe_channel(request: Any) -> str:
    if request is None:
        return ""
    user = getattr(request, "user", None)
    if getattr(user, "token_id", None):
        token = getattr(request, "auth", None) or getattr(user, "token", None)
        name = f"{token.name} ({token.prefix}…)" if token is not None and hasattr(token, "prefix") else ""
        return f"API token {user.token_id} {name}".strip()[:150]
    if request.path.startswith("/admin/"):
        return "admin"
    if request.path.startswith("/api/"):
        return "API"
    return request.path[:150]


def is_audited_model(model: type[models.Model]) -> bool:
    return hasattr(model._meta, "simple_history_manager_attribute")


class AuditedHistory(HistoricalRecords):
    """HistoricalRecords with the project's defaults: the extra `history_via` column, the request's Django user
    only, and no record for a save that changed only `quiet_fields` (presence)."""

    def __init__(self, *args: Any, quiet_fields: frozenset[str] = frozenset(), **kwargs: Any) -> None:
        kwargs.setdefault("bases", [AuditFields])
        kwargs.setdefault("get_user", request_user)
        kwargs.setdefault("cascade_delete_history", False)
        super().__init__(*args, **kwargs)
        self.quiet_fields = frozenset(quiet_fields) | frozenset(self.excluded_fields)

    def post_save(self, instance: models.Model, created: bool, using: str | None = None, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if not created and update_fields and set(update_fields) <= self.quiet_fields:
            return
        super().post_save(instance, created, using=using, **kwargs)


@receiver(pre_create_historical_record)
def _record_channel(sender: type, history_instance: models.Model, **kwargs: Any) -> None:
    if isinstance(history_instance, AuditFields):
        history_instance.history_via = describe_channel(getattr(HistoricalRecords.context, "request", None))
