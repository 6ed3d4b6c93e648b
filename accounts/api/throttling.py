"""API rate limits, counted in the shared cache (Redis) so every web worker sees the same numbers.

A throttle is a guard, not a source of truth: when the cache does not answer, the request goes through
(logged) rather than failing with a 500.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

log = logging.getLogger(__name__)


class _FailOpen(SimpleRateThrottle):
    def allow_request(self, request: Request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except RedisError:  # the cache (Redis) is down: do not turn a guard into an outage
            log.warning("rate limit not checked: the cache does not answer", exc_info=True)
            return True


class TokenRateThrottle(_FailOpen):
    """Requests per API token (or per signed-in admin user browsing the API)."""

    scope = "token"

    def get_cache_key(self, request: Request, view) -> str | None:
        user = request.user
        if not getattr(user, "is_authenticated", False):
            return None
        token_id = getattr(user, "token_id", None)
        ident = f"token-{token_id}" if token_id is not None else f"user-{user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousRateThrottle(_FailOpen):
    """Requests per client address without credentials."""

    scope = "anonymous"

    def get_cache_key(self, request: Request, view) -> str | None:
        if getattr(request.user, "is_authenticated", False):
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
