"""Reads for the payment pages, each a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from consultations.models import Consultation, PaymentStatus
from doctors.models import DoctorProfile
from patients.models import PatientProfile
from payments.models import Outcome, PaymentEvent


@dataclass(frozen=True)
class Parties:
    patient_name: str
    doctor_name: str


def parties(consultation: Consultation) -> Parties:
    """Both names on the consultation: two small queries, whoever is looking."""
    doctor = (
        DoctorProfile.all_objects.filter(user_id=consultation.doctor_id).values_list("full_name", flat=True).first()
        if consultation.doctor_id
        else None
    )
    patient = (
        PatientProfile.all_objects.filter(user_id=consultation.patient_id).values_list("full_name", flat=True).first()
    )
    return Parties(patient_name=patient or "the patient", doctor_name=doctor or "your doctor")


def last_failure(consultation: Consultation) -> str:
    """Why the last online payment attempt failed, in the provider's words ("" if it did not)."""
    if consultation.payment_status != PaymentStatus.FAILED:
        return ""
    note = (
        PaymentEvent.objects.filter(consultation=consultation, event_type="payment.failed", outcome=Outcome.APPLIED)
        .order_by("-created_at")
        .values_list("outcome_note", flat=True)
        .first()
    )
    return (note or "").removeprefix("Failed: ")
