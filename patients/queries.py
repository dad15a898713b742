"""Read paths for patient pages, each a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from accounts.models import User
from patients.forms import country_label, language_label, readable_phone, severity_label
from patients.models import PatientProfile


def patient_profile_for(*, user: User) -> PatientProfile | None:
    """The patient's own profile with its user, or None (1 query).

    The user is the one already loaded for the request, attached both ways:
    the header's `user.display_name` then reads this profile instead of
    fetching it again.
    """
    try:
        profile = PatientProfile.objects.get(user_id=user.pk)
    except PatientProfile.DoesNotExist:
        return None
    profile.user = user  # also fills user.patient_profile
    return profile


def patient_profile_for_edit(*, user: User) -> PatientProfile:
    """The profile to edit; an unsaved, empty one for an account that has none (1 query).

    Nothing is written here: the first save creates the row (patient_profile_update).
    """
    return patient_profile_for(user=user) or PatientProfile(user=user)


@dataclass(frozen=True)
class ProfilePage:
    """What the profile page shows: the profile, and its codes as words."""

    profile: PatientProfile | None
    age: int | None = None
    language: str = ""
    country: str = ""
    emergency_phone: str = ""  # as people write it: +91 98123 45678
    allergies: list[dict[str, str]] = field(default_factory=list)


def patient_profile_page(*, user: User) -> ProfilePage:
    """The patient's profile page (1 query; labels come from the forms' fixed lists)."""
    profile = patient_profile_for(user=user)
    if profile is None:
        return ProfilePage(profile=None)
    return ProfilePage(
        profile=profile,
        age=profile.age,
        language=language_label(profile.preferred_language),
        country=country_label(profile.country),
        emergency_phone=readable_phone(profile.emergency_contact_phone),
        allergies=[
            {**allergy, "severity_label": severity_label(allergy["severity"])} if allergy.get("severity") else allergy
            for allergy in profile.allergies
        ],
    )
