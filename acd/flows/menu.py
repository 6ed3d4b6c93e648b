"""Voice menus (ivr): the caller hears a menu, presses a digit, and the option takes them on.

A number linked to a menu (`ivr.MenuNumber`) answers with the menu's prompt and a `CollectDigits` for one
digit; the engine's `Digits` event ('' when the caller pressed nothing before the timeout) picks the option.
Invalid choices and silence repeat the menu up to its retries, then its fallback. The call stays
`collecting` while in a menu (`call.menu`); each choice is appended to `call.menu_path` (the call's type:
the operator's card, the whisper, the API) and written to `ivr.MenuChoice` (the statistics per option).
Leaving the menu for a service, the service's own rules apply: opening hours, welcome, criterion.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef

from accounts.models import Account
from core.pipeline import columns, instance
from ivr.choices import ChoiceResult, FallbackAction, OptionAction
from ivr.models import Menu, MenuChoice, MenuOption
from routing.choices import Criterion, OverflowAction
from routing.hours import is_open
from routing.models import Holiday, OpeningHours, Prompt, Service
from telephony import port

from ..calls import end_call, move, take_channel
from ..choices import CallEventKind, CallState, Direction, HangupCause, Outcome
from ..models import Call
from ..overflow import overflow
from ..prompts import (
    BUILTIN_MENU,
    BUILTIN_MENU_GOODBYE,
    BUILTIN_MENU_INVALID,
    BUILTIN_OPERATOR_CODE,
    prompt_ref,
    prompt_seconds,
)
from ..work import Work
from .entry import after_welcome, closed

MENU_DIGITS = 1  # one key per menu level


def start_menu(call: Call, menu: Menu, work: Work) -> None:
    """Answer the call with the menu: it holds a channel like any inbound call (domain.md, seed 003)."""
    work.save(call)
    work.log(call, CallEventKind.ARRIVED, caller=call.caller, dialed=call.dialed, menu=menu.pk)
    if not take_channel(call, work):
        return
    work.command(port.Answer(call_ref=call.engine_ref))
    move(call, CallState.COLLECTING)
    call.menu = menu
    call.menu_tries = 0
    work.save(call, ["state", "menu", "menu_tries"])
    _ask(call, menu, work)


def _ask(call: Call, menu: Menu, work: Work) -> None:
    work.command(port.CollectDigits(call_ref=call.engine_ref, prompt=prompt_ref(menu.prompt, BUILTIN_MENU),
                                    max_digits=MENU_DIGITS, timeout_seconds=menu.timeout_seconds))


def _options(call: Call) -> dict[str, MenuOption]:
    """The menu's options, with what each leads to, whether that service has opening hours or holidays to
    check, and the menu itself (its retries and fallback). A key press's first round trip read them
    (`OPTIONS_STATEMENT`); a caller elsewhere asks here, in one query."""
    prefetched = call.__dict__.pop("menu_options", None)
    if prefetched is not None and prefetched[0].pk == call.menu_id:
        call.menu, found = prefetched
        return found
    hours = OpeningHours.objects.filter(service_id=OuterRef("service_id"))
    holidays = Holiday.objects.filter(service_id=OuterRef("service_id"))
    rows = (MenuOption.objects.filter(menu_id=call.menu_id)
            .select_related("menu__prompt", "menu__fallback_service__account", "service__account",
                            "service__welcome_prompt", "service__hold_prompt", "service__voicemail_prompt",
                            "submenu__prompt", "whisper_prompt")
            .annotate(service_has_hours=Exists(hours) | Exists(holidays)))
    found = {o.digit: o for o in rows}
    if found:
        call.menu = next(iter(found.values())).menu  # the same menu, fetched with its options
    return found


# A key press's first round trip (`acd.events`), after the call's lock: the options of the menu the caller
# is in, as `_options` reads them, and the best free operator when the key leads straight to a service
# that rings at once (no welcome, no hours to check), for the criterion's statement (`acd.criteria`).
_O, _M, _S = MenuOption._meta.db_table, Menu._meta.db_table, Service._meta.db_table
_HOURS, _HOLIDAYS = OpeningHours._meta.db_table, Holiday._meta.db_table
_IN_MENU = (f"(SELECT x.menu_id FROM {Call._meta.db_table} x WHERE x.account_id = %(account)s "
            f"AND x.engine_ref = %(ref)s AND x.state = '{CallState.COLLECTING}' "
            f"AND x.direction = '{Direction.INBOUND}')")
# The models of an options row, in column order, and where each hangs ("": the row's own option and menu); the
# statement's joins are made from the same list.
_PARTS: list[tuple[type, str, str]] = [
    (MenuOption, "o", ""), (Menu, "mn", ""), (Prompt, "mp", "mn.prompt"), (Service, "fs", "mn.fallback_service"),
    (Account, "fsa", "fs.account"), (Service, "sv", "o.service"), (Account, "sva", "sv.account"),
    (Prompt, "swp", "sv.welcome_prompt"), (Prompt, "shp", "sv.hold_prompt"), (Prompt, "svp", "sv.voicemail_prompt"),
    (Menu, "sm", "o.submenu"), (Prompt, "smp", "sm.prompt"), (Prompt, "wh", "o.whisper_prompt")]
_MODELS = {alias: model for model, alias, _attach in _PARTS}


def _join(model: type, alias: str, attach: str) -> str:
    """The outer join that brings `alias` beside the row it hangs from (`owner.field`), from the models."""
    owner, field = attach.split(".")
    column = _MODELS[owner]._meta.get_field(field).column
    return f"LEFT JOIN {model._meta.db_table} {alias} ON {alias}.id = {owner}.{column}"


_JOINS = "\n  ".join(_join(model, alias, attach) for model, alias, attach in _PARTS if attach)
OPTIONS_STATEMENT = f"""
SELECT {", ".join(columns(model, alias) for model, alias, _ in _PARTS)},
       EXISTS (SELECT 1 FROM {_HOURS} h WHERE h.service_id = sv.id)
       OR EXISTS (SELECT 1 FROM {_HOLIDAYS} h WHERE h.service_id = sv.id)
  FROM {_M} mn
  LEFT JOIN {_O} o ON o.menu_id = mn.id
  {_JOINS}
 WHERE mn.id = {_IN_MENU}"""
KEYED_SERVICE = f"""
SELECT o.service_id, s.criterion, %(at)s::timestamptz AS waited_from
  FROM {_O} o JOIN {_S} s ON s.id = o.service_id
 WHERE o.menu_id = {_IN_MENU} AND o.digit = %(digit)s AND o.action = '{OptionAction.SERVICE}'
   AND s.is_active AND s.welcome_prompt_id IS NULL
   AND NOT EXISTS (SELECT 1 FROM {_HOURS} h WHERE h.service_id = s.id)
   AND NOT EXISTS (SELECT 1 FROM {_HOLIDAYS} h WHERE h.service_id = s.id)"""


def pressed(digits: str) -> str:
    """The key that counts: one per menu level (the first the caller pressed)."""
    return digits.strip()[:MENU_DIGITS]


def options_from(rows: list[tuple[Any, ...]], call: Call) -> None:
    """Hand the options read by the key press's first round trip to `_options` (by the menu they belong to)."""
    if not rows:
        return  # not in a menu
    found: dict[str, MenuOption] = {}
    menu = None
    for row in rows:
        objs: dict[str, Any] = {}
        at = 0
        for model, alias, attach in _PARTS:
            width = len(model._meta.concrete_fields)
            objs[alias] = instance(model, row[at:at + width])
            at += width
            if attach:
                owner, attr = attach.split(".")
                if objs[owner] is not None:
                    setattr(objs[owner], attr, objs[alias])
        menu = menu or objs["mn"]
        option = objs["o"]
        if option is None:
            continue  # a menu without options
        option.menu = menu
        option.service_has_hours = row[at]
        found[option.digit] = option
    call.menu_options = (menu, found)


