"""Queue again every Razorpay refund that is owed but not yet accepted by Razorpay.

A refund is requested right after a cancellation commits; if Razorpay could
not be reached then, or it reported the refund failed, the consultation stays
refund_pending with no refund reference. Run this from cron (e.g. hourly):

    0 * * * * python manage.py payments_retry_refunds

Each retry is idempotent at Razorpay (X-Refund-Idempotency), so running it
while a refund is in flight pays nothing twice.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from consultations.models import Consultation, PaymentMethod, PaymentStatus
from payments.tasks import payment_refund_issue


class Command(BaseCommand):
    help = "Queue the refund of every Razorpay payment still owed back to a patient."

    def handle(self, *args, **options) -> None:
        owed = Consultation.all_objects.filter(
            payment_status=PaymentStatus.REFUND_PENDING,
            payment_method=PaymentMethod.RAZORPAY,
            refund_reference="",
            refund_amount__gt=0,
        ).values_list("pk", flat=True)
        count = 0
        for pk in owed.iterator():
            payment_refund_issue.enqueue(pk)
            count += 1
        self.stdout.write(f"Queued {count} refund{'s' if count != 1 else ''}.")
