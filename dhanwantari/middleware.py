"""Site-wide hardening: deny by default, the Content-Security-Policy, and no
caching of pages shown to a signed-in person.

The lists these read live in settings.py, in the block "Hardening: deny by
default, CSP, caching of medical pages".
"""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponseBase, JsonResponse


def is_public(view_name: str | None) -> bool:
    """Whether an anonymous visitor may reach the view with this URL name."""
    return view_name in settings.PUBLIC_URL_NAMES


class DenyByDefaultMiddleware(LoginRequiredMiddleware):
    """Every URL needs a signed-in person except those in PUBLIC_URL_NAMES.

    Django's LoginRequiredMiddleware, with one difference: what is public is
    decided by the single list in settings, not by `@login_not_required` on
    views scattered over the apps (allauth marks many of its views so, some of
    which we do not want public). The views still check roles and ownership
    themselves; this is the floor under them, so a view that forgets
    `@login_required` is not open to the world.

    Anonymous requests for anything else get a redirect to the sign-in page
    with `?next=`, except requests that ask for JSON and not HTML (the pages'
    fetch() calls): a redirect to an HTML page would only confuse their
    parser, so they get 401 JSON instead.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.user.is_authenticated or is_public(request.resolver_match.view_name):
            return None
        if not request.accepts("text/html") and request.accepts("application/json"):
            return JsonResponse({"error": "Sign in to continue."}, status=401)
        return self.handle_no_permission(request, view_func)


class PrivateCacheMiddleware:
    """`Cache-Control: no-store, private` on every response to a signed-in person.

    Pages for a signed-in person carry medical data; neither a shared proxy
    nor the browser's disk cache should keep them (a shared family computer).
    A view that set Cache-Control itself made a deliberate choice (a listed
    doctor's photo, a signature image) and is left alone. Static files are
    served by WhiteNoise before this runs.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store, private"
        return response


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, plus two things a static policy cannot say.

    - The websocket origin: connect-src names this host's own ws:/wss: origin
      (older browsers do not count ws: as 'self'), never "any websocket".
    - Razorpay Checkout: its script, frames and calls are allowed only on the pages
      in CSP_RAZORPAY_PAGES, and only while PAYMENT_PROVIDER is "razorpay"
      (read per request, like the payments app does).
    """

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        update: dict[str, list[str]] = {}
        try:
            # get_host() is validated against ALLOWED_HOSTS, so this cannot be spoofed into the header.
            host = request.get_host()
        except Exception:  # DisallowedHost: the response is already an error page.
            host = None
        if host:
            update["connect-src"] = [f"{'wss' if request.is_secure() else 'ws'}://{host}"]
        match = getattr(request, "resolver_match", None)
        if (
            match is not None
            and match.view_name in settings.CSP_RAZORPAY_PAGES
            and settings.PAYMENT_PROVIDER == "razorpay"
        ):
            checkout = urlsplit(settings.RAZORPAY_CHECKOUT_JS)
            checkout_origin = f"{checkout.scheme}://{checkout.netloc}"
            update["script-src"] = [checkout_origin]
            update["frame-src"] = [checkout_origin, *settings.CSP_RAZORPAY_FRAME_SRC]
            update["connect-src"] = [
                *update.get("connect-src", []),
                checkout_origin,
                *settings.CSP_RAZORPAY_CONNECT_SRC,
            ]
        if parts.update:
            for directive, sources in parts.update.items():
                update[directive] = [*update.get(directive, []), *sources]
        parts.update = update or None
        return parts
