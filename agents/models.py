"""Operators (step 2 of the setup), their pause reasons, and the log of every state change."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.audit import AuditedHistory
from core.validators import validate_e164, validate_sip_uri

from .choices import EndpointKind, OperatorState, PauseSource, Via


class PauseReason(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="pause_reasons")
    name = models.CharField(_("name"), max_length=60)
    is_active = models.BooleanField(_("active"), default=True)

    history = AuditedHistory()

    class Meta:
        ordering = ["account", "name"]
        verbose_name = _("pause reason")
        verbose_name_plural = _("pause reasons")
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="pause_reason_unique_name")]

    def __str__(self) -> str:
        return self.name


# Written only by the presence actions (agents.actions.transition_locked) and the ACD's own targeted updates,
# always under the operator's row lock. An edit of the operator's configuration (admin form, API) leaves them
# alone: a form loaded before a state change must not write the old state (and version) back.
PRESENCE_FIELDS = frozenset({"state", "state_changed_at", "pause_reason", "pause_source", "paused_by",
                             "available_since", "last_call_ended_at", "no_answer_streak", "wrapup_until",
                             "backoff_until", "version"})


class Operator(models.Model):
    # The operator row is updated on every call: its only indexes are the key, the free-operator index
    # (whose leading column serves the account foreign key) and the two unique constraints.
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="operators",
                                db_index=False)
    name = models.CharField(_("name"), max_length=120)
    login = models.SlugField(_("login"), max_length=60, db_index=False,
                             help_text=_("Used with the password to sign in to the operator console."))
    password = models.CharField(_("password"), max_length=128, editable=False)
    code = models.PositiveIntegerField(_("operator code"), validators=[MinValueValidator(1),
                                                                      MaxValueValidator(999999)],
                                       help_text=_("Digits a caller dials to reach this operator, and the "
                                                   "operator's code for phone login."))
    pin = models.CharField(_("phone PIN"), max_length=128, editable=False, blank=True)
    # The SIP digest secret md5(login:realm:password), the only form of the password a registrar can check a
    # digest with; written with the password (set_password), so it exists only for passwords set since.
    sip_ha1 = models.CharField(_("SIP digest secret"), max_length=32, editable=False, blank=True, default="")
    endpoint_kind = models.CharField(_("reached on"), max_length=10, choices=EndpointKind.choices,
                                     default=EndpointKind.SIP)
    endpoint = models.CharField(_("number or SIP URI"), max_length=200,
                                help_text=_("E.164 number (+39…) for a phone, sip:user@host for SIP/WebRTC."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    # Presence and ACD state: the database is the one source of truth; pushes derive from it.
    state = models.CharField(_("state"), max_length=12, choices=OperatorState.choices,
                             default=OperatorState.LOGGED_OUT)
    state_changed_at = models.DateTimeField(_("in this state since"), null=True, blank=True)
    pause_reason = models.ForeignKey(PauseReason, verbose_name=_("pause reason"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    pause_source = models.CharField(_("paused"), max_length=12, choices=PauseSource.choices, blank=True)
    # Who paused, as the console shows it: the supervisor's name for a supervisor's pause, else empty.
    paused_by = models.CharField(_("paused by"), max_length=150, blank=True, default="")
    available_since = models.DateTimeField(_("free since"), null=True, blank=True)
    last_call_ended_at = models.DateTimeField(_("last call ended"), null=True, blank=True)
    no_answer_streak = models.PositiveSmallIntegerField(_("unanswered offers in a row"), default=0)
    wrapup_until = models.DateTimeField(_("wrap-up ends"), null=True, blank=True)
    backoff_until = models.DateTimeField(
        _("not offered calls until"), null=True, blank=True,
        help_text=_("A short back-off after a busy, rejected or unanswered offer, or a reservation: an operator "
                    "reading a lead in preview, or waiting for the call they dialled."))
    # One more with each state change, in the same UPDATE, under the row lock: versions of one operator
    # commit in order, so a console or wallboard can drop an event older than what it shows (boards/PROTOCOL.md).
    version = models.PositiveBigIntegerField(_("state version"), default=0, editable=False)

    history = AuditedHistory(excluded_fields=["password", "pin", "sip_ha1", *sorted(PRESENCE_FIELDS)])

    class Meta:
        ordering = ["account", "name"]
        verbose_name = _("operator")
        verbose_name_plural = _("operators")
        constraints = [
            models.UniqueConstraint(fields=["account", "login"], name="operator_unique_login",
                                    violation_error_message=_("Another operator of this account has this login.")),
            models.UniqueConstraint(fields=["account", "code"], name="operator_unique_code",
                                    violation_error_message=_("Another operator of this account has this code.")),
        ]
        indexes = [models.Index(fields=["account", "state", "available_since"], name="operator_free_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.login})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """An existing operator's full save writes its configuration only, never its presence (see
        PRESENCE_FIELDS): the state machine's columns change only through the presence actions."""
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [f.name for f in self._meta.concrete_fields
                                       if not f.primary_key and f.name not in PRESENCE_FIELDS]
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.endpoint_kind == EndpointKind.PHONE:
            try:
                validate_e164(self.endpoint)
            except ValidationError as exc:
                raise ValidationError({"endpoint": exc.messages}) from exc
        elif self.endpoint_kind == EndpointKind.SIP:
            try:
                validate_sip_uri(self.endpoint)
            except ValidationError as exc:
                raise ValidationError({"endpoint": exc.messages}) from exc

    def set_password(self, raw: str) -> None:
        """The console's password, and the SIP phone's digest secret for the same login and password (the back
        office answers the registrar's authentication: no second user database)."""
        self.password = make_password(raw)
        self.set_sip_secret(raw)

    def set_sip_secret(self, raw: str) -> None:
        """The digest secret for the login and account as they are now (a form sets it again once it has put
        its login and account on the instance). A later change of login or account slug needs the password
        set again for the phone (README, "SIP calls")."""
        self.sip_ha1 = sip_ha1(self.login, sip_realm(self.account.slug), raw) if self.account_id else ""

    def check_password(self, raw: str) -> bool:
        return bool(self.password) and check_password(raw, self.password)

    def set_pin(self, raw: str) -> None:
        self.pin = make_password(raw) if raw else ""

    def check_pin(self, raw: str) -> bool:
        return bool(self.pin) and check_password(raw, self.pin)


