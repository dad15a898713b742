"""The consultation room's websocket, `ws/consultations/<id>/`.

This is the authenticated, authorised socket the room protocol (issue 7) is
built on: only the consultation's patient and doctor may connect; everyone
else is refused at the handshake with the same close code, whether the
consultation exists or not.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from consultations.policies import consultation_for_participant

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


class ConsultationConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        consultation_id = self.scope["url_route"]["kwargs"]["consultation_id"]
        try:
            consultation = await database_sync_to_async(consultation_for_participant)(user, consultation_id)
        except Http404:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.consultation_id = consultation.pk
        self.group_name = f"consultation.{consultation.pk}"
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "group_name", None):
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        # The message protocol arrives with the room; until then every event is
        # answered with an error frame and the socket stays open.
        await self.send_json({"type": "error", "code": "unsupported", "detail": "This event type is not supported."})
