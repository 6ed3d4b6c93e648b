"""Filters of the dialer's API lists. Every choice of a related object is the request's account's own."""

import django_filters

from accounts.scoping import request_account

from .models import Attempt, Campaign, LeadList


def _campaigns(request):
    return Campaign.objects.filter(account=request_account(request)) if request else Campaign.objects.none()


def _lists(request):
    return LeadList.objects.filter(account=request_account(request)) if request else LeadList.objects.none()


class CampaignFilterSet(django_filters.FilterSet):
    class Meta:
        model = Campaign
        fields = ["state", "mode", "profile", "service"]


class LeadListFilterSet(django_filters.FilterSet):
    campaign = django_filters.ModelChoiceFilter(queryset=_campaigns)

    class Meta:
        model = LeadList
        fields = ["campaign", "is_active"]


class AttemptFilterSet(django_filters.FilterSet):
    campaign = django_filters.ModelChoiceFilter(queryset=_campaigns)
    lead_list = django_filters.ModelChoiceFilter(field_name="lead__lead_list", queryset=_lists)
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Attempt
        fields = ["campaign", "lead_list", "outcome", "operator", "since"]
