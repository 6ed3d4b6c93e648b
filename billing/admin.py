from django.contrib import admin

from .models import Plan


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "included_channels", "extra_channels_allowed", "extra_channel_price",
                    "included_minutes", "monthly_fee", "currency", "is_active"]
    list_filter = ["is_active", "extra_channels_allowed", "currency"]
    search_fields = ["name", "code"]

    def has_module_permission(self, request) -> bool:
        # Plans are the provider's catalogue: only the provider's superusers edit them.
        return request.user.is_superuser

    has_view_permission = has_change_permission = has_add_permission = has_delete_permission = (
        lambda self, request, obj=None: request.user.is_superuser
    )
