"""State changes for patients. Each function is the only writer of what it changes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, TypedDict

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest

from accounts.models import AuditAction, Role, User
from accounts.policies import is_staff
from accounts.services import audit_record
from patients.models import PatientProfile


class ProfileData(TypedDict, total=False):
    """What the patient can change on their profile; a key left out stays as it is."""

    full_name: str
    date_of_birth: date | None
    gender: str
    height_cm: Decimal | None
    weight_kg: Decimal | None
    blood_group: str
    allergies: list[dict[str, str]]
    medications: list[dict[str, str]]
    chronic_conditions: list[dict[str, str]]
    medical_history: str
    family_history: str
    emergency_contact_name: str
    emergency_contact_phone: str
    emergency_contact_relation: str
    preferred_language: str
    address_line1: str
    address_line2: str
    city: str
    state: str
    postal_code: str
    country: str


EDITABLE_FIELDS: frozenset[str] = frozenset(ProfileData.__annotations__)

# What the audit trail writes instead of a value.
REDACTED = "<changed>"

# Everything on a patient profile is personal or medical, and the audit trail
# is append-only and read by staff: a value copied there would outlive the
# account's erasure. So the trail says which fields changed, by whom and
# when, but not to what; only the coarse ones that identify nobody keep their
# values (never the medical history, allergies, medications or conditions).
KEPT_VALUES: frozenset[str] = frozenset({"preferred_language", "gender", "city", "state", "country"})


def _audit_value(field: str, value: Any) -> Any:
    if field not in KEPT_VALUES:
        return REDACTED
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def patient_profile_update(
    *,
    profile: PatientProfile,
    data: ProfileData,
    by: User,
    request: HttpRequest | None = None,
) -> PatientProfile:
    """Write the patient's profile from already-validated `data`, audited, in one transaction.

    `profile` may be unsaved (an old account that never got one at sign-up):
    it is created then. Only its owner or staff may change it. The model's own
    validation (`full_clean`) runs inside the transaction, so a rule a form
    missed still stops the write with nothing saved. A change that changes
    nothing writes nothing. Returns the saved profile with the database's BMI.
    """
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"Not editable on a patient profile: {', '.join(sorted(unknown))}")
    patient = profile.user
    if patient.role != Role.PATIENT:
        raise PermissionDenied("Only patients have a patient profile.")
    if by.pk != patient.pk and not is_staff(by):
        raise PermissionDenied("A patient's profile is changed by the patient or by staff.")

    with transaction.atomic():
        if profile._state.adding:
            # Lock the user row: two first saves at once (two tabs) must not both
            # try to create the profile; the second one updates what the first made.
            User.all_objects.select_for_update().filter(pk=patient.pk).first()
            current = PatientProfile.objects.select_for_update().filter(user=patient).first() or profile
        else:
            # Lock the row so the audit's "before" is what this write replaces.
            current = PatientProfile.objects.select_for_update().get(pk=profile.pk)
        creating = current._state.adding

        changed = [field for field, value in data.items() if creating or getattr(current, field) != value]
        if not changed:
            return current
        old = {field: _audit_value(field, getattr(current, field)) for field in changed}
        for field in changed:
            setattr(current, field, data[field])
        current.full_clean()
        if creating:
            current.save()
        else:
            current.save(update_fields=[*changed, "updated_at"])

        audit_record(
            actor=by,
            action=AuditAction.CREATE if creating else AuditAction.UPDATE,
            table=PatientProfile._meta.db_table,
            record_id=current.pk,
            old=None if creating else old,
            new={field: _audit_value(field, getattr(current, field)) for field in changed},
            description=(
                f"Patient profile {'created' if creating else 'updated'} by "
                f"{'its owner' if by.pk == patient.pk else 'staff'}."
            ),
            request=request,
        )

    # BMI is computed by the database (a stored generated column).
    current.refresh_from_db(fields=["bmi"])
    return current
