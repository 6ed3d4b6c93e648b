"""A supervisor gets the rights of one wherever the membership was made; the group follows the models."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from . import actions
from .models import AccountMember


@receiver(post_save, sender=AccountMember, dispatch_uid="accounts.grant_supervisor")
def _grant_supervisor(sender: type[AccountMember], instance: AccountMember, **kwargs: Any) -> None:
    actions.grant_supervisor(instance.user)


def refresh_supervisor_group(sender: Any, **kwargs: Any) -> None:
    """After every migrate: the group holds the permissions of every supervisor model, new ones included."""
    actions.ensure_supervisor_group()
