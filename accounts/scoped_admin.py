"""Admin base classes: a supervisor sees and edits only their own account's objects."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from core.audit import is_audited_model
from core.validators import normalize_phone

from .scoping import readable_account_ids, user_account


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


def _unique_with_account(model: type[models.Model]) -> list[tuple[str, str]]:
    """(field, message) of every unconditional unique constraint `(account, field)` of the model."""
    found = []
    for constraint in model._meta.constraints:
        if (isinstance(constraint, models.UniqueConstraint) and constraint.condition is None
                and len(constraint.fields) == 2 and "account" in constraint.fields):
            other = next(f for f in constraint.fields if f != "account")
            custom = constraint.violation_error_message != constraint.default_violation_error_message
            found.append((other, constraint.violation_error_message if custom else None))
    return found


SETUP_FLAG = "_setup"


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


class SetupFlowMixin:
    """A form opened from the setup page (`?_setup=<step>`) goes back to it once saved, where the next step
    waits. "Save and add another" and "Save and continue editing" keep the supervisor where they asked."""

    def _back_to_setup(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        step = request.GET.get(SETUP_FLAG, "")
        if (not step.isdigit() or not isinstance(response, HttpResponseRedirect)
                or "_addanother" in request.POST or "_continue" in request.POST):
            return response
        return HttpResponseRedirect(f"{reverse('admin:accounts_account_my_setup')}?saved={step}")

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: str | None = None) -> HttpResponse:
        return self._back_to_setup(request, super().response_add(request, obj, post_url_continue))

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        return self._back_to_setup(request, super().response_change(request, obj))


class AccountScopedAdmin(SetupFlowMixin, AccountScopedMixin, AuditHistoryMixin):
    account_path = "account"
    phone_fields: tuple[str, ...] = ()  # typed as people do; national numbers read in the account's country

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
        phone_fields = tuple(self.phone_fields)
        unique = _unique_with_account(form_class._meta.model) if account is not None else []

        class ScopedForm(form_class):
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, **kw)
                if account is not None and self.instance.account_id is None:
                    self.instance.account = account

            def clean(self) -> dict[str, Any]:
                cleaned = super().clean()
                owner = account or cleaned.get("account") or getattr(self.instance, "account", None)
                region = getattr(owner, "country", None)
                for field in phone_fields:
                    value = cleaned.get(field)
                    if value:
                        try:
                            cleaned[field] = normalize_phone(value, region)
                        except ValidationError as exc:
                            self.add_error(field, exc)
                # The account is not a field of the supervisor's form, so Django would skip the unique
                # constraints that include it and the database would answer with an IntegrityError (a 500).
                for field, message in unique:
                    value = cleaned.get(field)
                    if field in self.fields and value not in (None, ""):
                        clash = type(self.instance)._default_manager.filter(account=account, **{field: value})
                        if clash.exclude(pk=self.instance.pk).exists():
                            self.add_error(field, message or self.instance.unique_error_message(
                                type(self.instance), [field]))
                return cleaned

            def _get_validation_exclusions(self) -> set[str]:
                # Any other constraint on the account is still checked (as a form error, not a 500).
                exclusions = super()._get_validation_exclusions()
                return exclusions - {"account"} if account is not None else exclusions

        return ScopedForm


class ReadOnlyAdmin(AccountScopedAdmin):
    """Records that only actions write (logs, calls, leases, invoices): shown, never edited by hand. A
    reseller's supervisor reads its clients' records too (and changes none of them: nobody changes these)."""

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        qs = super(AccountScopedAdmin, self).get_queryset(request)
        if request.user.is_superuser:
            return qs
        account = user_account(request.user)
        if account is None:
            return qs.none()
        return qs.filter(**{f"{self.account_path}__in": readable_account_ids(account)})

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
