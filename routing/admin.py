from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.scoped_admin import AccountScopedAdmin, AccountScopedMixin
from core.formatting import duration

from .choices import Criterion, NumberPurpose, OverflowAction, PromptKind
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
    phone_fields = ("overflow_number",)
    history_children = ((ServiceMembership, "service"),)
    fieldsets = [
        (None, {"fields": ["account", "name", "description", "criterion", "priority", "is_active"]}),
        (_("Ringing and auto-pause"), {"fields": ["ring_count", "ring_seconds", "pause_after_misses",
                                                   "wrapup_seconds"]}),
        (_("Queue and overflow"), {"fields": ["max_wait_seconds", "overflow_action",
                                              "overflow_when_nobody_logged_in", "service_level_seconds"]}),
        # Shown only for the matching choice by core/static/core/admin.js (all shown without JavaScript).
        (_("Redirect"), {"fields": ["overflow_number"],
                         "classes": ["depends", "depends-on-overflow_action", f"when-{OverflowAction.REDIRECT}"]}),
        (_("Skill level settings"), {"fields": ["escalation_seconds"], "classes": [
            "depends", "depends-on-criterion", f"when-{Criterion.SKILL}"]}),
        (_("Last operator settings"), {"fields": ["sticky_window_days", "sticky_wait_seconds"], "classes": [
            "depends", "depends-on-criterion", f"when-{Criterion.LAST_OPERATOR}"]}),
        (_("Talk minutes settings"), {"fields": ["minutes_period"], "classes": [
            "depends", "depends-on-criterion", f"when-{Criterion.MINUTES_PRODUCED}"]}),
        (_("Operator code settings"), {"fields": ["code_unavailable_action"], "classes": [
            "depends", "depends-on-criterion", f"when-{Criterion.OPERATOR_CODE}"]}),
        (_("Prompts"), {"fields": ["welcome_prompt", "hold_prompt", "busy_prompt", "voicemail_prompt",
                                   "closed_prompt", "whisper_menu_choice"]}),
        (_("Out of hours"), {"fields": ["closed_action"], "classes": ["collapse"]}),
    ]
    # Each prompt field offers the prompts of its kind only (no welcome message as hold music).
    prompt_kinds = {"welcome_prompt": PromptKind.WELCOME, "hold_prompt": PromptKind.HOLD,
                    "busy_prompt": PromptKind.BUSY, "voicemail_prompt": PromptKind.VOICEMAIL_GREETING,
                    "closed_prompt": PromptKind.CLOSED}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        kind = self.prompt_kinds.get(db_field.name)
        if field is not None and kind is not None:
            field.queryset = field.queryset.filter(kind=kind)
        return field


@admin.register(PhoneNumber)
class PhoneNumberAdmin(AccountScopedAdmin):
    list_display = ["number", "label", "account", "service", "route_by_caller", "criterion_override",
                    "is_active", "activated_at", "test_call"]
    list_filter = ["is_active", "route_by_caller", "account"]
    search_fields = ["number", "label"]
    autocomplete_fields = ["service"]
    phone_fields = ("number",)
    fields = ["account", "number", "label", "purpose", "service", "route_by_caller", "criterion_override",
              "is_active", "activated_at"]


    @admin.display(description=_("try it"))
    def test_call(self, obj: PhoneNumber) -> str:
        if not obj.is_active or obj.purpose != NumberPurpose.CALLS:
            return "—"
        return format_html('<a href="{}?number={}">{}</a>', reverse("admin-test-call"), obj.number,
                           _("Place a test call"))


@admin.register(Prompt)
class PromptAdmin(AccountScopedAdmin):
    list_display = ["name", "kind", "account", "audio_format", "length", "player"]
    list_filter = ["kind", "account"]
    search_fields = ["name"]
    fields = ["account", "name", "kind", "audio", "player", "audio_format", "duration_seconds", "size_bytes"]
    readonly_fields = ["player", "audio_format", "duration_seconds", "size_bytes"]

    @admin.display(description=_("duration"), ordering="duration_seconds")
    def length(self, obj: Prompt) -> str:
        return duration(float(obj.duration_seconds)) if obj.duration_seconds is not None else "—"

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
