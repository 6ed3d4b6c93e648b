"""Every operator state change goes through here: locked, logged, pushed after commit.

The transition table is the operator state machine; an illegal change raises
`IllegalTransition` with a message a supervisor can read, and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from core import outgoing
from core.clock import now
from core.errors import ActionError, IllegalTransition, MissingInput
from core.events import account_group, operator_group, send_event_on_commit
from core.pipeline import DeferredWrites, begin_with, columns, instance, owns_transaction

from .choices import OperatorState, PauseSource, Via
from .models import ConsolePresence, Operator, OperatorEvent, PauseReason, SipRegistration
from .signals import operator_available, reservation_lost

S = OperatorState

TRANSITIONS: dict[str, frozenset[str]] = {
    S.LOGGED_OUT: frozenset({S.AVAILABLE}),
    S.AVAILABLE: frozenset({S.RINGING, S.PAUSED, S.LOGGED_OUT}),
    S.RINGING: frozenset({S.ON_CALL, S.AVAILABLE, S.PAUSED, S.LOGGED_OUT}),
    S.ON_CALL: frozenset({S.WRAP_UP, S.AVAILABLE}),
    S.WRAP_UP: frozenset({S.AVAILABLE, S.PAUSED, S.LOGGED_OUT}),
    S.PAUSED: frozenset({S.AVAILABLE, S.LOGGED_OUT}),
}

# States in which an operator can take the next call (with `available_since` as "free since").
READY_STATES = frozenset({S.AVAILABLE})


def operator_snapshot(op: Operator) -> dict[str, Any]:
    """The operator as the console and the wallboard show it (also the event body)."""
    return {
        "id": op.pk,
        "name": op.name,
        "login": op.login,
        "state": op.state,
        "since": op.state_changed_at.isoformat() if op.state_changed_at else None,
        "pause_source": op.pause_source or None,
        "pause_reason": op.pause_reason.name if op.pause_reason_id and op.pause_reason else None,
        "paused_by": op.paused_by or None,
        "no_answer_streak": op.no_answer_streak,
        "wrapup_until": op.wrapup_until.isoformat() if op.wrapup_until else None,
        "version": op.version,
    }


def _lock_sql() -> str:
    return (f"SELECT {columns(Operator, 'p')}, {columns(PauseReason, 'r')} FROM {Operator._meta.db_table} p "
            f"LEFT JOIN {PauseReason._meta.db_table} r ON r.id = p.pause_reason_id "
            "WHERE p.id = %(operator)s FOR UPDATE OF p")


def lock_operator(operator_id: int) -> Operator:
    """The operator's row, locked, with their pause reason. Opening a transaction, it goes with the BEGIN in
    one round trip (`core.pipeline.begin_with`): a presence change is then that trip and its COMMIT's."""
    rows = begin_with([(_lock_sql(), {"operator": operator_id})])[0]
    if not rows:
        raise ActionError("operator_not_found", _("There is no such operator."))
    width = len(Operator._meta.concrete_fields)
    op = instance(Operator, rows[0][:width])
    op.pause_reason = instance(PauseReason, rows[0][width:])
    return op


def _transition_and_commit(op: Operator, to_state: str, **how: Any) -> Operator:
    """`transition_locked` for an action that ends with it: the row, its log entry and the integrators'
    event are sent with the COMMIT in one round trip (when the action owns its transaction; inside a
    caller's transaction they are sent at once, in one round trip, and the caller commits)."""
    writes = DeferredWrites()
    op = transition_locked(op, to_state, writes=writes, **how)
    writes.flush(commit=owns_transaction())
    return op


