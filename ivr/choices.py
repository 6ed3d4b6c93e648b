from django.db import models
from django.utils.translation import gettext_lazy as _


class OptionAction(models.TextChoices):
    """What pressing a menu's digit does (domain.md: the IVR choice identifies the call type)."""

    SERVICE = "service", _("Go to a service")
    SUBMENU = "submenu", _("Open a sub-menu")
    OPERATOR_CODE = "operator_code", _("Dial an operator's code (in a service)")
    VOICEMAIL = "voicemail", _("Leave a voice message (for a service)")
    REPEAT = "repeat", _("Repeat the menu")


class FallbackAction(models.TextChoices):
    """What happens after the caller chose nothing valid too many times."""

    HANGUP = "hangup", _("Say goodbye and hang up")
    SERVICE = "service", _("Go to the fallback service")
    VOICEMAIL = "voicemail", _("Leave a voice message (fallback service)")


class ChoiceResult(models.TextChoices):
    """One key press (or silence) in a menu, as the statistics count it."""

    OPTION = "option", _("Chose an option")
    INVALID = "invalid", _("Invalid choice")
    TIMEOUT = "timeout", _("No choice (timeout)")
    FALLBACK = "fallback", _("Sent to the fallback")
