from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _

from .retention import check_event_retention


class TelephonyConfig(AppConfig):
    name = "telephony"
    verbose_name = _("Telephony")

    def ready(self) -> None:
        from .api import authentication  # noqa: F401  (registers the OpenAPI auth extension)
        checks.register(check_event_retention)
