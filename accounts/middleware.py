"""Session rules that apply to every request."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.messages.storage import default_storage
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

LAST_SEEN_KEY = "_last_seen"


class IdleSessionTimeoutMiddleware:
    """Sign out a session that has been idle too long (shorter for staff).

    The clock is kept in the session; touching it on every request would
    rewrite the session row each time, so it is refreshed once a minute.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            limit = settings.STAFF_SESSION_IDLE_TIMEOUT if user.is_staff else settings.SESSION_IDLE_TIMEOUT
            last_seen = request.session.get(LAST_SEEN_KEY)
            if last_seen is not None and now - last_seen > limit:
                logout(request)
                # urlencode: a bare ?next=/a/?x=1&y=2 would lose everything after the "&".
                response = redirect(f"{reverse('account_login')}?{urlencode({'next': request.get_full_path()})}")
                # This middleware runs before MessageMiddleware, so the request
                # has no message storage yet (messages.info raised and every
                # idle sign-out was a 500). Give it one and save it on the
                # response, as MessageMiddleware would have.
                request._messages = default_storage(request)
                messages.info(request, "You were signed out after a period of inactivity. Please sign in again.")
                request._messages.update(response)
                return response
            if last_seen is None or now - last_seen >= 60:
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


class StaffMFARequiredMiddleware:
    """Staff must have two-factor authentication before using the staff console."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.is_staff
            and request.path.startswith(reverse("admin:index"))
        ):
            from allauth.mfa.utils import is_mfa_enabled

            if not is_mfa_enabled(user):
                messages.warning(request, "Staff accounts need two-factor authentication. Set it up to continue.")
                return redirect("mfa_activate_totp")
        return self.get_response(request)


class UserTimezoneMiddleware:
    """Show every time in the signed-in person's own zone (stored in UTC)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        from accounts.queries import user_timezone

        # The active zone is per thread: put it back after the response, or
        # it would follow this worker thread into whatever it runs next.
        timezone.activate(user_timezone(user=user))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
