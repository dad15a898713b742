"""Razorpay webhooks: signature, once-only, matching, and events in any order."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AdminLog, Notification
from consultations.models import Consultation
from consultations.services import consultation_transition
from payments import services
from payments.models import PaymentEvent
from payments.tests.conftest import FEE, booked, pay_with_razorpay

pytestmark = pytest.mark.django_db

WEBHOOK = "/payments/razorpay/webhook/"


def test_the_webhook_url_is_the_documented_one():
    assert reverse("payments:razorpay_webhook") == WEBHOOK


def deliver(client, fake, envelope, *, event_id=None, secret=None, body=None, signature=None):
    signed_body, headers = fake.signed(envelope, event_id=event_id, secret=secret)
    if signature is not None:
        headers["X-Razorpay-Signature"] = signature
    return client.post(
        WEBHOOK, body if body is not None else signed_body, content_type="application/json", headers=headers
    )


def fresh(consultation: Consultation) -> Consultation:
    return Consultation.objects.get(pk=consultation.pk)


@pytest.fixture
def attempt(fake_razorpay, consultation):
    """A captured payment at Razorpay for the consultation's order, not yet known here."""
    order_id = services.razorpay_order_for(consultation=consultation, by=consultation.patient).order_id
    return fake_razorpay.create_payment(order_id)


def nothing_changed(consultation: Consultation) -> bool:
    row = fresh(consultation)
    return row.payment_status == "pending" and not row.payment_reference and row.paid_at is None


# --- signature -----------------------------------------------------------------------


def test_a_captured_payment_marks_the_consultation_paid(client, fake_razorpay, consultation, attempt):
    response = deliver(client, fake_razorpay, fake_razorpay.event("payment.captured", payment_id=attempt["id"]))

    row = fresh(consultation)
    assert (response.status_code, response.json()) == (200, {"outcome": "applied"})
    assert (row.payment_status, row.payment_method, row.payment_reference) == ("paid", "razorpay", attempt["id"])
    event = PaymentEvent.objects.get()
    assert (event.event_type, event.consultation, event.outcome, event.amount, event.currency) == (
        "payment.captured",
        row,
        "applied",
        FEE,
        "INR",
    )
    assert event.payload["payload"]["payment"]["entity"]["id"] == attempt["id"]
    assert AdminLog.objects.filter(record_id=row.pk, new_values__payment_status="paid").exists()
    assert Notification.objects.filter(user=row.patient, kind="payment_received").count() == 1


@pytest.mark.parametrize(
    "how",
    ["forged signature", "tampered body", "wrong secret", "no signature", "key secret instead of webhook secret"],
)
def test_a_badly_signed_webhook_is_refused_and_nothing_is_stored(client, fake_razorpay, consultation, attempt, how):
    envelope = fake_razorpay.event("payment.captured", payment_id=attempt["id"])
    kwargs = {
        "forged signature": {"signature": "ab" * 32},
        "tampered body": {"body": json.dumps({**envelope, "created_at": 1}).encode()},
        "wrong secret": {"secret": "not-the-webhook-secret"},
        "no signature": {"signature": ""},
        "key secret instead of webhook secret": {"secret": fake_razorpay.key_secret},
    }[how]

    response = deliver(client, fake_razorpay, envelope, **kwargs)

    assert response.status_code == 400
    assert not PaymentEvent.objects.exists()
    assert nothing_changed(consultation)


def test_with_no_webhook_secret_configured_every_webhook_is_refused(client, fake_razorpay, settings, attempt):
    settings.RAZORPAY_WEBHOOK_SECRET = ""
    envelope = fake_razorpay.event("payment.captured", payment_id=attempt["id"])
    assert deliver(client, fake_razorpay, envelope, secret="").status_code == 400
    assert not PaymentEvent.objects.exists()


def test_a_signed_body_that_is_not_an_event_is_refused(client, fake_razorpay):
    for body in (b"not json", b"[1, 2]", b'{"event": "payment.captured"}'):
        assert deliver(client, fake_razorpay, body).status_code == 400
    assert not PaymentEvent.objects.exists()


def test_a_huge_body_is_refused_before_it_is_read(client, fake_razorpay, attempt):
    envelope = fake_razorpay.event("payment.captured", payment_id=attempt["id"])
    envelope["padding"] = "x" * (70 * 1024)
    assert deliver(client, fake_razorpay, envelope).status_code == 413
    assert not PaymentEvent.objects.exists()


def test_the_webhook_takes_only_posts_and_needs_no_csrf_token(fake_razorpay, consultation, attempt):
    client = Client(enforce_csrf_checks=True)
    assert client.get(WEBHOOK).status_code == 405
    response = deliver(client, fake_razorpay, fake_razorpay.event("payment.captured", payment_id=attempt["id"]))
    assert response.status_code == 200
    assert fresh(consultation).payment_status == "paid"


