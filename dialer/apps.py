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
        from core import console as core_console

        from . import console, receivers  # noqa: F401  (a previewing operator who leaves lets the lead go)
        from .director import DialerDirector

        outbound.set_director(DialerDirector())
        # Preview mode's card and buttons on the operator console (boards), which the dialer may not import.
        core_console.register("dialer", console.EXTENSION)
