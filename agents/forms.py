from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from core.validators import normalize_phone

from .choices import EndpointKind
from .models import Operator, validate_pin


class OperatorAdminForm(forms.ModelForm):
    """The password and PIN are typed in clear here and stored only as hashes."""

    # render_value: a form sent back for another field's mistake keeps what was typed (shown as dots).
    new_password = forms.CharField(label=_("password"), required=False, strip=False,
                                   widget=forms.PasswordInput(render_value=True,
                                                              attrs={"autocomplete": "new-password"}))
    new_pin = forms.CharField(label=_("phone PIN"), required=False, max_length=8,
                              widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "off"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The help says what this form needs: a new operator's password, or nothing to keep the current one.
        if self.instance.password:
            self.fields["new_password"].help_text = _("Leave empty to keep the current password.")
            self.fields["new_pin"].help_text = _("4 to 8 digits, for phone login. Leave empty to keep it.")
        else:
            self.fields["new_password"].required = True
            self.fields["new_password"].help_text = _("The operator signs in to the console with it "
                                                      "(at least 8 characters).")
            self.fields["new_pin"].help_text = _("4 to 8 digits, for phone login (optional).")

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

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        account = cleaned.get("account") or getattr(self.instance, "account", None)
        if cleaned.get("endpoint_kind") == EndpointKind.PHONE and cleaned.get("endpoint"):
            try:
                cleaned["endpoint"] = normalize_phone(cleaned["endpoint"], getattr(account, "country", None))
            except forms.ValidationError as exc:
                self.add_error("endpoint", exc)
        return cleaned

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
        if self.cleaned_data.get("new_password") and self.instance.account_id:
            self.instance.set_sip_secret(self.cleaned_data["new_password"])  # with the form's login and account