def transition_locked(op: Operator, to_state: str, *, via: str, reason: str = "",
                      pause_source: str = "", pause_reason: PauseReason | None = None, by: str = "",
                      call_id: int | None = None, writes: DeferredWrites | None = None) -> Operator:
    """Move an operator whose row this transaction already holds locked (and read under that lock). Callers:
    the actions below and the ACD.

    The per-operator `version` rises by one in the same UPDATE: the row lock orders the changes of one
    operator, so their versions commit in order, whatever order their events later reach a browser in.
    With `writes` (the ACD's unit of work) the row and its log entry are sent with the unit's other writes
    and its COMMIT, in one round trip; without, at once.
    """
    from_state = op.state
    if to_state not in TRANSITIONS[from_state]:
        raise IllegalTransition(
            "illegal_transition",
            _("An operator who is %(from)s cannot become %(to)s.")
            % {"from": S(from_state).label, "to": S(to_state).label},
        )
    at = now()
    # Held back from calls (a reservation, see `reserve` below) and leaving the available state: whoever
    # reserved them is told after the commit (the dialer puts the lead they were previewing back).
    reserved = from_state == S.AVAILABLE and op.backoff_until is not None and op.backoff_until > at
    op.state = to_state
    op.state_changed_at = at
    if to_state == S.PAUSED:
        op.pause_source = pause_source or PauseSource.OPERATOR
        op.pause_reason = pause_reason
        op.paused_by = by if op.pause_source == PauseSource.SUPERVISOR else ""
    else:
        op.pause_source = ""
        op.pause_reason = None
        op.paused_by = ""
    if to_state == S.AVAILABLE:
        op.available_since = at
    elif from_state == S.AVAILABLE:
        op.available_since = None
    if from_state == S.LOGGED_OUT:
        op.no_answer_streak = 0  # a fresh login forgives earlier missed calls
    if to_state != S.WRAP_UP:
        op.wrapup_until = None
    if to_state != S.AVAILABLE:
        op.backoff_until = None
    op.version += 1
    fields = ["state", "state_changed_at", "pause_source", "pause_reason", "paused_by", "available_since",
              "no_answer_streak", "last_call_ended_at", "wrapup_until", "backoff_until", "version"]
    entry = OperatorEvent(
        account_id=op.account_id, operator=op, at=at, from_state=from_state, to_state=to_state,
        pause_source=op.pause_source, reason=reason or (pause_reason.name if pause_reason else ""), via=via,
        by=by, call_id=call_id,
    )
    if writes is None:
        op.save(update_fields=fields)
        entry.save()
    else:
        writes.save(op, [op._meta.get_field(name).attname for name in fields])
        writes.insert([entry])
    snapshot = operator_snapshot(op)
    send_event_on_commit(
        [operator_group(op.pk), account_group(op.account_id)],
        {"type": "operator.state", "v": 1, "account": op.account_id, "operator": snapshot, "previous": from_state},
    )
    if reserved:
        _announce_reservation_lost(op)
    if outgoing.wanted():  # in this transaction (with `writes`, with its COMMIT): core.outgoing
        outgoing.record([outgoing.OutgoingEvent(
            op.account_id, outgoing.EventType.OPERATOR_STATE_CHANGED,
            {"operator": snapshot, "previous": from_state, "via": via, "call_id": call_id},
            f"operator:{op.pk}")], writes)
    return op


@transaction.atomic
def login_operator(operator_id: int, *, via: str = Via.API) -> Operator:
    """Step 5 of the setup: the operator is ready to receive calls."""
    op = lock_operator(operator_id)
    if not op.is_active:
        raise ActionError("operator_inactive", _("This operator is deactivated."))
    if op.state != S.LOGGED_OUT:
        raise IllegalTransition("already_logged_in", _("The operator is already logged in."))
    op = _transition_and_commit(op, S.AVAILABLE, via=via)
    _announce_available(op)
    return op


def _announce_available(op: Operator) -> None:
    operator_id, account_id = op.pk, op.account_id
    transaction.on_commit(lambda: operator_available.send(sender=Operator, operator_id=operator_id,
                                                          account_id=account_id))


def _announce_reservation_lost(op: Operator) -> None:
    operator_id, account_id, state = op.pk, op.account_id, op.state
    transaction.on_commit(lambda: reservation_lost.send(sender=Operator, operator_id=operator_id,
                                                        account_id=account_id, state=state))


