"""The "place a test call" action: a form in the admin, an API endpoint, and the console's answer button.

Only parsing and the answer: the call itself is `testcall.place_test_call`, which drives the real ACD."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Account
from accounts.scoping import request_account, user_account
from routing.choices import NumberPurpose
from routing.models import PhoneNumber

from . import testcall

CONSOLE_SESSION_KEY = "operator_id"  # the console's sign-in (boards/views.py)


class TestCallForm(forms.Form):
    number = forms.ModelChoiceField(label=_("Number to call"), queryset=PhoneNumber.objects.none(),
                                    to_field_name="number")
    caller = forms.CharField(label=_("Calling from"), required=False, max_length=20,
                             help_text=_("Any phone number; national numbers are read in the account's country. "
                                         "Empty: an anonymous test number."))

    def __init__(self, account: Account, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["number"].queryset = PhoneNumber.objects.filter(
            account=account, is_active=True, purpose=NumberPurpose.CALLS).order_by("number")


def admin_test_call_view(request: HttpRequest) -> HttpResponse:
    """/admin/test-call/: pick a number and a caller; the call rings an operator's console."""
    account = user_account(request.user)
    if account is None:
        if request.user.is_superuser:
            messages.info(request, _("Test calls are placed by an account's supervisor."))
            return redirect("admin:accounts_account_changelist")
        raise PermissionDenied
    if not request.user.has_perm("routing.view_phonenumber"):
        raise PermissionDenied
    initial = {"number": request.GET.get("number")} if request.GET.get("number") else None
    form = TestCallForm(account, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            placed = testcall.place_test_call(account.pk, form.cleaned_data["number"].number,
                                              form.cleaned_data["caller"], placed_by=request.user.get_username())
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Test call placed to %(number)s: it rings a free operator of the service "
                                        "and ends by itself within %(s)d s.") % {
                "number": form.cleaned_data["number"].number, "s": testcall.TEST_CALL_MAX_SECONDS})
            return redirect(f"{request.path}?placed={placed.call_id or ''}")
    context = {**admin.site.each_context(request), "title": _("Place a test call"), "form": form,
               "account": account, "max_seconds": testcall.TEST_CALL_MAX_SECONDS,
               "talk_seconds": testcall.TALK_SECONDS, "placed": request.GET.get("placed", "")}
    return TemplateResponse(request, "admin/test_call.html", context)


class TestCallSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=20, help_text="One of the account's active numbers (E.164).")
    caller = serializers.CharField(max_length=20, required=False, allow_blank=True, default="",
                                   help_text="The calling number; national numbers read in the account's country.")


class PlacedTestCallSerializer(serializers.Serializer):
    call_ref = serializers.CharField()
    call = serializers.IntegerField(allow_null=True)
    state = serializers.CharField()
    ends_at = serializers.DateTimeField()


class TestCallView(APIView):
    """Place a simulated call to one of the account's numbers: it runs through the real ACD (a channel, the
    welcome, the queue, an operator's console) and ends by itself within two minutes."""

    @extend_schema(request=TestCallSerializer, responses={201: PlacedTestCallSerializer, 400: OpenApiResponse(
        description="The number is not the account's, the caller is not a phone number, or too many test "
                    "calls are in progress.")})
    def post(self, request: Request) -> Response:
        body = TestCallSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        account = request_account(request)
        number = body.validated_data["number"].strip()
        try:
            placed = testcall.place_test_call(account.pk, number, body.validated_data["caller"],
                                              placed_by=str(request.user))
        except ValidationError as exc:
            raise ApiValidationError(exc.message_dict) from exc
        return Response({"call_ref": placed.call_ref, "call": placed.call_id, "state": placed.state,
                         "ends_at": placed.ends_at}, status=201)


@require_http_methods(["GET", "POST"])
def console_test_call(request: HttpRequest) -> JsonResponse:
    """The console asks whether the call ringing it is a test call (GET) and answers it (POST)."""
    operator_id = request.session.get(CONSOLE_SESSION_KEY)
    if not operator_id:
        return JsonResponse({"detail": "Sign in first."}, status=401)
    if request.method == "GET":
        return JsonResponse({"test_call_ringing": testcall.is_test_call_ringing(operator_id)})
    if not testcall.answer_test_call(operator_id):
        return JsonResponse({"detail": "No test call is ringing you (real calls are answered on your phone)."},
                            status=409)
    return JsonResponse({"answered": True})
