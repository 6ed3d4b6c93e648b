"""Reseller provisioning: a white-label reseller's token creates and manages the client accounts under it,
their supervisors and their API tokens. Only a reseller's token (`is_reseller`, set by the provider) may; it
sees only its own clients (another's answers 404), and a client's token sees only the client itself."""

from __future__ import annotations

import copy

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from .. import actions
from ..choices import TokenAccess
from ..models import Account, AccountMember, ApiToken, Plan
from ..scoping import request_account


class ClientAccountSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="code", queryset=Plan.objects.filter(is_active=True))
    channel_limit = serializers.IntegerField(read_only=True)

    class Meta:
        model = Account
        fields = ["id", "name", "slug", "plan", "extra_channels", "channel_limit", "timezone", "country",
                  "language", "duty_email", "is_active", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs):
        """The model validates (full_clean in the action, as the admin does); this builds the candidate."""
        client = copy.copy(self.instance) if self.instance is not None else Account()
        for name, value in attrs.items():
            setattr(client, name, value)
        self.context["client"] = client
        return attrs


class ClientSupervisorSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    password = serializers.CharField(write_only=True, trim_whitespace=False)

    def validate_username(self, value: str) -> str:
        if get_user_model().objects.filter(username=value).exists():
            raise serializers.ValidationError("A user with this username already exists.")
        return value

    def validate_password(self, value: str) -> str:
        validate_password(value)
        return value


class ClientTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "access", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]


class NewClientTokenSerializer(ClientTokenSerializer):
    key = serializers.CharField(read_only=True, help_text="The raw token: shown once, on creation.")

    class Meta(ClientTokenSerializer.Meta):
        fields = [*ClientTokenSerializer.Meta.fields, "key"]


class ClientAccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                           mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """The reseller's client accounts: create one (plan, extra channels, within the reseller's own limit),
    change or suspend it (`is_active`), and give it supervisors and API tokens."""

    serializer_class = ClientAccountSerializer
    queryset = Account.objects.select_related("plan")

    def reseller(self) -> Account:
        account = request_account(self.request)
        if account is None or not account.is_reseller:
            raise PermissionDenied("Only a reseller's token manages client accounts.")
        return account

    def get_queryset(self):
        """A reseller's clients; any other account has none (its list is empty, a client's id answers 404)."""
        account = request_account(self.request)
        return super().get_queryset().filter(parent=account, parent__is_reseller=True).order_by("name")

    def _save(self, serializer) -> None:
        try:
            serializer.instance = actions.save_client_account(self.reseller(), serializer.context["client"])
        except IntegrityError as exc:  # the same short name taken by a concurrent request
            raise ValidationError({"slug": ["An account with this short name already exists."]}) from exc

    perform_create = _save
    perform_update = _save

    @extend_schema(request=ClientSupervisorSerializer, responses={201: ClientSupervisorSerializer,
                                                                   200: ClientSupervisorSerializer(many=True)})
    @action(detail=True, methods=["get", "post"], pagination_class=None)  # at most 500, unpaginated
    def supervisors(self, request: Request, pk: str | None = None) -> Response:
        client = self.get_object()
        if request.method == "GET":
            members = AccountMember.objects.filter(account=client).select_related("user").order_by("user__username")
            return Response([{"id": m.user_id, "username": m.user.username, "email": m.user.email}
                             for m in members[:500]])
        body = ClientSupervisorSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            member = actions.create_supervisor(client, body.validated_data["username"],
                                               body.validated_data["password"], email=body.validated_data["email"])
        except IntegrityError as exc:
            raise ValidationError({"username": ["A user with this username already exists."]}) from exc
        return Response({"id": member.user_id, "username": member.user.username, "email": member.user.email},
                        status=201)

    @extend_schema(request=ClientTokenSerializer, responses={201: NewClientTokenSerializer,
                                                              200: ClientTokenSerializer(many=True)})
    @action(detail=True, methods=["get", "post"], pagination_class=None)  # at most 500, unpaginated
    def tokens(self, request: Request, pk: str | None = None) -> Response:
        client = self.get_object()
        if request.method == "GET":
            tokens = ApiToken.objects.filter(account=client).order_by("name")[:500]
            return Response(ClientTokenSerializer(tokens, many=True).data)
        body = ClientTokenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, raw = actions.create_api_token(client, body.validated_data["name"],
                                              body.validated_data.get("access", TokenAccess.READ_WRITE))
        token.key = raw
        return Response(NewClientTokenSerializer(token).data, status=201)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"], url_path=r"tokens/(?P<token_id>\d+)/revoke")
    def revoke_token(self, request: Request, pk: str | None = None, token_id: str | None = None) -> Response:
        token = get_object_or_404(ApiToken, pk=token_id, account=self.get_object())
        actions.revoke_api_token(token)
        return Response(status=204)
