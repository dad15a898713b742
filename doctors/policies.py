"""Who may see or do what with a doctor's profile, documents, photo and reviews.

One function per question, used by views, services and the admin alike. The
`*_for_*` functions are the access functions: they return the object or raise
Http404, the same answer for "missing" and "not yours", so ids cannot be probed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.http import Http404
from django.utils import timezone

from accounts.models import User
from accounts.policies import is_doctor, is_patient, is_staff
from consultations.models import Consultation, ConsultationType, Status
from doctors.models import ActiveDoctor, DoctorDocument, DoctorProfile, DoctorReview

# A review can be changed by its author for this long after it was written;
# after that it stands as written (staff can still hide it).
REVIEW_EDIT_WINDOW = timedelta(days=7)


# --- profile, documents, photo ---------------------------------------------------------


def is_profile_owner(user: User, profile: DoctorProfile) -> bool:
    return is_doctor(user) and profile.user_id == user.pk


def can_view_document(user: User, document: DoctorDocument) -> bool:
    """Verification documents are private: the doctor who uploaded them and staff."""
    return user.is_authenticated and (is_staff(user) or (is_doctor(user) and document.doctor_id == user.pk))


def document_for_user(user: User, document_id: str) -> DoctorDocument:
    # Staff also open documents a doctor has since removed: what was once submitted stays on record.
    manager = DoctorDocument.all_objects if is_staff(user) else DoctorDocument.objects
    try:
        document = manager.get(pk=document_id)
    except DoctorDocument.DoesNotExist:
        raise Http404("No such document.") from None
    if not can_view_document(user, document):
        raise Http404("No such document.")
    return document


def can_remove_documents(profile: DoctorProfile) -> bool:
    """While staff check a profile (or after they verified it) its evidence stays as it was."""
    return profile.verification_status in ("draft", "rejected")


def is_listed(profile: DoctorProfile) -> bool:
    """In the `active_doctors` view: verified, active and not deleted."""
    return ActiveDoctor.objects.filter(pk=profile.pk).exists()


def profile_for_photo(user: User, profile_id: str) -> tuple[DoctorProfile, bool]:
    """The profile whose photo `user` may see, and whether it is public.

    Listed doctors' photos are public (the directory shows them); an unlisted
    doctor's photo only to that doctor and staff.
    """
    profile = DoctorProfile.objects.filter(pk=profile_id).first()
    if profile is None or not profile.photo:
        raise Http404("No such photo.")
    if is_listed(profile):
        return profile, True
    if is_staff(user) or is_profile_owner(user, profile):
        return profile, False
    raise Http404("No such photo.")


# --- verification -----------------------------------------------------------------------


def can_submit_for_verification(profile: DoctorProfile) -> bool:
    """A draft, or a profile staff rejected and the doctor has corrected."""
    return profile.verification_status in ("draft", "rejected")


def can_verify_doctors(user: User) -> bool:
    return is_staff(user)


# --- reviews --------------------------------------------------------------------------------


def can_review(user: User, consultation: Consultation) -> bool:
    """A patient may review a completed consultation of theirs with a doctor (once: see the service)."""
    return (
        is_patient(user)
        and consultation.patient_id == user.pk
        and consultation.consultation_type == ConsultationType.DOCTOR
        and consultation.doctor_id is not None
        and consultation.status == Status.COMPLETED
    )


def reviewable_consultation_for(user: User, consultation_id: str) -> Consultation:
    """The consultation if `user` may review it (or edit its review); Http404 otherwise."""
    try:
        consultation = Consultation.objects.select_related("doctor__doctor_profile").get(pk=consultation_id)
    except Consultation.DoesNotExist:
        raise Http404("No such consultation.") from None
    if not can_review(user, consultation):
        raise Http404("No such consultation.")
    return consultation


def is_review_author(user: User, review: DoctorReview) -> bool:
    return is_patient(user) and review.patient_id == user.pk


def review_edit_deadline(review: DoctorReview) -> datetime:
    return review.created_at + REVIEW_EDIT_WINDOW


def review_editable(review: DoctorReview, *, now: datetime | None = None) -> bool:
    """Within a week of writing it, and not removed."""
    return review.deleted_at is None and (now or timezone.now()) < review_edit_deadline(review)


def can_moderate_reviews(user: User) -> bool:
    return is_staff(user)
