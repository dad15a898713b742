"""Websocket URL routes, collected from the apps that own consumers."""

from consultations.routing import websocket_urlpatterns as consultation_routes

websocket_urlpatterns = [*consultation_routes]
