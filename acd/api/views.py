from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import request_account
from core.clock import now
from routing.models import Service

from .. import actions
from ..choices import HangupCause
from ..clockutil import start_of_day
from ..filtersets import CallFilterSet
from ..flows.originate import idempotent_ref
from ..models import Call
from ..stats import operator_stats, service_stats
from .serializers import CallSerializer, OriginateSerializer, StatsQuerySerializer, StatsSerializer, TransferSerializer


class CallViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The account's calls (read-only: calls change through the telephony port)."""

    queryset = Call.objects.select_related("service", "operator", "account__plan").prefetch_related("offers")
    serializer_class = CallSerializer
    filterset_class = CallFilterSet
    ordering_fields = ["arrived_at", "wait_seconds", "talk_seconds"]
    ordering = ["-arrived_at"]

    def get_queryset(self):
        return super().get_queryset().filter(account=request_account(self.request))

    @extend_schema(request=TransferSerializer, responses={200: CallSerializer, 409: OpenApiResponse(
        description="The call is not connected, or the target cannot take it.")})
    @action(detail=True, methods=["post"])
    def transfer(self, request: Request, pk: str | None = None) -> Response:
        call = self.get_object()  # first: another account's call is missing, whatever the body says
        body = TransferSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            actions.transfer_call(call.pk, call.account_id, operator_id=body.validated_data.get("operator"),
                                   service_id=body.validated_data.get("service"),
                                   number=body.validated_data.get("number", ""))
        except DjangoValidationError as exc:
            raise ValidationError({"number": exc.messages}) from exc
        return Response(CallSerializer(self.get_queryset().get(pk=call.pk)).data)


IDEMPOTENCY_HEADER = "Idempotency-Key"


class OriginateView(APIView):
    """Place a call. The channel is taken first: over the plan's limit the answer is 409 REACH_PLAN_LIMIT
    and nothing is dialled. With an `Idempotency-Key` header, a retry with the same key (after a timeout, a
    lost answer) dials nothing more and gets the first request's call again."""

    @staticmethod
    def _placed_for(account_id: int, key: str) -> Call | None:
        if not key:
            return None
        return (Call.objects.select_related("service", "operator", "account__plan")
                .filter(account_id=account_id, engine_ref=idempotent_ref(key)).first())

    @extend_schema(request=OriginateSerializer, parameters=[OpenApiParameter(
        IDEMPOTENCY_HEADER, str, OpenApiParameter.HEADER, required=False,
        description="A client's unique key for this call (at most 200 characters): a retry with the same key "
                    "places no second call and answers with the first.")],
        responses={201: CallSerializer, 409: OpenApiResponse(
        description='{"code": "REACH_PLAN_LIMIT", "detail": ..., "call": {...}}')})
    def post(self, request: Request) -> Response:
        body = OriginateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        key = request.headers.get(IDEMPOTENCY_HEADER, "")
        if len(key) > 200 or not key.isprintable():
            raise ValidationError({IDEMPOTENCY_HEADER: ["At most 200 printable characters."]})
        account = request_account(request)
        call = self._placed_for(account.pk, key)
        if call is None:
            try:
                call = actions.originate_call(account.pk, body.validated_data["destination"],
                                              direction=body.validated_data["direction"],
                                              caller_id=body.validated_data["caller_id"],
                                              amd=body.validated_data["amd"], idempotency_key=key)
            except DjangoValidationError as exc:
                raise ValidationError({"destination": exc.messages}) from exc
            except IntegrityError:
                call = self._placed_for(account.pk, key)  # a concurrent retry with the same key won
                if call is None:
                    raise
        data = CallSerializer(call).data
        if call.end_cause == HangupCause.REACH_PLAN_LIMIT:
            return Response({"code": HangupCause.REACH_PLAN_LIMIT.value,
                             "detail": "The plan's concurrent-call limit is reached; nothing was dialled.",
                             "call": data}, status=409)
        return Response(data, status=201)


class StatsView(APIView):
    """Statistics per service and operator over a window (default: today in the account's time zone)."""

    @extend_schema(parameters=[StatsQuerySerializer], responses={200: StatsSerializer})
    def get(self, request: Request) -> Response:
        query = StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        account = request_account(request)
        at = now()
        start = query.validated_data.get("start") or start_of_day(at, account.timezone)
        end = query.validated_data.get("end") or at
        services = [service_stats(s, start, end, at) for s in Service.objects.filter(account=account)
                    .select_related("account").order_by("name")]
        return Response({"start": start, "end": end, "services": services,
                         "operators": operator_stats(account.pk, start, end)})
