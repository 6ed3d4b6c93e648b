"""API v1: one router, each app registering its viewsets."""

from django.urls import path, re_path
from rest_framework.routers import DefaultRouter

from accounts.api.provisioning import ClientAccountViewSet
from accounts.api.views import SupervisorsView
from acd.api.views import CallViewSet, OriginateView, StatsView
from agents.api.views import OperatorViewSet, PauseReasonViewSet
from billing.api.views import AccountPlanView, CapacityView, InvoiceViewSet, RefusalViewSet, UsageView
from core.api.exceptions import api_not_found
from dialer.api.views import AttemptViewSet, CampaignViewSet, DispositionViewSet, LeadListViewSet
from integrations.api.views import DeliveryViewSet, SubscriptionViewSet
from ivr.api.views import MenuViewSet
from routing.api.views import CallerRouteViewSet, PhoneNumberViewSet, PromptViewSet, ServiceViewSet
from simulator.web import TestCallView
from webhook import sip as sip_edge
from webhook.views import TelephonyCommandsView, TelephonyEventView

router = DefaultRouter()
router.register("numbers", PhoneNumberViewSet, basename="number")
router.register("operators", OperatorViewSet, basename="operator")
router.register("pause-reasons", PauseReasonViewSet, basename="pause-reason")
router.register("services", ServiceViewSet, basename="service")
router.register("prompts", PromptViewSet, basename="prompt")
router.register("caller-routes", CallerRouteViewSet, basename="caller-route")
router.register("menus", MenuViewSet, basename="menu")
router.register("calls", CallViewSet, basename="call")
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("refusals", RefusalViewSet, basename="refusal")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("lead-lists", LeadListViewSet, basename="lead-list")
router.register("attempts", AttemptViewSet, basename="attempt")
router.register("dispositions", DispositionViewSet, basename="disposition")
router.register("clients", ClientAccountViewSet, basename="client")
router.register("webhooks", SubscriptionViewSet, basename="webhook")
router.register("webhook-deliveries", DeliveryViewSet, basename="webhook-delivery")

urlpatterns = [
    path("telephony/events/", TelephonyEventView.as_view(), name="telephony-events"),
    path("telephony/commands/", TelephonyCommandsView.as_view(), name="telephony-commands"),
    path("telephony/sip/decide/", sip_edge.decide, name="telephony-sip-decide"),
    path("telephony/sip/report/", sip_edge.report, name="telephony-sip-report"),
    path("telephony/sip/reports/", sip_edge.reports, name="telephony-sip-reports"),
    path("telephony/sip/credentials/", sip_edge.credentials, name="telephony-sip-credentials"),
    path("calls/originate/", OriginateView.as_view(), name="call-originate"),
    path("calls/test/", TestCallView.as_view(), name="call-test"),
    path("stats/", StatsView.as_view(), name="stats"),
    path("usage/", UsageView.as_view(), name="usage"),
    path("capacity/", CapacityView.as_view(), name="capacity"),
    path("account/plan/", AccountPlanView.as_view(), name="account-plan"),
    path("supervisors/", SupervisorsView.as_view(), name="supervisors"),
    *router.urls,
    re_path(r"^(?P<path>.*/)$", api_not_found),  # last: whatever no route above matched
]
