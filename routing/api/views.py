from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from accounts.api.base import AccountScopedViewSet

from ..filtersets import CallerRouteFilterSet, PhoneNumberFilterSet, PromptFilterSet, ServiceFilterSet
from ..models import CallerRoute, PhoneNumber, Prompt, Service
from .serializers import CallerRouteSerializer, PhoneNumberSerializer, PromptSerializer, ServiceSerializer


class PhoneNumberViewSet(AccountScopedViewSet):
    queryset = PhoneNumber.objects.select_related("service")
    serializer_class = PhoneNumberSerializer
    filterset_class = PhoneNumberFilterSet
    search_fields = ["number", "label"]
    ordering_fields = ["number", "activated_at"]


class ServiceViewSet(AccountScopedViewSet):
    queryset = Service.objects.prefetch_related("memberships__operator")
    serializer_class = ServiceSerializer
    filterset_class = ServiceFilterSet
    search_fields = ["name", "description"]
    ordering_fields = ["name", "priority"]


class PromptViewSet(AccountScopedViewSet):
    queryset = Prompt.objects.all()
    serializer_class = PromptSerializer
    filterset_class = PromptFilterSet
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    search_fields = ["name"]


class CallerRouteViewSet(AccountScopedViewSet):
    queryset = CallerRoute.objects.select_related("service")
    serializer_class = CallerRouteSerializer
    filterset_class = CallerRouteFilterSet
    search_fields = ["prefix", "description"]
