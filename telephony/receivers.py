"""An account saved or deleted in this process is forgotten by this process's signer memory at commit, so that
a rotation or a deactivation made here is refused here at once; other processes within the bound of
ENGINE_SIGNER_CACHE_SECONDS (telephony/signers.py)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Account

from .api.authentication import SIGNERS


@receiver(post_save, sender=Account, dispatch_uid="telephony.forget_signers_saved")
@receiver(post_delete, sender=Account, dispatch_uid="telephony.forget_signers_deleted")
def _forget_signers(sender: type[Account], instance: Account, **kwargs: Any) -> None:
    # The whole memory, not the one slug: a renamed account's old slug is no longer on the instance.
    transaction.on_commit(SIGNERS.clear)
