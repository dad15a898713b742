"""Who may see or do what with a consultation. One function per question."""

from __future__ import annotations

from django.http import Http404

from accounts.models import User
from consultations.models import Consultation


def is_participant(user: User, consultation: Consultation) -> bool:
    return user.is_authenticated and user.pk in (consultation.patient_id, consultation.doctor_id)


def consultation_for_participant(user: User, consultation_id: str) -> Consultation:
    """The consultation if `user` is its patient or doctor; Http404 otherwise.

    Missing and forbidden give the same answer, so ids cannot be probed.
    """
    if not user.is_authenticated:
        raise Http404("No such consultation.")
    try:
        consultation = Consultation.objects.get(pk=consultation_id)
    except Consultation.DoesNotExist:
        raise Http404("No such consultation.") from None
    if not is_participant(user, consultation):
        raise Http404("No such consultation.")
    return consultation
