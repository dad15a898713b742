"""Who may see or write which prescription. One function per question.

- A prescription's page and PDF are for its patient (issued or withdrawn
  ones; never a draft), the prescribing doctor (any of theirs) and staff.
  Everyone else, signed in or not, gets 404: the same answer as for a
  prescription that does not exist, so ids cannot be probed.
- Only the consultation's doctor writes its prescriptions, and only once the
  consultation has started (in progress) or is over (completed).
"""

from __future__ import annotations

from django.http import Http404

from accounts.models import User
from accounts.policies import is_clinical_staff
from consultations.models import Consultation, Status
from prescriptions.models import Prescription, PrescriptionStatus

NOT_FOUND = "No such prescription."
# The consultation states a prescription can be written in.
WRITABLE_CONSULTATION_STATUSES = (Status.IN_PROGRESS, Status.COMPLETED)


def can_view(user: User, prescription: Prescription) -> bool:
    if not user.is_authenticated:
        return False
    if is_clinical_staff(user) or user.pk == prescription.doctor_id:
        return True
    return user.pk == prescription.patient_id and prescription.status != PrescriptionStatus.DRAFT


def is_prescriber(user: User, prescription: Prescription) -> bool:
    return user.is_authenticated and user.pk == prescription.doctor_id


def is_consultation_doctor(user: User, consultation: Consultation) -> bool:
    return user.is_authenticated and user.pk == consultation.doctor_id


def can_write_for(consultation: Consultation) -> bool:
    """Is the consultation at a stage where its doctor may write a prescription?"""
    return not consultation.is_ai and consultation.status in WRITABLE_CONSULTATION_STATUSES


def prescription_for_viewer(user: User, prescription: Prescription | None) -> Prescription:
    """The prescription if `user` may read it; Http404 otherwise (also for None)."""
    if prescription is None or not can_view(user, prescription):
        raise Http404(NOT_FOUND)
    return prescription


def prescription_for_prescriber(user: User, prescription_id: str) -> Prescription:
    """One of the doctor's own prescriptions (any status); Http404 for anything else."""
    prescription = Prescription.objects.filter(pk=prescription_id).first() if user.is_authenticated else None
    if prescription is None or not is_prescriber(user, prescription):
        raise Http404(NOT_FOUND)
    return prescription


def consultation_for_prescriber(user: User, consultation_id: str) -> Consultation:
    """A consultation the user is the doctor of, with the patient's profile; Http404 otherwise."""
    consultation = (
        Consultation.objects.select_related("patient__patient_profile").filter(pk=consultation_id).first()
        if user.is_authenticated
        else None
    )
    if consultation is None or not is_consultation_doctor(user, consultation):
        raise Http404("No such consultation.")
    return consultation
