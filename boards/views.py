"""The operator console and the supervisor wallboard: pages, sign-in, and the buttons (which call actions)."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from acd.choices import Outcome
from acd.models import Call
from acd.screen import caller_history
from agents import actions
from agents.choices import OperatorState, PauseSource, Via
from agents.models import Operator
from core.console import action as extension_action
from core.errors import ActionError

from .forms import OperatorLoginForm
from .scoping import board_account, board_choices
from .session import sign_in, sign_out, signed_in_operator

MAX_ID = 2**63 - 1


def console_login(request: HttpRequest) -> HttpResponse:
    form = OperatorLoginForm(request.POST or None, request=request)
    if request.method == "POST":
        if form.is_valid():
            sign_in(request.session, form.cleaned_data["operator"])
            return redirect("console")
        status = 429 if form.locked else 200
        return render(request, "boards/console_login.html", {"form": form}, status=status)
    return render(request, "boards/console_login.html", {"form": form})


def console_logout(request: HttpRequest) -> HttpResponse:
    """Signing out asks whether to log off too: an operator still logged in keeps receiving calls (on their
    phone), one who leaves should not. GET only shows the question (a GET, e.g. an <img> on another site,
    never signs anyone out); POST, with the CSRF token, does what was chosen."""
    op = signed_in_operator(request.session)
    if op is None:
        sign_out(request.session)
        return redirect("console-login")
    error = ""
    if request.method == "POST":
        choice = request.POST.get("choice")
        if choice in ("logoff", "stay") or op.state == OperatorState.LOGGED_OUT:
            try:
                actions.console_signed_out(op.pk, log_off=choice != "stay")
            except ActionError as exc:
                error = exc.message
            else:
                sign_out(request.session)
                return redirect("console-login")
        else:
            error = _("Choose whether to log off.")
    return render(request, "boards/console_logout.html", {"operator": op, "error": error, "grace": _grace_text()},
                  status=409 if error and request.method == "POST" else 200)


def _grace_text() -> str:
    """What happens to an operator who closes the console without choosing (empty when nothing does)."""
    seconds = settings.CONSOLE_LOGOFF_GRACE_SECONDS
    if seconds <= 0:
        return ""
    if seconds % 60 == 0:
        n = seconds // 60
        return ngettext("If you close the console without choosing, you are logged off after %(n)d minute.",
                        "If you close the console without choosing, you are logged off after %(n)d minutes.",
                        n) % {"n": n}
    return ngettext("If you close the console without choosing, you are logged off after %(n)d second.",
                    "If you close the console without choosing, you are logged off after %(n)d seconds.",
                    seconds) % {"n": seconds}


def console(request: HttpRequest) -> HttpResponse:
    op = signed_in_operator(request.session)
    if op is None:
        return redirect("console-login")
    return render(request, "boards/console.html", {"operator": op})


class BadRequest(Exception):
    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail, self.field = detail, field

    def response(self) -> JsonResponse:
        body = {"detail": self.detail, **({"field": self.field} if self.field else {})}
        return JsonResponse(body, status=400)


def _body(request: HttpRequest) -> dict[str, Any]:
    """The JSON object a button posts; anything else is a 400 (the depth is capped by core.limits)."""
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest("The body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    return body


def _optional_id(body: dict[str, Any], field: str) -> int | None:
    value = body.get(field)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadRequest(f"{field} must be an id.", field)
    try:
        number = int(value)
    except ValueError as exc:
        raise BadRequest(f"{field} must be an id.", field) from exc
    if not 0 < number <= MAX_ID:
        raise BadRequest(f"{field} must be an id.", field)
    return number


def _reason_id(body: dict[str, Any]) -> int | None:
    """The chosen pause reason's id (400 when it is not one)."""
    try:
        return _optional_id(body, "reason")
    except BadRequest as exc:
        raise BadRequest(_("Choose a pause reason from the list."), "reason") from exc


