"""Doctors: services, in three parts: the doctor's own profile, documents,
verification and reviews; the directory and public pages; availability."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Sum
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from accounts.models import AuditAction, User
from accounts.policies import is_staff
from accounts.services import audit_record, notification_send
from consultations.models import Consultation, ConsultationType, Status
from dhanwantari.uploads import CheckedUpload, square_jpeg
from doctors import policies
from doctors.availability import first_free_slots
from doctors.models import DoctorDocument, DoctorProfile, DoctorReview, DocumentKind, VerificationStatus

# --- profile, documents, verification, reviews -----------------------------------
# The doctor's own profile and documents, staff verification, and patients'
# reviews.

# What a doctor edits on their profile page; everything else on the row is
# staff's (verification) or the services' (rating, next free slot).
PROFILE_FIELDS = (
    "gender",
    "registration_number",
    "registration_council",
    "qualifications",
    "specializations",
    "languages",
    "experience_years",
    "bio",
    "consultation_fee",
    "follow_up_fee",
    "follow_up_window_days",
    "follow_up_visits",
    "consultation_modes",
    "clinic_name",
    "clinic_address",
    "city",
    "state",
    "postal_code",
    "latitude",
    "longitude",
)
# Staff verified these against the council's register; a change needs a new check.
CREDENTIAL_FIELDS = ("registration_number", "registration_council")
MAX_DOCUMENTS = 20

DOCUMENT_DUPLICATE = "You have already uploaded this file."
DOCUMENT_LIMIT = f"You can keep at most {MAX_DOCUMENTS} documents. Remove one you no longer need first."
DOCUMENTS_LOCKED = (
    "Your documents cannot be removed while our staff check your profile or after they have verified it. "
    "Upload a corrected document instead, or write to us."
)
ALREADY_PENDING = "Your profile is already with our staff for verification."
ALREADY_VERIFIED = "Your profile is already verified."
NOT_PENDING = "{name} is not awaiting verification (the profile is “{status}”); only pending profiles can be {action}."
REASON_REQUIRED = "Give the doctor a reason: they will read it and correct their profile."
VERIFY_INCOMPLETE = "{name}'s profile is missing {missing}, so it cannot be verified."

REVIEW_NOT_YOURS = "You can only review your own consultations."
REVIEW_NOT_REVIEWABLE = "Only consultations with a doctor can be reviewed."
REVIEW_NOT_COMPLETED = "You can review this consultation once it is completed."
REVIEW_ALREADY_WRITTEN = "You have already reviewed this consultation. You can edit your review instead."
REVIEW_EDIT_WINDOW_CLOSED = (
    "Reviews can be changed for 7 days after they are written. This one can no longer be changed."
)
REVIEW_REMOVED = "This review was removed."
REVIEW_SHOW_REMOVED = "A removed review cannot be shown again."
DEFAULT_HIDDEN_REASON = "Hidden by our staff: it breaks the review guidelines."


class DoctorVerificationError(ValidationError):
    """A verification step refused: wrong state, missing reason, incomplete profile."""


class ProfileIncomplete(DoctorVerificationError):
    """Submitting for verification with required details missing; `missing` lists them."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(
            f"Before you submit your profile for verification, add {_and_list(missing)}.", code="incomplete"
        )


class DocumentError(ValidationError):
    """A document change refused."""


class ReviewError(ValidationError):
    """A review change refused; the message says why."""


def _and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _lock_profile(profile: DoctorProfile) -> DoctorProfile:
    # Every write to a profile row locks it first: a doctor editing their
    # registration while staff verify it must not have the old number verified.
    return DoctorProfile.objects.select_for_update().get(pk=profile.pk)


def _sync(target: DoctorProfile, source: DoctorProfile, fields: list[str]) -> None:
    for name in fields:
        setattr(target, name, getattr(source, name))


# --- the profile --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileSaved:
    changed: tuple[str, ...] = ()
    # True when a verified doctor changed their credentials: back to pending, unlisted.
    sent_back_for_verification: bool = False


