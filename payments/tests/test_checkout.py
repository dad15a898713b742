"""Razorpay checkout: the order, the pay page, and the checkout return.

A consultation becomes paid from the checkout return only when the
signature is valid AND Razorpay's API confirms a captured payment for the
consultation's order, fee and currency.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AdminLog, Notification
from accounts.tests.factories import DoctorUserFactory, PatientUserFactory
from consultations.models import Consultation
from payments import services
from payments.models import PaymentEvent
from payments.providers import ProviderError
from payments.tests.conftest import FEE, booked

pytestmark = pytest.mark.django_db


def pay_url(consultation: Consultation) -> str:
    return reverse("payments:pay", args=[consultation.pk])


def return_url(consultation: Consultation) -> str:
    return reverse("payments:razorpay_return", args=[consultation.pk])


def fresh(consultation: Consultation) -> Consultation:
    return Consultation.objects.get(pk=consultation.pk)


def ordered(consultation: Consultation) -> str:
    """The consultation's Razorpay order id (created through the service)."""
    return services.razorpay_order_for(consultation=consultation, by=consultation.patient).order_id


# --- the order -----------------------------------------------------------------------


def test_the_order_is_for_the_fee_in_paise_and_reused_on_every_visit(fake_razorpay, consultation):
    first = services.razorpay_order_for(consultation=consultation, by=consultation.patient)
    again = services.razorpay_order_for(consultation=fresh(consultation), by=consultation.patient)

    assert first == again
    assert (first.amount, first.currency, first.amount_minor) == (FEE, "INR", 50000)
    assert list(fake_razorpay.orders) == [first.order_id]
    assert fake_razorpay.orders[first.order_id]["receipt"] == consultation.pk
    assert fresh(consultation).payment_order_id == first.order_id


def test_no_order_is_saved_when_razorpay_is_down(fake_razorpay, consultation):
    fake_razorpay.fail_api_with = 503
    with pytest.raises(ProviderError):
        services.razorpay_order_for(consultation=consultation, by=consultation.patient)
    assert fresh(consultation).payment_order_id == ""


def test_no_order_is_made_when_nothing_is_owed(fake_razorpay):
    consultation = booked(payment_status="paid")
    with pytest.raises(services.PaymentNotDue):
        services.razorpay_order_for(consultation=consultation, by=consultation.patient)
    assert fake_razorpay.orders == {}


def test_with_the_offline_provider_there_is_no_online_order(offline, consultation):
    with pytest.raises(services.OnlinePaymentUnavailable):
        services.razorpay_order_for(consultation=consultation, by=consultation.patient)


# --- the pay page --------------------------------------------------------------------


def test_the_pay_page_offers_razorpay_checkout_for_the_order(client, fake_razorpay, consultation):
    client.force_login(consultation.patient)
    response = client.get(pay_url(consultation))

    order_id = fresh(consultation).payment_order_id
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-order-id="{order_id}"' in html
    assert 'data-amount="50000"' in html
    assert f'data-key="{fake_razorpay.key_id}"' in html
    assert f'<script src="{fake_razorpay.checkout_js_url}"></script>' in html
    assert fake_razorpay.key_secret not in html


def test_the_pay_page_explains_paying_at_the_clinic_with_the_offline_provider(client, offline, consultation):
    client.force_login(consultation.patient)
    response = client.get(pay_url(consultation))
    assert b"Pay at the clinic" in response.content
    assert b"data-razorpay-pay" not in response.content


def test_the_pay_page_says_when_online_payment_is_down(client, fake_razorpay, consultation):
    fake_razorpay.fail_api_with = 503
    client.force_login(consultation.patient)
    response = client.get(pay_url(consultation))
    assert response.status_code == 200
    assert b"data-order-error" in response.content
    assert b"data-razorpay-pay" not in response.content


def test_the_pay_page_is_the_patients_only(client, fake_razorpay, consultation):
    client.force_login(consultation.doctor)
    assert client.get(pay_url(consultation)).status_code == 403
    client.force_login(PatientUserFactory())
    assert client.get(pay_url(consultation)).status_code == 404
    client.force_login(DoctorUserFactory())
    assert client.get(pay_url(consultation)).status_code == 404
    assert fake_razorpay.orders == {}


def test_the_pay_page_runs_a_fixed_number_of_queries(
    client, fake_razorpay, consultation, django_assert_max_num_queries
):
    client.force_login(consultation.patient)
    client.get(pay_url(consultation))  # creates the order; later visits reuse it and write nothing
    # 1 session, 2 user, 3 consultation, 4 doctor's name, 5 patient's name,
    # 6 the header's unread count, 7 the header's profile (display name).
    with django_assert_max_num_queries(7):
        assert client.get(pay_url(consultation)).status_code == 200


# --- the checkout return -------------------------------------------------------------


def checkout(fake_razorpay, consultation: Consultation, **payment) -> dict[str, str]:
    """What Razorpay Checkout hands the page after the patient paid."""
    return fake_razorpay.checkout_response(fake_razorpay.create_payment(ordered(consultation), **payment))


def test_a_verified_checkout_marks_the_consultation_paid(client, fake_razorpay, consultation):
    answer = checkout(fake_razorpay, consultation)
    client.force_login(consultation.patient)

    response = client.post(return_url(consultation), answer)

    row = fresh(consultation)
    assert response.status_code == 302
    assert response.url == pay_url(consultation)
    assert (row.payment_status, row.payment_method, row.payment_reference) == (
        "paid",
        "razorpay",
        answer["razorpay_payment_id"],
    )
    event = PaymentEvent.objects.get(consultation=consultation)
    assert (event.event_type, event.outcome, event.payment_id) == (
        "checkout.verified",
        "applied",
        answer["razorpay_payment_id"],
    )
    assert AdminLog.objects.filter(record_id=consultation.pk, new_values__payment_status="paid").count() == 1
    assert Notification.objects.filter(user=consultation.patient, kind="payment_received").count() == 1
    page = client.get(pay_url(consultation))
    assert b"Payment received. Thank you!" in page.content
    assert b"data-payment-status>Paid<" in page.content