def _record(call: Call, menu_id: int, work: Work, result: str, digits: str, option: MenuOption | None) -> None:
    work.writes.insert([MenuChoice(account_id=call.account_id, menu_id=menu_id, option=option, call_id=call.pk,
                                   result=result, digits=digits, at=work.at)])
    work.log(call, CallEventKind.DIGITS, menu=menu_id, result=result, option=option.pk if option else None)


def on_menu_digits(call: Call, digits: str, work: Work) -> None:
    """The caller pressed a key in the menu they are in (or nothing, when the engine's timeout ran out)."""
    menu_id = call.menu_id
    if menu_id is None:  # the menu was deleted while the caller listened to it
        work.command(port.Play(call_ref=call.engine_ref, prompt=BUILTIN_MENU_GOODBYE),
                     port.HangupCall(call_ref=call.engine_ref, cause=HangupCause.NORMAL))
        end_call(call, work, outcome=Outcome.REJECTED)
        return
    digit = pressed(digits)
    options = _options(call)
    option = options.get(digit) if digit else None
    if option is None:
        _record(call, menu_id, work, ChoiceResult.TIMEOUT if not digit else ChoiceResult.INVALID, digits[:32], None)
        _retry_or_fallback(call, call.menu, work, invalid=bool(digit))
        return
    _record(call, menu_id, work, ChoiceResult.OPTION, digit, option)
    if option.action == OptionAction.REPEAT:
        _ask(call, call.menu, work)
        return
    call.menu_path = [*call.menu_path, {"menu": menu_id, "digit": option.digit, "label": option.label,
                                        "whisper": prompt_ref(option.whisper_prompt, "")}]
    if option.action == OptionAction.SUBMENU:
        call.menu = option.submenu
        call.menu_tries = 0
        work.save(call, ["menu", "menu_tries", "menu_path"])
        _ask(call, option.submenu, work)
        return
    if option.action == OptionAction.VOICEMAIL:
        _leave_menu(call, option.service)
        work.save(call)
        overflow(call, work, reason="menu", action_override=OverflowAction.VOICEMAIL)
        return
    enter_service(call, option.service, work, by_code=option.action == OptionAction.OPERATOR_CODE,
                  has_hours=option.service_has_hours)


