"""The subscription API: an integrator's endpoints (CRUD, resume, rotate the secret, a test event) and the
delivery log (list, re-send). Scoped to the token's account like every resource."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import AccountScopedViewSet
from accounts.scoping import request_account

from .. import actions
from ..models import Delivery, Subscription
from .serializers import DeliverySerializer, SubscriptionSerializer, SubscriptionWithSecretSerializer


class SubscriptionViewSet(AccountScopedViewSet):
    queryset = Subscription.objects.all()
    serializer_class = SubscriptionSerializer
    filterset_fields = ["is_active"]
    ordering_fields = ["url", "created_at"]

    @extend_schema(responses={201: SubscriptionWithSecretSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        self.perform_create(body)
        return Response(SubscriptionWithSecretSerializer(body.instance, context={"request": request}).data,
                        status=201)

    @extend_schema(request=None, responses={200: SubscriptionSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        return Response(SubscriptionSerializer(actions.resume(self.get_object().pk)).data)

    @extend_schema(request=None, responses={200: SubscriptionWithSecretSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        return Response(SubscriptionWithSecretSerializer(actions.rotate_secret(self.get_object().pk)).data)

    @extend_schema(request=None, responses={202: DeliverySerializer})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        return Response(DeliverySerializer(actions.send_test(self.get_object().pk)).data, status=202)


class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The delivery log, newest first: what was sent where, every attempt and what the endpoint answered."""

    queryset = Delivery.objects.prefetch_related("attempt_log")
    serializer_class = DeliverySerializer
    filterset_fields = ["subscription", "state", "event_type"]

    def get_queryset(self):
        return super().get_queryset().filter(account=request_account(self.request))

    @extend_schema(request=None, responses={202: DeliverySerializer})
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str | None = None) -> Response:
        delivery = self.get_object()
        with transaction.atomic():
            actions.resend([delivery.pk], delivery.account_id)
        delivery.refresh_from_db()
        return Response(DeliverySerializer(delivery).data, status=202)
