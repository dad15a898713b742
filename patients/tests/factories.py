from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory

from accounts.tests.factories import PatientUserFactory
from patients.models import PatientProfile


class PatientProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PatientProfile

    user = factory.SubFactory(PatientUserFactory)
    full_name = factory.Faker("name", locale="en_IN")
    date_of_birth = date(1990, 5, 17)
    gender = "female"
    blood_group = "B+"
    height_cm = Decimal("162.0")
    weight_kg = Decimal("58.0")
    allergies = factory.LazyFunction(lambda: [{"name": "Pollen", "severity": "moderate"}])
    medications = factory.LazyFunction(lambda: [{"name": "XYZ", "dosage": "5mg", "frequency": "daily"}])
    city = "Pune"
    state = "Maharashtra"


def patient_with_profile(**kwargs):
    """A patient user with a profile; returns the user."""
    return PatientProfileFactory(**kwargs).user
