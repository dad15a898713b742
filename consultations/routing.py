"""Websocket routes of the consultation room (`ws/consultations/<id>/`)."""

from django.urls import path

from consultations import consumers

websocket_urlpatterns = [
    path("ws/consultations/<str:consultation_id>/", consumers.ConsultationConsumer.as_asgi()),
]
