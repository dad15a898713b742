from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.tests.factories import DoctorUserFactory, PatientUserFactory
from consultations.models import Consultation, Message, MessageType


class ConsultationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consultation

    patient = factory.SubFactory(PatientUserFactory)
    doctor = factory.SubFactory(DoctorUserFactory)
    mode = "chat"
    status = "scheduled"
    scheduled_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    chief_complaint = "Recurring headache for three weeks"
    symptoms = factory.LazyFunction(
        lambda: {
            "chief_complaint": "Recurring headache for three weeks",
            "complaints": [{"description": "Headache", "location": "right temple", "severity": "moderate"}],
            "source": "patient",
        }
    )
    fee_amount = Decimal("500.00")
    payment_status = "pending"


class AIConsultationFactory(ConsultationFactory):
    consultation_type = "ai"
    doctor = None
    scheduled_at = None
    status = "in_progress"
    fee_amount = Decimal("0")
    payment_status = "not_required"


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    consultation = factory.SubFactory(ConsultationFactory)
    sender = factory.LazyAttribute(lambda o: o.consultation.patient)
    message_type = MessageType.TEXT
    body = "Namaste doctor, the headache is worse in the sun."
