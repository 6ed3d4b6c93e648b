"""WebSocket URL patterns."""

from django.urls import path

from boards.consumers import ConsoleConsumer, WallboardConsumer

websocket_urlpatterns = [
    path("ws/console/", ConsoleConsumer.as_asgi()),
    path("ws/wallboard/", WallboardConsumer.as_asgi()),
]
