"""consultations, messages and the patient_consultation_history view."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from consultations import schemas
from consultations.models import Consultation, Message, PatientConsultationHistory
from consultations.tests.factories import AIConsultationFactory, ConsultationFactory, MessageFactory
from doctors.tests.factories import verified_doctor
from patients.models import age_on
from patients.tests.factories import PatientProfileFactory, patient_with_profile
from records.tests.factories import FileUploadFactory

pytestmark = pytest.mark.django_db


def documented_symptoms() -> dict:
    """The example case in consultations/schemas.py's docstring."""
    doc = schemas.__doc__
    return json.loads(doc[doc.index("\n    {") : doc.index("\n    }\n") + 6])


# --- symptoms -------------------------------------------------------------------------


def test_the_documented_symptoms_example_is_valid():
    example = documented_symptoms()
    assert example["complaints"][0]["modalities"]["worse"] == ["sun", "noise"]

    consultation = ConsultationFactory(symptoms=example)
    consultation.full_clean()

    consultation.refresh_from_db()
    assert consultation.symptoms == example


def test_an_empty_case_is_valid():
    consultation = ConsultationFactory(symptoms={})

    consultation.full_clean()
    assert Consultation.objects.get(pk=consultation.pk).symptoms == {}


@pytest.mark.parametrize(
    ("symptoms", "words"),
    [
        ("headache", ["is not of type 'object'"]),
        ({"symptom": "headache"}, ["'symptom' was unexpected"]),
        ({"complaints": [{"location": "right temple"}]}, ["complaints[1]", "'description' is a required property"]),
        ({"complaints": [{"description": ""}]}, ["complaints[1].description"]),
        (
            {"complaints": [{"description": "Headache"}, {"description": "Nausea", "severity": "extreme"}]},
            ["complaints[2].severity", "mild, moderate or severe"],
        ),
        ({"complaints": [{"description": "Headache", "modalities": {"better": "pressure"}}]}, ["modalities.better"]),
        ({"complaints": [{"description": "Headache", "modalities": {"amel": ["rest"]}}]}, ["'amel' was unexpected"]),
        ({"generals": {"thermal": "warm"}}, ["generals.thermal", "chilly, hot or ambithermal"]),
        ({"source": "nurse"}, ["source"]),
        ({"mentals": ["irritable"]}, ["mentals", "is not of type 'string'"]),
    ],
    ids=[
        "not-an-object",
        "unknown-key",
        "complaint-without-description",
        "empty-description",
        "severity-extreme",
        "modality-not-a-list",
        "unknown-modality",
        "unknown-thermal",
        "unknown-source",
        "mentals-a-list",
    ],
)
def test_full_clean_refuses_a_malformed_case_and_says_where(symptoms, words):
    consultation = ConsultationFactory()
    consultation.symptoms = symptoms

    with pytest.raises(ValidationError) as exc:
        consultation.full_clean()

    message = " ".join(exc.value.message_dict["symptoms"])
    for word in words:
        assert word in message


def test_saving_a_malformed_case_without_full_clean_writes_nothing():
    # save() marks the surrounding transaction for rollback on any error; the
    # savepoint keeps the test's transaction usable.
    with pytest.raises(ValidationError) as exc, transaction.atomic():
        ConsultationFactory(symptoms={"complaints": [{"description": "Headache", "severity": "extreme"}]})

    assert "symptoms" in exc.value.message_dict
    assert not Consultation.all_objects.exists()


def test_full_clean_refuses_a_case_that_is_an_empty_list():
    consultation = ConsultationFactory()
    consultation.symptoms = []

    with pytest.raises(ValidationError) as exc:
        consultation.full_clean()

    assert "symptoms" in exc.value.message_dict


# --- who takes part -------------------------------------------------------------------


def test_the_database_refuses_a_doctor_consultation_without_a_doctor():
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsultationFactory(doctor=None)

    assert not Consultation.all_objects.exists()


def test_full_clean_explains_that_a_doctor_consultation_needs_a_doctor():
    consultation = ConsultationFactory()
    consultation.doctor = None

    with pytest.raises(ValidationError) as exc:
        consultation.full_clean()

    assert "A consultation with a doctor needs a doctor." in exc.value.messages


def test_an_ai_consultation_needs_no_doctor():
    consultation = AIConsultationFactory()

    consultation.full_clean()
    assert Consultation.objects.get(pk=consultation.pk).doctor_id is None


# --- stored values ----------------------------------------------------------------------


def test_status_and_mode_are_stored_as_readable_strings():
    consultation = ConsultationFactory(status="scheduled", mode="video")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, mode, consultation_type, payment_status FROM consultations WHERE id = %s",
            [consultation.pk],
        )
        row = cursor.fetchone()

    assert row == ("scheduled", "video", "doctor", "pending")


@pytest.mark.parametrize(
    "status",
    [
        "booked",
        "SCHEDULED",
    ],
)
def test_the_database_refuses_an_unknown_status(status):
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsultationFactory(status=status)


def test_the_database_refuses_a_refund_larger_than_the_fee():
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsultationFactory(fee_amount=Decimal("500.00"), refund_amount=Decimal("500.01"))

    assert not Consultation.all_objects.exists()


def test_a_full_refund_is_allowed():
    consultation = ConsultationFactory(fee_amount=Decimal("500.00"), refund_amount=Decimal("500.00"))

    assert Consultation.objects.get(pk=consultation.pk).refund_amount == Decimal("500.00")


def test_the_database_refuses_a_negative_refund():
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsultationFactory(refund_amount=Decimal("-1.00"))


