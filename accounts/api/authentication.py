"""API authentication: `Authorization: Bearer cnt_…` resolves to one account."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework import authentication, exceptions
from rest_framework.throttling import BaseThrottle

from core.clock import now

from ..models import Account, ApiToken, hash_token

log = logging.getLogger(__name__)


def _failures_key(request) -> str:
    return f"api-token-failures:{BaseThrottle().get_ident(request)}"


def _too_many_failures(request) -> bool:
    try:
        return (cache.get(_failures_key(request)) or 0) >= settings.API_TOKEN_FAILURE_LIMIT
    except RedisError:  # the cache (Redis) is down: the guard lets the request through rather than fail it
        log.warning("wrong-token count not checked: the cache does not answer", exc_info=True)
        return False


def _count_failure(request) -> None:
    key = _failures_key(request)
    try:
        cache.add(key, 0, timeout=settings.API_TOKEN_FAILURE_WINDOW_SECONDS)
        cache.incr(key)
    except RedisError:
        log.warning("wrong-token count not recorded: the cache does not answer", exc_info=True)


@dataclass(frozen=True)
class AccountPrincipal:
    """`request.user` for token requests: an integrator acting for one account."""

    account: Account
    token_id: int
    is_authenticated: bool = True
    is_anonymous: bool = False
    is_staff: bool = False
    is_superuser: bool = False

    def __str__(self) -> str:
        return f"token {self.token_id} of {self.account}"


class AccountTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Give the header as: Authorization: Bearer <token>.")
        # An address that sent API_TOKEN_FAILURE_LIMIT wrong tokens in the window is refused before any
        # lookup (429) until the window passes: guessing tokens costs the window per few guesses.
        if _too_many_failures(request):
            raise exceptions.Throttled(wait=settings.API_TOKEN_FAILURE_WINDOW_SECONDS,
                                       detail="Too many wrong API tokens from this address; try again later.")
        raw = header[1].decode(errors="replace")
        token = (ApiToken.objects.select_related("account", "account__plan")
                 .filter(key_hash=hash_token(raw), revoked_at__isnull=True, account__is_active=True).first())
        if token is None:
            _count_failure(request)
            raise exceptions.AuthenticationFailed("Unknown or revoked API token.")
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now())
        return AccountPrincipal(account=token.account, token_id=token.pk), token

    def authenticate_header(self, request) -> str:
        return self.keyword
