"""Which account a wallboard shows: a supervisor's own, or for a superuser the one they pick."""

from __future__ import annotations

from typing import Any

from accounts.models import Account
from accounts.scoping import user_account


def board_account(user: Any, requested: Any = None) -> Account | None:
    """A supervisor always sees their own account, whatever they ask for; a superuser sees the account
    whose id they pass (any, the simulated demo floor included), or their own if they supervise one."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_staff", False):
        return None
    own = user_account(user)
    if own is not None or not user.is_superuser:
        return own
    try:
        account_id = int(requested)
    except (TypeError, ValueError):
        return None
    return Account.objects.filter(pk=account_id).first()


def board_choices(user: Any) -> list[Account]:
    """The accounts a superuser can pick on the wallboard (nobody else picks)."""
    if not getattr(user, "is_superuser", False):
        return []
    return list(Account.objects.order_by("name").only("id", "name", "is_simulation"))
