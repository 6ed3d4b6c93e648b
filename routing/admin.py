from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import AccountScopedAdmin, AccountScopedMixin

from .models import CallerRoute, Holiday, OpeningHours, PhoneNumber, Prompt, Service, ServiceMembership


class ServiceMembershipInline(AccountScopedMixin, admin.TabularInline):
    model = ServiceMembership
    extra = 1
    autocomplete_fields = ["operator"]


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(Service)
class ServiceAdmin(AccountScopedAdmin):
    list_display = ["name", "account", "criterion", "overflow_action", "ring_count", "pause_after_misses",
                    "wrapup_seconds", "max_wait_seconds", "is_active"]
    list_filter = ["criterion", "overflow_action", "is_active", "account"]
    search_fields = ["name", "description"]
    inlines = [ServiceMembershipInline, OpeningHoursInline, HolidayInline]
    history_children = ((ServiceMembership, "service"),)
    fieldsets = [
        (None, {"fields": ["account", "name", "description", "criterion", "priority", "is_active"]}),
        (_("Ringing and auto-pause"), {"fields": ["ring_count", "ring_seconds", "pause_after_misses",
                                                   "wrapup_seconds"]}),
        (_("Queue and overflow"), {"fields": ["max_wait_seconds", "overflow_action", "overflow_number",
                                              "overflow_when_nobody_logged_in", "service_level_seconds"]}),
        (_("Criterion settings"), {"fields": ["sticky_window_days", "sticky_wait_seconds", "minutes_period",
                                              "code_unavailable_action", "escalation_seconds"]}),
        (_("Prompts"), {"fields": ["welcome_prompt", "hold_prompt", "busy_prompt", "voicemail_prompt",
                                   "closed_prompt"]}),
        (_("Out of hours"), {"fields": ["closed_action"]}),
    ]


@admin.register(PhoneNumber)
class PhoneNumberAdmin(AccountScopedAdmin):
    list_display = ["number", "label", "account", "service", "route_by_caller", "criterion_override",
                    "is_active", "activated_at"]
    list_filter = ["is_active", "route_by_caller", "account"]
    search_fields = ["number", "label"]
    autocomplete_fields = ["service"]
    fields = ["account", "number", "label", "purpose", "service", "route_by_caller", "criterion_override",
              "is_active", "activated_at"]


@admin.register(Prompt)
class PromptAdmin(AccountScopedAdmin):
    list_display = ["name", "kind", "account", "audio_format", "duration_seconds", "player"]
    list_filter = ["kind", "account"]
    search_fields = ["name"]
    fields = ["account", "name", "kind", "audio", "player", "audio_format", "duration_seconds", "size_bytes"]
    readonly_fields = ["player", "audio_format", "duration_seconds", "size_bytes"]

    @admin.display(description=_("listen"))
    def player(self, obj: Prompt) -> str:
        if not obj.pk or not obj.audio:
            return "—"
        return format_html('<audio controls preload="none" src="{}"></audio>', obj.audio.url)


@admin.register(CallerRoute)
class CallerRouteAdmin(AccountScopedAdmin):
    list_display = ["prefix", "service", "description", "account"]
    list_filter = ["account"]
    search_fields = ["prefix", "description"]
    autocomplete_fields = ["service"]
    fields = ["account", "prefix", "service", "description"]
