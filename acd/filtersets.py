import django_filters

from .models import Call


class CallFilterSet(django_filters.FilterSet):
    arrived_after = django_filters.IsoDateTimeFilter(field_name="arrived_at", lookup_expr="gte")
    arrived_before = django_filters.IsoDateTimeFilter(field_name="arrived_at", lookup_expr="lt")

    class Meta:
        model = Call
        fields = ["service", "operator", "state", "outcome", "direction", "caller"]