def doctor_profile_update(
    *,
    profile: DoctorProfile,
    by: User,
    changes: dict[str, Any],
    photo: CheckedUpload | None = None,
    remove_photo: bool = False,
    request: HttpRequest | None = None,
) -> ProfileSaved:
    """A doctor edits their own profile.

    A verified doctor who changes their registration number or council goes
    back to pending (and out of `active_doctors`) until staff check again.
    """
    if not policies.is_profile_owner(by, profile):
        raise PermissionDenied("Only the doctor can edit their profile.")
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable on the profile page: {sorted(unknown)}.")
    if photo is not None and photo.content_type not in ("image/jpeg", "image/png", "image/webp"):
        raise ValueError("A profile photo must be a checked image.")

    new_photo_name = ""
    with transaction.atomic():
        locked = _lock_profile(profile)
        old = {name: getattr(locked, name) for name in changes}
        for name, value in changes.items():
            setattr(locked, name, value)
        changed = [name for name in changes if getattr(locked, name) != old[name]]
        old_photo = locked.photo.name or ""
        if photo is not None:
            locked.photo.save(f"{secrets.token_urlsafe(16)}.jpg", ContentFile(square_jpeg(photo)), save=False)
            new_photo_name = locked.photo.name
            changed.append("photo")
        elif remove_photo and old_photo:
            locked.photo = ""
            changed.append("photo")

        sent_back = locked.verification_status == VerificationStatus.VERIFIED and any(
            name in changed for name in CREDENTIAL_FIELDS
        )
        old_status = locked.verification_status
        if sent_back:
            locked.verification_status = VerificationStatus.PENDING
            locked.submitted_at = timezone.now()
            locked.verified_at = None
            locked.verified_by = None
        try:
            locked.full_clean()
        except ValidationError:
            _delete_file_later(new_photo_name, now=True)
            raise
        if not changed:
            return ProfileSaved()
        locked.save()

        audit_old = {name: _jsonable(old[name]) for name in changed if name != "photo"}
        audit_new = {name: _jsonable(getattr(locked, name)) for name in changed if name != "photo"}
        if "photo" in changed:
            audit_old["photo"], audit_new["photo"] = old_photo, locked.photo.name or ""
        if sent_back:
            audit_old["verification_status"], audit_new["verification_status"] = old_status, locked.verification_status
        audit_record(
            actor=by,
            action=AuditAction.UPDATE,
            table="doctor_profiles",
            record_id=locked.pk,
            old=audit_old,
            new=audit_new,
            description=(
                "Doctor changed their registration details; back to pending verification."
                if sent_back
                else "Doctor edited their profile."
            ),
            request=request,
        )
        if sent_back:
            notification_send(
                user=locked.user,
                kind="doctor_verification",
                title="Your changed registration details are with our staff",
                body="You changed your registration number or council, so our staff will check them again. "
                "Until they do, patients cannot find or book you.",
                deeplink=reverse("doctors:profile_edit"),
            )
        if "photo" in changed and old_photo:
            _delete_file_later(old_photo)
    _sync(profile, locked, [*changed, "verification_status", "submitted_at", "verified_at", "verified_by"])
    return ProfileSaved(changed=tuple(changed), sent_back_for_verification=sent_back)


def _delete_file_later(name: str, *, now: bool = False) -> None:
    """Remove a replaced file once the row that pointed at it is committed (or a new one not used)."""
    if not name:
        return
    from django.core.files.storage import default_storage

    if now:
        default_storage.delete(name)
    else:
        transaction.on_commit(lambda: default_storage.delete(name))


# --- registration documents --------------------------------------------------------------------