def test_posting_the_same_checkout_answer_twice_has_one_effect(client, fake_razorpay, consultation):
    answer = checkout(fake_razorpay, consultation)
    client.force_login(consultation.patient)
    client.post(return_url(consultation), answer)
    client.post(return_url(consultation), answer)

    assert PaymentEvent.objects.count() == 1
    assert Notification.objects.filter(kind="payment_received").count() == 1


def never_paid(consultation: Consultation) -> bool:
    row = fresh(consultation)
    return row.payment_status == "pending" and row.paid_at is None and not PaymentEvent.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"razorpay_signature": "0" * 64}, id="forged signature"),
        pytest.param({"razorpay_signature": "signed-with-another-secret"}, id="other secret"),
        pytest.param({"razorpay_signature": ""}, id="missing signature"),
        pytest.param({"razorpay_payment_id": ""}, id="missing payment id"),
        pytest.param({"razorpay_order_id": ""}, id="missing order id"),
        pytest.param({"razorpay_payment_id": "pay_SomeoneElses00"}, id="another payment id"),
    ],
)
def test_a_checkout_answer_that_proves_nothing_never_marks_paid(client, fake_razorpay, consultation, change):
    answer = checkout(fake_razorpay, consultation)
    if change.get("razorpay_signature") == "signed-with-another-secret":
        change = {
            "razorpay_signature": fake_razorpay.sign_checkout(
                answer["razorpay_order_id"], answer["razorpay_payment_id"], secret="another-secret"
            )
        }
    client.force_login(consultation.patient)

    response = client.post(return_url(consultation), {**answer, **change})

    assert response.status_code == 302
    assert never_paid(consultation)
    page = client.get(pay_url(consultation))
    assert b"nothing was marked as paid" in page.content
    assert b"data-payment-status>Payment pending<" in page.content


def test_a_success_redirect_without_any_answer_never_marks_paid(client, fake_razorpay, consultation):
    ordered(consultation)
    client.force_login(consultation.patient)
    client.post(return_url(consultation), {})
    client.get(pay_url(consultation) + "?razorpay_payment_status=success")
    assert never_paid(consultation)


def test_a_correctly_signed_answer_for_another_order_never_marks_paid(client, fake_razorpay, consultation):
    ordered(consultation)
    other = booked()
    answer = checkout(fake_razorpay, other)
    client.force_login(consultation.patient)

    client.post(return_url(consultation), answer)

    assert never_paid(consultation)


@pytest.mark.parametrize(
    "payment",
    [
        pytest.param({"status": "failed"}, id="failed payment"),
        pytest.param({"status": "created"}, id="unfinished payment"),
        pytest.param({"amount": 100}, id="one rupee"),
        pytest.param({"currency": "USD"}, id="other currency"),
    ],
)
def test_a_signed_answer_razorpay_does_not_confirm_never_marks_paid(client, fake_razorpay, consultation, payment):
    answer = checkout(fake_razorpay, consultation, **payment)
    client.force_login(consultation.patient)

    client.post(return_url(consultation), answer)

    assert never_paid(consultation)
    assert services.PAYMENT_NOT_CONFIRMED.encode() in client.get(pay_url(consultation)).content


def test_when_razorpay_cannot_be_asked_nothing_is_marked_and_the_patient_is_told(client, fake_razorpay, consultation):
    answer = checkout(fake_razorpay, consultation)
    fake_razorpay.fail_api_with = 503
    client.force_login(consultation.patient)

    client.post(return_url(consultation), answer)

    assert never_paid(consultation)
    assert b"no need to pay again" in client.get(pay_url(consultation)).content


def test_only_the_patient_can_post_a_checkout_answer(client, fake_razorpay, consultation):
    answer = checkout(fake_razorpay, consultation)
    client.force_login(consultation.doctor)
    assert client.post(return_url(consultation), answer).status_code == 403
    client.force_login(PatientUserFactory())
    assert client.post(return_url(consultation), answer).status_code == 404
    assert never_paid(consultation)


def test_the_checkout_return_needs_the_csrf_token_and_a_post(fake_razorpay, consultation):
    answer = checkout(fake_razorpay, consultation)
    client = Client(enforce_csrf_checks=True)
    client.force_login(consultation.patient)
    assert client.post(return_url(consultation), answer).status_code == 403
    assert client.get(return_url(consultation), answer).status_code == 405
    assert never_paid(consultation)


def test_after_a_webhook_got_there_first_the_checkout_return_changes_nothing(client, fake_razorpay, consultation):
    answer = checkout(fake_razorpay, consultation)
    body, headers = fake_razorpay.signed(
        fake_razorpay.event("payment.captured", payment_id=answer["razorpay_payment_id"])
    )
    client.post(reverse("payments:razorpay_webhook"), body, content_type="application/json", headers=headers)
    client.force_login(consultation.patient)

    client.post(return_url(consultation), answer)

    assert fresh(consultation).payment_status == "paid"
    assert list(PaymentEvent.objects.order_by("created_at").values_list("event_type", "outcome")) == [
        ("payment.captured", "applied"),
        ("checkout.verified", "ignored"),
    ]
    assert Notification.objects.filter(kind="payment_received").count() == 1
