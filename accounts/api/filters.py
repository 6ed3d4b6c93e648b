"""The API's filters offer and accept only the request's own account's objects (issue 11, finding 2).

django-filter builds a choice filter for every foreign key (`?service=`, `?operator=`) on the model's whole
table: the browsable API's filter form then listed every account's services and operators, and an id of
another account answered 200-empty where a missing one answered 400 (an id oracle). Here each choice filter's
queryset is narrowed to the account, so another account's id is "not a valid choice", like a missing one."""

from __future__ import annotations

from typing import Any

from django.db import models
from django_filters import ModelChoiceFilter, ModelMultipleChoiceFilter
from django_filters.rest_framework import DjangoFilterBackend

from ..scoping import request_account


def scope_choices(filterset: Any, account: Any) -> None:
    for field in filterset.filters.values():
        if not isinstance(field, ModelChoiceFilter | ModelMultipleChoiceFilter):
            continue
        queryset = field.queryset
        if not isinstance(queryset, models.QuerySet):
            continue  # None, or a callable given the request: the filter scopes its own choices
        names = {f.name for f in queryset.model._meta.fields}
        if account is None:
            field.queryset = queryset.none()
        elif "account" in names:
            field.queryset = queryset.filter(account=account)
        elif queryset.model is type(account):
            field.queryset = queryset.filter(pk=account.pk)
        else:  # no way to tell whose a row is: offer none rather than everyone's
            field.queryset = queryset.none()


class AccountScopedFilterBackend(DjangoFilterBackend):
    def get_filterset(self, request, queryset: models.QuerySet, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            scope_choices(filterset, request_account(request))
        return filterset
