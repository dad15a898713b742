from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from consultations.tests.factories import ConsultationFactory
from prescriptions.models import Prescription, PrescriptionItem, Remedy


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
    """An item; also on an issued prescription, which the model itself refuses.

    Fixtures of issued prescriptions are built through bulk_create, the one
    raw path prescriptions.models leaves (see its docstring).
    """

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

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        item = model_class(*args, **kwargs)
        model_class.objects.bulk_create([item])
        return item


class RemedyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Remedy

    name = factory.Sequence(lambda n: f"Remedium testum {n}")
    abbreviation = factory.Sequence(lambda n: f"Rem-t{n}.")
