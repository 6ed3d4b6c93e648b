"""The name the admin carries: Centralino, or the white-label reseller's name for its client accounts."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .scoping import user_account

PRODUCT_NAME = "Centralino"


def brand_name(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    account = user_account(user) if user is not None and user.is_authenticated else None
    reseller = account.parent if account is not None and account.parent_id else None
    return reseller.name if reseller is not None else PRODUCT_NAME


def branding(request: HttpRequest) -> dict[str, Any]:
    """Template context processor: `brand` on every page (admin title, header, favicon alt)."""
    return {"brand": brand_name(request)}
