"""patient_profile_update: the one writer of a patient's profile.

It writes what it is given in one transaction with its audit row, creates the
row for an account that never got one, refuses what the model refuses, and
keeps medical text out of the audit trail.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import AdminLog, AuditAction
from accounts.tests.factories import DoctorUserFactory, PatientUserFactory, StaffUserFactory
from patients.models import PatientProfile
from patients.services import REDACTED, ProfileData, patient_profile_update
from patients.tests.factories import PatientProfileFactory

pytestmark = pytest.mark.django_db

MEDICAL_TEXT = ["Typhoid in 2010", "Diabetes (father)", "Penicillin", "anaphylaxis", "Thyroxine", "Hypothyroidism"]


def everything() -> ProfileData:
    return ProfileData(
        full_name="Asha Rao",
        date_of_birth=date(1988, 2, 29),
        gender="female",
        height_cm=Decimal("170.0"),
        weight_kg=Decimal("68.0"),
        blood_group="O-",
        allergies=[{"name": "Penicillin", "severity": "life_threatening", "reaction": "anaphylaxis"}],
        medications=[{"name": "Thyroxine", "dosage": "50 mcg", "frequency": "daily", "since": "2019"}],
        chronic_conditions=[{"name": "Hypothyroidism", "since": "2019"}],
        medical_history="Typhoid in 2010.",
        family_history="Diabetes (father).",
        emergency_contact_name="Ravi Rao",
        emergency_contact_phone="+919812345678",
        emergency_contact_relation="husband",
        preferred_language="mr",
        address_line1="12 Lakshmi Road",
        address_line2="Deccan Gymkhana",
        city="Pune",
        state="Maharashtra",
        postal_code="411004",
        country="IN",
    )


def snapshot(profile: PatientProfile) -> dict:
    return PatientProfile.all_objects.filter(pk=profile.pk).values().get()


def profile_logs(profile: PatientProfile):
    return AdminLog.objects.filter(table_name="patient_profiles", record_id=profile.pk)


def test_it_writes_every_field_with_the_lists_in_their_documented_shape():
    profile = PatientProfileFactory()

    patient_profile_update(profile=profile, data=everything(), by=profile.user)

    saved = PatientProfile.objects.get(pk=profile.pk)
    for field, value in everything().items():
        assert getattr(saved, field) == value, field
    assert saved.allergies == [{"name": "Penicillin", "severity": "life_threatening", "reaction": "anaphylaxis"}]


def test_it_gives_back_the_bmi_the_database_computed():
    profile = PatientProfileFactory(height_cm=None, weight_kg=None)
    assert PatientProfile.objects.get(pk=profile.pk).bmi is None

    saved = patient_profile_update(
        profile=profile, data={"height_cm": Decimal("170"), "weight_kg": Decimal("68")}, by=profile.user
    )

    assert saved.bmi == Decimal("23.53")


def test_a_key_left_out_keeps_its_value():
    profile = PatientProfileFactory(city="Pune", medical_history="Typhoid in 2010.")

    patient_profile_update(profile=profile, data={"city": "Nashik"}, by=profile.user)

    saved = PatientProfile.objects.get(pk=profile.pk)
    assert (saved.city, saved.medical_history) == ("Nashik", "Typhoid in 2010.")


def test_it_creates_the_profile_of_a_patient_who_has_none():
    patient = PatientUserFactory()

    saved = patient_profile_update(profile=PatientProfile(user=patient), data=everything(), by=patient)

    assert PatientProfile.objects.get(user=patient).pk == saved.pk
    assert saved.bmi == Decimal("23.53")
    (log,) = profile_logs(saved)
    assert log.action == AuditAction.CREATE
    assert log.user == patient
    assert log.old_values is None
    # Which fields were set, not what: the trail outlives the account's erasure.
    assert log.new_values["full_name"] == REDACTED
    assert log.new_values["medical_history"] == REDACTED


def test_a_second_first_save_updates_the_profile_the_first_one_made():
    # Two tabs opened before the profile existed: both hold an unsaved profile.
    patient = PatientUserFactory()
    first, second = PatientProfile(user=patient), PatientProfile(user=patient)

    patient_profile_update(profile=first, data={"full_name": "Asha Rao"}, by=patient)
    patient_profile_update(profile=second, data={"full_name": "Asha R. Rao", "city": "Pune"}, by=patient)

    (saved,) = PatientProfile.objects.filter(user=patient)
    assert (saved.full_name, saved.city) == ("Asha R. Rao", "Pune")
    assert [log.action for log in profile_logs(saved).order_by("created_at")] == [
        AuditAction.CREATE,
        AuditAction.UPDATE,
    ]


def test_it_writes_and_audits_nothing_when_nothing_changed():
    profile = PatientProfileFactory(height_cm=Decimal("162.0"))
    before = snapshot(profile)
    unchanged = {field: getattr(profile, field) for field in everything()}
    unchanged["height_cm"] = Decimal("162")  # the same number, written differently

    patient_profile_update(profile=profile, data=unchanged, by=profile.user)

    assert snapshot(profile) == before
    assert not profile_logs(profile).exists()


def test_the_audit_row_holds_before_and_after_of_what_changed_only():
    profile = PatientProfileFactory(city="Pune", height_cm=Decimal("162.0"), date_of_birth=date(1990, 5, 17))

    patient_profile_update(
        profile=profile,
        data={
            "city": "Nashik",
            "height_cm": Decimal("163.5"),
            "date_of_birth": date(1990, 5, 18),
            "state": "Maharashtra",
        },
        by=profile.user,
    )

    (log,) = profile_logs(profile)
    assert log.action == AuditAction.UPDATE
    assert log.user == profile.user
    # The town keeps its value; a birth date and a height say who someone is.
    assert log.old_values == {"city": "Pune", "height_cm": REDACTED, "date_of_birth": REDACTED}
    assert log.new_values == {"city": "Nashik", "height_cm": REDACTED, "date_of_birth": REDACTED}
    assert "by its owner" in log.description


def test_the_audit_row_records_only_that_medical_text_changed():
    profile = PatientProfileFactory(medical_history="Chickenpox as a child.", allergies=[], medications=[])

    patient_profile_update(profile=profile, data=everything(), by=profile.user)

    (log,) = profile_logs(profile)
    for field in ("medical_history", "family_history", "allergies", "medications", "chronic_conditions"):
        assert log.old_values[field] == REDACTED
        assert log.new_values[field] == REDACTED
    stored = json.dumps([log.old_values, log.new_values, log.description])
    for text in [*MEDICAL_TEXT, "Chickenpox"]:
        assert text not in stored
    # Contact details too: the trail says they changed, not to what.
    assert log.new_values["emergency_contact_phone"] == REDACTED
    assert "+919812345678" not in stored


def test_a_rule_only_the_model_knows_stops_the_write_with_nothing_saved():
    profile = PatientProfileFactory()
    before = snapshot(profile)

    with pytest.raises(ValidationError) as raised:
        patient_profile_update(profile=profile, data={**everything(), "height_cm": Decimal("5")}, by=profile.user)

    assert "Height must be between 30 and 272 cm." in raised.value.messages
    assert snapshot(profile) == before
    assert not profile_logs(profile).exists()


def test_a_list_not_in_its_documented_shape_is_refused():
    profile = PatientProfileFactory()
    before = snapshot(profile)

    with pytest.raises(ValidationError) as raised:
        patient_profile_update(
            profile=profile, data={"allergies": [{"name": "Dust", "severity": "extreme"}]}, by=profile.user
        )

    assert "allergies" in raised.value.message_dict
    assert snapshot(profile) == before


def test_a_failed_audit_write_takes_the_profile_write_back_with_it():
    profile = PatientProfileFactory()
    before = snapshot(profile)

    with (
        mock.patch("patients.services.audit_record", side_effect=RuntimeError("audit store down")),
        pytest.raises(RuntimeError),
    ):
        patient_profile_update(profile=profile, data=everything(), by=profile.user)

    assert snapshot(profile) == before


def test_another_patient_cannot_change_it():
    profile = PatientProfileFactory()
    before = snapshot(profile)

    with pytest.raises(PermissionDenied):
        patient_profile_update(profile=profile, data={"city": "Nashik"}, by=PatientUserFactory())

    assert snapshot(profile) == before


def test_staff_can_change_it_and_the_audit_row_says_so():
    profile = PatientProfileFactory(city="Pune")
    staff = StaffUserFactory(totp=False)

    patient_profile_update(profile=profile, data={"city": "Nashik"}, by=staff)

    (log,) = profile_logs(profile)
    assert log.user == staff
    assert "by staff" in log.description


def test_a_doctor_cannot_be_given_a_patient_profile():
    doctor = DoctorUserFactory()

    with pytest.raises(PermissionDenied):
        patient_profile_update(profile=PatientProfile(user=doctor), data={"full_name": "Dr. Meera"}, by=doctor)

    assert not PatientProfile.all_objects.filter(user=doctor).exists()


def test_a_field_the_patient_cannot_edit_is_a_programming_error():
    profile = PatientProfileFactory()

    with pytest.raises(TypeError, match="user"):
        patient_profile_update(profile=profile, data={"user": PatientUserFactory()}, by=profile.user)  # type: ignore[typeddict-unknown-key]
