"""The account's supervisors: an integrator (or a supervisor) adds the people who run the account."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import actions
from ..models import AccountMember
from ..scoping import request_account


class SupervisorSerializer(serializers.Serializer):
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


def _member_data(member: AccountMember) -> dict:
    return {"id": member.user_id, "username": member.user.username, "email": member.user.email}


class SupervisorsView(APIView):
    """List the account's supervisors, or add one: staff, in the Supervisors group, scoped to the account."""

    @extend_schema(responses={200: SupervisorSerializer(many=True)})
    def get(self, request: Request) -> Response:
        members = AccountMember.objects.filter(account=request_account(request)).select_related("user")
        return Response([_member_data(m) for m in members.order_by("user__username")[:500]])

    @extend_schema(request=SupervisorSerializer, responses={201: SupervisorSerializer})
    def post(self, request: Request) -> Response:
        body = SupervisorSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            member = actions.create_supervisor(request_account(request), body.validated_data["username"],
                                               body.validated_data["password"],
                                               email=body.validated_data["email"])
        except IntegrityError as exc:  # the same username taken by a concurrent request
            raise ValidationError({"username": ["A user with this username already exists."]}) from exc
        return Response(_member_data(member), status=201)
