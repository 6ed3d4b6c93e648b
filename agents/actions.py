"""Every operator state change goes through here: locked, logged, pushed after commit.

The transition table is the operator state machine; an illegal change raises
`IllegalTransition` with a message a supervisor can read, and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.clock import now
from core.errors import ActionError, IllegalTransition
from core.events import account_group, operator_group, send_event_on_commit
from core.pipeline import DeferredWrites

from .choices import OperatorState, PauseSource, Via
from .models import Operator, OperatorEvent, PauseReason
from .signals import operator_available

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
        "no_answer_streak": op.no_answer_streak,
        "wrapup_until": op.wrapup_until.isoformat() if op.wrapup_until else None,
        "version": op.version,
    }


def lock_operator(operator_id: int) -> Operator:
    try:
        return Operator.objects.select_for_update(of=("self",)).select_related("pause_reason").get(
            pk=operator_id)
    except Operator.DoesNotExist as exc:
        raise ActionError("operator_not_found", _("There is no such operator.")) from exc


def transition_locked(op: Operator, to_state: str, *, via: str, reason: str = "",
                      pause_source: str = "", pause_reason: PauseReason | None = None,
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
    op.state = to_state
    op.state_changed_at = at
    if to_state == S.PAUSED:
        op.pause_source = pause_source or PauseSource.OPERATOR
        op.pause_reason = pause_reason
    else:
        op.pause_source = ""
        op.pause_reason = None
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
    fields = ["state", "state_changed_at", "pause_source", "pause_reason", "available_since", "no_answer_streak",
              "last_call_ended_at", "wrapup_until", "backoff_until", "version"]
    entry = OperatorEvent(
        account_id=op.account_id, operator=op, at=at, from_state=from_state, to_state=to_state,
        pause_source=op.pause_source, reason=reason or (pause_reason.name if pause_reason else ""), via=via,
        call_id=call_id,
    )
    if writes is None:
        op.save(update_fields=fields)
        entry.save()
    else:
        writes.save(op, [op._meta.get_field(name).attname for name in fields])
        writes.insert([entry])
    send_event_on_commit(
        [operator_group(op.pk), account_group(op.account_id)],
        {"type": "operator.state", "v": 1, "account": op.account_id, "operator": operator_snapshot(op),
         "previous": from_state},
    )
    return op


@transaction.atomic
def login_operator(operator_id: int, *, via: str = Via.API) -> Operator:
    """Step 5 of the setup: the operator is ready to receive calls."""
    op = lock_operator(operator_id)
    if not op.is_active:
        raise ActionError("operator_inactive", _("This operator is deactivated."))
    if op.state != S.LOGGED_OUT:
        raise IllegalTransition("already_logged_in", _("The operator is already logged in."))
    op = transition_locked(op, S.AVAILABLE, via=via)
    _announce_available(op)
    return op


def _announce_available(op: Operator) -> None:
    operator_id = op.pk
    transaction.on_commit(lambda: operator_available.send(sender=Operator, operator_id=operator_id))


@transaction.atomic
def pause_operator(operator_id: int, *, reason_id: int | None = None, source: str = PauseSource.OPERATOR,
                   via: str = Via.API) -> Operator:
    """Step 6: not available for a while. The reason comes from the account's own list."""
    op = lock_operator(operator_id)
    reason = None
    if reason_id is not None:
        reason = PauseReason.objects.filter(pk=reason_id, account_id=op.account_id, is_active=True).first()
        if reason is None:
            raise ActionError("unknown_pause_reason", _("This account has no such pause reason."))
    if op.state == S.PAUSED:
        raise IllegalTransition("already_paused", _("The operator is already paused."))
    if op.state in (S.ON_CALL, S.RINGING):
        raise IllegalTransition("on_call", _("The operator has a call: pause after it ends."))
    return transition_locked(op, S.PAUSED, via=via, pause_source=source, pause_reason=reason)


@transaction.atomic
def resume_operator(operator_id: int, *, via: str = Via.API) -> Operator:
    op = lock_operator(operator_id)
    if op.state != S.PAUSED:
        raise IllegalTransition("not_paused", _("Only a paused operator can resume."))
    op = transition_locked(op, S.AVAILABLE, via=via)
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
    return transition_locked(op, S.LOGGED_OUT, via=via)
