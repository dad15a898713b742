"""Offline payments and refunds, recorded by the consultation's doctor or staff."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AdminLog, Notification
from accounts.tests.factories import DoctorUserFactory, PatientUserFactory, StaffUserFactory
from consultations.models import Consultation
from consultations.services import consultation_transition
from payments import services
from payments.models import PaymentEvent
from payments.tests.conftest import FEE, booked

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("offline")]


def record_url(consultation: Consultation) -> str:
    return reverse("payments:record_payment", args=[consultation.pk])


def refund_url(consultation: Consultation) -> str:
    return reverse("payments:record_refund", args=[consultation.pk])


def fresh(consultation: Consultation) -> Consultation:
    return Consultation.objects.get(pk=consultation.pk)


def paid_offline(**kwargs) -> Consultation:
    consultation = booked(**kwargs)
    services.payment_record_offline(
        consultation=consultation, by=consultation.doctor, amount=FEE, receipt_number="RCPT-1"
    )
    return consultation


# --- the service ----------------------------------------------------------------------


def test_the_doctor_records_a_payment_with_its_receipt(consultation):
    services.payment_record_offline(
        consultation=consultation, by=consultation.doctor, amount=Decimal("500"), receipt_number=" R-204 "
    )

    row = fresh(consultation)
    assert (row.payment_status, row.payment_method, row.payment_reference) == ("paid", "offline", "R-204")
    assert row.paid_at is not None
    event = PaymentEvent.objects.get(consultation=consultation)
    assert (event.provider, event.event_type, event.outcome, event.amount) == (
        "offline",
        "offline.payment",
        "applied",
        FEE,
    )
    assert event.recorded_by == consultation.doctor
    audit = AdminLog.objects.get(table_name="consultations", record_id=consultation.pk)
    assert audit.user == consultation.doctor
    assert audit.new_values["payment_status"] == "paid"
    notification = Notification.objects.get(user=consultation.patient)
    assert (notification.kind, notification.title) == ("payment_received", "Payment of INR 500.00 received")


def test_a_payment_at_the_clinic_keeps_its_method(consultation):
    Consultation.objects.filter(pk=consultation.pk).update(payment_method="pay_at_clinic")
    services.payment_record_offline(consultation=consultation, by=StaffUserFactory(), amount=FEE, receipt_number="R1")
    assert (fresh(consultation).payment_status, fresh(consultation).payment_method) == ("paid", "pay_at_clinic")


@pytest.mark.parametrize(
    "amount, receipt, error",
    [
        (Decimal("450"), "R-1", services.AmountMismatch),
        (FEE, "   ", services.ReceiptRequired),
    ],
)
def test_a_wrong_amount_or_no_receipt_is_refused_and_nothing_is_written(consultation, amount, receipt, error):
    with pytest.raises(error):
        services.payment_record_offline(
            consultation=consultation, by=consultation.doctor, amount=amount, receipt_number=receipt
        )
    assert fresh(consultation).payment_status == "pending"
    assert not PaymentEvent.objects.exists()
    assert not AdminLog.objects.filter(table_name="consultations").exists()


@pytest.mark.parametrize("status", ["paid", "not_required", "refund_pending", "refunded"])
def test_a_payment_is_recorded_only_while_one_is_owed(status):
    consultation = booked(payment_status=status)
    with pytest.raises(services.PaymentNotDue):
        services.payment_record_offline(
            consultation=consultation, by=consultation.doctor, amount=FEE, receipt_number="R"
        )


@pytest.mark.parametrize("who", ["patient", "other doctor", "other patient"])
def test_only_the_doctor_or_staff_record_a_payment(consultation, who):
    person = {
        "patient": consultation.patient,
        "other doctor": DoctorUserFactory(),
        "other patient": PatientUserFactory(),
    }[who]
    with pytest.raises(services.PaymentNotAllowed):
        services.payment_record_offline(consultation=consultation, by=person, amount=FEE, receipt_number="R")
    assert fresh(consultation).payment_status == "pending"


def test_a_cancelled_offline_payment_waits_as_refund_pending_until_recorded(django_capture_on_commit_callbacks):
    consultation = paid_offline()
    with django_capture_on_commit_callbacks(execute=True):
        consultation_transition(consultation=consultation, to="cancelled", by=consultation.doctor, reason="Unwell")

    row = fresh(consultation)
    assert (row.status, row.payment_status, row.refund_amount) == ("cancelled", "refund_pending", FEE)
    assert row.refunded_at is None

    services.refund_record_offline(consultation=row, by=row.doctor, amount=FEE, receipt_number="RF-9")

    row = fresh(consultation)
    assert (row.payment_status, row.refund_reference) == ("refunded", "RF-9")
    assert row.refunded_at is not None
    assert Notification.objects.filter(user=row.patient, kind="refund_processed").count() == 1
    assert list(
        PaymentEvent.objects.filter(consultation=row).order_by("created_at").values_list("event_type", flat=True)
    ) == ["offline.payment", "offline.refund"]


def test_a_refund_must_be_the_amount_owed():
    consultation = paid_offline()
    Consultation.objects.filter(pk=consultation.pk).update(payment_status="refund_pending", refund_amount=250)
    with pytest.raises(services.AmountMismatch):
        services.refund_record_offline(
            consultation=consultation, by=consultation.doctor, amount=FEE, receipt_number="RF"
        )
    assert fresh(consultation).payment_status == "refund_pending"


def test_a_refund_is_recorded_only_when_one_is_pending(consultation):
    with pytest.raises(services.PaymentNotDue):
        services.refund_record_offline(
            consultation=consultation, by=consultation.doctor, amount=FEE, receipt_number="RF"
        )


def test_a_razorpay_refund_is_recorded_by_hand_only_by_staff():
    consultation = booked(
        payment_status="refund_pending", payment_method="razorpay", payment_reference="pay_X", refund_amount=FEE
    )
    with pytest.raises(services.PaymentNotAllowed):
        services.refund_record_offline(
            consultation=consultation, by=consultation.doctor, amount=FEE, receipt_number="NEFT-1"
        )
    services.refund_record_offline(
        consultation=consultation, by=StaffUserFactory(), amount=FEE, receipt_number="NEFT-1"
    )
    assert fresh(consultation).payment_status == "refunded"


# --- the pages ------------------------------------------------------------------------


def test_the_doctor_sees_the_form_with_the_fee_filled_in(client, consultation):
    client.force_login(consultation.doctor)
    response = client.get(record_url(consultation))
    assert response.status_code == 200
    assert response.context["form"].initial["amount"] == FEE
    assert b"Asha Verma" in response.content


def test_the_doctor_records_a_payment_and_lands_on_the_consultation(client, consultation):
    client.force_login(consultation.doctor)
    response = client.post(record_url(consultation), {"amount": "500.00", "receipt_number": "R-77"})
    assert response.status_code == 302
    assert response.url == reverse("consultations:detail", args=[consultation.pk])
    assert fresh(consultation).payment_reference == "R-77"


def test_staff_record_a_payment_for_any_consultation(client, consultation):
    client.force_login(StaffUserFactory())
    response = client.post(record_url(consultation), {"amount": "500", "receipt_number": "R-78"})
    assert response.status_code == 302
    assert fresh(consultation).payment_status == "paid"


def test_a_wrong_amount_is_shown_next_to_the_amount_field(client, consultation):
    client.force_login(consultation.doctor)
    response = client.post(record_url(consultation), {"amount": "400", "receipt_number": "R-1"})
    assert response.status_code == 400
    assert response.context["form"].errors["amount"] == [services.AMOUNT_NOT_FEE.format(currency="INR", fee=FEE)]
    assert fresh(consultation).payment_status == "pending"


def test_a_missing_receipt_is_shown_next_to_its_field(client, consultation):
    client.force_login(consultation.doctor)
    response = client.post(record_url(consultation), {"amount": "500", "receipt_number": ""})
    assert response.status_code == 400
    assert "receipt_number" in response.context["form"].errors
    assert fresh(consultation).payment_status == "pending"


def test_another_doctor_gets_404(client, consultation):
    client.force_login(DoctorUserFactory())
    assert client.get(record_url(consultation)).status_code == 404
    assert client.post(record_url(consultation), {"amount": "500", "receipt_number": "R"}).status_code == 404
    assert fresh(consultation).payment_status == "pending"


def test_the_patient_is_refused(client, consultation):
    client.force_login(consultation.patient)
    assert client.post(record_url(consultation), {"amount": "500", "receipt_number": "R"}).status_code == 403
    assert fresh(consultation).payment_status == "pending"


def test_a_visitor_is_sent_to_sign_in(client, consultation):
    response = client.post(record_url(consultation), {"amount": "500", "receipt_number": "R"})
    assert response.status_code == 302
    assert reverse("account_login") in response.url


def test_a_post_without_the_csrf_token_is_forbidden(consultation):
    client = Client(enforce_csrf_checks=True)
    client.force_login(consultation.doctor)
    response = client.post(record_url(consultation), {"amount": "500", "receipt_number": "R"})
    assert response.status_code == 403
    assert fresh(consultation).payment_status == "pending"


def test_other_methods_are_not_allowed(client, consultation):
    client.force_login(consultation.doctor)
    assert client.put(record_url(consultation)).status_code == 405
    assert client.delete(refund_url(consultation)).status_code == 405


def test_with_nothing_owed_the_page_says_so_and_has_no_form(client):
    consultation = paid_offline()
    client.force_login(consultation.doctor)
    response = client.get(record_url(consultation))
    assert response.context["form"] is None
    assert b"There is no payment to record" in response.content
    assert client.post(record_url(consultation), {"amount": "500", "receipt_number": "R2"}).status_code == 400
    assert fresh(consultation).payment_reference == "RCPT-1"


def test_the_doctor_records_the_refund_on_its_page(client):
    consultation = paid_offline()
    Consultation.objects.filter(pk=consultation.pk).update(
        status="cancelled", payment_status="refund_pending", refund_amount=250
    )
    client.force_login(consultation.doctor)

    page = client.get(refund_url(consultation))
    response = client.post(refund_url(consultation), {"amount": "250.00", "receipt_number": "RF-3"})

    assert page.context["form"].initial["amount"] == Decimal("250.00")
    assert response.status_code == 302
    assert (fresh(consultation).payment_status, fresh(consultation).refund_reference) == ("refunded", "RF-3")


def test_the_doctor_cannot_record_a_razorpay_refund_by_hand(client):
    consultation = booked(
        payment_status="refund_pending", payment_method="razorpay", payment_reference="pay_X", refund_amount=FEE
    )
    client.force_login(consultation.doctor)
    response = client.get(refund_url(consultation))
    assert response.context["form"] is None
    assert b"goes back through Razorpay by itself" in response.content


def test_the_record_page_runs_a_fixed_number_of_queries(client, consultation, django_assert_max_num_queries):
    client.force_login(consultation.doctor)
    client.get(record_url(consultation))
    # 1 session, 2 user, 3 consultation, 4 doctor's name, 5 patient's name,
    # 6 the header's unread count, 7 the header's profile (display name).
    with django_assert_max_num_queries(7):
        assert client.get(record_url(consultation)).status_code == 200
