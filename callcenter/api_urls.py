"""API v1: one router, each app registering its viewsets."""

from rest_framework.routers import DefaultRouter

from agents.api.views import OperatorViewSet, PauseReasonViewSet
from routing.api.views import CallerRouteViewSet, PhoneNumberViewSet, PromptViewSet, ServiceViewSet

router = DefaultRouter()
router.register("numbers", PhoneNumberViewSet, basename="number")
router.register("operators", OperatorViewSet, basename="operator")
router.register("pause-reasons", PauseReasonViewSet, basename="pause-reason")
router.register("services", ServiceViewSet, basename="service")
router.register("prompts", PromptViewSet, basename="prompt")
router.register("caller-routes", CallerRouteViewSet, basename="caller-route")

urlpatterns = router.urls
