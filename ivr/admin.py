from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.scoped_admin import AccountScopedAdmin, AccountScopedMixin
from core.clock import now
from routing.choices import PromptKind

from .models import Menu, MenuNumber, MenuOption
from .stats import option_counts

STATS_DAYS = 30


class OptionFormSet(BaseInlineFormSet):
    """Each option is checked against its menu (loops, depth, accounts) with the menu of the form itself."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.instance.menu = self.instance
        return form


class MenuOptionInline(AccountScopedMixin, admin.TabularInline):
    model = MenuOption
    formset = OptionFormSet
    fk_name = "menu"
    extra = 1
    fields = ["digit", "label", "action", "service", "submenu", "whisper_prompt"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and db_field.name == "whisper_prompt":
            field.queryset = field.queryset.filter(kind=PromptKind.WHISPER)
        return field


class MenuNumberInline(AccountScopedMixin, admin.TabularInline):
    model = MenuNumber
    extra = 1
    fields = ["number"]


@admin.register(Menu)
class MenuAdmin(AccountScopedAdmin):
    list_display = ["name", "account", "prompt", "timeout_seconds", "max_retries", "fallback_action"]
    list_filter = ["fallback_action", "account"]
    search_fields = ["name"]
    inlines = [MenuOptionInline, MenuNumberInline]
    history_children = ((MenuOption, "menu"),)
    fields = ["account", "name", "prompt", "timeout_seconds", "max_retries", "fallback_action", "fallback_service",
              "choices_counted"]
    readonly_fields = ["choices_counted"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and db_field.name == "prompt":
            field.queryset = field.queryset.filter(kind=PromptKind.MENU)
        return field

    @admin.display(description=_("choices in the last 30 days"))
    def choices_counted(self, obj: Menu) -> str:
        """The statistics per option, on the menu's own page."""
        if not obj.pk:
            return "—"
        end = now()
        counts = option_counts(obj, end - dt.timedelta(days=STATS_DAYS), end)
        rows = [(o["digit"], o["label"], o["count"]) for o in counts["options"]]
        rows += [("—", _("Invalid choice"), counts["invalid"]), ("—", _("No choice (timeout)"), counts["timeout"]),
                 ("—", _("Sent to the fallback"), counts["fallback"])]
        return format_html_join("", "<div>{} {}: <strong>{}</strong></div>", rows)
