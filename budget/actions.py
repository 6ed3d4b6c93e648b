"""The concurrency budget: every live call of an account holds one channel, within the plan's limit and
within every reseller's limit above it (domain.md, seeds 000 and 003).

- **Acquire before**: a channel is taken before an inbound call is answered or an outbound call is placed.
  Each account of the chain is counted with one conditional upsert
  (`… DO UPDATE SET in_use = in_use + 1 WHERE in_use < limit`): no number of processes can pass a limit,
  not even by one. The chain is locked in ascending id order, so acquirers that share a reseller never
  deadlock; a refusal deeper in the chain rolls back the counters already taken (savepoint).
- **Release after**: idempotent by call. The lease row is released with a conditional update, so a
  duplicate or late end event never frees a channel twice.
- **One round trip** on PostgreSQL: acquire and release are each one prepared statement (writable CTEs)
  with the same rules; the statement-by-statement path serves embedded mode, and the tests run both.
- **Leases** carry an expiry that the call's activity extends, and the last "still up" its engine reported;
  `stale_leases()` finds the silent ones and `record_repair()` notes each fix. Ending the call behind a stale
  lease is the ACD's repair flow (`acd/flows/repair.py`): the budget knows nothing of calls' lifecycle.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q

from accounts.models import Account
from core.clock import now
from core.pipeline import DeferredWrites

from .choices import LeaseEnd
from .models import ChannelLease, ChannelUsage, LeaseRepair, LimitRefusal

REACH_PLAN_LIMIT = "REACH_PLAN_LIMIT"
MAX_DEPTH = 8  # accounts nest reseller → client; deeper chains are refused as a configuration error
# PostgreSQL takes the single-statement paths; tests set this to run the portable ones on PostgreSQL too.
PORTABLE_ONLY = False


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
    if connection.vendor == "postgresql" and not PORTABLE_ONLY:
        return _acquire_in_one_statement(call, direction)
    return _acquire_portable(call, direction)


def _acquire_portable(call, direction: str) -> Account | None:
    """Statement by statement (any database; embedded mode): the chain, one conditional upsert per account
    in id order inside a savepoint, then the lease."""
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


def _acquire_in_one_statement(call, direction: str) -> Account | None:
    """The same decision in one round trip (PostgreSQL): walk the chain, lock its counters in id order,
    and either count the call on every one of them and write the lease, or write the refusal naming the
    first full account. A counter row that does not exist yet is created once, then the statement runs
    again."""
    at = now()
    params = acquire_params(call.account_id, direction, call.engine_ref, at)
    params["call"] = call.pk
    row = _run_prepared(acquire_statement(), params)
    return acquire_outcome(row, call, direction)


def acquire_params(account_id: int, direction: str, call_ref: str, at: dt.datetime) -> dict:
    """The parameters of `acquire_statement` (a caller that runs it in its own round trip adds its own)."""
    return {"account": account_id, "direction": direction, "at": at, "ref": call_ref, "depth": MAX_DEPTH + 1,
            "expires": at + dt.timedelta(seconds=lease_seconds())}


@functools.cache
def acquire_statement(gate: str = "true", call_id: str = "%(call)s") -> str:
    """The acquire statement, for a caller that sends it in a round trip of its own making (the ACD sends
    it with the incoming call's first statement): `gate`, a condition in SQL, decides whether a channel is
    wanted at all; `call_id` is the lease's call. Its row goes to `acquire_outcome`."""
    return _ACQUIRE_SQL.format(gate=gate, call_id=call_id, locking="FOR UPDATE OF u", result=_VERDICT)


_VERDICT = "wanted, complete, fits, full_id, depth"


@functools.cache
def probe_statement(gate: str = "true") -> str:
    """The acquire statement's verdict, read without locking or writing anything: its row has the shape of
    `acquire_statement`'s. A caller that finds room takes the channel at its COMMIT (`acquire_at_commit`),
    so the account's counter row stays locked only while the server runs the last statements and the
    commit, not while the caller's code decides (every call of an account queues on that row)."""
    return _PROBE_SQL.format(gate=gate)


class Raced(Exception):
    """A channel that `probe_statement` found free was taken by another call before this one's COMMIT
    (`acquire_at_commit` aborted the transaction): run the unit again with the locking acquire."""


RACED_SQLSTATE = "CB001"  # raised by budget_require() (migration 0003): no channel at commit time


def raced(error: BaseException) -> bool:
    """Whether a database error is `acquire_at_commit` finding no room (the transaction is rolled back)."""
    cause = error.__cause__ if error.__cause__ is not None else error
    return getattr(cause, "sqlstate", None) == RACED_SQLSTATE


def acquire_at_commit(writes: DeferredWrites, account_id: int, direction: str, call_ref: str, call_id: int,
                      at: dt.datetime) -> None:
    """Take the channel a probe found free with the unit's last writes, just before its COMMIT: the same
    conditional statement as `acquire` (exact under any number of processes), which aborts the whole
    transaction when the room is gone by then (`Raced`)."""
    writes.execute(_AT_COMMIT_SQL, {**acquire_params(account_id, direction, call_ref, at), "call": call_id})


class NotWanted(Exception):
    """The acquire statement's gate was closed: it took nothing and wrote nothing."""


def held_by(row: tuple) -> bool:
    """Whether a run of `acquire_statement` took a channel (and wrote its lease)."""
    wanted, complete, fits, _full_id, _depth = row
    return bool(wanted and complete and fits)


def acquire_outcome(row: tuple, call, direction: str) -> Account | None:
    """The decision of one run of `acquire_statement`: None (a channel is held, the lease written) or the
    full account (the refusal written). Raises `NotWanted` when its gate was closed. The first call of an
    account (or of a new reseller) finds counters missing: the statement then locked nothing and wrote
    nothing; they are created in id order, and it runs again."""
    wanted, complete, fits, full_id, depth = row
    if not wanted:
        raise NotWanted
    if depth is None or depth > MAX_DEPTH:
        raise ValueError("reseller chain too deep" if depth else f"no account {call.account_id}")
    if complete:
        return None if fits else Account.objects.get(pk=full_id)
    params = {"account": call.account_id, "depth": MAX_DEPTH + 1}
    with connection.cursor() as cur:  # first call of an account (or of a new reseller): create counters
        cur.execute(_SEED_SQL, params)
    at = now()
    params = {**acquire_params(call.account_id, direction, call.engine_ref, at), "call": call.pk}
    wanted, complete, fits, full_id, _depth = _run_prepared(acquire_statement(), params)
    if not complete:
        raise RuntimeError(f"channel counters of account {call.account_id} could not be created")
    return None if fits else Account.objects.get(pk=full_id)


def _run_prepared(sql: str, params: dict) -> tuple:
    """Run one of the budget's statements as a server-side prepared statement: PostgreSQL plans it once per
    connection instead of on every call (planning this chain of CTEs costs more than running it)."""
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cur:
        cur.execute(sql, params, prepare=True)
        return cur.fetchone()


_CHAIN_CTE = """
WITH RECURSIVE chain AS (
    SELECT a.id, a.parent_id, p.included_channels + a.extra_channels AS lim, 1 AS depth
      FROM accounts_account a JOIN billing_plan p ON p.id = a.plan_id
     WHERE a.id = %(account)s
    UNION ALL
    SELECT a.id, a.parent_id, p.included_channels + a.extra_channels, c.depth + 1
      FROM chain c JOIN accounts_account a ON a.id = c.parent_id JOIN billing_plan p ON p.id = a.plan_id
     WHERE c.depth < %(depth)s
)"""

_SEED_SQL = _CHAIN_CTE + """
INSERT INTO billing_channelusage (account_id, in_use) SELECT id, 0 FROM chain ORDER BY id
ON CONFLICT (account_id) DO NOTHING"""

# `locked` takes the counters' row locks in ascending id order (LockRows above the Sort), so acquirers that
# share a reseller queue instead of deadlocking, and reads each counter's latest committed value. It locks
# nothing unless every counter of the chain exists: an acquirer that holds some counters must never wait
# for a counter another transaction is still creating (that one may be waiting for the counters held, the
# deadlock of a burst of first calls). The counters move only if every one of them has room; otherwise
# the refusal names the first full one. With `gate` false nothing is counted, locked or written.
_ACQUIRE_SQL = """
WITH RECURSIVE wanted AS (SELECT ({gate}) AS yes),
chain AS (
    SELECT a.id, a.parent_id, p.included_channels + a.extra_channels AS lim, 1 AS depth
      FROM accounts_account a JOIN billing_plan p ON p.id = a.plan_id
     WHERE a.id = %(account)s AND (SELECT yes FROM wanted)
    UNION ALL
    SELECT a.id, a.parent_id, p.included_channels + a.extra_channels, c.depth + 1
      FROM chain c JOIN accounts_account a ON a.id = c.parent_id JOIN billing_plan p ON p.id = a.plan_id
     WHERE c.depth < %(depth)s
),
locked AS (
    SELECT u.account_id, u.in_use, c.lim
      FROM billing_channelusage u JOIN chain c ON c.id = u.account_id
     WHERE (SELECT count(*) FROM billing_channelusage e JOIN chain k ON k.id = e.account_id)
           = (SELECT count(*) FROM chain)
     ORDER BY u.account_id
       {locking}
),
verdict AS (
    SELECT (SELECT yes FROM wanted) AS wanted,
           count(*) = (SELECT count(*) FROM chain) AND count(*) > 0 AS complete,
           coalesce(bool_and(in_use < lim), false) AS fits,
           min(account_id) FILTER (WHERE in_use >= lim) AS full_id,
           (SELECT max(depth) FROM chain) AS depth
      FROM locked
),
counted AS (
    UPDATE billing_channelusage u SET in_use = u.in_use + 1
      FROM locked, verdict
     WHERE u.account_id = locked.account_id AND verdict.complete AND verdict.fits
    RETURNING u.account_id
),
lease AS (
    INSERT INTO billing_channellease (account_id, call_id, direction, chain, acquired_at, expires_at, ended_by)
    SELECT %(account)s, {call_id}, %(direction)s, (SELECT jsonb_agg(id ORDER BY id) FROM chain), %(at)s,
           %(expires)s, ''
      FROM verdict WHERE complete AND fits
    RETURNING id
),
refusal AS (
    INSERT INTO billing_limitrefusal (account_id, limited_by_id, at, direction, call_ref)
    SELECT %(account)s, full_id, %(at)s, %(direction)s, %(ref)s FROM verdict WHERE complete AND NOT fits
    RETURNING id
)
SELECT {result} FROM verdict"""  # the writing CTEs run exactly once, read or not

_AT_COMMIT_SQL = _ACQUIRE_SQL.format(gate="true", call_id="%(call)s", locking="FOR UPDATE OF u",
                                     result="budget_require(complete AND fits)")

# The verdict alone, on the counters' latest committed values, locking nothing.
_PROBE_SQL = _ACQUIRE_SQL.split("counted AS (")[0].rstrip().rstrip(",").replace("{locking}", "") + """
SELECT wanted, complete, fits, full_id, depth FROM verdict"""


class _Full(Exception):
    pass


def _refuse(call, direction: str, limited_by: int) -> Account:
    LimitRefusal.objects.create(account_id=call.account_id, limited_by_id=limited_by, at=now(),
                                direction=direction, call_ref=call.engine_ref)
    return Account.objects.get(pk=limited_by)


def release_with_commit(call_id: int, writes: DeferredWrites, *, ended_by: str = LeaseEnd.RELEASED) -> None:
    """Give back the call's channel with the unit's other writes and its COMMIT (`core.pipeline`): the same
    statement as `release`, idempotent by call, whose answer nobody waits for. A call's end costs no round
    trip of its own."""
    writes.execute(_RELEASE_SQL, {"call": call_id, "at": now(), "ended_by": ended_by})


def release(call_id: int, *, ended_by: str = LeaseEnd.RELEASED) -> bool:
    """Give back the call's channel. True the first time, False for every duplicate."""
    if connection.vendor == "postgresql" and not PORTABLE_ONLY:
        # One statement: atomic on its own, or part of the caller's transaction.
        return _run_prepared(_RELEASE_SQL, {"call": call_id, "at": now(), "ended_by": ended_by})[0] > 0
    return _release_portable(call_id, ended_by)


@transaction.atomic
def _release_portable(call_id: int, ended_by: str) -> bool:
    at = now()
    lease = ChannelLease.objects.filter(call_id=call_id, released_at__isnull=True).select_for_update().first()
    if lease is None:
        return False
    ChannelLease.objects.filter(pk=lease.pk).update(released_at=at, ended_by=ended_by)
    _give_back(lease.chain)
    return True


# The lease row's conditional update decides "first time or duplicate" (a concurrent duplicate waits for
# the row and then finds it released); the counters it held are locked in ascending id order, as acquire
# does, and each gives back one.
_RELEASE_SQL = """
WITH lease AS (
    UPDATE billing_channellease SET released_at = %(at)s, ended_by = %(ended_by)s
     WHERE call_id = %(call)s AND released_at IS NULL
    RETURNING chain
),
held AS (
    SELECT u.account_id
      FROM billing_channelusage u
     WHERE u.account_id IN (SELECT jsonb_array_elements_text(chain)::bigint FROM lease)
     ORDER BY u.account_id
       FOR UPDATE OF u
),
given_back AS (
    UPDATE billing_channelusage u SET in_use = u.in_use - 1
      FROM held WHERE u.account_id = held.account_id AND u.in_use > 0
    RETURNING u.account_id
)
SELECT count(*) FROM lease"""


def extend(call_id: int) -> None:
    """The call is alive: push its lease's expiry forward."""
    ChannelLease.objects.filter(call_id=call_id, released_at__isnull=True).update(
        expires_at=now() + dt.timedelta(seconds=lease_seconds()))


def in_use(account_id: int) -> int:
    return ChannelUsage.objects.filter(account_id=account_id).values_list("in_use", flat=True).first() or 0


def silence_seconds() -> int:
    """How long a lease whose holder reports itself alive (the engine's `call_alive`) may stay silent."""
    return getattr(settings, "LEASE_SILENCE_SECONDS", 120)


@dataclass(frozen=True)
class StaleLease:
    lease_id: int
    call_id: int
    last_alive: dt.datetime  # the last sign of life the lease saw: a heartbeat, or its last renewal


def stale_leases(at: dt.datetime) -> list[StaleLease]:
    """The reconciler's primitive: live leases whose holder went silent. A lease whose holder has reported
    itself alive (`alive_at`) is stale once silent for `silence_seconds()`; any other once past its expiry.
    What the holder was, and how to end it, is the caller's business (the ACD's repair flow). Accounts driven
    by the simulator at full speed run on its clock, not the wall's: their leases are left to it."""
    silent_since = at - dt.timedelta(seconds=silence_seconds())
    renewal = dt.timedelta(seconds=lease_seconds())
    rows = (ChannelLease.objects.filter(released_at__isnull=True, account__is_simulation=False)
            .filter(Q(alive_at__isnull=True, expires_at__lte=at) | Q(alive_at__lte=silent_since))
            .order_by("call_id").values_list("pk", "call_id", "alive_at", "expires_at"))
    return [StaleLease(lease_id, call_id, max(expires_at - renewal, alive_at or expires_at - renewal))
            for lease_id, call_id, alive_at, expires_at in rows]  # the later of the last renewal and heartbeat


def record_repair(lease_id: int, reason: str, at: dt.datetime) -> None:
    LeaseRepair.objects.create(lease_id=lease_id, at=at, reason=reason)
