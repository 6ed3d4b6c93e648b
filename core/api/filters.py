"""Filters shared by the API's filtersets."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 instant, taken to UTC before it reaches the database.

    Python accepts UTC offsets up to ±23:59 and years up to 9999 in any offset; PostgreSQL refuses an offset
    past ±15:59 and a year past 9999 once in UTC, which turned `?before=7009-01-03T23:27:54+16:53` into a
    DataError (a 500). In UTC both are either fine or a clear 400.
    """

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError as exc:
            raise ValidationError(forms.DateTimeField.default_error_messages["invalid"], code="invalid") from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField
