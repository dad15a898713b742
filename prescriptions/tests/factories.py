from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from consultations.tests.factories import ConsultationFactory
from prescriptions.models import Prescription, PrescriptionItem


class PrescriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prescription

    consultation = factory.SubFactory(ConsultationFactory, status="completed")
    patient = factory.LazyAttribute(lambda o: o.consultation.patient)
    doctor = factory.LazyAttribute(lambda o: o.consultation.doctor)
    prescription_type = "acute"
    diagnosis = "Right-sided throbbing headache, worse from sun."
    general_advice = "Avoid coffee and strong smells while taking the remedy."


class IssuedPrescriptionFactory(PrescriptionFactory):
    status = "issued"
    issued_at = factory.LazyFunction(timezone.now)
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=90))


class PrescriptionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PrescriptionItem

    prescription = factory.SubFactory(PrescriptionFactory)
    position = factory.Sequence(lambda n: n)
    remedy_name = "Belladonna"
    potency_value = 30
    potency_scale = "C"
    dosage_form = "globules"
    dose = "4 globules"
    frequency = "three times a day"
    duration = "5 days"
