"""Brute force on the operators' credentials: the console's password and the phone PIN.

The console's sign-in goes through django-axes like the admin's (the "username" is `<company code>/<login>`,
counted per client address); phone PINs lock the operator's PIN (PinLockout). Both lift by time, or earlier
when the account's supervisor lifts them (the operators' admin action). Every answer costs one password
hash whether the login exists or not, so timing does not tell which logins exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest

from core.clock import now

from .models import Operator, PinLockout


def console_username(account_slug: str, login: str) -> str:
    return f"{account_slug}/{login}"


def _credentials(account_slug: str, login: str) -> dict[str, str]:
    return {"username": console_username(account_slug, login)}


def console_locked(request: HttpRequest, account_slug: str, login: str) -> bool:
    return AxesProxyHandler.is_locked(request, _credentials(account_slug, login))


def console_failed(request: HttpRequest, account_slug: str, login: str) -> bool:
    """Count a wrong console sign-in (axes records it, for logins that exist or not); True when this one
    locked the login out. The console answers that itself, with its own page (axes' middleware would replace
    the answer with its plain message)."""
    user_login_failed.send(sender=Operator, credentials=_credentials(account_slug, login), request=request)
    locked = bool(getattr(request, "axes_locked_out", False))
    request.axes_locked_out = False
    return locked


def console_succeeded(account_slug: str, login: str) -> None:
    axes_reset(username=console_username(account_slug, login))


@cache
def _dummy_hash() -> str:
    return make_password("not-a-password-of-anyone")


def burn_a_hash(raw: str) -> None:
    """The cost of one password check, for a login that does not exist: the answer takes as long."""
    check_password(raw, _dummy_hash())


def pin_locked(operator_id: int) -> bool:
    return PinLockout.objects.filter(operator_id=operator_id, locked_until__gt=now()).exists()


def pin_failed(operator_id: int) -> None:
    """One more wrong PIN; the PIN_FAILURE_LIMIT-th in a row locks the PIN for PIN_COOLOFF_MINUTES. A lock that
    has run out starts the count again."""
    at = now()
    with transaction.atomic():  # under the row's lock: concurrent wrong PINs each count
        row, _ = PinLockout.objects.select_for_update().get_or_create(operator_id=operator_id)
        if row.locked_until is not None:
            if row.locked_until > at:
                return
            row.failures, row.locked_until = 0, None
        row.failures += 1
        if row.failures >= settings.PIN_FAILURE_LIMIT:
            row.locked_until = at + dt.timedelta(minutes=settings.PIN_COOLOFF_MINUTES)
        row.save(update_fields=["failures", "locked_until"])


def pin_succeeded(operator_id: int) -> None:
    PinLockout.objects.filter(operator_id=operator_id).delete()


@dataclass(frozen=True)
class Lockouts:
    console_until: dt.datetime | None
    pin_until: dt.datetime | None

    @property
    def any(self) -> bool:
        return self.console_until is not None or self.pin_until is not None


def lockouts(operator: Operator) -> Lockouts:
    """What is locked now for this operator, and until when (for the supervisor's admin)."""
    at = now()
    cooloff = dt.timedelta(minutes=settings.AXES_COOLOFF_MINUTES)
    attempt = (AccessAttempt.objects.filter(username=console_username(operator.account.slug, operator.login),
                                            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
                                            attempt_time__gt=at - cooloff)
               .order_by("-attempt_time").first())
    pin = PinLockout.objects.filter(operator=operator, locked_until__gt=at).first()
    return Lockouts(console_until=attempt.attempt_time + cooloff if attempt else None,
                    pin_until=pin.locked_until if pin else None)


def lift(operator: Operator) -> None:
    """The supervisor lifts the operator's lockouts before their time (console from every address, and PIN)."""
    console_succeeded(operator.account.slug, operator.login)
    pin_succeeded(operator.pk)
