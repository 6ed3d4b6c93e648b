"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callcenter.settings")
django_asgi_app = get_asgi_application()

from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

http_app = ASGIStaticFilesHandler(django_asgi_app) if settings.DEBUG else django_asgi_app

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from callcenter.routing import websocket_urlpatterns  # noqa: E402
from core.websocket_origin import SameOriginValidator  # noqa: E402
from webhook.edge import EngineEdge  # noqa: E402
from webhook.sip_edge import SipEdge  # noqa: E402

application = ProtocolTypeRouter(
    {
        # The engines' signed events and Kamailio's questions take the lean edges (webhook/edge.py,
        # webhook/sip_edge.py); every other request is Django's.
        "http": EngineEdge(SipEdge(http_app)),
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
