"""Forms for accounts. allauth's forms are extended, not replaced."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms

from accounts.models import EMAIL_OR_PHONE_REQUIRED, Role
from accounts.notifications import KINDS
from accounts.services import Delivery


class SignupForm(AllauthSignupForm):
    """Sign-up for patients and doctors: full name, email or mobile, password.

    `role` arrives as a hidden field set by the page (patient or doctor sign-up);
    any other value, such as "admin", is refused like any invalid choice.
    """

    full_name = forms.CharField(
        label="Full name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name", "autofocus": True}),
    )
    role = forms.ChoiceField(
        choices=[(Role.PATIENT, "Patient"), (Role.DOCTOR, "Doctor")],
        initial=Role.PATIENT,
        widget=forms.HiddenInput,
    )

    field_order = ["full_name", "email", "phone", "password1", "password2", "role"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "email" in self.fields:
            self.fields["email"].required = False
            self.fields["email"].help_text = "We send a link to confirm it."
        if "phone" in self.fields:
            self.fields["phone"].required = False
            self.fields["phone"].help_text = "Indian numbers need no +91. We text you a code to confirm it."

    def clean_full_name(self) -> str:
        name = " ".join(self.cleaned_data["full_name"].split())
        if len(name) < 2:
            raise forms.ValidationError("Enter your name as you would like doctors to see it.")
        return name

    def clean(self):
        cleaned = super().clean()
        neither = not cleaned.get("email") and not cleaned.get("phone")
        if neither and not self.has_error("email") and not self.has_error("phone"):
            self.add_error("email", EMAIL_OR_PHONE_REQUIRED)
        return cleaned

    def validate_unique_email(self, value: str) -> str:
        # allauth hides a taken address only when verification is mandatory;
        # with ours optional it says "A user is already registered with this
        # email address", which tells anyone who has an account. We carry on as
        # for a new address and mail the owner instead (try_save).
        try:
            return super().validate_unique_email(value)
        except forms.ValidationError as exc:
            if exc.code != "email_taken":
                raise
            self.account_already_exists = self._email_taken = True
            return value

    def try_save(self, request):
        if not getattr(self, "_email_taken", False):
            return super().try_save(request)
        from allauth.account.internal.flows.email_verification import send_verification_email_to_address
        from allauth.account.models import EmailAddress
        from allauth.account.utils import get_login_redirect_url
        from django.http import HttpResponseRedirect

        # The owner gets the "you already have an account" mail (rate-limited
        # per address like any verification mail) ...
        send_verification_email_to_address(request, EmailAddress(email=self.cleaned_data["email"]), signup=True)
        if self.cleaned_data.get("phone"):
            # ... and with a phone number allauth's own path answers like a new
            # sign-up: the phone code page.
            return super().try_save(request)
        # ... and without one, allauth's path would finish a sign-in without a
        # user and fail: answer like a new email-only sign-up instead (the same
        # redirect and message), with nobody signed in.
        return None, HttpResponseRedirect(get_login_redirect_url(request, signup=True))


class LoginForm(AllauthLoginForm):
    """allauth's sign-in form; one field takes an email address or a mobile number."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "Email or mobile number"
        self.fields["login"].widget.attrs.update({"placeholder": "you@example.com or 98123 45678"})


@dataclass(frozen=True)
class PreferenceRow:
    """One kind as the preferences page shows it: its label and its checkboxes."""

    label: str
    mandatory: bool
    email: forms.BoundField
    sms: forms.BoundField | None  # None: this kind is never sent by SMS


class NotificationPreferencesForm(forms.Form):
    """One email and one SMS checkbox per kind; mandatory kinds cannot be unticked.

    A mandatory kind's email box is disabled, so Django ignores whatever a
    (forged) POST says for it; a kind without `sms_allowed` has no SMS field at
    all. notification_preferences_update enforces both rules again.
    """

    def __init__(self, *args, current: dict[str, Delivery], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # `current` holds only the kinds this person's role receives.
        self.kinds = {name: KINDS[name] for name in current}
        for name, spec in self.kinds.items():
            self.fields[f"{name}__email"] = forms.BooleanField(
                required=False,
                initial=current[name].email,
                label=spec.label,
                disabled=spec.mandatory,
            )
            if spec.sms_allowed:
                self.fields[f"{name}__sms"] = forms.BooleanField(
                    required=False, initial=current[name].sms, label=f"{spec.label} by SMS"
                )

    def rows(self) -> list[PreferenceRow]:
        return [
            PreferenceRow(
                label=spec.label,
                mandatory=spec.mandatory,
                email=self[f"{name}__email"],
                sms=self[f"{name}__sms"] if spec.sms_allowed else None,
            )
            for name, spec in self.kinds.items()
        ]

    def choices(self) -> dict[str, Delivery]:
        return {
            name: Delivery(
                email=self.cleaned_data.get(f"{name}__email", False),
                sms=self.cleaned_data.get(f"{name}__sms", False),
            )
            for name in self.kinds
        }


class DeleteAccountForm(forms.Form):
    confirm = forms.CharField(
        label='Type "DELETE" to confirm',
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != "DELETE":
            raise forms.ValidationError("Type DELETE in capital letters to close your account.")
        return value
