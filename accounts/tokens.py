"""Password reset tokens that are also recorded in password_reset_tokens.

The token itself is Django's (an HMAC over the user's password hash and last
login, so it dies when the password changes); we add a row holding only its
SHA-256, the expiry and the requesting IP, and refuse any token without a
usable row. So a reset link works once, for an hour, and staff can see every
request.
"""

from __future__ import annotations

from django.contrib.auth.tokens import PasswordResetTokenGenerator


class RecordedPasswordResetTokenGenerator(PasswordResetTokenGenerator):
    def make_token(self, user) -> str:
        from allauth.core import context

        from accounts.services import password_reset_token_record

        token = super().make_token(user)
        password_reset_token_record(user=user, token=token, request=context.request)
        return token

    def check_token(self, user, token) -> bool:
        from accounts.services import password_reset_token_usable

        if user is None or not token or not super().check_token(user, token):
            return False
        return password_reset_token_usable(user=user, token=token)
