"""Commercial changes. They apply at once to new calls and never touch calls in progress: the limit is
read at each acquire, and lowering it below current use only refuses new calls until use fits."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Account
from core.errors import ActionError

from .models import Plan


def _lock(account_id: int) -> Account:
    return Account.objects.select_for_update(of=("self",)).select_related("plan").get(pk=account_id)


@transaction.atomic
def change_plan(account_id: int, plan_code: str) -> Account:
    account = _lock(account_id)
    plan = Plan.objects.filter(code=plan_code, is_active=True).first()
    if plan is None:
        raise ActionError("unknown_plan", _("There is no plan on sale with this code."))
    if account.extra_channels and not plan.extra_channels_allowed:
        raise ActionError("extras_not_allowed", _("The %(plan)s plan does not sell extra concurrent calls: set "
                                                  "them to 0 first.") % {"plan": plan.name})
    account.plan = plan
    account.save(update_fields=["plan"])
    return account


@transaction.atomic
def set_extra_channels(account_id: int, extra_channels: int) -> Account:
    account = _lock(account_id)
    if extra_channels < 0:
        raise ActionError("invalid_extra_channels", _("Extra concurrent calls cannot be negative."))
    if extra_channels and not account.plan.extra_channels_allowed:
        raise ActionError("extras_not_allowed", _("The %(plan)s plan does not sell extra concurrent calls.")
                          % {"plan": account.plan.name})
    account.extra_channels = extra_channels
    account.save(update_fields=["extra_channels"])
    return account
