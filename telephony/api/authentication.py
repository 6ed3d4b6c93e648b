"""The webhook engine authenticates every request with the account's HMAC signature."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.api.authentication import AccountPrincipal
from accounts.models import Account
from core.clock import now

from ..signing import ACCOUNT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


class WebhookSignatureAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        slug = request.headers.get(ACCOUNT_HEADER)
        if not slug:
            raise exceptions.AuthenticationFailed(f"The {ACCOUNT_HEADER} header is required.")
        account = Account.objects.filter(slug=slug, is_active=True).first()
        if account is None:
            raise exceptions.AuthenticationFailed("Unknown account.")
        problem = verify(account.webhook_secret, request.headers.get(TIMESTAMP_HEADER), request.body,
                         request.headers.get(SIGNATURE_HEADER, ""), now().timestamp())
        if problem:
            raise exceptions.AuthenticationFailed(f"Refused: {problem}.")
        return AccountPrincipal(account=account, token_id=0), None

    def authenticate_header(self, request) -> str:
        return "HMAC-SHA256"


class WebhookSignatureScheme(OpenApiAuthenticationExtension):
    target_class = "telephony.api.authentication.WebhookSignatureAuthentication"
    name = "WebhookSignature"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": SIGNATURE_HEADER,
                "description": f"sha256=hex(HMAC-SHA256(webhook secret, '<{TIMESTAMP_HEADER}>.<raw body>')), "
                               f"with {TIMESTAMP_HEADER} (Unix seconds, ±300 s) and {ACCOUNT_HEADER} (slug)."}
