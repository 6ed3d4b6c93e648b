"""Outgoing events in the admin: subscriptions (paused ones flagged, resume), and the delivery log with every
attempt and a re-send action."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.scoped_admin import AccountScopedAdmin, ReadOnlyAdmin

from . import actions
from .models import Delivery, DeliveryAttempt, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(AccountScopedAdmin):
    list_display = ["url", "description", "is_active", "paused_at", "consecutive_failures", "account"]
    list_filter = ["is_active", "account"]
    readonly_fields = ["secret", "paused_at", "pause_reason", "consecutive_failures", "created_at"]
    actions = ["resume_selected"]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        for subscription in self.get_queryset(request).filter(paused_at__isnull=False)[:10]:
            self.message_user(request, _("Deliveries to %(url)s are paused: %(why)s") % {
                "url": subscription.url, "why": subscription.pause_reason}, messages.WARNING)
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("Resume delivering"))
    def resume_selected(self, request: HttpRequest, queryset) -> None:
        for subscription in queryset:
            actions.resume(subscription.pk)
        self.message_user(request, ngettext("%(n)d subscription resumed.", "%(n)d subscriptions resumed.",
                                            queryset.count()) % {"n": queryset.count()})


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["at", "status", "error", "response", "duration_ms"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "event_type", "subscription", "state", "attempts", "last_status",
                    "next_attempt_at", "account"]
    list_filter = ["state", "event_type", "account"]
    inlines = [AttemptInline]
    actions = ["resend_selected"]

    @admin.action(description=_("Re-send"))
    def resend_selected(self, request: HttpRequest, queryset) -> None:
        account = self.scoped_account(request)
        count = actions.resend(list(queryset.values_list("pk", flat=True)),
                               None if request.user.is_superuser else getattr(account, "pk", -1))
        self.message_user(request, ngettext("%(n)d delivery queued again.", "%(n)d deliveries queued again.",
                                            count) % {"n": count})
