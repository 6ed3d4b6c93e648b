"""Call records, operator offers (legs), the queue log, and processed telephony events."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from routing.choices import Criterion

from .choices import CallEventKind, CallState, Direction, HangupCause, OfferState, Outcome


class Call(models.Model):
    """One call as the back office handles it, from arrival to its end. Transfers keep the same record."""

    # Indexes are few on purpose: every call is inserted and updated several times. The composite indexes
    # in Meta serve the foreign keys' lookups too (their leading column), so those get no index of their own.
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="calls", db_index=False)
    service = models.ForeignKey("routing.Service", null=True, blank=True, on_delete=models.SET_NULL, db_index=False,
                                related_name="calls", verbose_name=_("service"))
    number = models.ForeignKey("routing.PhoneNumber", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="calls", verbose_name=_("number dialled"))
    engine_ref = models.CharField(_("engine call id"), max_length=100)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices,
                                 default=Direction.INBOUND)
    caller = models.CharField(_("caller"), max_length=255, blank=True)  # a SIP URI caller id
    dialed = models.CharField(_("dialled"), max_length=40, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=CallState.choices, default=CallState.OFFERED)
    outcome = models.CharField(_("outcome"), max_length=14, choices=Outcome.choices, blank=True)
    end_cause = models.CharField(_("end cause"), max_length=20, choices=HangupCause.choices, blank=True)
    criterion = models.CharField(_("criterion"), max_length=20, choices=Criterion.choices, blank=True)
    priority = models.SmallIntegerField(_("priority"), default=0)
    target_operator = models.ForeignKey(
        "agents.Operator", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False,
        verbose_name=_("wanted operator"), help_text=_("Dialled by code, or the caller's last operator."))
    target_until = models.DateTimeField(_("wait for the wanted operator until"), null=True, blank=True)
    operator = models.ForeignKey("agents.Operator", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="calls", verbose_name=_("operator"), db_index=False)
    arrived_at = models.DateTimeField(_("arrived"))
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True)
    queue_deadline = models.DateTimeField(_("overflow at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    wait_seconds = models.FloatField(_("wait (s)"), null=True, blank=True)
    talk_seconds = models.FloatField(_("talk (s)"), null=True, blank=True)
    transferred_to = models.CharField(_("transferred to"), max_length=60, blank=True)
    voicemail_seconds = models.FloatField(_("voicemail (s)"), null=True, blank=True)
    voicemail_url = models.CharField(_("voicemail recording"), max_length=500, blank=True)
    # Voice menus (ivr): the menu the caller is in now, their wrong tries in it, and the path they chose
    # ([{"menu", "digit", "label", "whisper"}], top menu first): the call's type on the card and in the API.
    menu = models.ForeignKey("ivr.Menu", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             db_index=False, verbose_name=_("in voice menu"))
    menu_tries = models.PositiveSmallIntegerField(_("menu retries"), default=0)
    menu_path = models.JSONField(_("menu path"), default=list, blank=True)
    # What whoever placed the call wants its operator to read on the call card (the dialer: the lead's
    # custom fields), as [{"label", "value"}]: the ACD shows it and knows nothing of where it came from.
    screen_fields = models.JSONField(_("call card fields"), default=list, blank=True)

    class Meta:
        ordering = ["-arrived_at"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [models.UniqueConstraint(fields=["account", "engine_ref"], name="call_unique_engine_ref")]
        indexes = [
            models.Index(fields=["service", "state", "priority", "queued_at"], name="call_queue_idx",
                         condition=Q(state__in=[CallState.QUEUED])),
            # Lists, statistics and usage by arrival time, per account and per service.
            models.Index(fields=["account", "arrived_at"], name="call_account_arrived_idx"),
            models.Index(fields=["service", "arrived_at"], name="call_service_arrived_idx"),
            # A caller's calls, newest first: the console card's previous calls, and the last-operator
            # criterion (which filters these few rows by answer time).
            models.Index(fields=["account", "caller", "arrived_at"], name="call_caller_history_idx"),
            models.Index(fields=["operator", "answered_at"], name="call_operator_idx"),
            models.Index(fields=["queue_deadline"], name="call_deadline_idx",
                         condition=Q(state__in=[CallState.QUEUED, CallState.RINGING])),
            # Waiting for a wanted operator (sticky, operator code): the timer sweep and next_deadline ask for
            # the earliest of these after every event; without it they scan every call ever made.
            models.Index(fields=["target_until"], name="call_target_idx",
                         condition=Q(state__in=[CallState.QUEUED], target_until__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.caller} → {self.dialed} ({self.state})"


class Offer(models.Model):
    """One operator leg: the call ringing an operator. At most one ringing offer per operator, ever."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+", db_index=False)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="offers")
    operator = models.ForeignKey("agents.Operator", on_delete=models.CASCADE, related_name="offers")
    leg_ref = models.CharField(_("leg id"), max_length=40)
    state = models.CharField(_("state"), max_length=10, choices=OfferState.choices, default=OfferState.RINGING)
    ring_all = models.BooleanField(default=False)
    is_transfer = models.BooleanField(default=False)
    created_at = models.DateTimeField(_("rang at"))
    expires_at = models.DateTimeField(_("expires at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        constraints = [
            models.UniqueConstraint(fields=["leg_ref"], name="offer_unique_leg_ref"),
            # The database itself forbids ringing one operator twice, or one call at two operators.
            models.UniqueConstraint(fields=["operator"], condition=Q(state="ringing"),
                                    name="offer_one_ringing_per_operator"),
            models.UniqueConstraint(fields=["call"], condition=Q(state="ringing", ring_all=False),
                                    name="offer_one_ringing_per_call"),
        ]
        indexes = [models.Index(fields=["expires_at"], name="offer_expiry_idx", condition=Q(state="ringing"))]

    def __str__(self) -> str:
        return f"{self.leg_ref} ({self.state})"


class CallEvent(models.Model):
    """The queue log: append-only; statistics can be rebuilt from it alone."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+", db_index=False)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"))
    kind = models.CharField(_("kind"), max_length=14, choices=CallEventKind.choices)
    service_id_at = models.BigIntegerField(null=True, blank=True)
    operator_id_at = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("call event")
        verbose_name_plural = _("call events")
        indexes = [models.Index(fields=["account", "at"], name="call_event_account_idx")]

    def __str__(self) -> str:
        return f"{self.call_id} {self.kind}"


class VoicemailEmail(models.Model):
    """The voicemail notification sent for a call: at most one per call (acd/voicemail.py), so a redelivered
    task never sends it twice. Written in the transaction that sends it."""

    call = models.OneToOneField(Call, on_delete=models.CASCADE, primary_key=True, related_name="+")
    to = models.EmailField()
    sent_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.call_id} → {self.to}"
