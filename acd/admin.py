from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.scoped_admin import ReadOnlyAdmin
from core.formatting import duration

from .models import Call, CallEvent, Offer


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class OfferInline(ReadOnlyInline):
    model = Offer
    fields = ["operator", "state", "created_at", "ended_at", "expires_at", "ring_all", "is_transfer", "leg_ref"]
    readonly_fields = fields
    verbose_name_plural = _("offers to operators")


class CallEventInline(ReadOnlyInline):
    model = CallEvent
    fields = ["at", "kind", "operator_id_at", "data"]
    readonly_fields = fields
    verbose_name_plural = _("queue log")


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    """Calls are written by the ACD only: the admin shows them, with their offers and queue log."""

    list_display = ["arrived_at", "caller", "dialed", "service", "state", "outcome", "operator", "wait",
                    "talk", "account"]
    durations = {"wait_seconds": "wait", "talk_seconds": "talk", "voicemail_seconds": "voicemail"}
    list_filter = ["state", "outcome", "direction", "account"]
    search_fields = ["caller", "dialed", "engine_ref"]
    list_select_related = ["service", "operator", "account"]
    date_hierarchy = "arrived_at"
    inlines = [OfferInline, CallEventInline]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [self.durations.get(f.name, f.name) for f in Call._meta.fields]

    def get_fields(self, request: HttpRequest, obj=None):
        return self.get_readonly_fields(request, obj)

    @admin.display(description=_("wait"), ordering="wait_seconds")
    def wait(self, obj: Call) -> str:
        return duration(obj.wait_seconds)

    @admin.display(description=_("talk"), ordering="talk_seconds")
    def talk(self, obj: Call) -> str:
        return duration(obj.talk_seconds)

    @admin.display(description=_("voicemail"), ordering="voicemail_seconds")
    def voicemail(self, obj: Call) -> str:
        return duration(obj.voicemail_seconds)
