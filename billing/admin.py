from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.scoped_admin import AuditHistoryMixin, ReadOnlyAdmin

from .models import Invoice, InvoiceLine, Plan


@admin.register(Plan)
class PlanAdmin(AuditHistoryMixin):
    history_account_path = None  # the provider's catalogue: its history is the superusers'
    list_display = ["name", "code", "included_channels", "extra_channels_allowed", "extra_channel_price",
                    "included_minutes", "monthly_fee", "currency", "billing_first_seconds", "billing_step_seconds",
                    "is_active"]
    list_filter = ["is_active", "extra_channels_allowed", "currency"]
    search_fields = ["name", "code"]

    def has_module_permission(self, request) -> bool:
        # Plans are the provider's catalogue: only the provider's superusers edit them.
        return request.user.is_superuser

    has_view_permission = has_change_permission = has_add_permission = has_delete_permission = (
        lambda self, request, obj=None: request.user.is_superuser
    )


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    fields = readonly_fields = ["kind", "description", "quantity", "unit_price", "amount"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["period_start", "account", "total", "currency", "minutes_used", "issued_at", "document"]
    list_filter = ["period_start", "account"]
    inlines = [InvoiceLineInline]

    @admin.display(description=_("document"))
    def document(self, obj: Invoice) -> str:
        return format_html('<a href="/api/v1/invoices/{}/document/">HTML</a>', obj.pk)
