from django.db import models
from django.utils.translation import gettext_lazy as _


class OperatorState(models.TextChoices):
    LOGGED_OUT = "logged_out", _("Logged out")
    AVAILABLE = "available", _("Available")
    RINGING = "ringing", _("Ringing")
    ON_CALL = "on_call", _("On a call")
    WRAP_UP = "wrap_up", _("Wrap-up")
    PAUSED = "paused", _("Paused")


class PauseSource(models.TextChoices):
    OPERATOR = "operator", _("By the operator")
    SUPERVISOR = "supervisor", _("By a supervisor")
    NO_ANSWER = "no_answer", _("No answer")
    SYSTEM = "system", _("By the system")


class EndpointKind(models.TextChoices):
    PHONE = "phone", _("Fixed or mobile number")
    SIP = "sip", _("SIP / WebRTC endpoint")


class Via(models.TextChoices):
    """Where a presence change came from (kept in the log for the supervisor)."""

    ADMIN = "admin", _("Admin")
    API = "api", _("API")
    CONSOLE = "console", _("Browser console")
    PHONE = "phone", _("Phone (DTMF)")
    ACD = "acd", _("ACD")
    SYSTEM = "system", _("System")
    SIP_PHONE = "sip_phone", _("SIP phone registration")
