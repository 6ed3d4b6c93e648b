"""Admin base classes: a supervisor sees and edits only their own account's objects."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from .scoping import user_account


def _has_account_field(model: type[models.Model]) -> bool:
    return any(f.name == "account" for f in model._meta.fields)


class AccountScopedMixin:
    """Filters querysets and foreign-key choices by the supervisor's account; superusers see everything."""

    def scoped_account(self, request: HttpRequest):
        return None if request.user.is_superuser else user_account(request.user)

    def scope(self, request: HttpRequest, qs: models.QuerySet, path: str = "account") -> models.QuerySet:
        if request.user.is_superuser:
            return qs
        account = user_account(request.user)
        return qs.filter(**{path: account}) if account else qs.none()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and _has_account_field(db_field.related_model):
            field.queryset = self.scope(request, field.queryset)
        return field


class AccountScopedAdmin(AccountScopedMixin, admin.ModelAdmin):
    account_path = "account"

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return self.scope(request, super().get_queryset(request), self.account_path)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [(name, {**opts, "fields": [f for f in opts["fields"] if f != "account"]})
                for name, opts in fieldsets]

    def get_list_filter(self, request: HttpRequest):
        filters = list(super().get_list_filter(request))
        return filters if request.user.is_superuser else [f for f in filters if f != "account"]

    def get_exclude(self, request: HttpRequest, obj: Any = None):
        exclude = list(super().get_exclude(request, obj) or [])
        return exclude if request.user.is_superuser else [*exclude, "account"]

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        account = self.scoped_account(request)
        if account is None:
            return form_class

        class ScopedForm(form_class):
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, **kw)
                if self.instance.account_id is None:
                    self.instance.account = account

        return ScopedForm


class ReadOnlyAdmin(AccountScopedAdmin):
    """Records that only actions write (logs, calls, leases, invoices): shown, never edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
