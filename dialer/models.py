"""Campaigns, lead lists, leads, the do-not-call list, attempts and dispositions."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import validate_timezone
from core.validators import normalize_e164

from .choices import (
    OPEN_OUTCOMES,
    AmdVerdict,
    AttemptOutcome,
    CampaignMode,
    CampaignState,
    DispositionKind,
    ImportState,
    LeadState,
    MachineAction,
    RegulatoryProfile,
)

MIN_RING_SECONDS = 15  # FTC TSR and Ofcom: 15 s (or 4 rings) before giving up on an unanswered call
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def default_calling_hours() -> dict[str, list[str]]:
    """Mon–Sat 09:00–20:00 in the lead's local time: inside the US 8 am – 9 pm rule."""
    return {d: ["09:00", "20:00"] for d in WEEKDAYS[:6]}


def parse_hours(value: object) -> dict[int, tuple[dt.time, dt.time]]:
    """{"mon": ["09:00", "20:00"], …} → {0: (09:00, 20:00), …}; a day left out is not called."""
    if not isinstance(value, dict):
        raise ValidationError(_("Calling hours are an object: weekday → [start, end]."))
    out: dict[int, tuple[dt.time, dt.time]] = {}
    for day, span in value.items():
        if day not in WEEKDAYS:
            raise ValidationError(_("Unknown weekday %(day)s (use mon … sun).") % {"day": day})
        try:
            start, end = (dt.time.fromisoformat(x) for x in span)
        except (TypeError, ValueError) as exc:
            raise ValidationError(_("Hours for %(day)s must be [\"HH:MM\", \"HH:MM\"].") % {"day": day}) from exc
        if start >= end:
            raise ValidationError(_("On %(day)s the calling hours end before they start.") % {"day": day})
        out[WEEKDAYS.index(day)] = (start, end)
    return out


