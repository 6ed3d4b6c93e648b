"""Every state change of the dialer: campaigns, leads, attempts, dispositions, the do-not-call list.

Each is atomic, logs what changed (the attempt rows are the dialer's log: statistics are rebuilt from them)
and tells the campaign page after the commit.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection, transaction
from django.db.models import F, Max
from django.utils.translation import gettext as _

from acd.actions import originate_call
from acd.choices import Direction, Outcome
from acd.models import Call
from budget import actions as budget
from core import outgoing
from core.clock import now
from core.errors import ActionError, IllegalTransition
from core.events import account_group, send_event_on_commit

from . import compliance
from .choices import (
    RETRY_OUTCOMES,
    AmdVerdict,
    AttemptOutcome,
    CampaignState,
    DispositionKind,
    LeadState,
)
from .models import Attempt, Campaign, Disposition, DoNotCall, Lead

log = logging.getLogger(__name__)
PREVIEW_SKIP_REST = dt.timedelta(hours=1)  # a lead an operator skipped is not shown again before this

S = CampaignState
CAMPAIGN_TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.RUNNING, S.FINISHED}),
    S.RUNNING: frozenset({S.PAUSED, S.FINISHED}),
    S.PAUSED: frozenset({S.RUNNING, S.FINISHED}),
    S.FINISHED: frozenset(),
}


def _campaign_event(campaign: Campaign, event: str, **data) -> None:
    send_event_on_commit([account_group(campaign.account_id)],
                         {"type": f"dialer.{event}", "campaign": campaign.pk, **data})


def _lock_campaign(campaign_id: int) -> Campaign:
    try:
        return Campaign.objects.select_for_update(of=("self",)).select_related("account").get(pk=campaign_id)
    except Campaign.DoesNotExist as exc:
        raise ActionError("campaign_not_found", _("There is no such campaign.")) from exc


@transaction.atomic
def change_campaign_state(campaign_id: int, to_state: str, *, by: str) -> Campaign:
    """Start, pause, resume or finish a campaign; who and when are kept on the campaign and in the log."""
    campaign = _lock_campaign(campaign_id)
    if to_state not in CAMPAIGN_TRANSITIONS[campaign.state]:
        raise IllegalTransition("illegal_campaign_transition",
                                _("A campaign that is %(from)s cannot become %(to)s.")
                                % {"from": CampaignState(campaign.state).label, "to": CampaignState(to_state).label})
    old = campaign.state
    campaign.state = to_state
    campaign.state_changed_at = now()
    campaign.state_changed_by = by[:150]
    if to_state != S.RUNNING:
        campaign.pacing_lease_until = None
        campaign.pacing_lease_owner = ""
    campaign.save(update_fields=["state", "state_changed_at", "state_changed_by", "pacing_lease_until",
                                 "pacing_lease_owner"])
    log.info("campaign %s: %s -> %s by %s", campaign.pk, old, to_state, by)
    _campaign_event(campaign, "state", state=to_state, by=campaign.state_changed_by,
                    at=campaign.state_changed_at.isoformat())
    return campaign


# --- do-not-call ----------------------------------------------------------------------------------------


def is_do_not_call(account_id: int, phone: str) -> bool:
    return DoNotCall.objects.filter(account_id=account_id, phone=phone).exists()


@transaction.atomic
def add_do_not_call(account_id: int, phone: str, *, reason: str = "", by: str = "") -> DoNotCall:
    """List a number (idempotent); its leads in every list of the account are not called again."""
    entry, _created = DoNotCall.objects.get_or_create(
        account_id=account_id, phone=phone, defaults={"reason": reason[:200], "added_at": now(), "added_by": by[:150]})
    Lead.objects.filter(account_id=account_id, phone=phone, state__in=[LeadState.NEW, LeadState.RETRY]).update(
        state=LeadState.DO_NOT_CALL, next_attempt_at=None)
    return entry


# --- attempts -------------------------------------------------------------------------------------------


def claim_leads(campaign: Campaign, count: int, at: dt.datetime) -> list[Attempt]:
    """Take up to `count` due leads of a running campaign (SKIP LOCKED: two pacers never take one lead) and
    create their next attempt. Leads outside their calling hours are moved to their next opening; leads on
    the do-not-call list are closed. Call inside a transaction; the attempts are placed by their own tasks."""
    if count <= 0:
        return []
    hours = campaign.hours()
    due = list(Lead.objects.select_for_update(skip_locked=True)
               .filter(lead_list__campaign=campaign, lead_list__is_active=True,
                       state__in=[LeadState.NEW, LeadState.RETRY])
               .exclude(next_attempt_at__gt=at)
               .order_by(F("next_attempt_at").asc(nulls_first=True), "id")[:count * 3])
    blocked = set(DoNotCall.objects.filter(account_id=campaign.account_id,
                                           phone__in=[lead.phone for lead in due]).values_list("phone", flat=True))
    # An attempt's number is its row's place among the lead's attempts; `lead.attempts` counts only those
    # that count (a skip, a release, a refusal at dial time give theirs back), so it cannot be the number.
    last_number = dict(Attempt.objects.filter(lead__in=due).order_by().values("lead_id")
                       .annotate(n=Max("number")).values_list("lead_id", "n")) if due else {}
    attempts: list[Attempt] = []
    for lead in due:
        if lead.phone in blocked:
            lead.state = LeadState.DO_NOT_CALL
            lead.next_attempt_at = None
            lead.save(update_fields=["state", "next_attempt_at"])
            continue
        if not compliance.within_hours(hours, lead.timezone, at):
            lead.next_attempt_at = compliance.next_opening(hours, lead.timezone, at)
            if lead.next_attempt_at is None:
                lead.state = LeadState.EXHAUSTED
            lead.save(update_fields=["next_attempt_at", "state"])
            continue
        if not compliance.repeat_call_allowed(campaign.profile, lead.abandoned_at, lead.machine_at, at):
            lead.next_attempt_at = max(x for x in (
                lead.abandoned_at and lead.abandoned_at + compliance.UK_ABANDON_QUIET,
                lead.machine_at and lead.machine_at + compliance.UK_MACHINE_QUIET, at) if x)
            lead.save(update_fields=["next_attempt_at"])
            continue
        if len(attempts) >= count:
            break
        lead.attempts += 1
        lead.state = LeadState.DIALING
        lead.save(update_fields=["attempts", "state"])
        attempts.append(Attempt.objects.create(account_id=campaign.account_id, campaign=campaign, lead=lead,
                                               number=last_number.get(lead.pk, 0) + 1, created_at=at))
    return attempts


def channel_headroom(campaign: Campaign) -> int:
    """Channels the campaign may still take: the tightest link of the account's reseller chain, less the
    inbound reserve."""
    room = min(link.limit - budget.in_use(link.account_id) for link in budget.chain_of(campaign.account_id))
    return max(0, room - campaign.inbound_reserve)


def _claim_for_dialing(attempt_id: int, at: dt.datetime) -> bool:
    """The idempotency of the originate task: one conditional UPDATE; only the first delivery wins."""
    return Attempt.objects.filter(pk=attempt_id, outcome=AttemptOutcome.PENDING, dialed_at__isnull=True,
                                  call__isnull=True).update(dialed_at=at) == 1


@transaction.atomic
def place_attempt(attempt_id: int) -> Attempt | None:
    """Dial one attempt (the originate task). Exactly once: the attempt is claimed by a conditional UPDATE in
    the transaction that originates the call, so a redelivered task (or a second worker) finds it claimed and
    dials nothing; a worker killed before the commit leaves it unclaimed for the redelivery. The do-not-call
    list, the calling hours and the repeat-call rules are checked again here, at dial time. Returns None when
    the attempt was already placed."""
    at = now()
    if not _claim_for_dialing(attempt_id, at):
        return None
    attempt = Attempt.objects.select_related("campaign", "lead", "lead__lead_list").get(pk=attempt_id)
    campaign, lead = attempt.campaign, attempt.lead
    if campaign.state != CampaignState.RUNNING:
        return _finish(attempt, AttemptOutcome.REFUSED, at, count_attempt=False)
    if is_do_not_call(campaign.account_id, lead.phone):
        lead.state = LeadState.DO_NOT_CALL
        return _finish(attempt, AttemptOutcome.BLOCKED, at, count_attempt=False)
    if not compliance.within_hours(campaign.hours(), lead.timezone, at) or not compliance.repeat_call_allowed(
            campaign.profile, lead.abandoned_at, lead.machine_at, at):
        return _finish(attempt, AttemptOutcome.BLOCKED, at, count_attempt=False)
    # Placements of one account are serialised (inbound calls are not): the reserve check and the budget
    # statement then see the same channels, and the inbound reserve holds against the dialer's own workers.
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x0D1A, campaign.account_id])
    if channel_headroom(campaign) <= 0:
        return _finish(attempt, AttemptOutcome.REFUSED, at, count_attempt=False)
    call = originate_call(campaign.account_id, lead.phone, direction=Direction.OUTBOUND,
                          caller_id=campaign.caller_id, amd=campaign.amd_enabled,
                          timeout_seconds=campaign.ring_seconds, screen_fields=lead_card_fields(lead))
    attempt.call = call
    if call.outcome == Outcome.REJECTED:  # REACH_PLAN_LIMIT: nothing was dialled
        return _finish(attempt, AttemptOutcome.REFUSED, at, count_attempt=False)
    attempt.outcome = AttemptOutcome.RINGING
    attempt.save(update_fields=["call", "outcome"])
    return attempt


def lead_card_fields(lead: Lead) -> list[dict[str, str]]:
    """The lead's custom fields as the operator reads them on the call card: the list's columns first, in
    their order, then any other field the row had."""
    order = [str(c) for c in (lead.lead_list.custom_fields or [])]
    keys = [k for k in order if k in lead.fields] + [k for k in lead.fields if k not in order]
    return [{"label": k, "value": str(lead.fields[k])} for k in keys[:50]]


def _finish(attempt: Attempt, outcome: str, at: dt.datetime, *, count_attempt: bool = True) -> Attempt:
    """Close an attempt and decide the lead's next step (retry after the outcome's delay, or done)."""
    campaign, lead = attempt.campaign, attempt.lead
    attempt.outcome = outcome
    attempt.ended_at = attempt.ended_at or at
    attempt.save()
    if not count_attempt:
        lead.attempts = max(0, lead.attempts - 1)
    lead.last_outcome = outcome
    if outcome == AttemptOutcome.ABANDONED:
        lead.abandoned_at = at
    if outcome == AttemptOutcome.MACHINE:
        lead.machine_at = at
    if lead.state == LeadState.DO_NOT_CALL:
        lead.next_attempt_at = None
    elif outcome in (AttemptOutcome.CONNECTED,):
        lead.state, lead.next_attempt_at = LeadState.DONE, None
    elif outcome == AttemptOutcome.SKIPPED:  # the operator passed on it (preview): back in the list, later
        lead.state, lead.next_attempt_at = LeadState.RETRY, at + PREVIEW_SKIP_REST
    elif outcome == AttemptOutcome.RELEASED:  # held in preview, never dialled: back in the list, due now
        lead.state, lead.next_attempt_at = LeadState.RETRY, at
    elif outcome == AttemptOutcome.BLOCKED:
        lead.state = LeadState.RETRY
        lead.next_attempt_at = compliance.next_opening(campaign.hours(), lead.timezone, at + dt.timedelta(minutes=1))
    elif outcome in RETRY_OUTCOMES and lead.attempts < campaign.max_attempts:
        lead.state = LeadState.RETRY
        lead.next_attempt_at = at + compliance.retry_delay(campaign, outcome)
    elif outcome in RETRY_OUTCOMES:
        lead.state, lead.next_attempt_at = LeadState.EXHAUSTED, None
    else:  # invalid number
        lead.state, lead.next_attempt_at = LeadState.DONE, None
    lead.save(update_fields=["attempts", "last_outcome", "abandoned_at", "machine_at", "state", "next_attempt_at"])
    _campaign_event(campaign, "attempt", attempt=attempt.pk, outcome=outcome)
    return attempt


def finish_skipped(attempt: Attempt, at: dt.datetime) -> Attempt:
    """A lead skipped in preview: closed without counting as an attempt (dialer/preview.py)."""
    return _finish(attempt, AttemptOutcome.SKIPPED, at, count_attempt=False)


def finish_released(attempt: Attempt, at: dt.datetime) -> Attempt:
    """A lead held in preview and let go undialled (its operator left, or it waited too long): closed without
    counting as an attempt and due again at once (dialer/preview.py)."""
    return _finish(attempt, AttemptOutcome.RELEASED, at, count_attempt=False)


def lock_attempt_of_call(call_id: int) -> Attempt | None:
    return (Attempt.objects.select_for_update(of=("self",)).select_related("campaign", "lead")
            .filter(call_id=call_id).first())


def record_answer(attempt: Attempt, verdict: str, at: dt.datetime) -> None:
    """The far end answered: a person (waiting for an operator now) or a machine (closed)."""
    attempt.answered_at = at
    attempt.amd_verdict = verdict if verdict in AmdVerdict.values else AmdVerdict.UNKNOWN
    if verdict == AmdVerdict.MACHINE:
        _finish(attempt, AttemptOutcome.MACHINE, at)
        return
    attempt.outcome = AttemptOutcome.LIVE
    attempt.save(update_fields=["answered_at", "amd_verdict", "outcome"])


def record_no_answer(attempt: Attempt, outcome: str, at: dt.datetime) -> None:
    _finish(attempt, outcome, at)


def record_abandon(attempt: Attempt, at: dt.datetime) -> None:
    """No operator within 2 s: the safe-harbor message plays; the attempt counts as abandoned (and, under the
    UK profile, the number rests 72 h)."""
    _finish(attempt, AttemptOutcome.ABANDONED, at)


@transaction.atomic
def sync_attempts(campaign_id: int) -> int:
    """Bring the campaign's open attempts up to date with their calls (the ACD's call rows are the source
    of truth for the connection to an operator and the end): connected, ended, or lost. Returns how many
    changed. Run by the placement loop before it counts the floor."""
    changed = 0
    open_attempts = (Attempt.objects.select_for_update(skip_locked=True, of=("self",))
                     .select_related("campaign", "lead", "call")
                     .filter(campaign_id=campaign_id, call__isnull=False).open())
    for attempt in open_attempts:
        call: Call = attempt.call
        if attempt.outcome in (AttemptOutcome.LIVE, AttemptOutcome.RINGING) and call.operator_id \
                and call.answered_at:
            attempt.outcome = AttemptOutcome.CONNECTED
            attempt.connected_at = call.answered_at
            attempt.operator_id = call.operator_id
            attempt.save(update_fields=["outcome", "connected_at", "operator"])
            changed += 1
        if call.ended_at is None:
            continue
        attempt.ended_at = call.ended_at
        if attempt.outcome == AttemptOutcome.CONNECTED:
            _finish(attempt, AttemptOutcome.CONNECTED, call.ended_at)
        elif attempt.outcome == AttemptOutcome.LIVE:  # a person, and the call ended without an operator
            _finish(attempt, AttemptOutcome.ABANDONED, call.ended_at)
        else:  # ended before any answer (hung up while ringing, or lost)
            _finish(attempt, AttemptOutcome.NO_ANSWER, call.ended_at)
        changed += 1
    return changed


# --- dispositions ---------------------------------------------------------------------------------------


@transaction.atomic
def set_disposition(attempt_id: int, kind: str, *, operator_id: int | None = None,
                    callback_at: dt.datetime | None = None, note: str = "", by: str = "") -> Disposition:
    """The operator's verdict on a connected call. A callback schedules the lead again at that time; do not
    call lists the number for the whole account."""
    attempt = Attempt.objects.select_for_update(of=("self",)).select_related("lead", "campaign").filter(
        pk=attempt_id).first()
    if attempt is None:
        raise ActionError("attempt_not_found", _("There is no such attempt."))
    if attempt.answered_at is None:
        raise ActionError("not_answered", _("Only an answered call gets a disposition."))
    if kind not in DispositionKind.values:
        raise ActionError("bad_disposition", _("Unknown disposition."))
    at = now()
    if kind == DispositionKind.CALLBACK and (callback_at is None or callback_at <= at):
        raise ActionError("callback_at", _("A callback needs a time in the future."))
    disposition, _created = Disposition.objects.update_or_create(
        attempt=attempt, defaults={"kind": kind, "callback_at": callback_at if kind == DispositionKind.CALLBACK
                                   else None, "note": note[:500], "operator_id": operator_id, "at": at})
    lead = attempt.lead
    if kind == DispositionKind.CALLBACK:
        lead.state, lead.next_attempt_at = LeadState.RETRY, callback_at
        lead.save(update_fields=["state", "next_attempt_at"])
    elif kind == DispositionKind.DO_NOT_CALL:
        add_do_not_call(attempt.account_id, lead.phone, reason=_("Asked on a call"), by=by)
        Lead.objects.filter(pk=lead.pk).update(state=LeadState.DO_NOT_CALL, next_attempt_at=None)
    _campaign_event(attempt.campaign, "disposition", attempt=attempt.pk, kind=kind)
    outgoing.record([outgoing.OutgoingEvent(attempt.account_id, outgoing.EventType.DISPOSITION_SET, {
        "attempt_id": attempt.pk, "campaign_id": attempt.campaign_id, "lead_id": lead.pk, "call_id": attempt.call_id,
        "phone": lead.phone, "kind": kind, "note": disposition.note, "operator_id": operator_id,
        "callback_at": callback_at.isoformat() if kind == DispositionKind.CALLBACK and callback_at else None,
        "at": at.isoformat()}, f"call:{attempt.call_id}" if attempt.call_id else "")])
    return disposition
