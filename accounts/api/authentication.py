"""API authentication: `Authorization: Bearer cnt_…` resolves to one account."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import authentication, exceptions

from core.clock import now

from ..models import Account, ApiToken, hash_token


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
        raw = header[1].decode(errors="replace")
        token = (ApiToken.objects.select_related("account", "account__plan")
                 .filter(key_hash=hash_token(raw), revoked_at__isnull=True, account__is_active=True).first())
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API token.")
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now())
        return AccountPrincipal(account=token.account, token_id=token.pk), token

    def authenticate_header(self, request) -> str:
        return self.keyword
