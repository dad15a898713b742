"""allauth signals that mean a state change for us, each handed to a service.

allauth has no adapter hook for these two moments: a password reset going
through (set_password also serves password change) and the primary email
address changing. Connected once, in AccountsConfig.ready().
"""

from __future__ import annotations

from typing import Any

from allauth.account import signals as allauth_signals

from accounts import services


def password_reset_done(sender, request, user, **kwargs: Any) -> None:
    # Without this the links stay unmarked and a locked account stays locked
    # after its owner has proven they hold the address.
    services.password_reset_completed(user=user, request=request)


def primary_email_changed(sender, request, user, from_email_address, to_email_address, **kwargs: Any) -> None:
    services.email_primary_changed(user=user, email_address=to_email_address)


def connect() -> None:
    allauth_signals.password_reset.connect(password_reset_done, dispatch_uid="accounts.password_reset_done")
    allauth_signals.email_changed.connect(primary_email_changed, dispatch_uid="accounts.primary_email_changed")
