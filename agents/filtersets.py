import django_filters

from .models import Operator, PauseReason


class OperatorFilterSet(django_filters.FilterSet):
    service = django_filters.NumberFilter(field_name="memberships__service")

    class Meta:
        model = Operator
        fields = ["state", "is_active", "endpoint_kind", "service"]


class PauseReasonFilterSet(django_filters.FilterSet):
    class Meta:
        model = PauseReason
        fields = ["is_active"]
