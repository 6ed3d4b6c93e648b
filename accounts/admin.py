"""API tokens. The account's own page (with its setup steps and usage) is wired in `callcenter/admin.py`, which
sees the apps an account's setup spans."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.scoped_admin import AuditHistoryMixin

from . import actions
from .models import ApiToken
from .scoping import user_account


@admin.register(ApiToken)
class ApiTokenAdmin(AuditHistoryMixin):
    list_display = ["name", "account", "prefix", "access", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["account", "access"]
    search_fields = ["name", "prefix"]
    fields = ["account", "name", "prefix", "access", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest):
        qs = super().get_queryset(request).select_related("account")
        if request.user.is_superuser:
            return qs
        account = user_account(request.user)
        return qs.filter(account=account) if account else qs.none()

    def get_list_filter(self, request: HttpRequest):
        # "By account" would name every account to any supervisor: only superusers get it.
        return self.list_filter if request.user.is_superuser else [f for f in self.list_filter if f != "account"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None or not request.user.is_superuser:
            fields.append("account")
        return fields

    def save_model(self, request: HttpRequest, obj: ApiToken, form, change: bool) -> None:
        if change:
            return super().save_model(request, obj, form, change)
        account = obj.account if request.user.is_superuser else user_account(request.user)
        token, raw = actions.create_api_token(account, obj.name, obj.access)
        obj.pk = token.pk
        self.message_user(request, _("Copy the key now, it is not shown again: %(key)s") % {"key": raw},
                          messages.WARNING)

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset) -> None:
        for token in queryset:
            actions.revoke_api_token(token)
