"""The authentication backend: allauth's, refusing deleted accounts.

allauth finds a user through its own email-address table and the phone
adapter, not through User.objects, so a soft-deleted account would still pass
the password check. Django asks user_can_authenticate() of every candidate.
"""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend


class AuthenticationBackend(AllauthBackend):
    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and getattr(user, "deleted_at", None) is None
