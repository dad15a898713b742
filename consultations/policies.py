"""Who may see or do what with a consultation. One function per question."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404

from accounts.models import User
from consultations.models import Consultation, PaymentStatus, Status


def is_participant(user: User, consultation: Consultation) -> bool:
    return user.is_authenticated and user.pk in (consultation.patient_id, consultation.doctor_id)


def consultation_for_participant(user: User, consultation_id: str) -> Consultation:
    """The consultation if `user` is its patient or doctor; Http404 otherwise.

    Missing and forbidden give the same answer, so ids cannot be probed.
    """
    if not user.is_authenticated:
        raise Http404("No such consultation.")
    try:
        consultation = Consultation.objects.get(pk=consultation_id)
    except Consultation.DoesNotExist:
        raise Http404("No such consultation.") from None
    if not is_participant(user, consultation):
        raise Http404("No such consultation.")
    return consultation


def intake_for_reader(user: User, consultation_id: str) -> Consultation:
    """An AI intake, for its patient or a doctor it was handed to; Http404 otherwise.

    Handed to: a consultation of that doctor's, not cancelled, was booked with
    the intake's case attached. The same answer for missing and forbidden.
    """
    if not user.is_authenticated:
        raise Http404("No such consultation.")
    consultation = Consultation.objects.filter(pk=consultation_id, consultation_type="ai").first()
    if consultation is None:
        raise Http404("No such consultation.")
    if user.pk == consultation.patient_id:
        return consultation
    handed = consultation.handoffs.filter(doctor_id=user.pk).exclude(status=Status.CANCELLED).exists()
    if not handed:
        raise Http404("No such consultation.")
    return consultation


# --- cancellation and rescheduling policy (numbers from settings) ------------------


def refund_due(consultation: Consultation, role: str | None, now: datetime) -> Decimal:
    """What a cancellation by `role` ("patient", "doctor", "staff") now gives back.

    Doctor and staff cancellations refund everything paid. A patient cancelling
    at least CANCEL_FULL_REFUND_HOURS before the start gets everything back;
    later, CANCEL_LATE_REFUND_PERCENT of it (rounded down to the paisa). A
    request never scheduled refunds in full. Nothing paid, nothing refunded.
    """
    if consultation.payment_status != PaymentStatus.PAID:
        return Decimal("0")
    paid = consultation.fee_amount
    if role != "patient" or consultation.scheduled_at is None:
        return paid
    if consultation.scheduled_at - now >= timedelta(hours=settings.CANCEL_FULL_REFUND_HOURS):
        return paid
    percent = Decimal(settings.CANCEL_LATE_REFUND_PERCENT) / 100
    return (paid * percent).quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def refund_summary(consultation: Consultation, role: str | None, now: datetime) -> str:
    """One sentence for the cancel page: what cancelling now means for the money."""
    if consultation.payment_status != PaymentStatus.PAID:
        return "Nothing has been paid, so there is nothing to refund."
    due = refund_due(consultation, role, now)
    currency = consultation.currency
    if due == consultation.fee_amount:
        return f"You will get the full {currency} {due} back."
    if due == 0:
        return "This late, the fee is not refunded."
    return (
        f"It is less than {settings.CANCEL_FULL_REFUND_HOURS} hours before the consultation, "
        f"so {settings.CANCEL_LATE_REFUND_PERCENT}% of the fee ({currency} {due}) is refunded."
    )


class RescheduleRefused(ValidationError):
    """The booking cannot be moved; the message says why."""


def reschedule_check(consultation: Consultation, role: str | None, now: datetime) -> None:
    """Raise RescheduleRefused unless `role` may move this booking now."""
    if consultation.status != Status.SCHEDULED or consultation.scheduled_at is None:
        raise RescheduleRefused("Only a scheduled consultation can be moved.", code="not_scheduled")
    if role not in ("patient", "doctor", "staff"):
        raise RescheduleRefused("Only the consultation's patient or doctor can move it.", code="not_allowed")
    if role == "patient":
        if consultation.reschedule_count >= settings.RESCHEDULE_MAX:
            raise RescheduleRefused(
                f"A booking can be moved at most {settings.RESCHEDULE_MAX} times. "
                "Please cancel it and book again instead.",
                code="too_many",
            )
        if consultation.scheduled_at - now < timedelta(hours=settings.RESCHEDULE_MIN_HOURS):
            raise RescheduleRefused(
                f"A booking can be moved up to {settings.RESCHEDULE_MIN_HOURS} hours before it starts.",
                code="too_late",
            )
    elif consultation.scheduled_at <= now:
        raise RescheduleRefused("This consultation has already started.", code="too_late")


def waiting_room_open(consultation: Consultation, now: datetime) -> bool:
    """May the patient enter the online waiting room now?"""
    if not consultation.is_online or consultation.scheduled_at is None:
        return False
    if consultation.status == Status.IN_PROGRESS:
        return True
    opens = consultation.scheduled_at - timedelta(minutes=settings.WAITING_ROOM_OPENS_MINUTES)
    return consultation.status == Status.SCHEDULED and now >= opens