def _error(exc: ActionError) -> JsonResponse:
    return JsonResponse(exc.as_dict(), status=exc.http_status)


@require_POST
def console_action(request: HttpRequest) -> JsonResponse:
    op = signed_in_operator(request.session)
    if op is None:
        return JsonResponse({"detail": _("Sign in first.")}, status=401)
    try:
        body = _body(request)
        name = body.get("action")
        if name == "login":
            result = actions.login_operator(op.pk, via=Via.CONSOLE)
        elif name == "pause":
            result = actions.pause_operator(op.pk, reason_id=_reason_id(body), source=PauseSource.OPERATOR,
                                            via=Via.CONSOLE)
        elif name == "resume":
            result = actions.resume_operator(op.pk, via=Via.CONSOLE)
        elif name == "logoff":
            result = actions.logoff_operator(op.pk, via=Via.CONSOLE)
        elif isinstance(name, str) and (extension := extension_action(name)) is not None:
            return JsonResponse(extension(op.pk, body))  # an app's own button (core/console.py)
        else:
            return JsonResponse({"detail": _("Unknown action."), "field": "action"}, status=400)
    except BadRequest as exc:
        return exc.response()
    except ActionError as exc:
        return _error(exc)
    return JsonResponse(actions.operator_snapshot(result))


def console_caller_history(request: HttpRequest, call_id: int) -> JsonResponse:
    """The caller's previous calls for the card the console shows: only for a call offered to this operator,
    with the time in the account's time zone and the outcome in the operator's language."""
    op = signed_in_operator(request.session)
    if op is None:
        return JsonResponse({"detail": _("Sign in first.")}, status=401)
    call = Call.objects.filter(pk=call_id, offers__operator_id=op.pk).first()
    if call is None:
        return JsonResponse({"detail": _("No such call was offered to you.")}, status=404)
    zone = zoneinfo.ZoneInfo(op.account.timezone)
    previous = []
    for row in caller_history(call):
        at = timezone.localtime(dt.datetime.fromisoformat(row["at"]), zone)
        label = Outcome(row["outcome"]).label if row["outcome"] in Outcome.values else (row["outcome"] or "")
        previous.append({**row, "at_display": formats.date_format(at, "SHORT_DATETIME_FORMAT"),
                         "outcome_label": str(label)})
    return JsonResponse({"previous_calls": previous})


@staff_member_required
def wallboard(request: HttpRequest) -> HttpResponse:
    account = board_account(request.user, request.GET.get("account"))
    return render(request, "boards/wallboard.html", {"account": account, "choices": board_choices(request.user)})


@require_POST
@staff_member_required
def wallboard_action(request: HttpRequest) -> JsonResponse:
    """A supervisor pauses (with a reason from the account's list), resumes or logs off an operator of the
    account the board shows. The operator's console says who paused."""
    try:
        body = _body(request)
        operator_id = _optional_id(body, "operator")
        reason_id = _reason_id(body) if body.get("action") == "pause" else None
    except BadRequest as exc:
        return exc.response()
    account = board_account(request.user, body.get("account"))
    op = Operator.objects.filter(pk=operator_id, account=account).first() if account and operator_id else None
    if op is None:
        return JsonResponse({"detail": _("No such operator."), "field": "operator"}, status=404)
    name = body.get("action")
    try:
        if name == "pause":
            who = request.user.get_full_name() or request.user.get_username()
            result = actions.pause_operator(op.pk, reason_id=reason_id, source=PauseSource.SUPERVISOR,
                                            via=Via.CONSOLE, by=who)
        elif name == "resume":
            result = actions.resume_operator(op.pk, via=Via.CONSOLE)
        elif name == "logoff":
            result = actions.logoff_operator(op.pk, via=Via.CONSOLE)
        else:
            return JsonResponse({"detail": _("Unknown action."), "field": "action"}, status=400)
    except ActionError as exc:
        return _error(exc)
    return JsonResponse(actions.operator_snapshot(result))
