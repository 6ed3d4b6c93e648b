"""Admin base classes: a supervisor sees and edits only their own account's objects."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from accounts.scoping import user_account
from core.audit import is_audited_model


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


class AuditHistoryMixin(SimpleHistoryAdmin):
    """The "History" button shows the audit trail (core/audit.py): each change with who, via what, when and
    the fields' values before and after. A supervisor sees only the history of their account's objects, a
    deleted object's too; nothing can be reverted from it. Models without a trail keep Django's own log.

    `history_account_path` leads from the historical row to its account ("id" for the account itself;
    None: only superusers see the history)."""

    history_account_path: str | None = "account"

    @property
    def object_history_template(self) -> str | None:
        return "admin/audit_history.html" if is_audited_model(self.model) else None  # None: Django's page
    # Rows edited inline with this object whose trail its history page shows too: (model, its key to us).
    history_children: tuple[tuple[type[models.Model], str], ...] = ()

    def history_scope(self, request: HttpRequest, qs: models.QuerySet) -> models.QuerySet:
        if request.user.is_superuser:
            return qs
        account = user_account(request.user)
        if account is None or self.history_account_path is None:
            return qs.none()
        return qs.filter(**{self.history_account_path: account.pk})

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        return self.history_scope(request, super().get_history_queryset(request, history_manager, pk_name,
                                                                         object_id))

    def history_view(self, request: HttpRequest, object_id: str, extra_context=None):
        if not is_audited_model(self.model):
            return admin.ModelAdmin.history_view(self, request, object_id, extra_context)
        pk_name = self.model._meta.pk.attname
        try:
            self.model._meta.pk.to_python(object_id)
        except ValidationError as exc:
            raise Http404 from exc
        if not (self.get_queryset(request).filter(**{pk_name: object_id}).exists()
                or self.history_scope(request, self.model.history.filter(**{pk_name: object_id})).exists()):
            raise Http404
        # The object is this supervisor's (its own trail is scoped): the rows edited inline with it are too.
        children = [(model._meta.verbose_name_plural, [self.child_change(r) for r in model.history.filter(
            **{f"{key}_id": object_id}).select_related("history_user").order_by("-history_date")[:200]])
            for model, key in self.history_children]
        return super().history_view(request, object_id, {**(extra_context or {}), "history_children": children})

    @staticmethod
    def child_change(record) -> dict[str, Any]:
        previous = record.prev_record if record.history_type == "~" else None
        changes = [] if previous is None else [(c.field, c.old, c.new) for c in record.diff_against(previous).changes]
        return {"record": record, "action": record.get_history_type_display(), "object": str(record.instance),
                "changes": changes}

    def history_form_view(self, request: HttpRequest, object_id: str, version_id: str, extra_context=None):
        history = getattr(self.model, self.model._meta.simple_history_manager_attribute)
        try:
            self.model._meta.pk.to_python(object_id)
            int(version_id)
        except (ValidationError, ValueError) as exc:
            raise Http404 from exc
        if not self.history_scope(request, history.filter(**{self.model._meta.pk.attname: object_id,
                                                              "history_id": version_id})).exists():
            raise Http404
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_urls(self):
        return super().get_urls() if is_audited_model(self.model) else admin.ModelAdmin.get_urls(self)


class AccountScopedAdmin(AccountScopedMixin, AuditHistoryMixin):
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
