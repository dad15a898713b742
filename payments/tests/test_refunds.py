"""Refunds when a consultation is cancelled, through
consultations.services.consultation_transition: Razorpay payments are
refunded through Razorpay after the cancellation commits; offline payments
wait as refund_pending until the clinic records the refund.
"""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Notification
from consultations.models import Consultation
from consultations.services import consultation_transition
from payments import services
from payments.models import PaymentEvent
from payments.tasks import payment_refund_issue
from payments.tests.conftest import FEE, booked, pay_with_razorpay

pytestmark = pytest.mark.django_db


def fresh(consultation: Consultation) -> Consultation:
    return Consultation.objects.get(pk=consultation.pk)


@pytest.fixture
def cancel(django_capture_on_commit_callbacks):
    """Cancel as someone, running what is queued for after the commit (the refund task)."""

    def cancel(consultation: Consultation, by, reason: str = "Cannot make it") -> Consultation:
        with django_capture_on_commit_callbacks(execute=True):
            consultation_transition(consultation=consultation, to="cancelled", by=by, reason=reason)
        return fresh(consultation)

    return cancel


def test_a_razorpay_payment_is_refunded_in_full_when_the_doctor_cancels(fake_razorpay, consultation, cancel):
    payment_id = pay_with_razorpay(fake_razorpay, consultation)

    row = cancel(consultation, consultation.doctor)

    [refund] = fake_razorpay.refunds.values()
    assert (refund["payment_id"], refund["amount"]) == (payment_id, 50000)
    assert (row.status, row.payment_status, row.refund_amount) == ("cancelled", "refunded", FEE)
    assert (row.refund_reference, row.refunded_at is not None) == (refund["id"], True)
    event = PaymentEvent.objects.get(event_type="refund.api.processed")
    assert (event.outcome, event.refund_id, event.amount) == ("applied", refund["id"], FEE)
    assert Notification.objects.filter(user=row.patient, kind="refund_processed").count() == 1


def test_a_late_patient_cancellation_refunds_the_policys_share(fake_razorpay, settings, cancel):
    settings.CANCEL_LATE_REFUND_PERCENT = 50
    consultation = booked(scheduled_at=timezone.now() + timedelta(hours=3))
    pay_with_razorpay(fake_razorpay, consultation)

    row = cancel(consultation, consultation.patient)

    [refund] = fake_razorpay.refunds.values()
    assert refund["amount"] == 25000
    assert (row.payment_status, row.refund_amount) == ("refunded", Decimal("250.00"))


def test_a_refund_razorpay_processes_later_ends_refunded_by_its_webhook(client, fake_razorpay, consultation, cancel):
    pay_with_razorpay(fake_razorpay, consultation)
    fake_razorpay.refund_status = "pending"

    row = cancel(consultation, consultation.doctor)

    [refund] = fake_razorpay.refunds.values()
    assert (row.payment_status, row.refund_reference, row.refunded_at) == ("refund_pending", refund["id"], None)

    fake_razorpay.process_refund(refund["id"])
    body, headers = fake_razorpay.signed(fake_razorpay.event("refund.processed", refund_id=refund["id"]))
    client.post("/payments/razorpay/webhook/", body, content_type="application/json", headers=headers)

    row = fresh(consultation)
    assert (row.payment_status, row.refund_reference) == ("refunded", refund["id"])
    assert row.refunded_at is not None


def test_a_refund_razorpay_could_not_make_is_retried_by_the_command(client, fake_razorpay, consultation, cancel):
    pay_with_razorpay(fake_razorpay, consultation)
    fake_razorpay.refund_status = "pending"
    cancel(consultation, consultation.doctor)
    [first] = fake_razorpay.refunds.values()
    fake_razorpay.process_refund(first["id"], "failed")
    body, headers = fake_razorpay.signed(fake_razorpay.event("refund.failed", refund_id=first["id"]))
    client.post("/payments/razorpay/webhook/", body, content_type="application/json", headers=headers)
    assert (fresh(consultation).payment_status, fresh(consultation).refund_reference) == ("refund_pending", "")

    fake_razorpay.refund_status = "processed"
    fake_razorpay.payments[first["payment_id"]]["amount_refunded"] = 0  # the failed refund gave nothing back
    call_command("payments_retry_refunds", stdout=io.StringIO())

    row = fresh(consultation)
    second = [refund for refund in fake_razorpay.refunds.values() if refund["id"] != first["id"]]
    assert len(second) == 1
    assert (row.payment_status, row.refund_reference) == ("refunded", second[0]["id"])


