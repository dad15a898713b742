"""Site-wide pages: the home page and the health check."""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from doctors.queries import featured_doctors

logger = logging.getLogger(__name__)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"doctors": list(featured_doctors())})


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        logger.warning("Health check: the database did not answer.", exc_info=True)
        return "error"
    return "ok"


def _redis_status() -> str:
    """Redis carries the channel layer and the cache when REDIS_URL is set."""
    if not settings.REDIS_URL:
        return "not configured"
    try:
        # A short timeout: a load balancer's probe must not hang on a dead Redis.
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
    except Exception:
        logger.warning("Health check: Redis did not answer.", exc_info=True)
        return "error"
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: 200 when the database (and Redis, if used) answer, else 503.

    Public (PUBLIC_URL_NAMES); it says only "ok" or "error", never why.
    """
    status = {"database": _database_status(), "redis": _redis_status()}
    healthy = all(value != "error" for value in status.values())
    return JsonResponse(status, status=200 if healthy else 503)
