"""doctor_profiles, doctor_reviews and the active_doctors view."""

from __future__ import annotations

import copy
import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from consultations.tests.factories import ConsultationFactory
from doctors import schemas
from doctors.models import ActiveDoctor, DoctorProfile, DoctorReview, VerificationStatus, default_availability
from doctors.tests.factories import DoctorProfileFactory, DoctorReviewFactory

pytestmark = pytest.mark.django_db


def documented_availability() -> dict:
    """The availability example in doctors/schemas.py's docstring, comments removed."""
    doc = schemas.__doc__
    block = doc[doc.index("{", doc.index("availability —")) : doc.index("Ranges on one day")]
    return json.loads(re.sub(r"#[^\n]*", "", block))


def with_changes(**changes) -> dict:
    availability = copy.deepcopy(documented_availability())
    availability.update(changes)
    return availability


def availability_errors(availability) -> str:
    profile = DoctorProfileFactory()
    profile.availability = availability
    with pytest.raises(ValidationError) as exc:
        profile.full_clean()
    return " ".join(exc.value.message_dict["availability"])


# --- availability -----------------------------------------------------------------


def test_the_documented_availability_example_is_valid():
    example = documented_availability()
    assert example["weekly"]["mon"][1] == {"start": "17:00", "end": "20:00"}

    profile = DoctorProfileFactory(availability=example)
    profile.full_clean()

    profile.refresh_from_db()
    assert profile.availability == example


def test_a_new_profiles_default_availability_is_valid():
    # Saving runs the shape check too, so a bad default could not be stored.
    profile = DoctorProfileFactory(availability=default_availability())

    profile.full_clean()
    profile.refresh_from_db()
    assert profile.availability == default_availability()


@pytest.mark.parametrize(
    ("availability", "words"),
    [
        (with_changes(weekly={"mon": [{"start": "25:00", "end": "26:00"}]}), ["weekly.mon[1]", "HH:MM"]),
        (with_changes(weekly={"mon": [{"start": "9:00", "end": "12:00"}]}), ["weekly.mon[1].start", "HH:MM"]),
        (with_changes(weekly={"tue": [{"start": "13:00", "end": "09:30"}]}), ["weekly.tue", "end after it starts"]),
        (with_changes(weekly={"tue": [{"start": "10:00", "end": "10:00"}]}), ["weekly.tue", "end after it starts"]),
        (
            with_changes(weekly={"wed": [{"start": "09:00", "end": "12:00"}, {"start": "11:30", "end": "14:00"}]}),
            ["weekly.wed", "overlap"],
        ),
        (with_changes(weekly={"monday": [{"start": "09:00", "end": "12:00"}]}), ["weekly", "'monday' was unexpected"]),
        (
            with_changes(overrides=[{"date": "2026-12-25", "ranges": []}, {"date": "2026-12-25", "ranges": []}]),
            ["2026-12-25 appears twice"],
        ),
        (with_changes(overrides=[{"date": "2026-02-30", "ranges": []}]), ["'2026-02-30' is not a real date"]),
        (
            with_changes(overrides=[{"date": "2026-12-27", "ranges": [{"start": "12:00", "end": "10:00"}]}]),
            ["overrides.2026-12-27", "end after it starts"],
        ),
        (with_changes(timezone="Mars/Olympus"), ["'Mars/Olympus' is not a known time zone"]),
        (with_changes(slot_minutes=3), ["slot_minutes", "minimum of 5"]),
        (with_changes(buffer_minutes=-1), ["buffer_minutes"]),
    ],
    ids=[
        "hour-25",
        "single-digit-hour",
        "ends-before-it-starts",
        "ends-when-it-starts",
        "overlapping-ranges",
        "unknown-weekday",
        "duplicate-override-date",
        "impossible-date",
        "override-ends-before-it-starts",
        "unknown-timezone",
        "slot-too-short",
        "negative-buffer",
    ],
)
def test_full_clean_refuses_bad_availability_with_a_clear_message(availability, words):
    message = availability_errors(availability)

    for word in words:
        assert word in message


def test_saving_bad_availability_without_full_clean_is_refused():
    profile = DoctorProfileFactory()
    good = profile.availability
    profile.availability = with_changes(weekly={"mon": [{"start": "13:00", "end": "09:30"}]})

    # save() marks the surrounding transaction for rollback on any error; the
    # savepoint keeps the test's transaction usable.
    with pytest.raises(ValidationError) as exc, transaction.atomic():
        profile.save()

    assert "end after it starts" in " ".join(exc.value.message_dict["availability"])
    profile.refresh_from_db()
    assert profile.availability == good


def test_full_clean_refuses_an_empty_availability_that_save_would_refuse():
    profile = DoctorProfileFactory()
    profile.availability = {}

    with pytest.raises(ValidationError) as exc:
        profile.full_clean()

    assert "'slot_minutes' is a required property" in exc.value.message_dict["availability"]


# --- specializations and modes ------------------------------------------------------


def test_specializations_from_the_curated_list_are_accepted():
    profile = DoctorProfileFactory(specializations=["classical", "paediatrics", "womens_health"])

    profile.full_clean()
    assert profile.specialization_labels == ["Classical homeopathy", "Children's health", "Women's health and PCOS"]