def _retry_or_fallback(call: Call, menu: Menu, work: Work, *, invalid: bool) -> None:
    if call.menu_tries < menu.max_retries:
        call.menu_tries += 1
        work.save(call, ["menu_tries"])
        if invalid:
            work.command(port.Play(call_ref=call.engine_ref, prompt=BUILTIN_MENU_INVALID))
        _ask(call, menu, work)
        return
    _record(call, menu.pk, work, ChoiceResult.FALLBACK, "", None)
    service = menu.fallback_service
    if menu.fallback_action == FallbackAction.SERVICE and service is not None:
        enter_service(call, service, work)
    elif menu.fallback_action == FallbackAction.VOICEMAIL and service is not None:
        _leave_menu(call, service)
        work.save(call)
        overflow(call, work, reason="menu", action_override=OverflowAction.VOICEMAIL)
    else:
        call.menu = None
        work.command(port.Play(call_ref=call.engine_ref, prompt=BUILTIN_MENU_GOODBYE),
                     port.HangupCall(call_ref=call.engine_ref, cause=HangupCause.NORMAL))
        end_call(call, work, outcome=Outcome.REJECTED)


def _leave_menu(call: Call, service: Service) -> None:
    call.menu = None
    call.service = service
    call.criterion = service.criterion
    call.priority = service.priority


def enter_service(call: Call, service: Service, work: Work, *, by_code: bool = False,
                  has_hours: bool = True) -> None:
    """The menu led to a service: its opening hours, its welcome, then its queue (or the operator code)."""
    _leave_menu(call, service)
    if by_code:
        call.criterion = Criterion.OPERATOR_CODE
    work.save(call)
    if not service.is_active:
        work.command(port.Play(call_ref=call.engine_ref, prompt=BUILTIN_MENU_GOODBYE),
                     port.HangupCall(call_ref=call.engine_ref, cause=HangupCause.UNALLOCATED))
        end_call(call, work, outcome=Outcome.REJECTED, cause=HangupCause.UNALLOCATED)
        return
    if has_hours and not is_open(service, work.at):
        closed(call, service, work)
        return
    if service.welcome_prompt_id:
        move(call, CallState.WELCOME)
        work.save(call, ["state"])
        work.log(call, CallEventKind.WELCOME)
        work.command(port.Play(call_ref=call.engine_ref, prompt=prompt_ref(service.welcome_prompt, ""),
                               seconds=prompt_seconds(service.welcome_prompt), notify=True))
        return
    if call.criterion == Criterion.OPERATOR_CODE and call.state == CallState.COLLECTING:
        work.command(port.CollectDigits(call_ref=call.engine_ref, prompt=BUILTIN_OPERATOR_CODE))
        return  # still collecting: now the operator's code, no longer a menu digit
    after_welcome(call, work)