# --- once only -----------------------------------------------------------------------


def test_the_same_event_delivered_twice_has_one_effect(client, fake_razorpay, consultation, attempt):
    envelope = fake_razorpay.event("payment.captured", payment_id=attempt["id"])

    first = deliver(client, fake_razorpay, envelope, event_id="evt_Same0000000001")
    again = deliver(client, fake_razorpay, envelope, event_id="evt_Same0000000001")

    assert (first.json(), again.json()) == ({"outcome": "applied"}, {"outcome": "duplicate"})
    assert again.status_code == 200
    assert PaymentEvent.objects.count() == 1
    assert Notification.objects.filter(kind="payment_received").count() == 1
    assert AdminLog.objects.filter(record_id=consultation.pk).count() == 2  # the order, then the payment


def test_a_delivery_without_an_event_id_is_deduplicated_by_its_body(client, fake_razorpay, consultation, attempt):
    body, headers = fake_razorpay.signed(fake_razorpay.event("payment.captured", payment_id=attempt["id"]))
    del headers["X-Razorpay-Event-Id"]
    client.post(WEBHOOK, body, content_type="application/json", headers=headers)
    response = client.post(WEBHOOK, body, content_type="application/json", headers=headers)
    assert response.json() == {"outcome": "duplicate"}
    assert PaymentEvent.objects.count() == 1


def test_payment_captured_and_order_paid_for_one_payment_apply_once(client, fake_razorpay, consultation, attempt):
    deliver(client, fake_razorpay, fake_razorpay.event("payment.captured", payment_id=attempt["id"]))
    response = deliver(client, fake_razorpay, fake_razorpay.event("order.paid", payment_id=attempt["id"]))

    assert response.json() == {"outcome": "ignored"}
    assert fresh(consultation).payment_status == "paid"
    assert Notification.objects.filter(kind="payment_received").count() == 1


# --- matching ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, why",
    [
        ({"amount": 100}, "Amount 1.00 is not the fee"),
        ({"amount": 5000000}, "Amount 50000.00 is not the fee"),
        ({"currency": "USD"}, "Currency USD is not the consultation's INR"),
    ],
)
def test_a_payment_that_does_not_match_the_fee_is_stored_as_rejected(
    client, fake_razorpay, consultation, attempt, changes, why
):
    envelope = fake_razorpay.event("payment.captured", payment_id=attempt["id"], payment_changes=changes)

    response = deliver(client, fake_razorpay, envelope)

    event = PaymentEvent.objects.get()
    assert (response.status_code, response.json()) == (200, {"outcome": "rejected"})
    assert (event.outcome, event.consultation_id) == ("rejected", consultation.pk)
    assert why in event.outcome_note
    assert nothing_changed(consultation)
    assert not Notification.objects.filter(kind="payment_received").exists()


def test_a_payment_for_another_order_naming_this_consultation_is_rejected(client, fake_razorpay, consultation, attempt):
    stray = fake_razorpay.create_order(amount=50000, notes={"consultation_id": consultation.pk})
    payment = fake_razorpay.create_payment(stray["id"])

    deliver(client, fake_razorpay, fake_razorpay.event("payment.captured", payment_id=payment["id"]))

    event = PaymentEvent.objects.get()
    assert (event.outcome, event.consultation_id, event.order_id) == ("rejected", consultation.pk, stray["id"])
    assert nothing_changed(consultation)


def test_a_payment_for_an_order_of_no_consultation_is_kept_unmatched(client, fake_razorpay):
    payment = fake_razorpay.create_payment(fake_razorpay.create_order(amount=50000)["id"])

    response = deliver(client, fake_razorpay, fake_razorpay.event("payment.captured", payment_id=payment["id"]))

    event = PaymentEvent.objects.get()
    assert response.status_code == 200
    assert (event.outcome, event.consultation_id) == ("rejected", None)


def test_an_event_we_do_not_act_on_is_kept_and_ignored(client, fake_razorpay, consultation, attempt):
    response = deliver(client, fake_razorpay, fake_razorpay.event("payment.dispute.created", payment_id=attempt["id"]))
    assert response.json() == {"outcome": "ignored"}
    assert nothing_changed(consultation)


# --- any order -----------------------------------------------------------------------


def test_a_failure_arriving_after_the_capture_leaves_it_paid(client, fake_razorpay, consultation, attempt):
    failed = fake_razorpay.create_payment(attempt["order_id"], status="failed")
    deliver(client, fake_razorpay, fake_razorpay.event("payment.captured", payment_id=attempt["id"]))

    response = deliver(client, fake_razorpay, fake_razorpay.event("payment.failed", payment_id=failed["id"]))

    assert response.json() == {"outcome": "ignored"}
    assert (fresh(consultation).payment_status, fresh(consultation).payment_reference) == ("paid", attempt["id"])
    assert not Notification.objects.filter(kind="payment_failed").exists()


