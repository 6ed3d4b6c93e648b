from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _

from .retention import check_event_retention


class TelephonyConfig(AppConfig):
    name = "telephony"
    verbose_name = _("Telephony")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (an account saved here is forgotten by the signer memory)
        from .api import authentication  # noqa: F401  (registers the OpenAPI auth extension)
        checks.register(check_event_retention)
