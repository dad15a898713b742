"""Fixtures for the payment tests: the fake Razorpay and a cast of consultations."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from consultations.models import Consultation
from consultations.tests.factories import ConsultationFactory
from dhanwantari.testing.fake_razorpay import fake_razorpay  # noqa: F401 (a fixture)
from doctors.tests.factories import verified_doctor
from patients.tests.factories import patient_with_profile

FEE = Decimal("500.00")


def booked(**kwargs) -> Consultation:
    """A consultation scheduled in three days between named people, INR 500 owed."""
    kwargs.setdefault("scheduled_at", timezone.now() + timedelta(days=3))
    kwargs.setdefault("patient", patient_with_profile(full_name="Asha Verma"))
    kwargs.setdefault("doctor", verified_doctor(full_name="Dr. Meera Kulkarni"))
    kwargs.setdefault("fee_amount", FEE)
    return ConsultationFactory(**kwargs)


@pytest.fixture
def consultation() -> Consultation:
    return booked()


@pytest.fixture
def offline(settings):
    settings.PAYMENT_PROVIDER = "offline"


def pay_with_razorpay(fake, consultation: Consultation) -> str:
    """Pay the consultation through the fake's checkout and the real verification; returns the payment id."""
    from payments import services

    order_id = services.razorpay_order_for(consultation=consultation, by=consultation.patient).order_id
    answer = fake.checkout_response(fake.create_payment(order_id))
    services.razorpay_checkout_verify(
        consultation=consultation,
        by=consultation.patient,
        order_id=answer["razorpay_order_id"],
        payment_id=answer["razorpay_payment_id"],
        signature=answer["razorpay_signature"],
    )
    return answer["razorpay_payment_id"]
