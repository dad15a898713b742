"""Background work for payments: refunds through the provider, off the request path."""

from __future__ import annotations

from django_tasks import task

from payments import services


@task()
def payment_refund_issue(consultation_id: str) -> str:
    """Ask Razorpay to refund what a cancelled consultation owes.

    Enqueued after the cancellation commits. Running it twice is harmless
    (see services.razorpay_refund_issue); a provider failure raises, so the
    task backend records it, and `manage.py payments_retry_refunds` retries.
    """
    return services.razorpay_refund_issue(consultation_id=consultation_id)
