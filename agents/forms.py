from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from .models import Operator, validate_pin


class OperatorAdminForm(forms.ModelForm):
    """The password and PIN are typed in clear here and stored only as hashes."""

    new_password = forms.CharField(label=_("password"), required=False, strip=False,
                                   widget=forms.PasswordInput(render_value=False),
                                   help_text=_("Leave empty to keep the current password."))
    new_pin = forms.CharField(label=_("phone PIN"), required=False, max_length=8,
                              widget=forms.PasswordInput(render_value=False),
                              help_text=_("4 to 8 digits, for phone login. Leave empty to keep it."))

    class Meta:
        model = Operator
        fields = ["account", "name", "login", "code", "endpoint_kind", "endpoint", "is_active"]

    def clean_new_password(self) -> str:
        raw = self.cleaned_data.get("new_password", "")
        if not raw and not self.instance.password:
            raise forms.ValidationError(_("A new operator needs a password."))
        if raw:
            validate_password(raw)
        return raw

    def clean_new_pin(self) -> str:
        raw = self.cleaned_data.get("new_pin", "")
        if raw:
            validate_pin(raw)
        return raw

    def _post_clean(self) -> None:
        # Hash before the model validates, so a new operator is never valid without its password.
        if self.cleaned_data.get("new_password"):
            self.instance.set_password(self.cleaned_data["new_password"])
        if self.cleaned_data.get("new_pin"):
            self.instance.set_pin(self.cleaned_data["new_pin"])
        super()._post_clean()
