"""Voice menus (IVR): a number answers with a menu, the caller's digits choose a service, a sub-menu, an
operator's code, a voice message or a repeat. The path chosen tags the call (its type, seed 004)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.audit import AuditedHistory
from routing.choices import NumberPurpose, PromptKind
from routing.models import PhoneNumber, Prompt, Service

from .choices import ChoiceResult, FallbackAction, OptionAction

MAX_DEPTH = 4  # levels of menus a caller may go through (the top menu is level 1)
DIGITS = [(d, d) for d in "1234567890*#"]


class Menu(models.Model):
    """One level of a voice menu: what the caller hears, how long they have, what wrong choices lead to."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="menus")
    name = models.CharField(_("name"), max_length=100)
    prompt = models.ForeignKey(Prompt, verbose_name=_("menu prompt"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+",
                               help_text=_("\"Press 1 for sales, 2 for support\". Empty: a built-in prompt."))
    timeout_seconds = models.PositiveSmallIntegerField(
        _("time to choose (s)"), default=6, validators=[MinValueValidator(1), MaxValueValidator(60)])
    max_retries = models.PositiveSmallIntegerField(
        _("repeat after an invalid choice or silence"), default=2, validators=[MaxValueValidator(5)],
        help_text=_("How many times the menu is repeated before the fallback."))
    fallback_action = models.CharField(_("then"), max_length=10, choices=FallbackAction.choices,
                                       default=FallbackAction.HANGUP)
    fallback_service = models.ForeignKey(Service, verbose_name=_("fallback service"), null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = AuditedHistory()

    class Meta:
        ordering = ["account", "name"]
        verbose_name = _("voice menu")
        verbose_name_plural = _("voice menus")
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="menu_unique_name",
                                               violation_error_message=_("This account has a menu with "
                                                                         "this name."))]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.prompt_id and self.prompt.account_id != self.account_id:
            errors["prompt"] = _("This prompt belongs to another account.")
        elif self.prompt_id and self.prompt.kind != PromptKind.MENU:
            errors["prompt"] = _("Choose a prompt of kind '%(kind)s'.") % {"kind": PromptKind.MENU.label}
        if self.fallback_service_id and self.fallback_service.account_id != self.account_id:
            errors["fallback_service"] = _("This service belongs to another account.")
        elif self.fallback_action != FallbackAction.HANGUP and not self.fallback_service_id:
            errors["fallback_service"] = _("Choose the service callers fall back to.")
        if errors:
            raise ValidationError(errors)


def depth_above(menu_id: int, seen: frozenset[int] = frozenset()) -> int:
    """The most menus a caller passes through to reach this one, itself included (1 for a top menu)."""
    parents = MenuOption.objects.filter(submenu_id=menu_id).values_list("menu_id", flat=True).distinct()
    best = 1
    for parent in parents:
        if parent in seen:  # a loop already saved: depth_below refuses to close one
            continue
        best = max(best, 1 + depth_above(parent, seen | {menu_id}))
    return best


def reaches(menu_id: int, target_id: int) -> bool:
    """Whether a caller in `menu_id` can get to `target_id` through sub-menus (a loop if target is above)."""
    frontier, seen = {menu_id}, set()
    while frontier:
        if target_id in frontier:
            return True
        seen |= frontier
        frontier = set(MenuOption.objects.filter(menu_id__in=frontier, submenu__isnull=False)
                       .values_list("submenu_id", flat=True)) - seen
    return False


def depth_below(menu_id: int) -> int:
    """Levels of menus from this one down (1 for a menu without sub-menus)."""
    children = set(MenuOption.objects.filter(menu_id=menu_id, submenu__isnull=False)
                   .values_list("submenu_id", flat=True))
    return 1 + max((depth_below(c) for c in children if c != menu_id), default=0)


