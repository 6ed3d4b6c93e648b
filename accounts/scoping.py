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


# Accounts nest reseller → client at most this deep (the budget refuses deeper chains too).
MAX_RESELLER_DEPTH = 8


def client_account_ids(account: Account) -> list[int]:
    """The accounts a reseller runs (its clients, and theirs), without itself: what its supervisor may read.
    One query per level, bounded by the depth the budget accepts."""
    found: list[int] = []
    level = [account.pk]
    for _ in range(MAX_RESELLER_DEPTH):
        level = [pk for pk in Account.objects.filter(parent_id__in=level).values_list("pk", flat=True)
                 if pk not in found and pk != account.pk]
        if not level:
            break
        found.extend(level)
    return found


def readable_account_ids(account: Account) -> list[int]:
    """The account itself and every client it resells to: read-only records of all of them are visible."""
    return [account.pk, *client_account_ids(account)]


def request_account(request: Any) -> Account | None:
    return user_account(getattr(request, "user", None))
