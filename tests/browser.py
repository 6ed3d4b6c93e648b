"""The base of the tests that drive Chromium against live servers (Channels' test servers, forked from the test
process): the database name they must use, and the async-unsafe switch Playwright's sync API needs."""

from __future__ import annotations

import os

from channels.testing import ChannelsLiveServerTestCase
from django.conf import settings
from django.db import connection


class BrowserLiveServerTestCase(ChannelsLiveServerTestCase):
    serve_static = True

    @classmethod
    def setUpClass(cls) -> None:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs its own loop
        # The servers are forked from this process, whose settings already name the test database:
        # tell Channels' set-up hook so, instead of letting it prefix "test_" a second time.
        test = settings.DATABASES["default"].setdefault("TEST", {})
        cls._test_name = test.get("NAME")
        test["NAME"] = connection.settings_dict["NAME"]
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        settings.DATABASES["default"]["TEST"]["NAME"] = cls._test_name
