"""The account's admin page: its terms, its supervisors, and the links to the six-step setup and the usage
dashboard. It lives here, at the top, because those pages read every app an account's setup spans (operators,
numbers, services, billing)."""

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

from accounts.models import Account, AccountMember
from accounts.scoping import readable_account_ids, user_account
from billing.admin_views import usage_dashboard

from .setup import menu_link, readiness, setup_steps


class AccountMemberInline(admin.TabularInline):
    model = AccountMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
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
        # A reseller's supervisor sees its client accounts (read-only: see has_change_permission).
        return qs.filter(pk__in=readable_account_ids(account)) if account else qs.none()

    def own_queryset(self, request: HttpRequest):
        """Only the supervisor's own account: what they may change and set up."""
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        account = user_account(request.user)
        return qs.filter(pk=account.pk) if account else qs.none()

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and not request.user.is_superuser and obj != user_account(request.user):
            return False  # a client's account: its reseller reads it, its own supervisors change it
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and not request.user.is_superuser and obj != user_account(request.user):
            return False
        return super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if request.user.is_superuser:
            return self.readonly_fields
        # A supervisor sees the commercial terms but cannot change them.
        return [*self.readonly_fields, "plan", "extra_channels", "parent", "slug", "is_active", "is_reseller",
                "webhook_secret"]

    def get_prepopulated_fields(self, request: HttpRequest, obj=None):
        # A supervisor's slug is read-only: a prepopulated read-only field breaks the change form (a 500).
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
                path("my-usage/", self.admin_site.admin_view(self.my_usage_view),
                     name="accounts_account_my_usage"),
                *super().get_urls()]

    def setup_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        account = get_object_or_404(self.own_queryset(request), pk=pk)  # its forms change the account's setup
        steps = setup_steps(account, request.user)
        done = sum(s.done for s in steps)
        saved = request.GET.get("saved", "")
        next_step = next((s for s in steps if s.is_next), None)
        if saved.isdigit():
            messages.success(request, _("Step %(n)s saved.") % {"n": saved} + (
                " " + _("Next: step %(n)d, %(title)s.") % {"n": next_step.number, "title": next_step.title}
                if next_step else " " + _("Every step is done.")))
        context = {**self.admin_site.each_context(request), "title": _("Setup of %(account)s") % {
            "account": account}, "account": account, "steps": steps, "opts": self.model._meta,
            "done": done, "total": len(steps), "percent": round(100 * done / len(steps)),
            "next_step": next_step, "readiness": readiness(account), "menu_url": menu_link(account, request.user),
            "can_test_call": user_account(request.user) == account}
        return TemplateResponse(request, "admin/accounts/setup.html", context)

    def usage_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        account = get_object_or_404(self.get_queryset(request), pk=pk)
        return usage_dashboard(request, account, {**self.admin_site.each_context(request), "opts": self.model._meta})

    def _own_account_page(self, request: HttpRequest, page: str) -> HttpResponse:
        """The admin home's links: the supervisor's own account's page (its query kept, e.g. ?saved=<step>
        after a setup form); a superuser picks the account from the list."""
        account = user_account(request.user)
        if account is None:
            if request.user.is_superuser:
                return redirect("admin:accounts_account_changelist")
            raise PermissionDenied
        query = f"?{request.GET.urlencode()}" if request.GET else ""
        return redirect(reverse(f"admin:accounts_account_{page}", args=[account.pk]) + query)

    def my_usage_view(self, request: HttpRequest) -> HttpResponse:
        return self._own_account_page(request, "usage")

    def my_setup_view(self, request: HttpRequest) -> HttpResponse:
        return self._own_account_page(request, "setup")