def test_the_database_refuses_an_end_before_the_start():
    started = timezone.now()

    with pytest.raises(IntegrityError), transaction.atomic():
        ConsultationFactory(status="completed", started_at=started, ended_at=started - timedelta(minutes=1))

    assert not Consultation.all_objects.exists()


def test_an_end_after_the_start_is_stored():
    started = timezone.now()
    consultation = ConsultationFactory(status="completed", started_at=started, ended_at=started + timedelta(minutes=20))

    consultation.refresh_from_db()
    assert consultation.ended_at - consultation.started_at == timedelta(minutes=20)


# --- soft delete and the history view ------------------------------------------------------


def test_a_soft_deleted_consultation_is_hidden_from_the_default_manager():
    kept = ConsultationFactory()
    deleted = ConsultationFactory()

    deleted.soft_delete()

    assert list(Consultation.objects.all()) == [kept]
    assert Consultation.all_objects.filter(pk=deleted.pk).exists()


def test_a_soft_deleted_consultation_is_hidden_from_the_history_view():
    kept = ConsultationFactory()
    deleted = ConsultationFactory(patient=kept.patient)

    deleted.soft_delete()

    assert list(PatientConsultationHistory.objects.values_list("id", flat=True)) == [kept.pk]


def test_the_history_view_names_the_patient_and_the_doctor_from_their_profiles():
    patient = patient_with_profile(full_name="Asha Rao")
    doctor = verified_doctor(full_name="Dr. Vikram Iyer")
    consultation = ConsultationFactory(patient=patient, doctor=doctor, chief_complaint="Migraine")

    row = PatientConsultationHistory.objects.get(pk=consultation.pk)

    assert row.patient_id == patient.pk
    assert row.patient_name == "Asha Rao"
    assert row.doctor_id == doctor.pk
    assert row.doctor_name == "Dr. Vikram Iyer"
    assert row.status == "scheduled"
    assert row.chief_complaint == "Migraine"


def test_the_history_view_runs_the_specs_sample_query():
    patient = patient_with_profile(full_name="Asha Rao")
    older = ConsultationFactory(patient=patient, created_at=timezone.now() - timedelta(days=3))
    newer = ConsultationFactory(patient=patient)
    ConsultationFactory()  # another patient's

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, patient_name FROM patient_consultation_history WHERE patient_id = %s ORDER BY created_at DESC",
            [patient.pk],
        )
        rows = [tuple(row) for row in cursor.fetchall()]

    assert rows == [(newer.pk, "Asha Rao"), (older.pk, "Asha Rao")]


def test_the_history_view_has_no_doctor_name_for_an_ai_consultation():
    consultation = AIConsultationFactory(patient=patient_with_profile())

    row = PatientConsultationHistory.objects.get(pk=consultation.pk)

    assert row.doctor_id is None
    assert row.doctor_name is None


def test_the_history_view_computes_the_patients_age_like_the_profile():
    today = timezone.localdate()
    # A birthday months away from today, so the view's date and the profile's
    # date give the same age whichever time zone each uses.
    born = date(1990, 7, 1) if today.month in (1, 2) else date(1990, 1, 1)
    profile = PatientProfileFactory(date_of_birth=born)
    consultation = ConsultationFactory(patient=profile.user)

    row = PatientConsultationHistory.objects.get(pk=consultation.pk)

    assert row.patient_age == profile.age
    assert row.patient_age == age_on(born, today)


def test_the_history_views_age_agrees_with_the_profile_on_a_birthday(settings):
    # Pick a zone whose date differs from UTC's right now (UTC+14 late in the
    # UTC day, UTC-12 early in it), so the disagreement shows at any hour.
    utc_now = datetime.now(UTC)
    settings.TIME_ZONE = "Etc/GMT-14" if utc_now.hour >= 10 else "Etc/GMT+12"
    local_today = timezone.localdate()
    assert local_today != utc_now.date()
    birthday = max(local_today, utc_now.date())
    profile = PatientProfileFactory(date_of_birth=birthday.replace(year=birthday.year - 28))
    consultation = ConsultationFactory(patient=profile.user)

    row = PatientConsultationHistory.objects.get(pk=consultation.pk)

    assert row.patient_age == profile.age


# --- messages -------------------------------------------------------------------------------


def test_a_consultations_messages_come_in_the_order_they_were_written():
    consultation = ConsultationFactory()
    now = timezone.now()
    third = MessageFactory(consultation=consultation, body="third", created_at=now)
    first = MessageFactory(consultation=consultation, body="first", created_at=now - timedelta(minutes=2))
    second = MessageFactory(consultation=consultation, body="second", created_at=now - timedelta(minutes=1))

    assert list(consultation.messages.all()) == [first, second, third]


def test_the_database_refuses_an_attachment_message_without_a_file():
    consultation = ConsultationFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        MessageFactory(consultation=consultation, message_type="attachment", attachment=None, body="")

    assert not Message.all_objects.exists()


def test_full_clean_explains_that_an_attachment_message_needs_a_file():
    message = MessageFactory()
    message.message_type = "attachment"

    with pytest.raises(ValidationError) as exc:
        message.full_clean()

    assert "An attachment message needs a file." in exc.value.messages


def test_an_attachment_message_with_a_file_is_stored():
    consultation = ConsultationFactory()
    upload = FileUploadFactory(patient=consultation.patient, consultation=consultation)

    message = MessageFactory(consultation=consultation, message_type="attachment", attachment=upload, body="")

    assert Message.objects.get(pk=message.pk).attachment == upload
