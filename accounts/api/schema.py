"""OpenAPI description of the account token (loaded by AccountsConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class AccountTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api.authentication.AccountTokenAuthentication"
    name = "AccountToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "cnt_…",
                "description": "An API token of one account (admin → API tokens)."}
