from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from agents import lockout
from agents.models import Operator


class OperatorLoginForm(forms.Form):
    """Setup step 2's login and password (operators are not Django users).

    Wrong sign-ins are counted by django-axes per `<company code>/<login>` and client address (agents/lockout.py),
    for logins that exist and logins that do not; a locked pair is refused before any password is checked. A
    login that does not exist still costs one password hash, so the answer takes as long either way."""

    account = forms.SlugField(label=_("Company code"), max_length=60)
    login = forms.SlugField(label=_("Login"), max_length=60)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=256)

    def __init__(self, *args, request=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.locked = False

    def _refuse_locked(self) -> None:
        self.locked = True
        raise forms.ValidationError(_("Too many wrong sign-ins: try again later, or ask your supervisor to lift "
                                      "the lock."), code="locked")

    def clean(self):
        data = super().clean()
        slug, login, password = data.get("account") or "", data.get("login") or "", data.get("password") or ""
        if lockout.console_locked(self.request, slug, login):
            self._refuse_locked()
        op = Operator.objects.filter(account__slug=slug, account__is_active=True, login=login,
                                     is_active=True).select_related("account").first()
        if op is None:
            lockout.burn_a_hash(password)
        # Same message whatever was wrong: it does not reveal which logins exist.
        if op is None or not op.check_password(password):
            if lockout.console_failed(self.request, slug, login):  # this one reached the limit
                self._refuse_locked()
            raise forms.ValidationError(_("Wrong company code, login or password."))
        lockout.console_succeeded(slug, login)
        data["operator"] = op
        return data
