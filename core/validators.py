"""Validators shared by models, serializers and scenario files."""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

SIP_URI_RE = re.compile(r"^sips?:[A-Za-z0-9._~!$&'()*+,;=%-]+@[A-Za-z0-9.-]+(:\d{1,5})?(;[^\s]*)?$")


def normalize_e164(value: str) -> str:
    """Parse `value` as an international number and return its E.164 form.

    Raises ValidationError with a readable message for anything else; a number
    must start with + and its country code (no national formats: the platform
    serves several countries, and a national number is ambiguous).
    """
    raw = (value or "").strip()
    if not raw.startswith("+"):
        raise ValidationError(_("Enter the number in international E.164 format, e.g. +390212345678."),
                              code="not_e164")
    try:
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("%(value)s is not a phone number."), code="invalid",
                              params={"value": raw}) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(_("%(value)s is not a valid phone number."), code="invalid",
                              params={"value": raw})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def validate_e164(value: str) -> None:
    normalized = normalize_e164(value)
    if normalized != value:
        raise ValidationError(_("Write the number as %(normalized)s (E.164, no spaces)."), code="not_e164",
                              params={"normalized": normalized})


def validate_sip_uri(value: str) -> None:
    if not SIP_URI_RE.match(value or ""):
        raise ValidationError(_("Enter a SIP URI such as sip:alice@pbx.example.com."), code="invalid")


def validate_number_prefix(value: str) -> None:
    if not re.fullmatch(r"\+\d{1,15}", value or ""):
        raise ValidationError(_("A caller prefix is + followed by 1 to 15 digits, e.g. +3902."), code="invalid")


def normalize_phone(value: str, region: str | None) -> str:
    """A number as a person types it: international (+39…, 0039…) or, with `region` (the account's country),
    national ("333 1234567" in Italy). Returns E.164 or raises ValidationError with a readable message."""
    raw = (value or "").strip()
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    if raw.startswith("+") or not region:
        return normalize_e164(raw)
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("%(value)s is not a phone number."), code="invalid",
                              params={"value": raw}) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(_("%(value)s is not a valid phone number in %(country)s."), code="invalid",
                              params={"value": raw, "country": region})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
