"""Encrypted free-text columns (dhanwantari.crypto): what the database holds,
what the application reads, key loading and key rotation."""

from __future__ import annotations

import importlib
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from consultations.models import Consultation
from consultations.tests.factories import ConsultationFactory
from dhanwantari.crypto import (
    BAD_KEY,
    NO_KEYS,
    PREFIX,
    DecryptionError,
    EncryptedLookupError,
    dev_key,
    load_keys,
)
from doctors.tests.factories import DoctorProfileFactory
from patients.models import PatientProfile
from patients.tests.factories import PatientProfileFactory
from prescriptions.models import Prescription
from prescriptions.tests.factories import IssuedPrescriptionFactory

pytestmark = pytest.mark.django_db

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
NOTES = "Suspect hypothyroidism; order TSH."


def raw(table: str, column: str, pk: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def write_raw(table: str, column: str, pk: str, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])


def rotate(**options) -> str:
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out, **options)
    return out.getvalue()


# --- what is stored, what is read ------------------------------------------------------


def test_a_note_reads_back_as_it_was_written():
    consultation = ConsultationFactory(doctor_notes=NOTES, ai_summary="Headache, right side, worse sun.")

    fresh = Consultation.objects.get(pk=consultation.pk)

    assert (fresh.doctor_notes, fresh.ai_summary) == (NOTES, "Headache, right side, worse sun.")


def test_the_database_holds_ciphertext_not_the_text():
    consultation = ConsultationFactory(doctor_notes=NOTES)
    profile = PatientProfileFactory(medical_history="Typhoid in 2010.", family_history="Father: diabetes.")
    rx = IssuedPrescriptionFactory(diagnosis="Chronic eczema.", general_advice="No coffee.")

    stored = {
        "doctor_notes": raw("consultations", "doctor_notes", consultation.pk),
        "medical_history": raw("patient_profiles", "medical_history", profile.pk),
        "family_history": raw("patient_profiles", "family_history", profile.pk),
        "diagnosis": raw("prescriptions", "diagnosis", rx.pk),
        "general_advice": raw("prescriptions", "general_advice", rx.pk),
    }

    assert all(value.startswith(PREFIX) for value in stored.values()), stored
    assert "TSH" not in stored["doctor_notes"]
    assert "Typhoid" not in stored["medical_history"]
    assert "eczema" not in stored["diagnosis"]


def test_non_ascii_text_survives_the_round_trip():
    profile = PatientProfileFactory(medical_history="बचपन में दमा — outgrown by 12.")

    assert PatientProfile.objects.get(pk=profile.pk).medical_history == "बचपन में दमा — outgrown by 12."


def test_an_empty_note_is_stored_empty_and_can_be_filtered_on():
    empty = ConsultationFactory(doctor_notes="")
    ConsultationFactory(doctor_notes=NOTES)

    assert raw("consultations", "doctor_notes", empty.pk) == ""
    assert list(Consultation.objects.filter(doctor_notes="")) == [empty]
    assert Consultation.objects.exclude(doctor_notes="").count() == 1
    assert Consultation.objects.filter(doctor_notes__isnull=True).count() == 0


def test_the_json_symptoms_are_not_encrypted():
    consultation = ConsultationFactory(doctor_notes=NOTES)

    stored = raw("consultations", "symptoms", consultation.pk)

    assert not stored.startswith(PREFIX)
    assert "right temple" in stored
    assert Consultation.objects.get(pk=consultation.pk).symptoms["complaints"][0]["location"] == "right temple"


# --- what cannot be read or queried ---------------------------------------------------------


def test_a_tampered_value_raises_instead_of_returning_garbage():
    consultation = ConsultationFactory(doctor_notes=NOTES)
    stored = raw("consultations", "doctor_notes", consultation.pk)
    flipped = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
    write_raw("consultations", "doctor_notes", consultation.pk, flipped)

    with pytest.raises(DecryptionError, match=r"consultations\.doctor_notes"):
        Consultation.objects.get(pk=consultation.pk)


def test_a_value_encrypted_with_an_unknown_key_raises(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    consultation = ConsultationFactory(doctor_notes=NOTES)
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]

    with pytest.raises(DecryptionError):
        Consultation.objects.get(pk=consultation.pk)


@pytest.mark.parametrize(
    "lookup",
    [{"doctor_notes__icontains": "TSH"}, {"doctor_notes__startswith": "S"}, {"doctor_notes": NOTES}],
)
def test_searching_an_encrypted_column_is_refused_with_a_clear_error(lookup):
    with pytest.raises(EncryptedLookupError, match="is encrypted"):
        list(Consultation.objects.filter(**lookup))


# --- keys ---------------------------------------------------------------------------------------


def test_without_keys_and_with_debug_off_the_settings_refuse_to_load():
    with pytest.raises(ImproperlyConfigured) as excinfo:
        load_keys([], debug=False, secret_key="s3cret")

    assert str(excinfo.value) == NO_KEYS