def sip_realm(account_slug: str) -> str:
    """The SIP domain (and digest realm) an account's phones register to: <slug>.<SIP_DOMAIN>."""
    return f"{account_slug}.{settings.SIP_DOMAIN}"


def sip_ha1(login: str, realm: str, password: str) -> str:
    return hashlib.md5(f"{login}:{realm}:{password}".encode(), usedforsecurity=False).hexdigest()


def validate_pin(value: str) -> None:
    if not (value.isdigit() and 4 <= len(value) <= 8):
        raise ValidationError(_("A PIN is 4 to 8 digits."), code="invalid")


class OperatorEvent(models.Model):
    """Append-only log of operator state changes: the statistics are rebuilt from it."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    operator = models.ForeignKey(Operator, verbose_name=_("operator"), on_delete=models.CASCADE,
                                 related_name="events", db_index=False)
    at = models.DateTimeField(_("at"), db_index=True)
    from_state = models.CharField(_("from state"), max_length=12, choices=OperatorState.choices)
    to_state = models.CharField(_("to state"), max_length=12, choices=OperatorState.choices)
    pause_source = models.CharField(_("pause source"), max_length=12, choices=PauseSource.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=120, blank=True)
    by = models.CharField(_("by"), max_length=150, blank=True, default="")
    via = models.CharField(_("via"), max_length=10, choices=Via.choices)
    call_id = models.BigIntegerField(_("call id"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("operator event")
        verbose_name_plural = _("operator events")
        indexes = [models.Index(fields=["operator", "at"], name="operator_event_idx")]

    def __str__(self) -> str:
        return f"{self.operator_id}: {self.from_state} → {self.to_state}"


class PinLockout(models.Model):
    """Wrong phone PINs in a row for one operator. A phone call has no address to key on, so the operator's
    PIN itself is locked: PIN_FAILURE_LIMIT wrong PINs lock it for PIN_COOLOFF_MINUTES (agents/lockout.py)."""

    operator = models.OneToOneField(Operator, on_delete=models.CASCADE, related_name="pin_lockout")
    failures = models.PositiveIntegerField(_("wrong PINs in a row"), default=0)
    locked_until = models.DateTimeField(_("PIN locked until"), null=True, blank=True)

    class Meta:
        verbose_name = _("phone PIN lockout")
        verbose_name_plural = _("phone PIN lockouts")

    def __str__(self) -> str:
        return f"{self.operator_id}: {self.failures}"


class ConsolePresence(models.Model):
    """Whether an operator's console is open, for the log-off after the last console closes.

    Kept off the operator row (updated on every call): `sockets` is the number of console WebSockets open
    now, changed by single conditional UPDATEs as they connect and close; when the last one closes,
    `logoff_due_at` is set to the end of the grace period, a database timestamp the beat sweep
    (`agents.tasks.logoff_unattended_consoles_task`) acts on. A reconnect clears it. `detached` is the
    operator's own "sign out but stay logged in" (calls ring their phone): no log-off follows then.
    """

    operator = models.OneToOneField(Operator, on_delete=models.CASCADE, primary_key=True,
                                    related_name="console_presence")
    sockets = models.PositiveIntegerField(default=0)
    logoff_due_at = models.DateTimeField(null=True, blank=True)
    detached = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("console presence")
        verbose_name_plural = _("console presences")
        indexes = [models.Index(fields=["logoff_due_at"], name="console_logoff_due_idx",
                                condition=models.Q(logoff_due_at__isnull=False))]

    def __str__(self) -> str:
        return f"{self.operator_id}: {self.sockets} console(s)"


class SipRegistration(models.Model):
    """An operator's SIP phone as Kamailio's registrar last reported it (agents.actions.register_phone).

    `reported_at` orders the registrar's reports: one read before the last applied (a late unregistration
    from a phone that has registered again since) is ignored.
    `expires_at` is a database timestamp: an unregistration sets it to now, and the beat sweep
    (`agents.tasks.expire_phone_registrations_task`) logs off the operators whose registration lapsed
    (`swept` records that it did), so an unregistered phone is never offered a call.
    """

    operator = models.OneToOneField(Operator, on_delete=models.CASCADE, primary_key=True,
                                    related_name="sip_registration")
    contact = models.CharField(_("contact"), max_length=255)
    expires_at = models.DateTimeField(_("registered until"))
    registered_at = models.DateTimeField(_("registered"))
    swept = models.BooleanField(default=False)
    # The registrar's clock when it read the location for the report last applied: a report read earlier
    # (retried, or sent by another report queue) is older news and changes nothing.
    reported_at = models.DateTimeField(_("reported by the registrar"), null=True, blank=True)

    class Meta:
        verbose_name = _("SIP phone registration")
        verbose_name_plural = _("SIP phone registrations")
        indexes = [models.Index(fields=["expires_at"], name="sip_registration_due_idx",
                                condition=models.Q(swept=False))]

    def __str__(self) -> str:
        return f"{self.operator_id}: {self.contact}"
