from django.db import models
from django.utils.translation import gettext_lazy as _


class Criterion(models.TextChoices):
    """How a service picks the operator for a call (domain.md, seed 001, plus the peers' favourites)."""

    SEQUENTIAL = "sequential", _("Sequential (rotation)")
    SKILL = "skill", _("Skill level (best first, then free the longest)")
    LAST_OPERATOR = "last_operator", _("Last operator who spoke with the caller")
    MINUTES_PRODUCED = "minutes_produced", _("Most talk minutes produced")
    INACTIVITY = "inactivity", _("Inactive for the longest")
    OPERATOR_CODE = "operator_code", _("Operator code dialled by the caller")
    LONGEST_IDLE = "longest_idle", _("Longest idle (free the longest)")
    FEWEST_CALLS = "fewest_calls", _("Fewest calls today")
    RING_ALL = "ring_all", _("Ring all")


class OverflowAction(models.TextChoices):
    """What happens when nobody can answer (domain.md, seed 002)."""

    HOLD = "hold", _("Keep the caller on hold and wait")
    VOICEMAIL = "voicemail", _("Take a voice message for the duty administrator")
    REDIRECT = "redirect", _("Redirect to an external number")
    BUSY = "busy", _("Play the busy message and hang up")


class CodeUnavailableAction(models.TextChoices):
    """Operator-code routing when the dialled operator is busy or away."""

    WAIT = "wait", _("Wait for that operator")
    FALLBACK = "fallback", _("Give the call to another operator")
    VOICEMAIL = "voicemail", _("Take a voice message")


class MinutesPeriod(models.TextChoices):
    TODAY = "today", _("Today")
    LAST_7_DAYS = "7d", _("Last 7 days")
    THIS_MONTH = "month", _("This month")


class PromptKind(models.TextChoices):
    WELCOME = "welcome", _("Welcome message")
    HOLD = "hold", _("Hold message or music")
    BUSY = "busy", _("Busy message")
    VOICEMAIL_GREETING = "voicemail", _("Voicemail greeting")
    CLOSED = "closed", _("Closed (out of hours)")
    SAFE_HARBOR = "safe_harbor", _("Safe-harbor message (dialer)")
    MENU = "menu", _("Voice menu")
    WHISPER = "whisper", _("Whisper to the operator")


class AudioFormat(models.TextChoices):
    WAV = "wav", "WAV"
    MP3 = "mp3", "MP3"
    OGG = "ogg", "OGG"


class NumberPurpose(models.TextChoices):
    CALLS = "calls", _("Callers reach a service")
    OPERATOR_LOGIN = "operator_login", _("Operators log in, pause and log off by phone")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")