def doctor_document_add(
    *,
    profile: DoctorProfile,
    by: User,
    kind: str,
    upload: CheckedUpload,
    request: HttpRequest | None = None,
) -> DoctorDocument:
    """A doctor adds a document for staff to check (stored under a random name)."""
    if not policies.is_profile_owner(by, profile):
        raise PermissionDenied("Only the doctor can add their documents.")
    with transaction.atomic():
        locked = _lock_profile(profile)  # serialises the count and duplicate checks below
        existing = DoctorDocument.objects.filter(doctor_id=locked.user_id)
        if existing.filter(sha256=upload.sha256).exists():
            raise DocumentError(DOCUMENT_DUPLICATE, code="duplicate")
        if existing.count() >= MAX_DOCUMENTS:
            raise DocumentError(DOCUMENT_LIMIT, code="limit")
        document = DoctorDocument(
            doctor_id=locked.user_id,
            kind=kind,
            original_filename=upload.original_name,
            content_type=upload.content_type,
            size_bytes=upload.size,
            sha256=upload.sha256,
        )
        document.full_clean(exclude=["file"])
        document.file.save(upload.extension, ContentFile(upload.content), save=False)
        try:
            document.save()
        except Exception:
            _delete_file_later(document.file.name, now=True)
            raise
        audit_record(
            actor=by,
            action=AuditAction.CREATE,
            table="doctor_documents",
            record_id=document.pk,
            new={
                "kind": document.kind,
                "original_filename": document.original_filename,
                "content_type": document.content_type,
                "size_bytes": document.size_bytes,
                "sha256": document.sha256,
            },
            description="Doctor uploaded a verification document.",
            request=request,
        )
    return document


def doctor_document_remove(*, document: DoctorDocument, by: User, request: HttpRequest | None = None) -> None:
    """A doctor removes one of their documents while their profile is a draft or was rejected.

    Soft delete: staff can still see what was once submitted.
    """
    if not (by.is_authenticated and document.doctor_id == by.pk):
        raise PermissionDenied("Only the doctor can remove their documents.")
    with transaction.atomic():
        locked = DoctorProfile.objects.select_for_update().get(user_id=document.doctor_id)
        if not policies.can_remove_documents(locked):
            raise DocumentError(DOCUMENTS_LOCKED, code="locked")
        document.soft_delete()
        audit_record(
            actor=by,
            action=AuditAction.SOFT_DELETE,
            table="doctor_documents",
            record_id=document.pk,
            old={"original_filename": document.original_filename, "kind": document.kind},
            description="Doctor removed a verification document.",
            request=request,
        )


def doctor_document_opened(*, document: DoctorDocument, by: User, request: HttpRequest | None = None) -> None:
    """Record that staff opened a doctor's document (the doctor's own reads are not logged)."""
    if document.doctor_id != by.pk:
        audit_record(
            actor=by,
            action=AuditAction.VIEW,
            table="doctor_documents",
            record_id=document.pk,
            description=f"Opened {document.get_kind_display().lower()} “{document.original_filename}”.",
            request=request,
        )


# --- verification -------------------------------------------------------------------------------


def verification_checklist(
    profile: DoctorProfile, *, documents: list[DoctorDocument] | None = None
) -> list[tuple[str, bool]]:
    """What staff need before they can check a profile, each with whether it is there.

    One query, or none when the page already holds the doctor's `documents`.
    """
    if documents is None:
        has_registration_document = DoctorDocument.objects.filter(
            doctor_id=profile.user_id, kind=DocumentKind.REGISTRATION
        ).exists()
    else:
        has_registration_document = any(d.kind == DocumentKind.REGISTRATION for d in documents)
    return [
        ("your registration number", bool(profile.registration_number.strip())),
        ("the council you are registered with", bool(profile.registration_council.strip())),
        ("at least one qualification", bool(profile.qualifications)),
        ("at least one specialisation", bool(profile.specializations)),
        ("how you consult (chat, audio, video or in person)", bool(profile.consultation_modes)),
        # Fees default to 0, which cannot be told apart from "not entered"; a
        # first consultation must cost something, a follow-up may be free.
        ("your consultation fee", bool(profile.consultation_fee and profile.consultation_fee > 0)),
        ("your registration certificate (upload it under Documents)", has_registration_document),
    ]


def verification_missing(profile: DoctorProfile, *, documents: list[DoctorDocument] | None = None) -> list[str]:
    """The items of `verification_checklist` still missing, in words for the doctor."""
    return [item for item, done in verification_checklist(profile, documents=documents) if not done]


