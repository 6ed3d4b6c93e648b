from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from agents.models import Operator


class OperatorLoginForm(forms.Form):
    """Setup step 2's login and password (operators are not Django users)."""

    account = forms.SlugField(label=_("Company code"))
    login = forms.SlugField(label=_("Login"))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)

    def clean(self):
        data = super().clean()
        op = Operator.objects.filter(account__slug=data.get("account"), account__is_active=True,
                                     login=data.get("login"), is_active=True).first()
        # Same message whatever was wrong: it does not reveal which logins exist.
        if op is None or not op.check_password(data.get("password", "")):
            raise forms.ValidationError(_("Wrong company code, login or password."))
        data["operator"] = op
        return data
