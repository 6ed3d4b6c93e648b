"""The product's ASGI application plus one bench-only route: a bare Channels consumer that joins a group and
forwards whatever is sent to it (the baseline the `fanout` benchmark compares the wallboard stream with)."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.routing import URLRouter
from django.urls import path

from callcenter.asgi import application as product


class BareConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.group = f"bare.{self.scope['url_route']['kwargs']['n']}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def bare_event(self, message):
        await self.send_json(message["event"])


bare = URLRouter([path("ws/bare/<int:n>/", BareConsumer.as_asgi())])


async def application(scope, receive, send):
    if scope["type"] == "websocket" and scope["path"].startswith("/ws/bare/"):
        return await bare(scope, receive, send)
    return await product(scope, receive, send)