def doctor_submit_for_verification(
    *, profile: DoctorProfile, by: User, request: HttpRequest | None = None
) -> DoctorProfile:
    """Draft or rejected → pending, once everything staff need is there."""
    if not policies.is_profile_owner(by, profile):
        raise PermissionDenied("Only the doctor can submit their profile.")
    with transaction.atomic():
        locked = _lock_profile(profile)
        if locked.verification_status == VerificationStatus.PENDING:
            raise DoctorVerificationError(ALREADY_PENDING, code="pending")
        if locked.verification_status == VerificationStatus.VERIFIED:
            raise DoctorVerificationError(ALREADY_VERIFIED, code="verified")
        missing = verification_missing(locked)
        if missing:
            raise ProfileIncomplete(missing)
        old_status = locked.verification_status
        locked.verification_status = VerificationStatus.PENDING
        locked.submitted_at = timezone.now()
        locked.rejection_reason = ""
        locked.full_clean()
        locked.save(update_fields=["verification_status", "submitted_at", "rejection_reason", "updated_at"])
        audit_record(
            actor=by,
            action=AuditAction.ACTION,
            table="doctor_profiles",
            record_id=locked.pk,
            old={"verification_status": old_status},
            new={"verification_status": locked.verification_status},
            description="Doctor submitted their profile for verification.",
            request=request,
        )
    _sync(profile, locked, ["verification_status", "submitted_at", "rejection_reason"])
    return profile


def _decide(*, profile: DoctorProfile, by: User, action: str) -> tuple[DoctorProfile, str]:
    if not policies.can_verify_doctors(by):
        raise PermissionDenied("Only staff can verify doctors.")
    locked = _lock_profile(profile)
    if locked.verification_status != VerificationStatus.PENDING:
        raise DoctorVerificationError(
            NOT_PENDING.format(name=locked.full_name, status=locked.get_verification_status_display(), action=action),
            code="not_pending",
        )
    return locked, locked.verification_status


def doctor_verify(*, profile: DoctorProfile, by: User, request: HttpRequest | None = None) -> DoctorProfile:
    """Staff verified the registration: the doctor is listed and bookable."""
    with transaction.atomic():
        locked, old_status = _decide(profile=profile, by=by, action="verified")
        missing = verification_missing(locked)
        if missing:
            raise DoctorVerificationError(
                VERIFY_INCOMPLETE.format(name=locked.full_name, missing=_and_list(missing)), code="incomplete"
            )
        locked.verification_status = VerificationStatus.VERIFIED
        locked.verified_at = timezone.now()
        locked.verified_by = by
        locked.rejection_reason = ""
        locked.full_clean()
        locked.save(
            update_fields=["verification_status", "verified_at", "verified_by", "rejection_reason", "updated_at"]
        )
        audit_record(
            actor=by,
            action=AuditAction.ACTION,
            table="doctor_profiles",
            record_id=locked.pk,
            old={"verification_status": old_status},
            new={"verification_status": locked.verification_status, "verified_at": locked.verified_at.isoformat()},
            description=f"Verified {locked.full_name} ({locked.registration_number}, {locked.registration_council}).",
            request=request,
        )
        notification_send(
            user=locked.user,
            kind="doctor_verification",
            title="Your profile is verified",
            body="Our staff checked your registration. Patients can now find you and book consultations.",
            deeplink=reverse("doctors:profile_edit"),
        )
    _sync(profile, locked, ["verification_status", "verified_at", "verified_by", "rejection_reason"])
    return profile


def doctor_reject(
    *, profile: DoctorProfile, by: User, reason: str, request: HttpRequest | None = None
) -> DoctorProfile:
    """Staff could not verify the registration; the doctor reads why and may submit again."""
    reason = (reason or "").strip()
    if not reason:
        raise DoctorVerificationError(REASON_REQUIRED, code="reason_required")
    with transaction.atomic():
        locked, old_status = _decide(profile=profile, by=by, action="rejected")
        locked.verification_status = VerificationStatus.REJECTED
        locked.rejection_reason = reason
        locked.verified_at = None
        locked.verified_by = None
        locked.full_clean()
        locked.save(
            update_fields=["verification_status", "rejection_reason", "verified_at", "verified_by", "updated_at"]
        )
        audit_record(
            actor=by,
            action=AuditAction.ACTION,
            table="doctor_profiles",
            record_id=locked.pk,
            old={"verification_status": old_status},
            new={"verification_status": locked.verification_status, "rejection_reason": reason},
            description=f"Rejected {locked.full_name}: {reason}",
            request=request,
        )
        notification_send(
            user=locked.user,
            kind="doctor_verification",
            title="We could not verify your profile",
            body=f"Our staff gave this reason: {reason}\n\nCorrect your profile and submit it again.",
            deeplink=reverse("doctors:profile_edit"),
        )
    _sync(profile, locked, ["verification_status", "rejection_reason", "verified_at", "verified_by"])
    return profile


