import django_filters

from .models import CallerRoute, PhoneNumber, Prompt, Service


class PhoneNumberFilterSet(django_filters.FilterSet):
    class Meta:
        model = PhoneNumber
        fields = ["service", "is_active", "route_by_caller"]


class ServiceFilterSet(django_filters.FilterSet):
    class Meta:
        model = Service
        fields = ["criterion", "overflow_action", "is_active"]


class PromptFilterSet(django_filters.FilterSet):
    class Meta:
        model = Prompt
        fields = ["kind"]


class CallerRouteFilterSet(django_filters.FilterSet):
    class Meta:
        model = CallerRoute
        fields = ["service"]
