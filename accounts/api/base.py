"""Generic pieces every account-scoped API resource uses: a viewset is a queryset, a serializer, a filterset.

Validation runs the model's own `full_clean()` (fields, `clean()`, constraints) so the admin and the API
refuse the same things with the same messages, and a failed write saves nothing.
"""

from __future__ import annotations

import copy
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from rest_framework import serializers, viewsets

from ..models import Account
from ..scoping import request_account


def account_unique_errors(instance: models.Model, account: Account) -> dict[str, list[str]]:
    """Check each (account, field) unique constraint, reporting the error on the field the caller sent."""
    errors: dict[str, list[str]] = {}
    for constraint in instance._meta.constraints:
        fields = getattr(constraint, "fields", ())
        if not isinstance(constraint, models.UniqueConstraint) or "account" not in fields or len(fields) != 2:
            continue
        (field,) = [f for f in fields if f != "account"]
        value = getattr(instance, instance._meta.get_field(field).attname)
        clash = type(instance)._default_manager.filter(account=account, **{field: value})
        if instance.pk:
            clash = clash.exclude(pk=instance.pk)
        if value not in (None, "") and clash.exists():
            errors[field] = [str(constraint.violation_error_message)]
    return errors


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference to another object of the same account; another account's id reads as 'does not exist'."""

    def get_queryset(self):
        account = request_account(self.context.get("request"))
        return super().get_queryset().filter(account=account)


class AccountScopedSerializer(serializers.ModelSerializer):
    serializer_related_field = ScopedPrimaryKeyRelatedField
    # Fields the serializer writes itself (nested lists, secrets) and the model must not validate from attrs.
    extra_model_exclude: tuple[str, ...] = ()

    @property
    def account(self) -> Account:
        return request_account(self.context["request"])

    def build_candidate(self, attrs: dict[str, Any]) -> models.Model:
        model = self.Meta.model
        candidate = copy.copy(self.instance) if self.instance is not None else model()
        for name, value in attrs.items():
            field = model._meta.get_field(name) if name in {f.name for f in model._meta.get_fields()} else None
            if field is not None and not field.many_to_many and not field.one_to_many:
                setattr(candidate, name, value)
        candidate.account = self.account
        self.prepare_candidate(candidate, attrs)
        return candidate

    def prepare_candidate(self, candidate: models.Model, attrs: dict[str, Any]) -> None:
        """Hook: set what the model needs to validate but the serializer handles (e.g. a hashed password)."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        candidate = self.build_candidate(attrs)
        errors = account_unique_errors(candidate, self.account)
        exclude = {f.name for f in candidate._meta.fields if not f.editable} | set(self.extra_model_exclude)
        exclude |= set(errors)
        try:
            candidate.full_clean(exclude=sorted(exclude))
        except DjangoValidationError as exc:
            for field, messages in exc.message_dict.items():
                key = "non_field_errors" if field == NON_FIELD_ERRORS else field
                errors.setdefault(key, []).extend(messages)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class AccountScopedViewSet(viewsets.ModelViewSet):
    """CRUD over one account's objects. Another account's object answers 404."""

    def get_queryset(self):
        return super().get_queryset().filter(account=request_account(self.request))

    def perform_create(self, serializer) -> None:
        with transaction.atomic():
            serializer.save(account=request_account(self.request))

    def perform_update(self, serializer) -> None:
        with transaction.atomic():
            serializer.save()
