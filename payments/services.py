"""Payments: services. Every change to a consultation's payment columns goes
through here, in the caller's transaction, with the consultation row locked.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from accounts.models import User
from consultations.models import Consultation, PaymentStatus


def payment_settle_cancellation(
    *, consultation: Consultation, refund_amount: Decimal, by: User, now: datetime
) -> list[str]:
    """Settle the money of a consultation being cancelled; returns the fields changed.

    Called by consultations.services.consultation_transition inside its
    transaction, with `consultation` locked and not yet saved. Paid: the refund
    the policy allows becomes pending (the provider, or the clinic, completes
    it). Not paid yet: nothing is owed any more.
    """
    changed: list[str] = []
    if consultation.payment_status == PaymentStatus.PAID:
        if refund_amount > 0:
            consultation.refund_amount = refund_amount
            consultation.payment_status = PaymentStatus.REFUND_PENDING
            changed += ["refund_amount", "payment_status"]
    elif consultation.payment_status in (PaymentStatus.PENDING, PaymentStatus.FAILED):
        consultation.payment_status = PaymentStatus.NOT_REQUIRED
        changed.append("payment_status")
    return changed
