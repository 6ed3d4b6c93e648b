"""The operator console's session: who is signed in, for as long as that is still true.

Operators are not Django users, so Django's session-auth hash does not cover them; this module does the same
for the console. The session holds the operator's id and an HMAC of their password hash: a password change
(admin, API) or a deactivation of the operator or the account ends every console session at its next request
or WebSocket connect, as Django does for its own users.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.utils.crypto import constant_time_compare, salted_hmac

from agents.models import Operator

SESSION_KEY = "operator_id"
AUTH_KEY = "operator_auth"


def session_hash(op: Operator) -> str:
    return salted_hmac("boards.console.session", f"{op.pk}:{op.password}", algorithm="sha256").hexdigest()


def session_data(op: Operator) -> dict[str, Any]:
    """What a signed-in console session holds."""
    return {SESSION_KEY: op.pk, AUTH_KEY: session_hash(op)}


def sign_in(session: SessionBase, op: Operator) -> None:
    session.cycle_key()  # no session fixation: a new key at each sign-in
    session.update(session_data(op))


def sign_out(session: SessionBase) -> None:
    """Forget the operator and take a new session key (what was signed in under the old one is gone)."""
    session.pop(SESSION_KEY, None)
    session.pop(AUTH_KEY, None)
    session.cycle_key()


def signed_in_operator(session: SessionBase | None) -> Operator | None:
    """The signed-in operator, or None (and the session's operator forgotten) when the operator or the account
    was deactivated or the password changed since the sign-in."""
    if session is None:
        return None
    operator_id = session.get(SESSION_KEY)
    if not operator_id:
        return None
    op = (Operator.objects.select_related("account")
          .filter(pk=operator_id, is_active=True, account__is_active=True).first())
    if op is None or not constant_time_compare(session.get(AUTH_KEY, ""), session_hash(op)):
        session.pop(SESSION_KEY, None)
        session.pop(AUTH_KEY, None)
        return None
    return op
