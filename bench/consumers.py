"""The bare insert-and-relay consumer the chat benchmark compares ours with.

Per message: one INSERT into `messages` (Message.objects.create, the fewest
fields) through database_sync_to_async, then a group_send to the room; every
other socket in the room gets the text. No checks beyond the session (the
ASGI stack's origin check and AuthMiddlewareStack still run), no receipts, no
rate limits. The room name is a consultation id, so the row is valid.
Routed only with BENCH_ENDPOINTS=true (dhanwantari/routing.py).
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from consultations.models import Message


class BareRelayConsumer(AsyncWebsocketConsumer):
    group_name: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user_id = user.pk
        self.consultation_id = self.scope["url_route"]["kwargs"]["room"]
        self.group_name = f"bench.{self.consultation_id}"
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group_name:
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await database_sync_to_async(self.insert)(text_data or "")
        await self.channel_layer.group_send(
            self.group_name, {"type": "relay", "text": text_data, "origin": self.channel_name}
        )

    def insert(self, body: str) -> None:
        Message.objects.create(consultation_id=self.consultation_id, sender_id=self.user_id, body=body[:5000])

    async def relay(self, event: dict) -> None:
        if event["origin"] != self.channel_name:
            await self.send(text_data=event["text"])
