"""Steps 1, 3 and 4 of the setup: numbers, services (with their operators), prompts; caller routes."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.audit import AuditedHistory
from core.validators import validate_e164, validate_number_prefix

from .audio import AUDIO_EXTENSIONS, inspect_audio, sniff_format
from .choices import CodeUnavailableAction, Criterion, MinutesPeriod, NumberPurpose, OverflowAction, PromptKind, Weekday

SKILL_MIN, SKILL_MAX = 1, 10


def prompt_upload_to(instance: Prompt, filename: str) -> str:
    """A name the server chooses, with the extension of the audio the content is: never the uploader's name
    (`evil.html` was stored and served as text/html). The format is sniffed from the bytes themselves."""
    try:
        upload = instance.audio.file  # an upload (admin form, API): its bytes decide
    except ValueError:  # code saving bytes it made (`audio.save(name, content)`): what it measured, or its name
        extension = AUDIO_EXTENSIONS.get(instance.audio_format) or filename.rsplit(".", 1)[-1].lower()
    else:
        upload.seek(0)
        extension = AUDIO_EXTENSIONS.get(sniff_format(upload.read(16)), "bin")
        upload.seek(0)
    if extension not in AUDIO_EXTENSIONS.values():
        extension = "bin"
    return f"prompts/{instance.account_id}/{uuid.uuid4().hex}.{extension}"


class Prompt(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="prompts")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=PromptKind.choices)
    audio = models.FileField(_("audio file"), upload_to=prompt_upload_to,
                             help_text=_("WAV, MP3 or OGG; checked by its content."))
    audio_format = models.CharField(_("format"), max_length=4, editable=False)
    duration_seconds = models.DecimalField(_("duration (s)"), max_digits=7, decimal_places=2, editable=False)
    size_bytes = models.PositiveIntegerField(_("size (bytes)"), editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = AuditedHistory()

    class Meta:
        ordering = ["account", "kind", "name"]
        verbose_name = _("prompt")
        verbose_name_plural = _("prompts")
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="prompt_unique_name",
                                               violation_error_message=_("This account has a prompt with "
                                                                         "this name."))]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self) -> None:
        """Check a newly uploaded file by its content and record its format, duration and size."""
        if not self.audio or getattr(self.audio, "_committed", True):
            return
        upload = self.audio.file
        upload.seek(0)
        data = upload.read(settings.PROMPT_MAX_BYTES + 1)
        upload.seek(0)
        try:
            info = inspect_audio(data)
        except ValidationError as exc:
            raise ValidationError({"audio": exc.messages}) from exc
        self.audio_format = info.format
        self.duration_seconds = Decimal(str(info.duration))
        self.size_bytes = len(data)


class Service(models.Model):
    """A virtual call center's queue: who answers, by which criterion, and what callers hear."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="services")
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("short description"), max_length=255, blank=True)
    criterion = models.CharField(_("distribution criterion"), max_length=20, choices=Criterion.choices,
                                 default=Criterion.LONGEST_IDLE)
    operators = models.ManyToManyField("agents.Operator", through="ServiceMembership", related_name="services",
                                       verbose_name=_("operators"))
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=0, help_text=_("Callers of a higher-priority service are answered first by "
                                              "operators who serve several services."))
    ring_count = models.PositiveSmallIntegerField(
        _("rings before giving up on an operator"), default=4, validators=[MinValueValidator(1),
                                                                          MaxValueValidator(20)])
    ring_seconds = models.PositiveSmallIntegerField(_("length of one ring (s)"), default=5,
                                                    validators=[MinValueValidator(1), MaxValueValidator(10)])
    pause_after_misses = models.PositiveSmallIntegerField(
        _("auto-pause after unanswered offers"), default=3, validators=[MinValueValidator(1),
                                                                       MaxValueValidator(10)],
        help_text=_("An operator who lets this many offers in a row ring out is paused ('no answer')."))
    wrapup_seconds = models.PositiveSmallIntegerField(_("wrap-up (s)"), default=10,
                                                      validators=[MaxValueValidator(3600)])
    max_wait_seconds = models.PositiveIntegerField(_("maximum wait (s)"), default=300,
                                                   validators=[MinValueValidator(5), MaxValueValidator(7200)])
    overflow_action = models.CharField(_("when nobody can answer"), max_length=10,
                                       choices=OverflowAction.choices, default=OverflowAction.VOICEMAIL)
    overflow_number = models.CharField(_("redirect to"), max_length=20, blank=True, validators=[validate_e164])
    overflow_when_nobody_logged_in = models.BooleanField(
        _("overflow at once when no operator is logged in"), default=True)
    service_level_seconds = models.PositiveSmallIntegerField(_("service-level threshold (s)"), default=20,
                                                             validators=[MinValueValidator(1)])
    sticky_window_days = models.PositiveSmallIntegerField(
        _("last operator: remember for (days)"), default=30, validators=[MinValueValidator(1)])
    sticky_wait_seconds = models.PositiveSmallIntegerField(
        _("last operator: wait for them (s)"), default=20,
        help_text=_("Then fall back to the longest-idle operator."))
    minutes_period = models.CharField(_("minutes produced over"), max_length=6, choices=MinutesPeriod.choices,
                                      default=MinutesPeriod.TODAY)
    code_unavailable_action = models.CharField(_("operator code: when that operator is busy"), max_length=10,
                                               choices=CodeUnavailableAction.choices,
                                               default=CodeUnavailableAction.FALLBACK)
    escalation_seconds = models.PositiveIntegerField(
        _("widen to lower skill levels after (s)"), null=True, blank=True,
        help_text=_("Skill level: offer to the next level down every this many seconds of waiting; "
                    "empty to offer to every level at once."))
    welcome_prompt = models.ForeignKey(Prompt, verbose_name=_("welcome prompt"), null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    hold_prompt = models.ForeignKey(Prompt, verbose_name=_("hold music"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    busy_prompt = models.ForeignKey(Prompt, verbose_name=_("busy message"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    voicemail_prompt = models.ForeignKey(Prompt, verbose_name=_("voicemail greeting"), null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")
    closed_prompt = models.ForeignKey(Prompt, verbose_name=_("closed message"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    closed_action = models.CharField(_("out of hours"), max_length=10, choices=OverflowAction.choices,
                                     default=OverflowAction.BUSY,
                                     help_text=_("After the closed message: hang up, take a voicemail or "
                                                 "redirect."))
    whisper_menu_choice = models.BooleanField(
        _("whisper the menu choice"), default=False,
        help_text=_("Callers who come through a voice menu: their choice is announced to the operator "
                    "before the caller is connected."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # ACD memory for sequential rotation: the membership that got the last call.
    rotation_cursor = models.BigIntegerField(null=True, blank=True, editable=False)

    history = AuditedHistory(excluded_fields=["rotation_cursor"])

    class Meta:
        ordering = ["account", "name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="service_unique_name",
                                               violation_error_message=_("This account has a service with "
                                                                         "this name."))]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if OverflowAction.REDIRECT in (self.overflow_action, self.closed_action) and not self.overflow_number:
            raise ValidationError({"overflow_number": _("Give the number to redirect callers to.")})
        prompt_kinds = {"welcome_prompt": PromptKind.WELCOME, "hold_prompt": PromptKind.HOLD,
                        "busy_prompt": PromptKind.BUSY, "voicemail_prompt": PromptKind.VOICEMAIL_GREETING,
                        "closed_prompt": PromptKind.CLOSED}
        errors = {}
        for field, kind in prompt_kinds.items():
            prompt = getattr(self, field)
            if prompt is None:
                continue
            if prompt.account_id != self.account_id:
                errors[field] = _("This prompt belongs to another account.")
            elif prompt.kind != kind:
                errors[field] = _("Choose a prompt of kind '%(kind)s'.") % {"kind": kind.label}
        if errors:
            raise ValidationError(errors)

    @property
    def ring_timeout_seconds(self) -> int:
        return self.ring_count * self.ring_seconds


class ServiceMembership(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="memberships")
    operator = models.ForeignKey("agents.Operator", on_delete=models.CASCADE, related_name="memberships",
                                 verbose_name=_("operator"))
    skill_level = models.PositiveSmallIntegerField(
        _("skill level"), default=5, validators=[MinValueValidator(SKILL_MIN), MaxValueValidator(SKILL_MAX)],
        help_text=_("1 (lowest) to 10 (most qualified)."))

    history = AuditedHistory()

    class Meta:
        ordering = ["service", "-skill_level"]
        verbose_name = _("service operator")
        verbose_name_plural = _("service operators")
        constraints = [
            models.UniqueConstraint(fields=["service", "operator"], name="membership_unique",
                                    violation_error_message=_("This operator is already in the service.")),
            models.CheckConstraint(condition=models.Q(skill_level__gte=SKILL_MIN, skill_level__lte=SKILL_MAX),
                                   name="membership_skill_range"),
        ]

    def __str__(self) -> str:
        return _("%(operator)s in %(service)s (level %(level)s)") % {
            "operator": self.operator, "service": self.service, "level": self.skill_level}

    def clean(self) -> None:
        if self.service_id and self.operator_id and self.service.account_id != self.operator.account_id:
            raise ValidationError({"operator": _("This operator belongs to another account.")})


class PhoneNumber(models.Model):
    """Step 1: a number callers dial. One number carries many calls at once."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="numbers")
    number = models.CharField(_("number"), max_length=20, unique=True, validators=[validate_e164],
                              error_messages={"unique": _("This number is already active on the platform.")})
    label = models.CharField(_("label"), max_length=100, blank=True)
    service = models.ForeignKey(Service, verbose_name=_("service"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="numbers")
    purpose = models.CharField(_("purpose"), max_length=16, choices=NumberPurpose.choices,
                               default=NumberPurpose.CALLS)
    route_by_caller = models.BooleanField(
        _("route by caller number"), default=False,
        help_text=_("Look up the caller's number in the caller routes first (longest prefix wins)."))
    criterion_override = models.CharField(_("criterion on this number"), max_length=20, blank=True,
                                          choices=Criterion.choices,
                                          help_text=_("Empty: the service's own criterion."))
    is_active = models.BooleanField(_("active"), default=True)
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)

    history = AuditedHistory()

    class Meta:
        ordering = ["account", "number"]
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")

    def __str__(self) -> str:
        return self.number

    def clean(self) -> None:
        if self.service_id and self.service.account_id != self.account_id:
            raise ValidationError({"service": _("This service belongs to another account.")})


class CallerRoute(models.Model):
    """Caller-number routing: a prefix (or an exact number) sends its callers to a service."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="caller_routes")
    prefix = models.CharField(_("caller prefix or number"), max_length=16, validators=[validate_number_prefix],
                              help_text=_("+39 for Italy, +3902 for Milan, or a whole number."))
    service = models.ForeignKey(Service, verbose_name=_("service"), on_delete=models.CASCADE,
                                related_name="caller_routes")
    description = models.CharField(_("description"), max_length=100, blank=True)

    history = AuditedHistory()

    class Meta:
        ordering = ["account", "prefix"]
        verbose_name = _("caller route")
        verbose_name_plural = _("caller routes")
        constraints = [models.UniqueConstraint(fields=["account", "prefix"], name="caller_route_unique",
                                               violation_error_message=_("This prefix already has a route."))]

    def __str__(self) -> str:
        return f"{self.prefix} → {self.service}"

    def clean(self) -> None:
        if self.service_id and self.service.account_id != self.account_id:
            raise ValidationError({"service": _("This service belongs to another account.")})


class OpeningHours(models.Model):
    """One open interval of a service on a weekday, in the account's time zone. No rows: always open."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["service", "weekday", "opens"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"

    def clean(self) -> None:
        if self.opens is not None and self.closes is not None and self.closes <= self.opens:
            raise ValidationError({"closes": _("Closing time must be after opening time.")})


class Holiday(models.Model):
    """A day the service is closed all day (in the account's time zone)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        ordering = ["service", "date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [models.UniqueConstraint(fields=["service", "date"], name="holiday_unique")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"
