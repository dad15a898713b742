from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from accounts.tests.factories import DoctorUserFactory
from doctors.models import DoctorProfile, DoctorReview, VerificationStatus


def weekday_hours() -> dict:
    ranges = [{"start": "10:00", "end": "13:00"}, {"start": "17:00", "end": "20:00"}]
    return {
        "timezone": "Asia/Kolkata",
        "slot_minutes": 20,
        "buffer_minutes": 5,
        "weekly": {day: ranges for day in ("mon", "tue", "wed", "thu", "fri")},
        "overrides": [],
    }


class DoctorProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DoctorProfile

    user = factory.SubFactory(DoctorUserFactory)
    full_name = factory.Faker("name", locale="en_IN")
    registration_number = factory.Sequence(lambda n: f"MH-HOM-{10000 + n}")
    registration_council = "Maharashtra Council of Homoeopathy"
    qualifications = factory.LazyFunction(lambda: ["BHMS", "MD (Hom)"])
    specializations = factory.LazyFunction(lambda: ["classical", "dermatology"])
    languages = factory.LazyFunction(lambda: ["English", "Hindi"])
    experience_years = 8
    consultation_fee = Decimal("500.00")
    follow_up_fee = Decimal("300.00")
    consultation_modes = factory.LazyFunction(lambda: ["chat", "video", "in_person"])
    clinic_name = "Arogya Homeopathy Clinic"
    city = "Pune"
    state = "Maharashtra"
    latitude = Decimal("18.520430")
    longitude = Decimal("73.856743")
    availability = factory.LazyFunction(weekday_hours)
    verification_status = VerificationStatus.VERIFIED
    verified_at = factory.LazyFunction(timezone.now)


def verified_doctor(**kwargs):
    """A verified doctor user with a profile; returns the user."""
    return DoctorProfileFactory(**kwargs).user


class DoctorReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DoctorReview

    consultation = factory.SubFactory("consultations.tests.factories.ConsultationFactory", status="completed")
    doctor = factory.LazyAttribute(lambda o: o.consultation.doctor)
    patient = factory.LazyAttribute(lambda o: o.consultation.patient)
    rating = 5
    comment = "Listened carefully and explained everything."
