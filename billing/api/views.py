from __future__ import annotations

import csv
import datetime as dt
import io

import django_filters
from django.db import transaction
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import request_account
from budget.actions import in_use
from budget.models import LimitRefusal
from core.api.filters import UtcIsoDateTimeFilter
from core.clock import now

from .. import actions
from ..invoices import render_invoice
from ..models import Invoice, InvoiceLine
from ..usage import capacity, usage
from .serializers import AccountPlanSerializer, CapacitySerializer, PlanStateSerializer, UsageSerializer

# The longest window one request may ask for: 93 days of 5-minute samples is 26,784 rows (a 5-year window
# was a 48 MB answer and 519 MB of server memory). Longer periods are fetched as several windows.
MAX_WINDOW_DAYS = 93


class WindowSerializer(serializers.Serializer):
    start = serializers.DateTimeField(required=False, help_text="Default: 30 days before end.")
    end = serializers.DateTimeField(required=False, help_text="Default: now.")
    export = serializers.ChoiceField(choices=["json", "csv"], required=False, default="json")

    def validate(self, attrs):
        end = attrs.get("end") or now()
        start = attrs.get("start") or end - dt.timedelta(days=30)
        if end <= start:
            raise serializers.ValidationError({"end": "end must be after start."})
        if end - start > dt.timedelta(days=MAX_WINDOW_DAYS):
            raise serializers.ValidationError(
                {"start": f"The window is at most {MAX_WINDOW_DAYS} days; ask for a longer period in parts."})
        return {**attrs, "start": start, "end": end}


def _window(request: Request) -> tuple[dict, dt.datetime, dt.datetime, dt.datetime]:
    query = WindowSerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data, query.validated_data["start"], query.validated_data["end"], now()


USAGE_ANSWER = ("The samples, refusals and this month's billed time; with `export=csv`, the samples as CSV "
                "(columns start, max_concurrent, avg_concurrent, refusals, limit).")


class UsageView(APIView):
    """5-minute samples of concurrent calls against the limit, refusals, and minutes used."""

    @extend_schema(parameters=[WindowSerializer], responses={
        (200, "application/json"): OpenApiResponse(UsageSerializer, description=USAGE_ANSWER),
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=USAGE_ANSWER)})
    def get(self, request: Request) -> Response | HttpResponse:
        params, start, end, at = _window(request)
        doc = usage(request_account(request), start, end, at)
        if params.get("export") == "csv":
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(["start", "max_concurrent", "avg_concurrent", "refusals", "limit"])
            for s in doc["samples"]:
                writer.writerow([s["start"], s["max_concurrent"], s["avg_concurrent"], s["refusals"], doc["limit"]])
            response = HttpResponse(out.getvalue(), content_type="text/csv")
            response["Content-Disposition"] = 'attachment; filename="usage.csv"'
            return response
        return Response(doc)


class CapacityView(APIView):
    """How many channels and operators the account's own traffic needs (Erlang B and C)."""

    @extend_schema(parameters=[WindowSerializer], responses={200: CapacitySerializer})
    def get(self, request: Request) -> Response:
        _params, start, end, _at = _window(request)
        return Response(capacity(request_account(request), start, end))


class AccountPlanView(APIView):
    """The account's plan, limit and channels in use; change the plan or buy extra concurrent calls."""

    def _doc(self, account) -> dict:
        return {"plan": account.plan.code, "plan_name": account.plan.name,
                "included_channels": account.plan.included_channels, "extra_channels": account.extra_channels,
                "extra_channels_allowed": account.plan.extra_channels_allowed,
                "extra_channel_price": str(account.plan.extra_channel_price), "currency": account.plan.currency,
                "channel_limit": account.channel_limit, "channels_in_use": in_use(account.pk),
                "included_minutes": account.plan.included_minutes}

    @extend_schema(responses={200: PlanStateSerializer})
    def get(self, request: Request) -> Response:
        return Response(self._doc(request_account(request)))

    @extend_schema(request=AccountPlanSerializer, responses={200: PlanStateSerializer, 409: OpenApiResponse(
        description="The plan is not on sale, or it sells no extra concurrent calls.")})
    def post(self, request: Request) -> Response:
        body = AccountPlanSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not body.validated_data:
            raise serializers.ValidationError({"plan": "Give a plan, extra_channels, or both."})
        account = request_account(request)
        with transaction.atomic():
            if "plan" in body.validated_data:
                account = actions.change_plan(account.pk, body.validated_data["plan"])
            if "extra_channels" in body.validated_data:
                account = actions.set_extra_channels(account.pk, body.validated_data["extra_channels"])
        return Response(self._doc(account))


class InvoiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = ["kind", "description", "quantity", "unit_price", "amount"]


class InvoiceSerializer(serializers.ModelSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)

    class Meta:
        model = Invoice
        fields = ["id", "period_start", "currency", "total", "minutes_used", "issued_at", "lines"]


class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The account's monthly invoices; `document` gives the printable HTML."""

    queryset = Invoice.objects.prefetch_related("lines")
    serializer_class = InvoiceSerializer
    ordering = ["-period_start"]

    def get_queryset(self):
        return super().get_queryset().filter(account=request_account(self.request))

    @extend_schema(responses={(200, "text/html"): OpenApiResponse(OpenApiTypes.STR,
                                                                  description="The invoice as an HTML page.")})
    @action(detail=True, methods=["get"])
    def document(self, request: Request, pk: str | None = None) -> HttpResponse:
        return HttpResponse(render_invoice(self.get_object()), content_type="text/html; charset=utf-8")


class RefusalSerializer(serializers.ModelSerializer):
    limited_by = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = LimitRefusal
        fields = ["id", "at", "direction", "call_ref", "limited_by"]


class RefusalFilterSet(django_filters.FilterSet):
    after = UtcIsoDateTimeFilter(field_name="at", lookup_expr="gte")
    before = UtcIsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = LimitRefusal
        fields = ["direction"]


class RefusalViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every call refused with REACH_PLAN_LIMIT: when, which kind, and whose limit (own or reseller's) was full."""

    queryset = LimitRefusal.objects.select_related("limited_by")
    serializer_class = RefusalSerializer
    filterset_class = RefusalFilterSet
    ordering = ["-at"]

    def get_queryset(self):
        return super().get_queryset().filter(account=request_account(self.request))
