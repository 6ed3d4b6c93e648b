from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DialerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "dialer"
    verbose_name = _("Outbound dialer")

    def ready(self) -> None:
        # The ACD asks the dialer what to do with an originated call once it is answered (acd/flows/outbound.py);
        # the dialer sits above the ACD, so it registers itself rather than the ACD importing it.
        from acd.flows import outbound

        from .director import DialerDirector

        outbound.set_director(DialerDirector())
