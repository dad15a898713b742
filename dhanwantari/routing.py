"""Websocket URL routes, collected from the apps that own consumers."""

from django.conf import settings

from consultations.routing import websocket_urlpatterns as consultation_routes

websocket_urlpatterns = [*consultation_routes]

if settings.BENCH_ENDPOINTS:
    # The benchmark's bare insert-and-relay consumer (bench/): only with BENCH_ENDPOINTS=true.
    from bench.routing import websocket_urlpatterns as bench_routes

    websocket_urlpatterns += bench_routes
