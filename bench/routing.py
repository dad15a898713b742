"""The bare consumer (bench/consumers.py), at /ws/bench/<room>/ only with BENCH_ENDPOINTS=true."""

from django.urls import path

from bench import consumers

websocket_urlpatterns = [
    path("ws/bench/<str:room>/", consumers.BareRelayConsumer.as_asgi()),
]
