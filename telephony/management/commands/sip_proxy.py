"""`manage.py sip_proxy`: render the Kamailio configuration from the settings and run Kamailio in the foreground.

The process `make run`'s Procfile would start beside the others with TELEPHONY_BACKEND=sip (README, "SIP calls").
`--write PATH` only writes the configuration (for a Kamailio run by systemd or a container)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from telephony.backends.sip.config import ProxySettings, write


class Command(BaseCommand):
    help = "Render kamailio.cfg from the SIP_* settings and run Kamailio (or only write the file)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--write", metavar="PATH", help="write the configuration there and exit")

    def handle(self, *args, **options) -> None:
        proxy = ProxySettings.from_settings()
        if not proxy.token:
            raise CommandError("SIP_EDGE_TOKEN is empty: the back office would refuse every question from Kamailio.")
        if options["write"]:
            write(proxy, Path(options["write"]))
            return
        kamailio = shutil.which("kamailio")
        if kamailio is None:
            raise CommandError("kamailio is not installed (apt-get install kamailio kamailio-utils-modules "
                               "kamailio-extra-modules kamailio-json-modules).")
        rundir = Path(tempfile.mkdtemp(prefix="centralino-kamailio-"))
        cfg = write(proxy, rundir / "kamailio.cfg")
        os.execv(kamailio, [kamailio, "-f", str(cfg), "-DD", "-E", "-Y", str(rundir)])
