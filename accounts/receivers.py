"""Signals that mean a state change for us, each handed to a service.

allauth has no adapter hook for these two moments: a password reset going
through (set_password also serves password change) and the primary email
address changing. Connected once, in AccountsConfig.ready().

And the moments a user's open websockets must close (accounts.sockets):
sign-out, password change/set/reset, and a save of the user row that leaves
it locked, inactive or deleted.
"""

from __future__ import annotations

from typing import Any

from allauth.account import signals as allauth_signals
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save

from accounts import services, sockets


def password_reset_done(sender, request, user, **kwargs: Any) -> None:
    # Without this the links stay unmarked and a locked account stays locked
    # after its owner has proven they hold the address.
    services.password_reset_completed(user=user, request=request)


def primary_email_changed(sender, request, user, from_email_address, to_email_address, **kwargs: Any) -> None:
    services.email_primary_changed(user=user, email_address=to_email_address)


# --- session changes reach open websockets (accounts.sockets) --------------------


def signed_out_close_sockets(sender, request, user, **kwargs: Any) -> None:
    if user is not None:
        sockets.user_sockets_close(user.pk, reason="signed_out")


def password_changed_close_sockets(sender, request, user, **kwargs: Any) -> None:
    sockets.user_sockets_close(user.pk, reason="password_changed")


def user_saved_close_sockets(sender, instance, created: bool, **kwargs: Any) -> None:
    # A lock (accounts.services.login_failure_record), a deactivation or a
    # deletion is a save of the user row; whichever code path made it, the
    # row's new state is what counts.
    if not created and (not instance.is_active or instance.deleted_at is not None or instance.is_locked):
        sockets.user_sockets_close(instance.pk, reason="account_disabled")


def connect() -> None:
    from accounts.models import User

    user_logged_out.connect(signed_out_close_sockets, dispatch_uid="accounts.signed_out_close_sockets")
    for name in ("password_changed", "password_set", "password_reset"):
        getattr(allauth_signals, name).connect(password_changed_close_sockets, dispatch_uid=f"accounts.{name}_sockets")
    post_save.connect(user_saved_close_sockets, sender=User, dispatch_uid="accounts.user_saved_close_sockets")
    allauth_signals.password_reset.connect(password_reset_done, dispatch_uid="accounts.password_reset_done")
    allauth_signals.email_changed.connect(primary_email_changed, dispatch_uid="accounts.primary_email_changed")
