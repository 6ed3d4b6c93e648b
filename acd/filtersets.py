import django_filters

from core.api.filters import UtcIsoDateTimeFilter

from .models import Call


class CallFilterSet(django_filters.FilterSet):
    arrived_after = UtcIsoDateTimeFilter(field_name="arrived_at", lookup_expr="gte")
    arrived_before = UtcIsoDateTimeFilter(field_name="arrived_at", lookup_expr="lt")

    class Meta:
        model = Call
        fields = ["service", "operator", "state", "outcome", "direction", "caller"]
