"""The webhook engine authenticates every request with the account's HMAC signature."""

from __future__ import annotations

import secrets

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.api.authentication import AccountPrincipal
from accounts.models import Account
from core.clock import now

from ..signing import ACCOUNT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

UNKNOWN_ACCOUNT_SECRET = secrets.token_hex(32)  # per process, never shared: nothing can be signed with it


class WebhookSignatureAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        slug = request.headers.get(ACCOUNT_HEADER)
        if not slug:
            raise exceptions.AuthenticationFailed(f"The {ACCOUNT_HEADER} header is required.")
        account = Account.objects.filter(slug=slug[:100], is_active=True).first()
        # An unknown slug is checked against a throw-away secret: the same work and the same answer as a bad
        # signature, so the webhook does not tell which account slugs exist.
        problem = verify(account.webhook_secret if account else UNKNOWN_ACCOUNT_SECRET,
                         request.headers.get(TIMESTAMP_HEADER), request.body,
                         request.headers.get(SIGNATURE_HEADER, ""), now().timestamp())
        if account is None and not problem:
            problem = "the signature does not match"
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
