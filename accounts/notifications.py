"""The kinds of notification we send, and how each is delivered by default.

Every notification is shown in-app. Email and SMS follow the user's
preference for that kind (accounts.models.NotificationPreference), falling
back to the defaults here. SMS goes only to a verified phone, and only for
kinds where `sms_allowed` is set: a text message costs money and interrupts.
"""

from __future__ import annotations

from dataclasses import dataclass

EVERYONE = frozenset({"patient", "doctor", "admin"})
PATIENTS = frozenset({"patient"})
DOCTORS = frozenset({"doctor"})
CARE = frozenset({"patient", "doctor"})


@dataclass(frozen=True)
class Kind:
    label: str
    email: bool = True
    sms: bool = False
    sms_allowed: bool = False
    # Security notices cannot be switched off: they are how a person learns
    # someone else is in their account.
    mandatory: bool = False
    # Whose preferences page lists it.
    audience: frozenset[str] = EVERYONE


KINDS: dict[str, Kind] = {
    "welcome": Kind("Welcome and getting started", email=False),
    "account_security": Kind("Security alerts about your account", mandatory=True),
    "account_locked": Kind("Your account was locked after failed sign-ins", mandatory=True),
    "doctor_verification": Kind("Verification of your doctor profile", audience=DOCTORS),
    "consultation_requested": Kind("New consultation requests", sms_allowed=True, audience=DOCTORS),
    "consultation_booked": Kind("Booking confirmations", sms_allowed=True, audience=CARE),
    "consultation_cancelled": Kind("Cancellations", sms_allowed=True, audience=CARE),
    "consultation_rescheduled": Kind("Changes of time", sms_allowed=True, audience=CARE),
    "consultation_progress": Kind("Consultation started, completed or missed", email=False, audience=CARE),
    "consultation_reminder": Kind("Reminders before a consultation", sms=True, sms_allowed=True, audience=CARE),
    "message_received": Kind("New chat messages", email=False, audience=CARE),
    "prescription_issued": Kind("New prescriptions", sms_allowed=True, audience=PATIENTS),
    "follow_up_due": Kind("Follow-up reminders", sms_allowed=True, audience=PATIENTS),
    "payment_pending": Kind("Payments to complete", audience=PATIENTS),
    "payment_received": Kind("Payment receipts", audience=PATIENTS),
    "payment_failed": Kind("Failed payments", audience=PATIENTS),
    "refund_processed": Kind("Refunds", audience=PATIENTS),
    "review_received": Kind("New reviews of you", email=False, audience=DOCTORS),
}


def kinds_for(role: str) -> dict[str, Kind]:
    """The kinds a person in this role can receive, in display order."""
    return {name: spec for name, spec in KINDS.items() if role in spec.audience}


def kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"Unknown notification kind {name!r}; add it to accounts.notifications.KINDS.") from None