class MenuOption(models.Model):
    """A digit of a menu and what it does."""

    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="options")
    digit = models.CharField(_("digit"), max_length=1, choices=DIGITS)
    label = models.CharField(_("label"), max_length=60,
                             help_text=_("The call type it stands for: shown on the operator's card."))
    action = models.CharField(_("action"), max_length=14, choices=OptionAction.choices,
                              default=OptionAction.SERVICE)
    service = models.ForeignKey(Service, verbose_name=_("service"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="menu_options")
    submenu = models.ForeignKey(Menu, verbose_name=_("sub-menu"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="parent_options")
    whisper_prompt = models.ForeignKey(
        Prompt, verbose_name=_("whisper"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("Played to the operator before the caller is connected, when the service asks for it. "
                    "Empty: the label is announced."))

    history = AuditedHistory()

    class Meta:
        ordering = ["menu", "digit"]
        verbose_name = _("menu option")
        verbose_name_plural = _("menu options")
        constraints = [models.UniqueConstraint(fields=["menu", "digit"], name="menu_option_unique_digit",
                                               violation_error_message=_("This digit already has an option "
                                                                         "in this menu."))]

    def __str__(self) -> str:
        return f"{self.digit} {self.label}"

    def clean(self) -> None:
        menu = self._state.fields_cache.get("menu") if self.menu_id is None else self.menu
        if menu is None:
            return
        account_id = menu.account_id  # None on a menu being added in the admin (its inline's choices are scoped)
        needs_service = self.action in (OptionAction.SERVICE, OptionAction.OPERATOR_CODE, OptionAction.VOICEMAIL)
        errors = {}
        if self.service_id and account_id and self.service.account_id != account_id:
            errors["service"] = _("This service belongs to another account.")
        elif needs_service and not self.service_id:
            errors["service"] = _("Choose the service this option leads to.")
        if self.whisper_prompt_id and account_id and self.whisper_prompt.account_id != account_id:
            errors["whisper_prompt"] = _("This prompt belongs to another account.")
        elif self.whisper_prompt_id and self.whisper_prompt.kind != PromptKind.WHISPER:
            errors["whisper_prompt"] = _("Choose a prompt of kind '%(kind)s'.") % {"kind": PromptKind.WHISPER.label}
        if self.action == OptionAction.SUBMENU:
            errors.update(self._submenu_errors(account_id))
        if errors:
            raise ValidationError(errors)

    def _submenu_errors(self, account_id: int | None) -> dict[str, str]:
        """Sub-menus nest at most MAX_DEPTH levels and never loop back: checked on save, on the menus as
        saved (each option of an admin form is checked against the others already saved)."""
        if not self.submenu_id:
            return {"submenu": _("Choose the sub-menu this option opens.")}
        if account_id and self.submenu.account_id != account_id:
            return {"submenu": _("This menu belongs to another account.")}
        if self.menu_id is None:  # a menu being added: nothing leads to it yet, nothing can loop back
            depth = 1 + depth_below(self.submenu_id)
        elif self.submenu_id == self.menu_id or reaches(self.submenu_id, self.menu_id):
            return {"submenu": _("This sub-menu leads back to this menu: menus cannot loop.")}
        else:
            depth = depth_above(self.menu_id) + depth_below(self.submenu_id)
        if depth > MAX_DEPTH:
            return {"submenu": _("Menus nest at most %(max)d levels; through this sub-menu a caller would go "
                                 "through %(depth)d.") % {"max": MAX_DEPTH, "depth": depth}}
        return {}


class MenuNumber(models.Model):
    """A number that answers with a menu instead of going straight to a service."""

    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="numbers")
    number = models.OneToOneField(PhoneNumber, verbose_name=_("number"), on_delete=models.CASCADE,
                                  related_name="menu_link",
                                  error_messages={"unique": _("This number already answers with a menu.")})

    class Meta:
        verbose_name = _("number answering with the menu")
        verbose_name_plural = _("numbers answering with the menu")

    def __str__(self) -> str:
        return f"{self.number} → {self.menu}"

    def clean(self) -> None:
        if not (self.menu_id and self.number_id):
            return
        if self.number.account_id != self.menu.account_id:
            raise ValidationError({"number": _("This number belongs to another account.")})
        if self.number.service_id is not None:
            raise ValidationError({"number": _("This number goes straight to a service: clear its service "
                                               "to have it answer with a menu.")})
        if self.number.purpose != NumberPurpose.CALLS:
            raise ValidationError({"number": _("This number is for operators' phone log-in.")})


class MenuChoice(models.Model):
    """The queue log of the menus: one row per key press (or silence) of a call, counted per option."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+", db_index=False)
    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="choices", db_index=False)
    option = models.ForeignKey(MenuOption, null=True, blank=True, on_delete=models.SET_NULL, related_name="choices",
                               db_index=False)
    call_id = models.BigIntegerField(_("call"))  # the ACD's call (the ACD sits above this app)
    result = models.CharField(_("result"), max_length=10, choices=ChoiceResult.choices)
    digits = models.CharField(_("digits"), max_length=32, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["-at"]
        verbose_name = _("menu choice")
        verbose_name_plural = _("menu choices")
        indexes = [models.Index(fields=["menu", "at"], name="menu_choice_menu_at_idx"),
                   models.Index(fields=["account", "at"], name="menu_choice_account_at_idx")]

    def __str__(self) -> str:
        return f"{self.menu_id} {self.result} {self.digits}"
