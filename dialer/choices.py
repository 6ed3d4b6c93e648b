from django.db import models
from django.utils.translation import gettext_lazy as _


class CampaignMode(models.TextChoices):
    PREVIEW = "preview", _("Preview (the operator sees the lead and clicks to dial)")
    PROGRESSIVE = "progressive", _("Progressive (one call per free operator)")
    PREDICTIVE = "predictive", _("Predictive")


class CampaignState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    FINISHED = "finished", _("Finished")


class RegulatoryProfile(models.TextChoices):
    US = "us", _("United States (3 % of live calls per 30 days)")
    UK = "uk", _("United Kingdom (Ofcom: 3 % per 24 h, machine share, 72 h rule)")


class MachineAction(models.TextChoices):
    HANG_UP = "hang_up", _("Hang up")
    PLAY_MESSAGE = "play_message", _("Play a message, then hang up")


class LeadState(models.TextChoices):
    NEW = "new", _("Not called yet")
    RETRY = "retry", _("Waiting for a retry")
    DIALING = "dialing", _("Being called")
    DONE = "done", _("Done")
    EXHAUSTED = "exhausted", _("Attempts used up")
    DO_NOT_CALL = "do_not_call", _("On the do-not-call list")


class AttemptOutcome(models.TextChoices):
    PENDING = "pending", _("Being placed")
    RINGING = "ringing", _("Ringing")
    LIVE = "live", _("Answered by a person")
    CONNECTED = "connected", _("Connected to an operator")
    ABANDONED = "abandoned", _("Abandoned (no operator within 2 s)")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy")
    MACHINE = "machine", _("Answering machine")
    INVALID = "invalid", _("Invalid number")
    REFUSED = "refused", _("Not placed (channel limit)")
    BLOCKED = "blocked", _("Not placed (do-not-call or compliance)")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped by the operator (preview)")
    RELEASED = "released", _("Released undialled (preview: the operator left, or it waited too long)")


# Outcomes after which the lead is called again (after the campaign's delay), while attempts remain.
RETRY_OUTCOMES = frozenset({AttemptOutcome.NO_ANSWER, AttemptOutcome.BUSY, AttemptOutcome.MACHINE,
                            AttemptOutcome.ABANDONED, AttemptOutcome.REFUSED, AttemptOutcome.FAILED})
OPEN_OUTCOMES = frozenset({AttemptOutcome.PENDING, AttemptOutcome.RINGING, AttemptOutcome.LIVE,
                           AttemptOutcome.CONNECTED})


class AmdVerdict(models.TextChoices):
    HUMAN = "human", _("Human")
    MACHINE = "machine", _("Machine")
    UNKNOWN = "unknown", _("Unknown")


class DispositionKind(models.TextChoices):
    SALE = "sale", _("Sale")
    CALLBACK = "callback", _("Call back at a time")
    NOT_INTERESTED = "not_interested", _("Not interested")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    DO_NOT_CALL = "do_not_call", _("Do not call")
    MACHINE = "machine", _("Answering machine (agent-coded)")


class RefusalReason(models.TextChoices):
    BAD_NUMBER = "bad_number", _("Not a valid phone number")
    DUPLICATE = "duplicate", _("Duplicate in the list")
    DO_NOT_CALL = "do_not_call", _("On the do-not-call list")
    BAD_TIMEZONE = "bad_timezone", _("Unknown time zone")


class ImportState(models.TextChoices):
    """A lead file's import in the background (dialer.models.LeadImport)."""

    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")
