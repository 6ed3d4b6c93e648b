"""Which account a request acts for. Every queryset of the admin and the API is filtered by it."""

from __future__ import annotations

from typing import Any

from .models import Account


def user_account(user: Any) -> Account | None:
    account = getattr(user, "account", None)  # AccountPrincipal (API token)
    if isinstance(account, Account):
        return account
    if not getattr(user, "is_authenticated", False):
        return None
    membership = getattr(user, "membership", None)
    return membership.account if membership is not None else None


def request_account(request: Any) -> Account | None:
    return user_account(getattr(request, "user", None))
