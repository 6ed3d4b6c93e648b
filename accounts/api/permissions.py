from __future__ import annotations

from rest_framework.permissions import BasePermission

from ..scoping import request_account


class IsAccountMember(BasePermission):
    """Token holders and supervisors act for exactly one account; anyone else is refused."""

    message = "Authenticate with an API token or as a supervisor of an account."

    def has_permission(self, request, view) -> bool:
        return request_account(request) is not None
