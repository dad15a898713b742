"""Who may pay for, or record money for, a consultation. One function per question."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import User
from accounts.policies import is_staff
from consultations.models import Consultation, PaymentMethod, PaymentStatus
from consultations.policies import consultation_for_participant

# Payment is owed in these states (a failed attempt can be tried again).
OWED = (PaymentStatus.PENDING, PaymentStatus.FAILED)


def consultation_for_payer(user: User, consultation_id: str) -> Consultation:
    """The consultation if `user` is its patient.

    Outsiders get 404 (as everywhere); the consultation's doctor gets 403: the
    page exists, it is not theirs.
    """
    consultation = consultation_for_participant(user, consultation_id)
    if user.pk != consultation.patient_id:
        raise PermissionDenied
    return consultation


def consultation_for_recorder(user: User, consultation_id: str) -> Consultation:
    """The consultation if `user` may record its payments and refunds: its doctor, or staff.

    Outsiders (another doctor included) get 404; the patient gets 403.
    """
    if is_staff(user):
        try:
            return Consultation.objects.get(pk=consultation_id)
        except Consultation.DoesNotExist:
            raise Http404("No such consultation.") from None
    consultation = consultation_for_participant(user, consultation_id)
    if consultation.doctor_id is None or user.pk != consultation.doctor_id:
        raise PermissionDenied
    return consultation


def may_record_payment(consultation: Consultation) -> bool:
    """Is there a payment to record by hand? (Owed, and not free.)"""
    return consultation.payment_status in OWED and consultation.fee_amount > 0


def may_record_refund(consultation: Consultation, user: User) -> bool:
    """Is there a refund for `user` to record by hand?

    Refunds of online payments go back through the provider by themselves;
    only staff record one by hand (when the provider could not refund it).
    """
    if consultation.payment_status != PaymentStatus.REFUND_PENDING:
        return False
    return consultation.payment_method != PaymentMethod.RAZORPAY or is_staff(user)