def test_when_razorpay_is_down_the_cancellation_stands_and_the_refund_is_retried(fake_razorpay, consultation, cancel):
    pay_with_razorpay(fake_razorpay, consultation)
    fake_razorpay.fail_api_with = 503

    row = cancel(consultation, consultation.doctor)

    assert (row.status, row.payment_status, row.refund_reference) == ("cancelled", "refund_pending", "")
    assert fake_razorpay.refunds == {}

    fake_razorpay.fail_api_with = None
    call_command("payments_retry_refunds", stdout=io.StringIO())
    assert fresh(consultation).payment_status == "refunded"


def test_running_the_refund_task_again_refunds_nothing_twice(fake_razorpay, consultation, cancel):
    pay_with_razorpay(fake_razorpay, consultation)
    cancel(consultation, consultation.doctor)

    payment_refund_issue.enqueue(consultation.pk)
    services.razorpay_refund_issue(consultation_id=consultation.pk)

    assert len(fake_razorpay.refunds) == 1
    assert PaymentEvent.objects.filter(event_type__startswith="refund.").count() == 1


def test_two_runs_racing_get_the_same_refund_from_razorpay(fake_razorpay, consultation, cancel):
    pay_with_razorpay(fake_razorpay, consultation)
    fake_razorpay.fail_api_with = 503
    cancel(consultation, consultation.doctor)
    fake_razorpay.fail_api_with = None
    # The first run's request reached Razorpay but its answer was lost.
    row = fresh(consultation)
    fake_razorpay.refund_payment(
        row.payment_reference, amount=50000, notes={"consultation_id": row.pk}, idempotency_key=f"refund_{row.pk}_0"
    )

    services.razorpay_refund_issue(consultation_id=row.pk)

    assert len(fake_razorpay.refunds) == 1
    assert fresh(consultation).payment_status == "refunded"


def test_an_unpaid_razorpay_booking_cancelled_owes_nothing_and_refunds_nothing(fake_razorpay, consultation, cancel):
    services.razorpay_order_for(consultation=consultation, by=consultation.patient)

    row = cancel(consultation, consultation.patient)

    assert row.payment_status == "not_required"
    assert fake_razorpay.refunds == {}


def test_an_offline_payment_stays_refund_pending_until_recorded(offline, consultation, cancel):
    services.payment_record_offline(consultation=consultation, by=consultation.doctor, amount=FEE, receipt_number="R1")

    row = cancel(consultation, consultation.patient)

    assert (row.payment_status, row.refund_amount, row.refunded_at) == ("refund_pending", FEE, None)
    services.razorpay_refund_issue(consultation_id=row.pk)  # not Razorpay's to refund: nothing happens
    assert fresh(consultation).payment_status == "refund_pending"

    services.refund_record_offline(consultation=row, by=row.doctor, amount=FEE, receipt_number="RF1")
    assert fresh(consultation).payment_status == "refunded"


def test_the_patient_sees_the_refund_state_on_the_pay_page(client, fake_razorpay, consultation, cancel):
    pay_with_razorpay(fake_razorpay, consultation)
    fake_razorpay.refund_status = "pending"
    cancel(consultation, consultation.patient)
    client.force_login(consultation.patient)

    page = client.get(f"/consultations/{consultation.pk}/pay/")

    assert b"data-payment-status>Refund pending<" in page.content
    assert b"is being refunded" in page.content
