"""patient_profiles: JSON shapes, the generated BMI column, range checks and age."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.tests.factories import PatientUserFactory
from patients.models import PatientProfile, age_on
from patients.tests.factories import PatientProfileFactory

pytestmark = pytest.mark.django_db

# SQLite stores 58.0 in a decimal column as the integer 58, and Django wraps the
# BMI expression's Decimal("10000.0") in CAST(... AS NUMERIC), which makes it the
# integer 10000 too; weight * 10000 / height² is then integer division.

# (field, malformed value, words the error message must contain)
MALFORMED = [
    ("allergies", {"name": "Pollen"}, ["is not of type 'array'"]),
    ("allergies", [{"severity": "mild"}], ["[1]", "'name' is a required property"]),
    ("allergies", [{"name": ""}], ["[1].name"]),
    ("allergies", [{"name": "   "}], ["[1].name"]),
    ("allergies", [{"name": "Dust"}, {"name": "Pollen", "severity": "extreme"}], ["[2].severity", "must be one of"]),
    ("allergies", [{"name": "Pollen", "colour": "red"}], ["[1]", "'colour' was unexpected"]),
    ("medications", [{"name": "XYZ", "dosage": 5}], ["[1].dosage", "is not of type 'string'"]),
    ("medications", "XYZ 5mg daily", ["is not of type 'array'"]),
    ("chronic_conditions", [{"since": "2019"}], ["[1]", "'name' is a required property"]),
    ("chronic_conditions", [{"name": "Hypothyroidism", "severity": "mild"}], ["[1]", "'severity' was unexpected"]),
]
MALFORMED_IDS = [
    "allergies-not-a-list",
    "allergy-without-name",
    "allergy-with-empty-name",
    "allergy-with-blank-name",
    "allergy-severity-extreme",
    "allergy-unknown-key",
    "medication-dosage-a-number",
    "medications-a-string",
    "condition-without-name",
    "condition-unknown-key",
]


# --- JSON shapes ---------------------------------------------------------------


def test_the_specs_allergy_and_medication_examples_are_valid():
    profile = PatientProfileFactory(
        allergies=[{"name": "Pollen", "severity": "moderate"}],
        medications=[{"name": "XYZ", "dosage": "5mg", "frequency": "daily"}],
        chronic_conditions=[{"name": "Hypothyroidism", "since": "2019", "notes": "on thyroxine"}],
    )

    profile.full_clean()
    profile.refresh_from_db()
    assert profile.allergies == [{"name": "Pollen", "severity": "moderate"}]
    assert profile.medications == [{"name": "XYZ", "dosage": "5mg", "frequency": "daily"}]


@pytest.mark.parametrize(("field", "value", "words"), MALFORMED, ids=MALFORMED_IDS)
def test_full_clean_refuses_a_malformed_list_and_names_the_bad_item(field, value, words):
    profile = PatientProfileFactory()
    setattr(profile, field, value)

    with pytest.raises(ValidationError) as exc:
        profile.full_clean()

    message = " ".join(exc.value.message_dict[field])
    for word in words:
        assert word in message


@pytest.mark.parametrize(("field", "value", "words"), MALFORMED, ids=MALFORMED_IDS)
def test_saving_a_malformed_list_without_full_clean_writes_nothing(field, value, words):
    user = PatientUserFactory()

    # save() marks the surrounding transaction for rollback on any error; the
    # savepoint keeps the test's transaction usable.
    with pytest.raises(ValidationError) as exc, transaction.atomic():
        PatientProfile(user=user, full_name="Asha Rao", **{field: value}).save()

    assert field in exc.value.message_dict
    assert not PatientProfile.all_objects.exists()


def test_saving_a_malformed_change_to_an_existing_profile_keeps_the_old_value():
    profile = PatientProfileFactory(allergies=[{"name": "Pollen", "severity": "moderate"}])
    profile.allergies = [{"name": "Pollen", "severity": "extreme"}]

    with pytest.raises(ValidationError) as exc, transaction.atomic():
        profile.save()

    assert "[1].severity" in " ".join(exc.value.message_dict["allergies"])
    profile.refresh_from_db()
    assert profile.allergies == [{"name": "Pollen", "severity": "moderate"}]


def test_a_bulk_insert_of_a_malformed_list_writes_nothing():
    good = PatientProfileFactory.build(user=PatientUserFactory())
    bad = PatientProfileFactory.build(user=PatientUserFactory(), allergies=[{"name": "Pollen", "severity": "extreme"}])

    with pytest.raises(ValidationError) as exc, transaction.atomic():
        PatientProfile.objects.bulk_create([good, bad])

    assert "allergies" in exc.value.message_dict
    assert not PatientProfile.all_objects.exists()


# --- BMI (a stored generated column) ----------------------------------------------


def test_the_database_computes_bmi_on_insert():
    profile = PatientProfileFactory(height_cm=Decimal("162.0"), weight_kg=Decimal("58.0"))

    profile.refresh_from_db()

    assert profile.bmi == Decimal("22.10")


def test_the_database_recomputes_bmi_when_the_weight_changes():
    profile = PatientProfileFactory(height_cm=Decimal("162.0"), weight_kg=Decimal("58.5"))

    profile.weight_kg = Decimal("64.5")
    profile.save()
    profile.refresh_from_db()

    assert profile.bmi == Decimal("24.58")


def test_the_database_recomputes_bmi_on_a_queryset_update():
    profile = PatientProfileFactory(height_cm=Decimal("162.0"), weight_kg=Decimal("58.5"))

    PatientProfile.objects.filter(pk=profile.pk).update(height_cm=Decimal("170.5"))
    profile.refresh_from_db()

    assert profile.bmi == Decimal("20.12")


def test_bmi_is_empty_without_a_height():
    profile = PatientProfileFactory(height_cm=None, weight_kg=Decimal("58.0"))

    profile.refresh_from_db()

    assert profile.bmi is None


def test_bmi_is_empty_without_a_weight():
    profile = PatientProfileFactory(height_cm=Decimal("162.0"), weight_kg=None)

    profile.refresh_from_db()

    assert profile.bmi is None


def _python_bmi(height_cm: str, weight_kg: str) -> Decimal:
    height_m = Decimal(height_cm) / 100
    return (Decimal(weight_kg) / (height_m * height_m)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.mark.parametrize(
    ("height_cm", "weight_kg"),
    [
        ("162.0", "58.0"),
        ("272.0", "500.0"),
        ("180.0", "72.5"),
        ("150.5", "45.3"),
        ("199.9", "120.0"),
        ("30.0", "0.5"),
        ("45.0", "2.4"),
        # 70.5 / 2.0² = 17.625 exactly: rounds half up to 17.63.
        ("200.0", "70.5"),
    ],
)
def test_the_stored_bmi_equals_weight_over_height_squared(height_cm, weight_kg):
    profile = PatientProfileFactory(height_cm=Decimal(height_cm), weight_kg=Decimal(weight_kg))

    profile.refresh_from_db()

    assert profile.bmi == _python_bmi(height_cm, weight_kg)


# --- height and weight ranges ----------------------------------------------------


@pytest.mark.parametrize(
    ("height_cm", "weight_kg"),
    [("29.9", "58.0"), ("272.1", "58.0"), ("0.0", "58.0"), ("162.0", "0.4"), ("162.0", "500.1"), ("162.0", "-5.0")],
)
def test_the_database_refuses_an_absurd_height_or_weight(height_cm, weight_kg):
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientProfileFactory(height_cm=Decimal(height_cm), weight_kg=Decimal(weight_kg))

    assert not PatientProfile.all_objects.exists()


def test_the_database_accepts_the_extremes_of_the_ranges():
    PatientProfileFactory(height_cm=Decimal("30.0"), weight_kg=Decimal("0.5"))
    PatientProfileFactory(height_cm=Decimal("272.0"), weight_kg=Decimal("500.0"))

    assert PatientProfile.objects.count() == 2


def test_full_clean_explains_an_absurd_height():
    profile = PatientProfileFactory()
    profile.height_cm = Decimal("300.0")

    with pytest.raises(ValidationError) as exc:
        profile.full_clean()

    assert "Height must be between 30 and 272 cm." in exc.value.messages


# --- age ---------------------------------------------------------------------------

LEAP_DAY_BIRTH = date(2000, 2, 29)


@pytest.mark.parametrize(
    ("today", "age"),
    [
        (date(2000, 2, 29), 0),
        (date(2001, 2, 28), 0),
        (date(2001, 3, 1), 1),
        (date(2004, 2, 28), 3),
        (date(2004, 2, 29), 4),
        (date(2004, 3, 1), 4),
        (date(2025, 2, 28), 24),
        (date(2025, 3, 1), 25),
        (date(2025, 12, 31), 25),
    ],
)
def test_someone_born_on_a_leap_day_has_the_right_age(today, age):
    assert age_on(LEAP_DAY_BIRTH, today) == age


@pytest.mark.parametrize(
    ("today", "age"),
    [(date(2026, 5, 16), 35), (date(2026, 5, 17), 36), (date(2026, 5, 18), 36)],
    ids=["day-before-birthday", "birthday", "day-after-birthday"],
)
def test_age_goes_up_on_the_birthday(today, age):
    assert age_on(date(1990, 5, 17), today) == age


def test_age_is_unknown_without_a_date_of_birth():
    assert age_on(None, date(2026, 1, 1)) is None


def test_the_age_property_counts_to_todays_utc_date():
    profile = PatientProfileFactory(date_of_birth=LEAP_DAY_BIRTH)

    # 23:30 UTC on 28 Feb is already 1 March in India; the age follows the UTC
    # date, as the database's CURDATE() does in the history view.
    with mock.patch("patients.models.timezone.now", return_value=datetime(2025, 2, 28, 23, 30, tzinfo=UTC)):
        assert profile.age == 24
    with mock.patch("patients.models.timezone.now", return_value=datetime(2025, 3, 1, 0, 30, tzinfo=UTC)):
        assert profile.age == 25


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def test_the_age_property_uses_the_real_today():
    today = timezone.localdate()
    turned_thirty_today = PatientProfileFactory(date_of_birth=_years_before(today, 30))
    turns_thirty_tomorrow = PatientProfileFactory(date_of_birth=_years_before(today, 30) + timedelta(days=1))

    assert turned_thirty_today.age == 30
    assert turns_thirty_tomorrow.age == 29
