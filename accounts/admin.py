from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import AuditHistoryMixin

from . import actions
from .models import Account, AccountMember, ApiToken
from .scoping import user_account
from .setup import setup_steps


class AccountMemberInline(admin.TabularInline):
    model = AccountMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Account)
class AccountAdmin(AuditHistoryMixin):
    history_account_path = "id"
    list_display = ["name", "slug", "plan", "extra_channels", "parent", "timezone", "language", "is_active",
                    "setup_link"]
    list_filter = ["plan", "is_active", "language"]
    search_fields = ["name", "slug"]
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [AccountMemberInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ["created_at"]

    def get_queryset(self, request: HttpRequest):
        qs = super().get_queryset(request).select_related("plan", "parent")
        if request.user.is_superuser:
            return qs
        account = user_account(request.user)
        return qs.filter(pk=account.pk) if account else qs.none()

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if request.user.is_superuser:
            return self.readonly_fields
        # A supervisor sees the commercial terms but cannot change them.
        return [*self.readonly_fields, "plan", "extra_channels", "parent", "slug", "is_active", "webhook_secret"]

    def get_prepopulated_fields(self, request: HttpRequest, obj=None):
        # A supervisor's slug is read-only: prepopulating it would break the form (KeyError: a 500).
        return self.prepopulated_fields if request.user.is_superuser else {}

    def get_inlines(self, request, obj):
        return self.inlines if request.user.is_superuser else []

    @admin.display(description=_("Setup"))
    def setup_link(self, obj: Account) -> str:
        return format_html('<a href="{}">{}</a> · <a href="{}">{}</a>',
                           reverse("admin:accounts_account_setup", args=[obj.pk]), _("Six steps"),
                           reverse("admin:accounts_account_usage", args=[obj.pk]), _("Usage"))

    def get_urls(self):
        return [path("<int:pk>/setup/", self.admin_site.admin_view(self.setup_view),
                     name="accounts_account_setup"),
                path("my-setup/", self.admin_site.admin_view(self.my_setup_view),
                     name="accounts_account_my_setup"),
                path("<int:pk>/usage/", self.admin_site.admin_view(self.usage_view),
                     name="accounts_account_usage"),
                *super().get_urls()]

    def setup_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        account = get_object_or_404(self.get_queryset(request), pk=pk)
        steps = setup_steps(account)
        context = {**self.admin_site.each_context(request), "title": _("Setup of %(account)s") % {
            "account": account}, "account": account, "steps": steps, "opts": self.model._meta,
            "done": sum(s.done for s in steps), "total": len(steps)}
        return TemplateResponse(request, "admin/accounts/setup.html", context)

    def usage_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        from billing.admin_views import usage_dashboard

        account = get_object_or_404(self.get_queryset(request), pk=pk)
        return usage_dashboard(request, account, {**self.admin_site.each_context(request), "opts": self.model._meta})

    def my_setup_view(self, request: HttpRequest) -> HttpResponse:
        account = user_account(request.user)
        if account is None:
            if request.user.is_superuser:
                return redirect("admin:accounts_account_changelist")
            raise PermissionDenied
        return redirect("admin:accounts_account_setup", pk=account.pk)


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
