"""Site-wide pages: the home page and the health check."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from doctors.queries import featured_doctors


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"doctors": list(featured_doctors())})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: 200 when the database answers, 503 when not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        ok = True
    except Exception:
        ok = False
    return JsonResponse({"database": "ok" if ok else "down"}, status=200 if ok else 503)
