"""The telephony port's closed vocabularies, as the engine sees them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class BuiltinPrompt(models.TextChoices):
    """The announcements an engine must ship itself: a `play`, `start_hold`, `collect_digits` or
    `record_voicemail` command names one of these in its `prompt`/`greeting` when the account uploaded no
    prompt of its own (an uploaded prompt is an absolute http(s) URL instead)."""

    HOLD = "builtin:hold", _("Music on hold (loops until stop_hold)")
    BUSY = "builtin:busy", _("All operators are busy; the call ends after it")
    VOICEMAIL_GREETING = "builtin:voicemail-greeting", _("Invitation to leave a message after the tone")
    CLOSED = "builtin:closed", _("The service is closed now")
    ENTER_OPERATOR_CODE = "builtin:enter-operator-code", _("Asks the caller for an operator's code")
    OPERATOR_LOGIN = "builtin:operator-login", _("Asks an operator for their code and a presence action")
    OPERATOR_LOGIN_OK = "builtin:operator-login-ok", _("The operator's phone login or action succeeded")
    OPERATOR_LOGIN_REFUSED = "builtin:operator-login-refused", _("The operator's phone login was refused")
    SAFE_HARBOR = "builtin:safe-harbor", _("Dialer: no operator is free; the call will be ended")
    MACHINE_MESSAGE = "builtin:machine-message", _("Dialer: the message left on an answering machine")
    MENU = "builtin:menu", _("Voice menu without its own prompt: choose an option")
    MENU_INVALID = "builtin:menu-invalid", _("Voice menu: that is not a valid choice")
    MENU_GOODBYE = "builtin:menu-goodbye", _("Voice menu: no valid choice and no fallback; goodbye")