# --- reservations: an available operator held back from calls for work of their own ---------------------
# The dialer's preview: an operator reading a lead (and then waiting for the call they dialled) must not be
# rung by another call meanwhile. The reservation is the operator's `backoff_until` ("not offered calls
# until"), which routing's free-operator filter, the ACD's offer to a freed operator and its timers already
# respect: no second column, routing's statements unchanged; when it passes, the ACD's sweep offers the
# operator the waiting calls, as after any back-off. Any state change ends it (`transition_locked` clears
# `backoff_until` on leaving the available state, and tells whoever held it: `reservation_lost`).

def reserve(op: Operator, until: dt.datetime) -> Operator:
    """Offer no call to the operator (their row locked by this transaction, read under the lock) before
    `until`. Only an available operator can be reserved."""
    if op.state != S.AVAILABLE:
        raise IllegalTransition("not_available", _("Only an available operator can be held back from calls."))
    op.backoff_until = until
    Operator.objects.filter(pk=op.pk).update(backoff_until=until)
    return op


def end_reservation(op: Operator, *, offer: bool = True) -> bool:
    """The operator (locked by this transaction) may take calls again. With `offer`, the ACD offers them a
    waiting call after the commit (`operator_available`); without, the caller hands them a call itself in
    this transaction (the dialer's previewed call, answered). False: they were not held back."""
    if op.state != S.AVAILABLE or op.backoff_until is None:
        return False
    op.backoff_until = None
    Operator.objects.filter(pk=op.pk).update(backoff_until=None)
    if offer:
        _announce_available(op)
    return True


# Where a person pauses on a screen that offers the account's list of reasons: there, an account that keeps
# a list wants one picked. By phone (DTMF) there is no list to pick from, and the ACD's own pauses carry
# their cause in `pause_source`.
REASON_REQUIRED_VIA = frozenset({Via.CONSOLE, Via.API})


@transaction.atomic
def pause_operator(operator_id: int, *, reason_id: int | None = None, source: str = PauseSource.OPERATOR,
                   via: str = Via.API, by: str = "") -> Operator:
    """Step 6: not available for a while. The reason comes from the account's own list, and is required
    where the list is offered (REASON_REQUIRED_VIA) if the account has one. `by`: the supervisor's name
    for a supervisor's pause, which the operator's console shows."""
    op = lock_operator(operator_id)
    reason = None
    if reason_id is not None:
        reason = PauseReason.objects.filter(pk=reason_id, account_id=op.account_id, is_active=True).first()
        if reason is None:
            raise ActionError("unknown_pause_reason", _("This account has no such pause reason."))
    elif via in REASON_REQUIRED_VIA and source in (PauseSource.OPERATOR, PauseSource.SUPERVISOR) and \
            PauseReason.objects.filter(account_id=op.account_id, is_active=True).exists():
        raise MissingInput("pause_reason_required", _("Choose a pause reason."), field="reason")
    if op.state == S.PAUSED:
        raise IllegalTransition("already_paused", _("The operator is already paused."))
    if op.state in (S.ON_CALL, S.RINGING):
        raise IllegalTransition("on_call", _("The operator has a call: pause after it ends."))
    return _transition_and_commit(op, S.PAUSED, via=via, pause_source=source, pause_reason=reason, by=by)


@transaction.atomic
def resume_operator(operator_id: int, *, via: str = Via.API) -> Operator:
    op = lock_operator(operator_id)
    if op.state != S.PAUSED:
        raise IllegalTransition("not_paused", _("Only a paused operator can resume."))
    op = _transition_and_commit(op, S.AVAILABLE, via=via)
    _announce_available(op)
    return op


@transaction.atomic
def logoff_operator(operator_id: int, *, via: str = Via.API) -> Operator:
    """Step 6: the operator leaves. Refused during a call so that no caller is cut off."""
    op = lock_operator(operator_id)
    if op.state == S.LOGGED_OUT:
        raise IllegalTransition("not_logged_in", _("The operator is not logged in."))
    if op.state in (S.ON_CALL, S.RINGING):
        raise IllegalTransition("on_call", _("The operator has a call: log off after it ends."))
    return _transition_and_commit(op, S.LOGGED_OUT, via=via)


# --- the console's open sockets and the log-off after the last one closes ---------------------------------
# Lock order: a console presence row before its operator's row (the sweep below and the sign-out take both;
# nothing takes them the other way round).