# --- reviews ------------------------------------------------------------------------------------


def _lock_doctor_for_rating(doctor_id: str) -> DoctorProfile | None:
    # The doctor's profile row is the lock for their rating: two reviews saved
    # at once would otherwise each count the reviews without the other's and
    # the later save would lose one (read committed on MySQL).
    return DoctorProfile.all_objects.select_for_update().filter(user_id=doctor_id).first()


def _rating_refresh(profile: DoctorProfile | None) -> None:
    """rating_avg and rating_count from the doctor's visible reviews; the caller holds the lock.

    Equal to the spec's "Calculate doctor rating" query (is_visible = TRUE): a
    removed review is always also made invisible, so "not deleted" is implied.
    The average is exact (sum / count) rounded half up to the column's 2 places.
    """
    if profile is None:
        return
    totals = DoctorReview.all_objects.filter(doctor_id=profile.user_id, is_visible=True).aggregate(
        total=Sum("rating"), count=Count("id")
    )
    count = totals["count"] or 0
    average = (
        (Decimal(totals["total"]) / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if count else Decimal("0")
    )
    if (profile.rating_avg, profile.rating_count) != (average, count):
        profile.rating_avg, profile.rating_count = average, count
        profile.save(update_fields=["rating_avg", "rating_count", "updated_at"])


def _review_refusal(*, consultation: Consultation, patient: User) -> ReviewError | None:
    if not (patient.is_authenticated and consultation.patient_id == patient.pk):
        return ReviewError(REVIEW_NOT_YOURS, code="not_yours")
    if consultation.doctor_id is None or consultation.consultation_type != ConsultationType.DOCTOR:
        return ReviewError(REVIEW_NOT_REVIEWABLE, code="not_reviewable")
    if consultation.status != Status.COMPLETED:
        return ReviewError(REVIEW_NOT_COMPLETED, code="not_completed")
    if DoctorReview.all_objects.filter(consultation_id=consultation.pk).exists():
        return ReviewError(REVIEW_ALREADY_WRITTEN, code="already_reviewed")
    return None


def review_create(*, consultation: Consultation, patient: User, rating: int, comment: str) -> DoctorReview:
    """A patient reviews a completed consultation with a doctor, once."""
    refusal = _review_refusal(consultation=consultation, patient=patient)
    if refusal is not None:
        raise refusal
    with transaction.atomic():
        doctor_profile = _lock_doctor_for_rating(consultation.doctor_id)
        # Again under the lock: the same review sent twice at once.
        refusal = _review_refusal(consultation=consultation, patient=patient)
        if refusal is not None:
            raise refusal
        review = DoctorReview(
            doctor_id=consultation.doctor_id,
            patient=patient,
            consultation=consultation,
            rating=rating,
            comment=(comment or "").strip(),
            is_visible=True,
            is_verified=True,
        )
        review.full_clean()
        review.save()
        _rating_refresh(doctor_profile)
        notification_send(
            user=consultation.doctor,
            kind="review_received",
            title=f"New review: {rating} out of 5",
            body=Truncator(review.comment).chars(200) or "A patient rated their consultation with you.",
            deeplink=reverse("doctors:profile_edit"),
        )
    return review


def review_update(*, review: DoctorReview, by: User, rating: int, comment: str) -> DoctorReview:
    """The author changes their review, within a week of writing it."""
    if not policies.is_review_author(by, review):
        raise ReviewError(REVIEW_NOT_YOURS, code="not_yours")
    with transaction.atomic():
        doctor_profile = _lock_doctor_for_rating(review.doctor_id)
        locked = DoctorReview.all_objects.select_for_update().get(pk=review.pk)
        if locked.deleted_at is not None:
            raise ReviewError(REVIEW_REMOVED, code="removed")
        if not policies.review_editable(locked):
            raise ReviewError(REVIEW_EDIT_WINDOW_CLOSED, code="edit_window_closed")
        locked.rating = rating
        locked.comment = (comment or "").strip()
        locked.edited_at = timezone.now()
        locked.full_clean()
        locked.save(update_fields=["rating", "comment", "edited_at", "updated_at"])
        _rating_refresh(doctor_profile)
    review.rating, review.comment, review.edited_at = locked.rating, locked.comment, locked.edited_at
    return review


def review_set_visibility(
    *, review: DoctorReview, by: User, visible: bool, reason: str = "", request: HttpRequest | None = None
) -> DoctorReview:
    """Staff hide a review (with a reason kept for the record) or show it again."""
    if not policies.can_moderate_reviews(by):
        raise PermissionDenied("Only staff can hide or show reviews.")
    reason = (reason or "").strip()
    with transaction.atomic():
        doctor_profile = _lock_doctor_for_rating(review.doctor_id)
        locked = DoctorReview.all_objects.select_for_update().get(pk=review.pk)
        if visible and locked.deleted_at is not None:
            raise ReviewError(REVIEW_SHOW_REMOVED, code="removed")
        new_reason = "" if visible else (reason or locked.hidden_reason or DEFAULT_HIDDEN_REASON)
        if (locked.is_visible, locked.hidden_reason) == (visible, new_reason):
            return locked
        old = {"is_visible": locked.is_visible, "hidden_reason": locked.hidden_reason}
        locked.is_visible = visible
        locked.hidden_reason = new_reason
        locked.moderated_by = by
        locked.moderated_at = timezone.now()
        locked.full_clean()
        locked.save(update_fields=["is_visible", "hidden_reason", "moderated_by", "moderated_at", "updated_at"])
        audit_record(
            actor=by,
            action=AuditAction.UPDATE,
            table="doctor_reviews",
            record_id=locked.pk,
            old=old,
            new={"is_visible": visible, "hidden_reason": new_reason},
            description=("Showed the review again." if visible else f"Hid the review: {new_reason}"),
            request=request,
        )
        _rating_refresh(doctor_profile)
    _sync(review, locked, ["is_visible", "hidden_reason", "moderated_by", "moderated_at"])
    return review


def review_delete(*, review: DoctorReview, by: User, request: HttpRequest | None = None) -> None:
    """The author (within the edit week) or staff remove a review.

    Soft delete, and invisible too: the spec's rating query counts every row
    with is_visible = TRUE, deleted or not.
    """
    is_author = policies.is_review_author(by, review)
    if not (is_author or policies.can_moderate_reviews(by)):
        raise ReviewError(REVIEW_NOT_YOURS, code="not_yours")
    with transaction.atomic():
        doctor_profile = _lock_doctor_for_rating(review.doctor_id)
        locked = DoctorReview.all_objects.select_for_update().get(pk=review.pk)
        if locked.deleted_at is not None:
            return
        if is_author and not policies.review_editable(locked):
            raise ReviewError(REVIEW_EDIT_WINDOW_CLOSED, code="edit_window_closed")
        old = {"is_visible": locked.is_visible, "deleted_at": None}
        locked.is_visible = False
        locked.deleted_at = timezone.now()
        locked.save(update_fields=["is_visible", "deleted_at", "updated_at"])
        audit_record(
            actor=by,
            action=AuditAction.SOFT_DELETE,
            table="doctor_reviews",
            record_id=locked.pk,
            old=old,
            new={"is_visible": False, "deleted_at": locked.deleted_at.isoformat()},
            description="Removed by its author." if is_author else "Removed by staff.",
            request=request,
        )
        _rating_refresh(doctor_profile)
    review.is_visible, review.deleted_at = False, locked.deleted_at


# --- directory and public pages --------------------------------------------------

# The directory and a doctor's public page only read: see doctors/queries.py.
# What they sort on (next_available_at) is kept by the availability services below.


# --- availability ----------------------------------------------------------------

# Imports sit with the section that uses them: each section of this file has
# its own author, and a shared import block at the top would be edited by both.


# How far ahead next_available_at looks for a free slot.
NEXT_AVAILABLE_DAYS = 14

# The only fields availability_update changes (and so the only ones it validates:
# a draft profile with no registration number yet may still set its hours).
_AVAILABILITY_FIELDS = ("availability", "timezone")


def availability_update(
    *,
    profile: DoctorProfile,
    availability: dict[str, Any],
    by: User,
    request: HttpRequest | None = None,
) -> DoctorProfile:
    """Replace a doctor's working hours (the availability JSON, documented in
    doctors/schemas.py) and refresh their next free slot.

    The doctor themselves or staff; any verification status (a doctor sets
    hours before staff verify them). Raises ValidationError, keyed
    "availability" or "timezone", and writes nothing when the document is
    malformed: bad shape, a range that ends before it starts, overlapping
    ranges, an unknown zone. The profile's `timezone` column follows the
    document's zone.
    """
    if not (is_staff(by) or (by.is_authenticated and by.pk == profile.user_id)):
        raise PermissionDenied("Only the doctor or staff may change these working hours.")
    with transaction.atomic():
        # Locked, so two saves from two tabs cannot interleave their audit rows.
        locked = DoctorProfile.objects.select_for_update().get(pk=profile.pk)
        old = {"availability": locked.availability, "timezone": locked.timezone}
        locked.availability = availability
        locked.timezone = availability.get("timezone") or locked.timezone
        locked.full_clean(
            exclude=[f.name for f in DoctorProfile._meta.concrete_fields if f.name not in _AVAILABILITY_FIELDS],
            validate_unique=False,
            validate_constraints=False,
        )
        locked.save(update_fields=[*_AVAILABILITY_FIELDS, "updated_at"])
        audit_record(
            actor=by,
            action=AuditAction.UPDATE,
            table=DoctorProfile._meta.db_table,
            record_id=locked.pk,
            old=old,
            new={"availability": locked.availability, "timezone": locked.timezone},
            description="Working hours changed.",
            request=request,
        )
        next_available_refresh(profile=locked)
    profile.availability = locked.availability
    profile.timezone = locked.timezone
    profile.next_available_at = locked.next_available_at
    return profile


def next_available_refresh(*, profile: DoctorProfile, now: datetime | None = None) -> datetime | None:
    """Store the doctor's first free slot in the next 14 days (None if there is none).

    Why a stored column: "earliest available" is the directory's most useful
    sort and "available today / this week" its most useful filter, and both
    must page through thousands of doctors in SQL. Computing each doctor's
    slots means reading their schedule and bookings in Python, for every
    doctor, on every page view. Kept in `doctor_profiles.next_available_at`
    (indexed), it is one range condition or ORDER BY on an index, and a page of
    the directory stays two queries. The price is freshness: this runs after
    every schedule change (availability_update) and booking change (the
    booking services call it), and `manage.py refresh_next_slots` runs from
    cron to move everyone past slots that have gone by.

    2 queries: the doctor's bookings, then the update.
    """
    first = first_free_slots([profile], days=NEXT_AVAILABLE_DAYS, now=now)[profile.pk]
    DoctorProfile.all_objects.filter(pk=profile.pk).update(next_available_at=first)
    profile.next_available_at = first
    return first


def next_available_refresh_all(*, now: datetime | None = None, batch_size: int = 500) -> tuple[int, int]:
    """next_available_refresh for every verified doctor, in batches of
    `batch_size`: per batch one read of profiles, one of bookings and one bulk
    UPDATE of the rows that changed. Returns (doctors checked, rows changed).

    Not audited: the column is derived from data whose changes are audited.
    """
    now = now or timezone.now()
    checked = changed = 0
    last_pk = ""
    verified = DoctorProfile.objects.filter(verification_status=VerificationStatus.VERIFIED).only(
        "id", "user_id", "availability", "timezone", "next_available_at"
    )
    while True:
        # Keyset pagination on the primary key: no OFFSET, no long-held cursor.
        batch = list(verified.filter(pk__gt=last_pk).order_by("pk")[:batch_size])
        if not batch:
            return checked, changed
        last_pk = batch[-1].pk
        first = first_free_slots(batch, days=NEXT_AVAILABLE_DAYS, now=now)
        stale = [profile for profile in batch if profile.next_available_at != first[profile.pk]]
        for profile in stale:
            profile.next_available_at = first[profile.pk]
        if stale:
            DoctorProfile.all_objects.bulk_update(stale, ["next_available_at"])
        checked += len(batch)
        changed += len(stale)
