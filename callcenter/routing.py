"""WebSocket URL patterns (the wallboard consumers register here)."""

websocket_urlpatterns: list = []