def _presence_table() -> str:
    return ConsolePresence._meta.db_table


def console_opened(operator_id: int) -> None:
    """A console socket of the operator connected: one more open, and any pending log-off is cancelled."""
    table = _presence_table()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (operator_id, sockets, logoff_due_at, detached) VALUES (%s, 1, NULL, false) "
            f"ON CONFLICT (operator_id) DO UPDATE SET sockets = {table}.sockets + 1, logoff_due_at = NULL, "
            "detached = false", [operator_id])


def console_closed(operator_id: int) -> None:
    """A console socket closed. If it was the last, the log-off falls due at the end of the grace period
    (`CONSOLE_LOGOFF_GRACE_SECONDS`; 0 turns it off), unless the operator signed out choosing to stay
    logged in. One statement: two sockets closing at once cannot both miss being the last."""
    grace = settings.CONSOLE_LOGOFF_GRACE_SECONDS
    due = now() + dt.timedelta(seconds=grace) if grace > 0 else None
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_presence_table()} SET sockets = GREATEST(sockets - 1, 0), "
            "logoff_due_at = CASE WHEN sockets <= 1 AND NOT detached THEN %s ELSE logoff_due_at END "
            "WHERE operator_id = %s", [due, operator_id])


@transaction.atomic
def console_signed_out(operator_id: int, *, log_off: bool) -> Operator | None:
    """The operator signs out of the console: logging off as well (no more calls) or staying logged in
    (calls keep ringing their phone), in which case no log-off follows the console's closing."""
    ConsolePresence.objects.update_or_create(operator_id=operator_id,
                                             defaults={"logoff_due_at": None, "detached": not log_off})
    if not log_off:
        return None
    op = lock_operator(operator_id)
    if op.state == S.LOGGED_OUT:
        return op
    return logoff_operator(operator_id, via=Via.CONSOLE)


def logoff_unattended_consoles(limit: int = 200) -> int:
    """Log off the operators whose last console closed more than the grace period ago (Celery beat, every
    few seconds). Each in its own transaction, under the presence row's lock, re-checked there: a sweep run
    twice, or a console reconnecting meanwhile, logs nobody off twice or wrongly. An operator on a call
    stays due and is logged off by a later sweep, once the call has ended."""
    due = list(ConsolePresence.objects.filter(logoff_due_at__lte=now(), sockets=0)
               .order_by("logoff_due_at").values_list("operator_id", flat=True)[:limit])
    done = 0
    for operator_id in due:
        done += _logoff_unattended(operator_id)
    return done


@transaction.atomic
def _logoff_unattended(operator_id: int) -> int:
    presence = (ConsolePresence.objects.select_for_update(skip_locked=True)
                .filter(operator_id=operator_id, sockets=0, logoff_due_at__lte=now()).first())
    if presence is None:  # reconnected, or another sweep has it
        return 0
    op = lock_operator(operator_id)
    if op.state in (S.ON_CALL, S.RINGING):
        return 0
    ConsolePresence.objects.filter(pk=operator_id).update(logoff_due_at=None)
    if op.state == S.LOGGED_OUT:
        return 0
    transition_locked(op, S.LOGGED_OUT, via=Via.SYSTEM, reason="console closed")
    return 1


# --- operators' SIP phones (Kamailio's registrar reports through webhook/sip.py) ---------------------------
# A registered phone logs its operator in, an unregistered or lapsed one logs them off: the ACD only ever
# offers calls to logged-in operators, so an unregistered phone is never rung (the candidate query is
# untouched). Lock order: the operator's row, then their registration's.

def _announce_phone(op: Operator, registration: SipRegistration, registered: bool) -> None:
    send_event_on_commit(
        [operator_group(op.pk), account_group(op.account_id)],
        {"type": "operator.phone", "v": 1, "account": op.account_id, "operator": op.pk, "registered": registered,
         "contact": registration.contact if registered else "",
         "expires_at": registration.expires_at.isoformat() if registered else None})


def _stale(registration: SipRegistration | None, as_of: dt.datetime | None) -> bool:
    """A report the registrar read before the one already applied: older news, to be ignored."""
    return (as_of is not None and registration is not None and registration.reported_at is not None
            and as_of <= registration.reported_at)


