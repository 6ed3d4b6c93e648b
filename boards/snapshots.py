"""Full snapshots of what the console and the wallboard show, built from the database (the one source of
truth). A client gets one on connect, on reconnect and whenever it sees a gap in sequence numbers."""

from __future__ import annotations

from typing import Any

from accounts.models import Account
from acd.choices import OfferState
from acd.clockutil import start_of_day
from acd.models import Offer
from acd.screen import screen_info
from acd.stats import operator_stats, service_stats
from agents.actions import operator_snapshot
from agents.models import Operator, PauseReason
from budget import actions as budget
from budget.models import LimitRefusal
from core import console
from core.clock import now
from routing.models import Service


def offer_card(operator: Operator) -> dict[str, Any] | None:
    offer = (Offer.objects.filter(operator=operator, state=OfferState.RINGING)
             .select_related("call", "call__service", "call__service__account").first())
    if offer is None:
        return None
    # The card as the `offer` event carried it: the wait is the caller's wait when the operator was rung.
    return {**screen_info(offer.call, offer.call.service, offer.created_at), "leg": offer.leg_ref}


def pause_reasons(account_id: int) -> list[dict[str, Any]]:
    """The account's list; when it is not empty a pause from the console or the wallboard must pick one."""
    return list(PauseReason.objects.filter(account_id=account_id, is_active=True).order_by("name")
                .values("id", "name"))


def console_snapshot(operator_id: int) -> dict[str, Any]:
    op = Operator.objects.select_related("pause_reason", "account").get(pk=operator_id)
    return {"operator": operator_snapshot(op), "offer": offer_card(op),
            "pause_reasons": pause_reasons(op.account_id), "account": op.account.name,
            **console.snapshot_parts(op.pk)}  # e.g. the dialer's preview card


def wallboard_snapshot(account_id: int) -> dict[str, Any]:
    at = now()
    account = Account.objects.select_related("plan").get(pk=account_id)
    services = list(Service.objects.filter(account_id=account_id, is_active=True).order_by("name"))
    today = start_of_day(at, account.timezone)
    ops = {o["id"]: o for o in (operator_snapshot(op) for op in Operator.objects.filter(
        account_id=account_id, is_active=True).select_related("pause_reason").order_by("name"))}
    rows = []
    for row in operator_stats(account_id, today, at):
        if row["operator_id"] in ops:
            rows.append({**ops[row["operator_id"]], "calls_today": row["calls"], "talk_minutes": row["talk_minutes"],
                         "no_answer": row["no_answer"]})
    return {
        "services": [service_stats(s, today, at, at) for s in services],
        "operators": rows,
        "channels": {"in_use": budget.in_use(account_id), "limit": account.channel_limit,
                     "refusals_today": LimitRefusal.objects.filter(account_id=account_id, at__gte=today).count()},
        "pause_reasons": pause_reasons(account_id),
        "at": at.isoformat(),
    }
