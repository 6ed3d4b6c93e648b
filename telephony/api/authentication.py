"""The webhook engine authenticates every request with the account's HMAC signature."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import connection
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.api.authentication import AccountPrincipal
from accounts.models import Account
from core.clock import now

from ..signers import Signer, SignerCache
from ..signing import ACCOUNT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

UNKNOWN_ACCOUNT_SECRET = secrets.token_hex(32)  # per process, never shared: nothing can be signed with it


# One short statement, not a model: an engine event asks for this on every call step (py-spy put the ORM's
# `.first()` of the whole account row at 16 % of a web worker's CPU under bench-webhook).
_SIGNER = f"SELECT id, webhook_secret FROM {Account._meta.db_table} WHERE slug = %s AND is_active"
# Per process: the accounts that signed lately (telephony/signers.py: bounded in time and size).
SIGNERS = SignerCache(settings.ENGINE_SIGNER_CACHE_SECONDS, settings.ENGINE_SIGNER_CACHE_SIZE)


def signed_account_id(slug: str | None, timestamp: str | None, body: bytes, signature: str) -> int:
    """The id of the active account whose webhook secret signed `timestamp.body`; AuthenticationFailed
    otherwise. Shared by the DRF views below and the engines' lean edge (webhook/edge.py): both refuse alike.

    A signature that checks against the secret this process read less than ENGINE_SIGNER_CACHE_SECONDS ago is
    answered without a round trip (telephony/signers.py says why that is safe); anything else is looked up."""
    if not slug:
        raise exceptions.AuthenticationFailed(f"The {ACCOUNT_HEADER} header is required.")
    slug, moment = slug[:100], now().timestamp()
    cacheable = not connection.in_atomic_block  # committed rows only: see telephony/signers.py
    remembered = SIGNERS.get(slug) if cacheable else None
    # Checked on every path, remembered or not, so that each refusal below costs the same two checks and one
    # lookup: a known slug's bad signature and an unknown slug are indistinguishable, in answer and in time.
    problem = verify(remembered.secret if remembered else UNKNOWN_ACCOUNT_SECRET, timestamp, body, signature, moment)
    if remembered is not None and not problem:
        return remembered.account_id
    read_at = SIGNERS.clock()
    with connection.cursor() as cursor:
        cursor.execute(_SIGNER, [slug])
        row = cursor.fetchone()
    if row is None:
        SIGNERS.forget(slug)  # deactivated, renamed or deleted: never remembered, never negatively either
    elif cacheable:
        SIGNERS.put(slug, Signer(row[0], row[1], read_at))  # the database's word replaces an older one
    # An unknown slug is checked against a throw-away secret: the same work and the same answer as a bad
    # signature, so the webhook does not tell which account slugs exist.
    problem = verify(row[1] if row else UNKNOWN_ACCOUNT_SECRET, timestamp, body, signature, moment)
    if row is None and not problem:
        problem = "the signature does not match"
    if problem:
        raise exceptions.AuthenticationFailed(f"Refused: {problem}.")
    return row[0]


class WebhookSignatureAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        account_id = signed_account_id(request.headers.get(ACCOUNT_HEADER),
                                       request.headers.get(TIMESTAMP_HEADER),
                                       request.body, request.headers.get(SIGNATURE_HEADER, ""))
        # The view reads the account anyway: one deactivated or deleted within the signer memory's bound is
        # refused here at once, as the lookup would have.
        account = Account.objects.filter(pk=account_id, is_active=True).first()
        if account is None:
            raise exceptions.AuthenticationFailed("Refused: the signature does not match.")
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
