from django.contrib import admin

from accounts.scoped_admin import ReadOnlyAdmin

from .models import ChannelLease, LimitRefusal


@admin.register(LimitRefusal)
class LimitRefusalAdmin(ReadOnlyAdmin):
    list_display = ["at", "account", "limited_by", "direction", "call_ref"]
    list_filter = ["direction", "account"]
    date_hierarchy = "at"


@admin.register(ChannelLease)
class ChannelLeaseAdmin(ReadOnlyAdmin):
    list_display = ["call", "account", "direction", "acquired_at", "expires_at", "released_at", "ended_by"]
    list_filter = ["direction", "ended_by", "account"]
