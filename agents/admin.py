from __future__ import annotations

import zoneinfo

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from accounts.scoped_admin import AccountScopedAdmin, ReadOnlyAdmin
from core.clock import now
from core.errors import ActionError

from . import actions, lockout
from .choices import PauseSource, Via
from .forms import OperatorAdminForm
from .models import Operator, OperatorEvent, PauseReason, SipRegistration


@admin.register(PauseReason)
class PauseReasonAdmin(AccountScopedAdmin):
    list_display = ["name", "account", "is_active"]
    list_filter = ["is_active", "account"]
    search_fields = ["name"]
    fields = ["account", "name", "is_active"]


@admin.register(Operator)
class OperatorAdmin(AccountScopedAdmin):
    form = OperatorAdminForm
    list_display = ["name", "login", "code", "account", "endpoint_kind", "endpoint", "state", "state_changed_at",
                    "pause_reason", "no_answer_streak", "is_active", "sign_in_lock"]
    list_filter = ["state", "is_active", "endpoint_kind", "account"]
    search_fields = ["name", "login", "endpoint"]
    list_select_related = ["account", "pause_reason"]
    readonly_fields = ["state", "state_changed_at", "pause_source", "pause_reason", "no_answer_streak",
                       "created_at", "sign_in_lock", "sip_phone"]
    fieldsets = [
        (None, {"fields": ["account", "name", "login", "new_password", "code", "new_pin", "is_active",
                           "sign_in_lock"]}),
        (_("How the operator is reached"), {"fields": ["endpoint_kind", "endpoint", "sip_phone"]}),
        (_("Presence"), {"fields": ["state", "state_changed_at", "pause_source", "pause_reason",
                                    "no_answer_streak", "created_at"]}),
    ]
    actions = ["login_selected", "pause_selected", "resume_selected", "logoff_selected", "lift_lockouts_selected"]

    @admin.display(description=_("sign-in lock"))
    def sign_in_lock(self, operator: Operator) -> str:
        """Console and phone PIN lockouts after repeated wrong attempts, and until when (account time)."""
        if operator.pk is None:
            return "-"
        locks = lockout.lockouts(operator)
        zone = zoneinfo.ZoneInfo(operator.account.timezone)
        parts = []
        if locks.console_until:
            parts.append(_("console until %(t)s") % {"t": localtime(locks.console_until, zone).strftime("%H:%M")})
        if locks.pin_until:
            parts.append(_("phone PIN until %(t)s") % {"t": localtime(locks.pin_until, zone).strftime("%H:%M")})
        return ", ".join(str(p) for p in parts) or "-"

    @admin.display(description=_("SIP phone"))
    def sip_phone(self, operator: Operator) -> str:
        """The registered SIP phone (rung instead of the endpoint while registered) and until when (account
        time); a password set before SIP phones came cannot register one."""
        if operator.pk is None:
            return "-"
        registration = SipRegistration.objects.filter(operator=operator, expires_at__gt=now()).first()
        if registration is not None:
            until = localtime(registration.expires_at, zoneinfo.ZoneInfo(operator.account.timezone))
            return _("%(contact)s, registered until %(t)s") % {"contact": registration.contact,
                                                                "t": until.strftime("%H:%M")}
        if not operator.sip_ha1:
            return str(_("not registered; set the password once to register a SIP phone"))
        return str(_("not registered"))

    @admin.action(description=_("Lift the sign-in lockouts of the selected operators"))
    def lift_lockouts_selected(self, request: HttpRequest, queryset) -> None:
        operators = list(queryset.select_related("account"))
        for operator in operators:
            lockout.lift(operator)
        self.message_user(request, _("Sign-in lockouts lifted for %(n)d operators.") % {"n": len(operators)},
                          messages.SUCCESS)

    def _run(self, request: HttpRequest, queryset, action, **kwargs) -> None:
        done, refused = 0, []
        for operator in queryset:
            try:
                action(operator.pk, via=Via.ADMIN, **kwargs)
                done += 1
            except ActionError as exc:
                refused.append(f"{operator.name}: {exc.message}")
        if done:
            self.message_user(request, _("%(n)d operators updated.") % {"n": done}, messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    @admin.action(description=_("Log in the selected operators"))
    def login_selected(self, request: HttpRequest, queryset) -> None:
        self._run(request, queryset, actions.login_operator)

    @admin.action(description=_("Pause the selected operators"))
    def pause_selected(self, request: HttpRequest, queryset) -> None:
        self._run(request, queryset, actions.pause_operator, source=PauseSource.SUPERVISOR)

    @admin.action(description=_("Resume the selected operators"))
    def resume_selected(self, request: HttpRequest, queryset) -> None:
        self._run(request, queryset, actions.resume_operator)

    @admin.action(description=_("Log off the selected operators"))
    def logoff_selected(self, request: HttpRequest, queryset) -> None:
        self._run(request, queryset, actions.logoff_operator)


@admin.register(OperatorEvent)
class OperatorEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "operator", "from_state", "to_state", "pause_source", "reason", "via", "call_id"]
    list_filter = ["to_state", "via", "account"]
    search_fields = ["operator__name", "operator__login"]
    list_select_related = ["operator"]
    date_hierarchy = "at"
