"""Request-wide settings that follow the signed-in supervisor's account."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .scoping import user_account


class AccountTimezoneMiddleware:
    """Every time a supervisor sees (admin lists, forms, dashboards) is in their account's time zone, not UTC.
    Others (superusers, anonymous) keep the server's zone (UTC). Placed after the authentication middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        account = user_account(user) if user is not None and user.is_authenticated else None
        if account is not None:
            try:
                timezone.activate(zoneinfo.ZoneInfo(account.timezone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
