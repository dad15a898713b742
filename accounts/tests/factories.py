from __future__ import annotations

import hashlib
from datetime import timedelta

import factory
from django.utils import timezone

from accounts.models import (
    AdminLog,
    AuditAction,
    EmailVerificationToken,
    Notification,
    PasswordResetToken,
    Role,
    User,
)

TEST_PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    role = Role.PATIENT
    email_verified = True

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or TEST_PASSWORD)
        if create:
            self.save(update_fields=["password"])

    @factory.post_generation
    def email_address(self, create, extracted, **kwargs):
        # allauth's own record of the address, as sign-up would have made it.
        if create and self.email:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.create(user=self, email=self.email, verified=self.email_verified, primary=True)


class PatientUserFactory(UserFactory):
    role = Role.PATIENT
    email = factory.Sequence(lambda n: f"patient{n}@example.test")


class DoctorUserFactory(UserFactory):
    role = Role.DOCTOR
    email = factory.Sequence(lambda n: f"doctor{n}@example.test")


class StaffUserFactory(UserFactory):
    """A superuser with TOTP set up: staff cannot use the admin without MFA.

    The secret is kept on the instance (`totp_secret`) so tests can compute codes.
    """

    role = Role.ADMIN
    email = factory.Sequence(lambda n: f"staff{n}@example.test")
    is_staff = True
    is_superuser = True

    @factory.post_generation
    def totp(self, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

        self.totp_secret = generate_totp_secret()
        TOTP.activate(self, self.totp_secret)


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    user = factory.SubFactory(PatientUserFactory)
    kind = "consultation_booked"
    title = "Your consultation is booked"
    body = "See you soon."
    deeplink = "/"


class AdminLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdminLog

    user = factory.SubFactory(StaffUserFactory)
    action = AuditAction.UPDATE
    table_name = "users"
    record_id = factory.LazyAttribute(lambda o: o.user.pk)
    old_values = factory.LazyFunction(lambda: {"is_active": True})
    new_values = factory.LazyFunction(lambda: {"is_active": False})
    ip_address = "203.0.113.7"
    user_agent = "pytest"


def _token_hash(n: int) -> str:
    return hashlib.sha256(f"token-{n}".encode()).hexdigest()


class PasswordResetTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PasswordResetToken

    user = factory.SubFactory(PatientUserFactory)
    token_hash = factory.Sequence(_token_hash)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))
    requested_ip = "198.51.100.4"


class EmailVerificationTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailVerificationToken

    user = factory.SubFactory(PatientUserFactory)
    email = factory.LazyAttribute(lambda o: o.user.email)
    token_hash = factory.Sequence(lambda n: _token_hash(n + 1_000_000))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=24))
