from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    """Every kind of call the concurrency budget counts (domain.md, seed 003)."""

    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")
    INTERNAL = "internal", _("Internal")
    SYSTEM = "system", _("System (OTP, service)")


class CallState(models.TextChoices):
    OFFERED = "offered", _("Arrived")
    WELCOME = "welcome", _("Welcome prompt")
    COLLECTING = "collecting", _("Collecting digits")
    QUEUED = "queued", _("Queued (on hold)")
    RINGING = "ringing", _("Ringing an operator")
    CONNECTED = "connected", _("Connected")
    VOICEMAIL = "voicemail", _("Leaving a voicemail")
    FORWARDED = "forwarded", _("Forwarded to an external number")
    ENDED = "ended", _("Ended")


LIVE_CALL_STATES = frozenset({CallState.OFFERED, CallState.WELCOME, CallState.COLLECTING, CallState.QUEUED,
                              CallState.RINGING, CallState.CONNECTED, CallState.VOICEMAIL,
                              CallState.FORWARDED})
WAITING_STATES = frozenset({CallState.QUEUED, CallState.RINGING})


class Outcome(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    ABANDONED = "abandoned", _("Abandoned by the caller")
    BUSY = "busy", _("Busy message (overflow)")
    VOICEMAIL = "voicemail", _("Voicemail")
    REDIRECTED = "redirected", _("Redirected to an external number")
    CLOSED = "closed", _("Out of hours")
    REJECTED = "rejected", _("Rejected")
    TRANSFERRED = "transferred", _("Transferred out")
    SERVICE_CALL = "service_call", _("Service call (phone login)")


class HangupCause(models.TextChoices):
    NORMAL = "normal", _("Normal clearing")
    BUSY = "busy", _("Busy")
    UNALLOCATED = "unallocated", _("Number not in service")
    REACH_PLAN_LIMIT = "REACH_PLAN_LIMIT", _("Plan limit of concurrent calls reached")
    CLOSED = "closed", _("Closed")
    NO_OPERATOR = "no_operator", _("No operator")
    LOST = "lost", _("End event lost (closed by the reconciler)")


class OfferState(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Answered")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired (no event)")


class CallEventKind(models.TextChoices):
    """The queue log: like app_queue's queue_log, every statistic is rebuilt from these rows."""

    ARRIVED = "arrived", _("Arrived")
    WELCOME = "welcome", _("Welcome prompt")
    ENTERED_QUEUE = "entered_queue", _("Entered the queue")
    OFFERED = "offered", _("Offered to an operator")
    OFFER_ENDED = "offer_ended", _("Offer ended")
    CONNECTED = "connected", _("Connected")
    TRANSFERRED = "transferred", _("Transferred")
    OVERFLOWED = "overflowed", _("Overflowed")
    ABANDONED = "abandoned", _("Abandoned")
    VOICEMAIL = "voicemail", _("Voicemail recorded")
    ENDED = "ended", _("Ended")
    REJECTED = "rejected", _("Rejected")
    DIGITS = "digits", _("Digits collected")