def test_a_failed_attempt_then_a_capture_ends_paid(client, fake_razorpay, consultation, attempt):
    failed = fake_razorpay.create_payment(attempt["order_id"], status="failed")

    deliver(client, fake_razorpay, fake_razorpay.event("payment.failed", payment_id=failed["id"]))
    assert fresh(consultation).payment_status == "failed"
    assert Notification.objects.filter(kind="payment_failed").count() == 1

    deliver(client, fake_razorpay, fake_razorpay.event("payment.captured", payment_id=attempt["id"]))
    assert fresh(consultation).payment_status == "paid"


def test_the_pay_page_shows_why_the_last_attempt_failed(client, fake_razorpay, consultation, attempt):
    failed = fake_razorpay.create_payment(attempt["order_id"], status="failed", error_description="Card declined.")
    deliver(client, fake_razorpay, fake_razorpay.event("payment.failed", payment_id=failed["id"]))
    client.force_login(consultation.patient)

    page = client.get(reverse("payments:pay", args=[consultation.pk]))

    assert b"data-payment-status>Payment failed<" in page.content
    assert b"Card declined." in page.content
    assert b"data-razorpay-pay" in page.content  # they can try again


def test_nothing_un_refunds_a_refunded_consultation(
    client, fake_razorpay, consultation, django_capture_on_commit_callbacks
):
    payment_id = pay_with_razorpay(fake_razorpay, consultation)
    fake_razorpay.refund_status = "pending"
    with django_capture_on_commit_callbacks(execute=True):
        consultation_transition(consultation=consultation, to="cancelled", by=consultation.doctor, reason="On leave")
    refund_id = fresh(consultation).refund_reference
    fake_razorpay.process_refund(refund_id)

    processed = deliver(client, fake_razorpay, fake_razorpay.event("refund.processed", refund_id=refund_id))
    late = [
        deliver(client, fake_razorpay, fake_razorpay.event("refund.failed", refund_id=refund_id)),
        deliver(client, fake_razorpay, fake_razorpay.event("payment.captured", payment_id=payment_id)),
        deliver(client, fake_razorpay, fake_razorpay.event("payment.failed", payment_id=payment_id)),
        deliver(client, fake_razorpay, fake_razorpay.event("refund.processed", refund_id=refund_id)),
    ]

    row = fresh(consultation)
    assert processed.json() == {"outcome": "applied"}
    assert [response.json()["outcome"] for response in late] == ["ignored", "ignored", "ignored", "ignored"]
    assert (row.payment_status, row.refund_reference, row.refund_amount) == ("refunded", refund_id, FEE)
    assert Notification.objects.filter(kind="refund_processed", title__contains="processed").count() == 1


def test_a_capture_arriving_after_cancellation_is_refunded_in_full(
    client, fake_razorpay, consultation, attempt, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        consultation_transition(consultation=consultation, to="cancelled", by=consultation.patient, reason="Better")
    assert fresh(consultation).payment_status == "not_required"

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, fake_razorpay, fake_razorpay.event("payment.captured", payment_id=attempt["id"]))

    row = fresh(consultation)
    assert response.json() == {"outcome": "applied"}
    assert (row.payment_status, row.payment_reference, row.refund_amount) == ("refunded", attempt["id"], FEE)
    [refund] = fake_razorpay.refunds.values()
    assert (refund["payment_id"], refund["amount"], row.refund_reference) == (attempt["id"], 50000, refund["id"])


def test_a_refund_made_from_razorpays_dashboard_is_recorded(
    client, fake_razorpay, consultation, django_capture_on_commit_callbacks
):
    payment_id = pay_with_razorpay(fake_razorpay, consultation)
    refund = fake_razorpay.refund_payment(payment_id, amount=20000)

    deliver(client, fake_razorpay, fake_razorpay.event("refund.processed", refund_id=refund["id"]))

    row = fresh(consultation)
    assert (row.payment_status, row.refund_amount, row.refund_reference) == ("refunded", 200, refund["id"])


def test_a_refund_of_another_payment_is_rejected(client, fake_razorpay, consultation):
    pay_with_razorpay(fake_razorpay, consultation)
    other = booked()
    other_payment = pay_with_razorpay(fake_razorpay, other)
    refund = fake_razorpay.refund_payment(other_payment)
    envelope = fake_razorpay.event(
        "refund.processed",
        refund_id=refund["id"],
        payment_changes={"order_id": fresh(consultation).payment_order_id},
    )

    deliver(client, fake_razorpay, envelope)

    assert PaymentEvent.objects.filter(outcome="rejected", consultation=consultation).count() == 1
    assert fresh(consultation).payment_status == "paid"
