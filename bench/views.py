"""The bare page the benchmark compares every key page with.

One primary-key query and a small template, behind the same middleware as every
page (session, auth, CSRF, CSP, ...): what any signed-in page costs at least.
Served only with BENCH_ENDPOINTS=true (dhanwantari/urls.py).
"""

from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.template import engines

TEMPLATE = engines["django"].from_string(
    "<!doctype html><html><head><title>bench</title></head><body><p>Signed in as {{ user_id }}.</p></body></html>"
)


def bare(request):
    user_id = get_user_model().objects.filter(pk=request.user.pk).values_list("id", flat=True).first()
    return HttpResponse(TEMPLATE.render({"user_id": user_id}, request))