class Campaign(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(_("name"), max_length=100)
    service = models.ForeignKey("routing.Service", on_delete=models.PROTECT, related_name="campaigns",
                                verbose_name=_("service"), help_text=_("Its operators take the calls."))
    caller_id = models.CharField(_("caller id"), max_length=20,
                                 help_text=_("A number that can be called back (E.164)."))
    mode = models.CharField(_("mode"), max_length=12, choices=CampaignMode.choices,
                            default=CampaignMode.PROGRESSIVE)
    abandon_target = models.FloatField(_("abandon-rate target"), default=0.03,
                                       validators=[MinValueValidator(0.0), MaxValueValidator(0.03)],
                                       help_text=_("Share of live calls; the law allows at most 3 %."))
    profile = models.CharField(_("regulatory profile"), max_length=4, choices=RegulatoryProfile.choices,
                               default=RegulatoryProfile.US)
    calling_hours = models.JSONField(_("calling hours (lead's local time)"), default=default_calling_hours)
    max_attempts = models.PositiveSmallIntegerField(_("maximum attempts per lead"), default=3,
                                                    validators=[MinValueValidator(1), MaxValueValidator(20)])
    retry_busy_minutes = models.PositiveIntegerField(_("retry after busy (min)"), default=15)
    retry_no_answer_minutes = models.PositiveIntegerField(_("retry after no answer (min)"), default=120)
    retry_machine_minutes = models.PositiveIntegerField(_("retry after a machine (min)"), default=240)
    retry_abandoned_minutes = models.PositiveIntegerField(
        _("retry after an abandoned call (min)"), default=24 * 60,
        help_text=_("Under the UK profile never less than 72 h (Ofcom)."))
    ring_seconds = models.PositiveSmallIntegerField(
        _("ring time (s)"), default=25, validators=[MinValueValidator(MIN_RING_SECONDS), MaxValueValidator(120)])
    amd_enabled = models.BooleanField(_("answering-machine detection"), default=True)
    machine_action = models.CharField(_("on a machine"), max_length=14, choices=MachineAction.choices,
                                      default=MachineAction.HANG_UP)
    machine_prompt = models.ForeignKey("routing.Prompt", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+", verbose_name=_("message for machines"))
    safe_harbor_prompt = models.ForeignKey(
        "routing.Prompt", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("safe-harbor message"),
        help_text=_("Played when no operator is free within 2 s: the company, a number to call back."))
    max_dial_ratio = models.FloatField(_("maximum dial ratio"), default=3.0,
                                       validators=[MinValueValidator(1.0), MaxValueValidator(5.0)])
    inbound_reserve = models.PositiveSmallIntegerField(
        _("channels kept for inbound calls"), default=0,
        help_text=_("The dialer never uses the account's last N channels."))
    state = models.CharField(_("state"), max_length=10, choices=CampaignState.choices,
                             default=CampaignState.DRAFT)
    state_changed_at = models.DateTimeField(_("state changed"), null=True, blank=True)
    state_changed_by = models.CharField(_("state changed by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Pacing: written by the estimation loop, read by the placement loop.
    pacing = models.JSONField(_("pacing estimates"), default=dict, blank=True, editable=False)
    pacing_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    pacing_lease_owner = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="campaign_unique_name",
                                               violation_error_message=_("A campaign with this name exists."))]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        try:
            parse_hours(self.calling_hours)
        except ValidationError as exc:
            errors["calling_hours"] = exc.messages[0]
        if self.service_id and self.account_id and self.service.account_id != self.account_id:
            errors["service"] = _("The service belongs to another account.")
        if self.ring_seconds is not None and self.ring_seconds < MIN_RING_SECONDS:
            errors["ring_seconds"] = _("Ring at least 15 s before giving up.")
        if self.caller_id:
            try:
                self.caller_id = normalize_e164(self.caller_id)
            except ValidationError as exc:
                errors["caller_id"] = exc.messages[0]
        if errors:
            raise ValidationError(errors)

    def hours(self) -> dict[int, tuple[dt.time, dt.time]]:
        return parse_hours(self.calling_hours)


class LeadList(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="lead_lists")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="lead_lists",
                                 verbose_name=_("campaign"))
    name = models.CharField(_("name"), max_length=100)
    custom_fields = models.JSONField(_("custom fields"), default=list, blank=True,
                                     help_text=_("Column names shown to the operator with the call."))
    is_active = models.BooleanField(_("dialed"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("lead list")
        verbose_name_plural = _("lead lists")

    def __str__(self) -> str:
        return self.name


class LeadImport(models.Model):
    """One file imported into a lead list in the background (`dialer.tasks.import_leads_task`), so that a big
    file neither holds a web request for its whole import nor leaves the supervisor without news: the import
    page shows its bar while it runs and its report of refused rows afterwards. The good rows are saved in one
    transaction at the end (a list is never half-imported); the file itself is dropped once it is done."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    lead_list = models.ForeignKey(LeadList, on_delete=models.CASCADE, related_name="imports",
                                  verbose_name=_("lead list"))
    filename = models.CharField(_("file"), max_length=200)
    content = models.BinaryField(_("content"), editable=False)
    state = models.CharField(_("state"), max_length=10, choices=ImportState.choices, default=ImportState.QUEUED)
    total_rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    checked_rows = models.PositiveIntegerField(_("rows checked"), default=0)
    imported = models.PositiveIntegerField(_("imported"), default=0)
    refused_count = models.PositiveIntegerField(_("refused"), default=0)
    refused = models.JSONField(_("refused rows"), default=list, blank=True)  # the first REFUSED_KEPT of them
    error = models.TextField(_("error"), blank=True)
    # Who runs it: a worker claims the import with its own token and renews `heartbeat_at` as it goes; a run
    # whose heartbeat stops (its worker died) is claimed again by the sweep, and only the token that claimed
    # it last can finish it.
    run_token = models.CharField(max_length=32, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.CharField(_("by"), max_length=150, blank=True)
    # The uploader's language: the worker writes the report's messages in it (a worker has no request).
    language = models.CharField(_("language"), max_length=10, blank=True)
    created_at = models.DateTimeField(_("created"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("lead import")
        verbose_name_plural = _("lead imports")
        indexes = [models.Index(fields=["state", "heartbeat_at"], name="leadimport_open_idx",
                                condition=models.Q(state__in=[ImportState.QUEUED, ImportState.RUNNING]))]

    def __str__(self) -> str:
        return self.filename


class Lead(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+", db_index=False)
    lead_list = models.ForeignKey(LeadList, on_delete=models.CASCADE, related_name="leads")
    phone = models.CharField(_("phone (E.164)"), max_length=20)
    timezone = models.CharField(_("time zone"), max_length=64, validators=[validate_timezone],
                                help_text=_("From the number; override it when the number moved."))
    fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=LeadState.choices, default=LeadState.NEW)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_outcome = models.CharField(_("last outcome"), max_length=12, choices=AttemptOutcome.choices, blank=True)
    abandoned_at = models.DateTimeField(_("last abandoned"), null=True, blank=True)
    machine_at = models.DateTimeField(_("last machine"), null=True, blank=True)
    created_at = models.DateTimeField(_("imported"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        constraints = [models.UniqueConstraint(fields=["lead_list", "phone"], name="lead_unique_phone")]
        indexes = [models.Index(fields=["lead_list", "state", "next_attempt_at"], name="lead_due_idx",
                                condition=Q(state__in=[LeadState.NEW, LeadState.RETRY]))]

    def __str__(self) -> str:
        return self.phone


class DoNotCall(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="do_not_call")
    phone = models.CharField(_("phone (E.164)"), max_length=20)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    added_at = models.DateTimeField(_("added"))
    added_by = models.CharField(_("added by"), max_length=150, blank=True)

    class Meta:
        ordering = ["phone"]
        verbose_name = _("do-not-call number")
        verbose_name_plural = _("do-not-call list")
        constraints = [models.UniqueConstraint(fields=["account", "phone"], name="dnc_unique_phone",
                                               violation_error_message=_("This number is already listed."))]

    def __str__(self) -> str:
        return self.phone

    def clean(self) -> None:
        try:
            self.phone = normalize_e164(self.phone)
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages[0]}) from exc


class AttemptQuerySet(models.QuerySet):
    def open(self) -> AttemptQuerySet:
        """Attempts whose call is still in flight. The outcome alone does not say it: "connected" is both the
        outcome of a call in conversation and the final outcome of one that ended (its `ended_at` is set)."""
        return self.filter(outcome__in=list(OPEN_OUTCOMES), ended_at__isnull=True)


class Attempt(models.Model):
    """One dial of one lead. (lead, number) is unique: the originate task claims this row before dialing,
    so a redelivered task finds it claimed and never dials twice."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+", db_index=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="attempts")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveSmallIntegerField(_("attempt number"))
    call = models.OneToOneField("acd.Call", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="dialer_attempt")
    outcome = models.CharField(_("outcome"), max_length=12, choices=AttemptOutcome.choices,
                               default=AttemptOutcome.PENDING)
    amd_verdict = models.CharField(_("AMD verdict"), max_length=8, choices=AmdVerdict.choices, blank=True)
    operator = models.ForeignKey("agents.Operator", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_("operator"))
    created_at = models.DateTimeField(_("created"))
    dialed_at = models.DateTimeField(_("dialed"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    connected_at = models.DateTimeField(_("connected to an operator"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    objects = AttemptQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        constraints = [models.UniqueConstraint(fields=["lead", "number"], name="attempt_unique_number")]
        indexes = [models.Index(fields=["campaign", "created_at"], name="attempt_campaign_idx"),
                   models.Index(fields=["campaign", "outcome"], name="attempt_open_idx",
                                condition=Q(outcome__in=["pending", "ringing", "live", "connected"],
                                            ended_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.lead_id}#{self.number} {self.outcome}"


class Disposition(models.Model):
    attempt = models.OneToOneField(Attempt, on_delete=models.CASCADE, related_name="disposition")
    kind = models.CharField(_("disposition"), max_length=16, choices=DispositionKind.choices)
    callback_at = models.DateTimeField(_("call back at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    operator = models.ForeignKey("agents.Operator", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    at = models.DateTimeField(_("set at"))

    class Meta:
        verbose_name = _("disposition")
        verbose_name_plural = _("dispositions")

    def __str__(self) -> str:
        return self.kind
