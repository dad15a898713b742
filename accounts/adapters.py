"""Our policy inside django-allauth's flows.

allauth runs sign-up, sign-in, verification, reset, phone codes and MFA; this
adapter plugs our rules into its hooks and calls accounts.services for every
state change:

- sign-up sets the role and creates the matching profile;
- sign-in is refused while an account is locked, failures are counted towards
  the lock, successes are tracked (time, IP, count);
- every verification email is recorded as a token digest;
- phone numbers live on users.phone (E.164), codes go through accounts.sms.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Role, User
from accounts.sms import send_sms

DEFAULT_PHONE_REGION = "IN"


def normalise_phone(raw: str) -> str:
    """Any way a person types a mobile number → E.164, or a ValidationError.

    A number without a country code is read as Indian: "98123 45678" and
    "098123 45678" both become +919812345678.
    """
    try:
        parsed = phonenumbers.parse(raw, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("Enter a mobile number, e.g. 98123 45678 or +44 7911 123456.") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError("That is not a valid mobile number. Check the digits and the country code.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class PhoneField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "Mobile number")
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        return normalise_phone(value) if value else value


class _FrozenKey:
    """An email confirmation whose key is read once and then fixed."""

    def __init__(self, confirmation) -> None:
        self._confirmation = confirmation
        self.key = confirmation.key

    def __getattr__(self, name: str):
        return getattr(self._confirmation, name)


class AccountAdapter(DefaultAccountAdapter):
    # --- sign-up -------------------------------------------------------------

    def save_user(self, request: HttpRequest, user: User, form, commit: bool = True) -> User:
        # The role decides the id's prefix, so it is set before the first save.
        user.role = form.cleaned_data.get("role") or Role.PATIENT
        user = super().save_user(request, user, form, commit=False)
        if commit:
            user.save()
            services.account_profile_create(user=user, full_name=form.cleaned_data["full_name"])
        return user

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        return reverse("accounts:dashboard")

    # --- sign-in -------------------------------------------------------------

    @staticmethod
    def _login_of(credentials: dict[str, Any]) -> str:
        return credentials.get("email") or credentials.get("phone") or credentials.get("username") or ""

    def _user_for(self, credentials: dict[str, Any]) -> User | None:
        if credentials.get("email"):
            return User.objects.filter(email=User.objects.normalize_email(credentials["email"])).first()
        if credentials.get("phone"):
            return self.get_user_by_phone(credentials["phone"])
        return None

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        super().pre_authenticate(request, **credentials)
        services.login_lock_check(user=self._user_for(credentials), login=self._login_of(credentials))

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        services.login_failure_record(
            user=self._user_for(credentials), login=self._login_of(credentials), request=request
        )

    def login(self, request: HttpRequest, user: User) -> None:
        super().login(request, user)
        services.login_success_record(user=user, request=request)

    # --- email ----------------------------------------------------------------

    def send_confirmation_mail(self, request: HttpRequest, emailconfirmation, signup: bool) -> None:
        # allauth's HMAC key is signed with the current second, so each read of
        # `.key` differs: record and email one and the same reading.
        frozen = _FrozenKey(emailconfirmation)
        services.email_token_record(
            user=frozen.email_address.user,
            email=frozen.email_address.email,
            key=frozen.key,
        )
        super().send_confirmation_mail(request, frozen, signup)

    def confirm_email(self, request: HttpRequest, email_address) -> bool:
        confirmed = super().confirm_email(request, email_address)
        if confirmed:
            key = request.resolver_match.kwargs.get("key") if request.resolver_match else None
            services.email_verified(user=email_address.user, email_address=email_address, key=key)
        return confirmed

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        context.setdefault("site_name", settings.SITE_NAME)
        super().send_mail(template_prefix, email, context)

    # --- phone -----------------------------------------------------------------

    def phone_form_field(self, **kwargs: Any) -> PhoneField:
        return PhoneField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        return normalise_phone(phone)

    def set_phone(self, user: User, phone: str, verified: bool) -> None:
        user.phone = phone
        user.phone_verified = verified
        if user.pk:
            user.save(update_fields=["phone", "phone_verified", "updated_at"])

    def get_phone(self, user: User) -> tuple[str, bool] | None:
        return (user.phone, user.phone_verified) if user.phone else None

    def set_phone_verified(self, user: User, phone: str) -> None:
        # `phone` is the number the code was texted to. When a signed-in person
        # changes their number, allauth keeps the new one in the session until
        # now, so it is written here; filtering on it left the old number in place.
        # (allauth's VerifyPhoneForm has just refused a number another account holds.)
        now = timezone.now()
        User.all_objects.filter(pk=user.pk).update(
            phone=phone, phone_verified=True, phone_verified_at=now, updated_at=now
        )
        user.phone, user.phone_verified, user.phone_verified_at = phone, True, now

    def get_user_by_phone(self, phone: str) -> User | None:
        # allauth passes the number as typed at sign-in.
        try:
            phone = normalise_phone(phone)
        except ValidationError:
            return None
        return User.objects.filter(phone=phone).first()

    def send_verification_code_sms(self, user: User, phone: str, code: str, **kwargs: Any) -> None:
        send_sms(to=phone, message=f"{code} is your Dhanwantari verification code. It expires in 10 minutes.")

    def send_unknown_account_sms(self, phone: str, **kwargs: Any) -> None:
        send_sms(to=phone, message="Someone asked to sign in to Dhanwantari with this number, but it has no account.")

    def send_account_already_exists_sms(self, phone: str, **kwargs: Any) -> None:
        # allauth's default sends nothing: a sign-up with a taken number looked
        # like any other, and the number's owner was never told (the email
        # path mails them). allauth also calls this when it was the email that
        # was taken; then this number has no account and gets no message.
        if self.get_user_by_phone(phone) is None:
            return
        send_sms(
            to=phone,
            message="Someone tried to sign up to Dhanwantari with this number, but it already has an account. "
            "Sign in, or reset your password if you have forgotten it.",
        )