def test_without_keys_in_debug_a_dev_key_is_derived_from_the_secret_key():
    keys = load_keys(["", " "], debug=True, secret_key="s3cret")

    assert keys == [dev_key("s3cret")] == load_keys([], debug=True, secret_key="s3cret")
    assert dev_key("s3cret") != dev_key("another")
    Fernet(keys[0])  # a usable key


def test_configured_keys_are_used_in_order_even_in_debug():
    assert load_keys([KEY_B, KEY_A], debug=True, secret_key="s3cret") == [KEY_B, KEY_A]


def test_a_malformed_key_is_refused_without_echoing_it():
    with pytest.raises(ImproperlyConfigured) as excinfo:
        load_keys([KEY_A, "not-a-fernet-key"], debug=False, secret_key="s3cret")

    assert str(excinfo.value) == BAD_KEY.format(position=2)
    assert "not-a-fernet-key" not in str(excinfo.value)


# --- rotation -----------------------------------------------------------------------------------


def test_rotation_moves_every_value_to_the_new_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    consultation = ConsultationFactory(doctor_notes=NOTES)
    profile = PatientProfileFactory(medical_history="Typhoid in 2010.")
    rx = IssuedPrescriptionFactory(diagnosis="Chronic eczema.")
    before = raw("consultations", "doctor_notes", consultation.pk)

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    assert Consultation.objects.get(pk=consultation.pk).doctor_notes == NOTES  # old key still decrypts
    out = rotate(batch_size=1)

    assert raw("consultations", "doctor_notes", consultation.pk) != before
    assert "consultations (ai_summary, doctor_notes):" in out
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    assert Consultation.objects.get(pk=consultation.pk).doctor_notes == NOTES
    assert PatientProfile.objects.get(pk=profile.pk).medical_history == "Typhoid in 2010."
    # An issued prescription refuses edits; a change of key is not one.
    assert Prescription.objects.get(pk=rx.pk).diagnosis == "Chronic eczema."


def test_rotating_twice_rewrites_nothing_the_second_time(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    consultation = ConsultationFactory(doctor_notes=NOTES)
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    rotate()
    after_first = raw("consultations", "doctor_notes", consultation.pk)

    out = rotate()

    assert raw("consultations", "doctor_notes", consultation.pk) == after_first
    assert "Done: 0 rows re-encrypted." in out


def test_a_dry_run_counts_but_writes_nothing(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    consultation = ConsultationFactory(doctor_notes=NOTES)
    before = raw("consultations", "doctor_notes", consultation.pk)
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]

    out = rotate(dry_run=True)

    assert raw("consultations", "doctor_notes", consultation.pk) == before
    assert "consultations (ai_summary, doctor_notes): 1 rows, 1 would re-encrypt" in out


def test_a_plaintext_row_from_before_encryption_is_read_and_then_encrypted():
    consultation = ConsultationFactory()
    write_raw("consultations", "doctor_notes", consultation.pk, "Legacy note, typed before encryption.")

    assert Consultation.objects.get(pk=consultation.pk).doctor_notes == "Legacy note, typed before encryption."
    rotate()

    stored = raw("consultations", "doctor_notes", consultation.pk)
    assert stored.startswith(PREFIX) and "Legacy" not in stored
    assert Consultation.objects.get(pk=consultation.pk).doctor_notes == "Legacy note, typed before encryption."


def test_the_data_migration_decrypts_back_and_encrypts_again():
    migration = importlib.import_module("consultations.migrations.0006_encrypt_free_text")
    consultation = ConsultationFactory(doctor_notes=NOTES, ai_summary="")

    migration.decrypt_rows(apps, connection.schema_editor())
    assert raw("consultations", "doctor_notes", consultation.pk) == NOTES

    migration.encrypt_rows(apps, connection.schema_editor())
    assert raw("consultations", "doctor_notes", consultation.pk).startswith(PREFIX)
    assert raw("consultations", "ai_summary", consultation.pk) == ""
    assert Consultation.objects.get(pk=consultation.pk).doctor_notes == NOTES


# --- pages ------------------------------------------------------------------------------------


def test_the_admin_change_page_shows_the_notes_decrypted(staff_client):
    consultation = ConsultationFactory(doctor_notes=NOTES)

    response = staff_client.get(reverse("admin:consultations_consultation_change", args=[consultation.pk]))

    assert response.status_code == 200
    assert NOTES in response.content.decode()
    assert PREFIX not in response.content.decode()


def test_the_treating_doctor_sees_the_case_summary_decrypted(client):
    doctor = DoctorProfileFactory().user
    patient = PatientProfileFactory().user
    consultation = ConsultationFactory(doctor=doctor, patient=patient, ai_summary="Eczema on both hands, itching.")
    client.force_login(doctor)

    response = client.get(reverse("consultations:detail", args=[consultation.pk]))

    assert response.status_code == 200
    assert "Eczema on both hands, itching." in response.content.decode()
    assert PREFIX not in response.content.decode()