@transaction.atomic
def register_phone(operator_id: int, *, contact: str, expires_seconds: int,
                   as_of: dt.datetime | None = None) -> SipRegistration | None:
    """The operator's phone registered (or refreshed its registration) at `contact` for `expires_seconds`.
    A logged-out operator is logged in (a phone that registers is ready for calls); any other state is
    left as it is. A refresh changes only the expiry: the log gets a row only when the state changes.
    `as_of` (the registrar's clock) orders reports: an older one than the last applied returns None."""
    if expires_seconds <= 0:
        raise MissingInput("expires_required", _("A registration lasts some seconds."), field="expires")
    op = lock_operator(operator_id)
    if not op.is_active:
        raise ActionError("operator_inactive", _("This operator is deactivated."))
    if _stale(SipRegistration.objects.select_for_update().filter(operator_id=op.pk).first(), as_of):
        return None
    at = now()
    values: dict[str, Any] = {"contact": contact[:255], "registered_at": at, "swept": False,
                              "expires_at": at + dt.timedelta(seconds=expires_seconds)}
    if as_of is not None:
        values["reported_at"] = as_of
    registration, _created = SipRegistration.objects.update_or_create(operator_id=op.pk, defaults=values)
    if op.state == S.LOGGED_OUT:
        op = transition_locked(op, S.AVAILABLE, via=Via.SIP_PHONE, reason="SIP phone registered")
        _announce_available(op)
    _announce_phone(op, registration, True)
    return registration


@transaction.atomic
def unregister_phone(operator_id: int, *, as_of: dt.datetime | None = None) -> SipRegistration | None:
    """The operator's phone unregistered (expires=0): the registration lapses now and the operator is logged
    off, unless on a call (then the sweep logs them off once it has ended). Twice is once. A report the
    registrar read before the last applied one (`as_of`: a late unregistration of a phone that registered
    again since) changes nothing and returns None."""
    op = lock_operator(operator_id)
    registration = SipRegistration.objects.select_for_update().filter(operator_id=op.pk).first()
    if registration is None or _stale(registration, as_of):
        return None
    if as_of is not None:
        registration.reported_at = as_of
        registration.save(update_fields=["reported_at"])
    if registration.expires_at > now():
        registration.expires_at = now()
        registration.save(update_fields=["expires_at"])
        _announce_phone(op, registration, False)
    _sweep_locked(op, registration)
    return registration


def _sweep_locked(op: Operator, registration: SipRegistration) -> int:
    """A lapsed registration: log the operator off (both rows locked), or leave it due during a call."""
    if registration.swept or op.state in (S.ON_CALL, S.RINGING):
        return 0
    registration.swept = True
    registration.save(update_fields=["swept"])
    if op.state == S.LOGGED_OUT:
        return 0
    transition_locked(op, S.LOGGED_OUT, via=Via.SIP_PHONE, reason="SIP phone unregistered")
    return 1


def expire_phone_registrations(limit: int = 200) -> int:
    """Log off the operators whose phone registration lapsed (Celery beat, every few seconds; due by database
    timestamp). Each in its own transaction, re-checked under the locks: a refresh meanwhile wins."""
    due = list(SipRegistration.objects.filter(swept=False, expires_at__lte=now())
               .order_by("expires_at").values_list("operator_id", flat=True)[:limit])
    return sum(_expire_one(operator_id) for operator_id in due)


@transaction.atomic
def _expire_one(operator_id: int) -> int:
    op = lock_operator(operator_id)
    registration = (SipRegistration.objects.select_for_update(skip_locked=True)
                    .filter(operator_id=operator_id, swept=False, expires_at__lte=now()).first())
    if registration is None:
        return 0
    return _sweep_locked(op, registration)


def phone_contact(operator_id: int) -> str:
    """Where the operator's phone is registered now, or '' (then calls go to the configured endpoint)."""
    return (SipRegistration.objects.filter(operator_id=operator_id, expires_at__gt=now())
            .values_list("contact", flat=True).first() or "")
