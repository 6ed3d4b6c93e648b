from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from ..choices import TokenAccess
from ..models import ApiToken
from ..scoping import request_account


class IsAccountMember(BasePermission):
    """Token holders and supervisors act for exactly one account; anyone else is refused."""

    message = "Authenticate with an API token or as a supervisor of an account."

    def has_permission(self, request, view) -> bool:
        if request_account(request) is None:
            return False
        token = request.auth
        if isinstance(token, ApiToken) and token.access == TokenAccess.READ_ONLY and request.method not in SAFE_METHODS:
            self.message = "This API token is read-only."
            return False
        return True
