"""The concurrency budget: every live call of an account holds one channel, within the plan's limit and
within every reseller's limit above it (domain.md, seeds 000 and 003).

- **Acquire before**: a channel is taken before an inbound call is answered or an outbound call is placed.
  Each account of the chain is counted with one conditional upsert
  (`… DO UPDATE SET in_use = in_use + 1 WHERE in_use < limit`): no number of processes can pass a limit,
  not even by one. The chain is locked in ascending id order, so acquirers that share a reseller never
  deadlock; a refusal deeper in the chain rolls back the counters already taken (savepoint).
- **Release after**: idempotent by call. The lease row is released with a conditional update, so a
  duplicate or late end event never frees a channel twice.
- **Leases** carry an expiry that the call's activity extends; `reconcile()` frees the leases of calls that
  ended or went silent past it, and records each repair.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q

from accounts.models import Account
from core.clock import now

from .choices import LeaseEnd
from .models import ChannelLease, ChannelUsage, LeaseRepair, LimitRefusal

REACH_PLAN_LIMIT = "REACH_PLAN_LIMIT"
MAX_DEPTH = 8  # accounts nest reseller → client; deeper chains are refused as a configuration error


def lease_seconds() -> int:
    return getattr(settings, "CHANNEL_LEASE_SECONDS", 4 * 3600)


@dataclass(frozen=True)
class Link:
    account_id: int
    limit: int


def chain_of(account_id: int) -> list[Link]:
    """The account and its resellers, with their current limits (plan + extra channels)."""
    links: list[Link] = []
    next_id: int | None = account_id
    while next_id is not None:
        account = Account.objects.select_related("plan").only(
            "parent_id", "extra_channels", "plan__included_channels").get(pk=next_id)
        links.append(Link(account.pk, account.plan.included_channels + account.extra_channels))
        if len(links) > MAX_DEPTH:
            raise ValueError("reseller chain too deep")
        next_id = account.parent_id
    return links


def _take(link: Link) -> bool:
    """One more channel on one account, if its limit allows (a single statement: atomic and exact)."""
    if link.limit <= 0:
        return False
    table = connection.ops.quote_name(ChannelUsage._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} AS u (account_id, in_use) VALUES (%s, 1) "
            f"ON CONFLICT (account_id) DO UPDATE SET in_use = u.in_use + 1 WHERE u.in_use < %s RETURNING in_use",
            [link.account_id, link.limit])
        return cur.fetchone() is not None


def _give_back(account_ids: list[int]) -> None:
    for account_id in sorted(account_ids):
        ChannelUsage.objects.filter(account_id=account_id, in_use__gt=0).update(in_use=F("in_use") - 1)


def acquire(call, direction: str) -> Account | None:
    """Hold a channel for `call` (already saved). Returns None, or the account whose limit is full.

    Must run inside the caller's transaction (the ACD's), so the lease and the call commit together.
    """
    links = chain_of(call.account_id)
    ordered = sorted(links, key=lambda link: link.account_id)
    if len(ordered) == 1:
        if not _take(ordered[0]):
            return _refuse(call, direction, ordered[0].account_id)
    else:
        full: list[int] = []
        try:
            with transaction.atomic():
                for link in ordered:
                    if not _take(link):
                        full.append(link.account_id)
                        raise _Full
        except _Full:
            return _refuse(call, direction, full[0])
    at = now()
    ChannelLease.objects.create(account_id=call.account_id, call=call, direction=direction,
                                chain=[link.account_id for link in ordered], acquired_at=at,
                                expires_at=at + dt.timedelta(seconds=lease_seconds()))
    return None


class _Full(Exception):
    pass


def _refuse(call, direction: str, limited_by: int) -> Account:
    LimitRefusal.objects.create(account_id=call.account_id, limited_by_id=limited_by, at=now(),
                                direction=direction, call_ref=call.engine_ref)
    return Account.objects.get(pk=limited_by)


@transaction.atomic
def release(call_id: int, *, ended_by: str = LeaseEnd.RELEASED) -> bool:
    """Give back the call's channel. True the first time, False for every duplicate."""
    at = now()
    lease = ChannelLease.objects.filter(call_id=call_id, released_at__isnull=True).select_for_update().first()
    if lease is None:
        return False
    ChannelLease.objects.filter(pk=lease.pk).update(released_at=at, ended_by=ended_by)
    _give_back(lease.chain)
    return True


def extend(call_id: int) -> None:
    """The call is alive: push its lease's expiry forward."""
    ChannelLease.objects.filter(call_id=call_id, released_at__isnull=True).update(
        expires_at=now() + dt.timedelta(seconds=lease_seconds()))


def in_use(account_id: int) -> int:
    return ChannelUsage.objects.filter(account_id=account_id).values_list("in_use", flat=True).first() or 0


def reconcile() -> int:
    """Free the leases whose call is over or silent past the expiry; record each repair."""
    from acd.choices import CallState

    at = now()
    repaired = 0
    suspects = ChannelLease.objects.filter(released_at__isnull=True).filter(
        Q(call__state=CallState.ENDED) | Q(expires_at__lte=at)).values_list("pk", "call_id", "call__state")
    for lease_id, call_id, state in suspects:
        with transaction.atomic():
            if not release(call_id, ended_by=LeaseEnd.REPAIRED):
                continue  # released meanwhile by its own end event
            if state == CallState.ENDED:
                reason = "the call had ended but its channel was still held"
            else:
                reason = "no sign of the call before the lease expired (end event lost)"
                _end_silent_call(call_id)
            LeaseRepair.objects.create(lease_id=lease_id, at=at, reason=reason)
            repaired += 1
    return repaired


def _end_silent_call(call_id: int) -> None:
    """A call whose engine went silent past the lease: close its record so the books stay right."""
    from acd.repair import end_lost_call

    end_lost_call(call_id)