@pytest.mark.parametrize("specializations", [["astrology"], ["classical", "Classical"], "classical"])
def test_a_specialization_outside_the_curated_list_is_refused(specializations):
    profile = DoctorProfileFactory()
    profile.specializations = specializations

    with pytest.raises(ValidationError) as exc:
        profile.full_clean()

    assert "specializations" in exc.value.message_dict


def test_a_specialization_error_lists_the_choices():
    profile = DoctorProfileFactory()
    profile.specializations = ["astrology"]

    with pytest.raises(ValidationError) as exc:
        profile.full_clean()

    assert exc.value.message_dict["specializations"] == [
        "[1]: must be one of: " + ", ".join(schemas.SPECIALIZATIONS) + "."
    ]


def test_a_repeated_specialization_is_refused():
    profile = DoctorProfileFactory()
    profile.specializations = ["classical", "classical"]

    with pytest.raises(ValidationError) as exc:
        profile.full_clean()

    assert "specializations" in exc.value.message_dict


def test_every_consultation_mode_is_accepted():
    profile = DoctorProfileFactory(consultation_modes=list(schemas.MODES))

    profile.full_clean()
    assert DoctorProfile.objects.get(pk=profile.pk).consultation_modes == ["chat", "audio", "video", "in_person"]


@pytest.mark.parametrize("modes", [["telepathy"], ["chat", "Video"], ["chat", "chat"]])
def test_an_unknown_or_repeated_consultation_mode_is_refused(modes):
    profile = DoctorProfileFactory()
    profile.consultation_modes = modes

    with pytest.raises(ValidationError) as exc:
        profile.full_clean()

    assert "consultation_modes" in exc.value.message_dict


def test_saving_an_unknown_mode_without_full_clean_is_refused():
    with pytest.raises(ValidationError) as exc, transaction.atomic():
        DoctorProfileFactory(consultation_modes=["telepathy"])

    assert "consultation_modes" in exc.value.message_dict
    assert not DoctorProfile.all_objects.exists()


# --- the active_doctors view -------------------------------------------------------


def active_doctor_user_ids() -> set[str]:
    return set(ActiveDoctor.objects.values_list("user_id", flat=True))


def test_the_active_doctors_view_lists_a_verified_active_doctor():
    profile = DoctorProfileFactory(full_name="Dr. Asha Verified", specializations=["classical", "dermatology"])

    row = ActiveDoctor.objects.get(pk=profile.pk)

    assert row.user_id == profile.user_id
    assert row.full_name == "Dr. Asha Verified"
    assert row.specializations == ["classical", "dermatology"]
    assert row.consultation_fee == profile.consultation_fee


@pytest.mark.parametrize("status", [VerificationStatus.DRAFT, VerificationStatus.PENDING, VerificationStatus.REJECTED])
def test_the_active_doctors_view_leaves_out_an_unverified_doctor(status):
    listed = DoctorProfileFactory()
    DoctorProfileFactory(verification_status=status)

    assert active_doctor_user_ids() == {listed.user_id}


def test_the_active_doctors_view_leaves_out_a_doctor_whose_account_is_inactive():
    listed = DoctorProfileFactory()
    inactive = DoctorProfileFactory(user__is_active=False)

    assert active_doctor_user_ids() == {listed.user_id}
    assert DoctorProfile.objects.filter(pk=inactive.pk).exists()


def test_the_active_doctors_view_leaves_out_a_deleted_profile():
    listed = DoctorProfileFactory()
    deleted = DoctorProfileFactory()

    deleted.soft_delete()

    assert active_doctor_user_ids() == {listed.user_id}


def test_the_active_doctors_view_leaves_out_a_doctor_whose_account_is_deleted():
    listed = DoctorProfileFactory()
    deleted = DoctorProfileFactory()

    deleted.user.soft_delete()

    assert active_doctor_user_ids() == {listed.user_id}
    assert DoctorProfile.objects.filter(pk=deleted.pk).exists()


# --- reviews -----------------------------------------------------------------------


@pytest.mark.parametrize("rating", [1, 5])
def test_a_rating_from_one_to_five_is_stored(rating):
    review = DoctorReviewFactory(rating=rating)

    assert DoctorReview.objects.get(pk=review.pk).rating == rating


@pytest.mark.parametrize("rating", [0, 6])
def test_the_database_refuses_a_rating_outside_one_to_five(rating):
    consultation = ConsultationFactory(status="completed")

    with pytest.raises(IntegrityError), transaction.atomic():
        DoctorReviewFactory(consultation=consultation, rating=rating)

    assert not DoctorReview.all_objects.exists()


def test_full_clean_refuses_a_rating_of_six():
    review = DoctorReviewFactory()
    review.rating = 6

    with pytest.raises(ValidationError) as exc:
        review.full_clean()

    assert "rating" in exc.value.message_dict


def test_the_database_refuses_a_second_review_of_one_consultation():
    review = DoctorReviewFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        DoctorReviewFactory(consultation=review.consultation, rating=1)

    assert DoctorReview.all_objects.filter(consultation=review.consultation).count() == 1
