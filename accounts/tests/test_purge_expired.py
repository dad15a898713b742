"""`manage.py purge_expired`: what goes, what never goes, and --dry-run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.management import call_command

from accounts import privacy
from accounts.models import EmailVerificationToken, Notification, PasswordResetToken
from accounts.tests.factories import (
    EmailVerificationTokenFactory,
    NotificationFactory,
    PasswordResetTokenFactory,
)
from consultations.models import Consultation, Message
from consultations.tests.factories import ConsultationFactory, MessageFactory
from patients.tests.factories import PatientProfileFactory
from prescriptions.models import Prescription
from prescriptions.tests.factories import IssuedPrescriptionFactory
from records.models import FileUpload
from records.tests.factories import FileUploadFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def purge(*args: str) -> dict[str, str]:
    out = StringIO()
    call_command("purge_expired", *args, stdout=out)
    return dict(line.split(": ", 1) for line in out.getvalue().splitlines())


@pytest.fixture
def expired(clock, settings):
    """One of each kind that should go, and one of each that should stay."""
    settings.RETENTION_READ_NOTIFICATIONS_DAYS = 90
    settings.RETENTION_DELETED_FILES_DAYS = 30
    patient = PatientProfileFactory().user
    PasswordResetTokenFactory(user=patient, expires_at=NOW - timedelta(minutes=1))
    PasswordResetTokenFactory(user=patient, expires_at=NOW + timedelta(hours=1))
    EmailVerificationTokenFactory(user=patient, expires_at=NOW - timedelta(days=1))
    EmailVerificationTokenFactory(user=patient, expires_at=NOW + timedelta(days=1))
    NotificationFactory(user=patient, read_at=NOW - timedelta(days=91))
    NotificationFactory(user=patient, read_at=NOW - timedelta(days=89))
    NotificationFactory(user=patient, read_at=None, created_at=NOW - timedelta(days=400))  # unread stays
    old_file = FileUploadFactory(patient=patient)
    old_file.deleted_at = NOW - timedelta(days=31)
    old_file.save()
    recent_file = FileUploadFactory(patient=patient)
    recent_file.deleted_at = NOW - timedelta(days=29)
    recent_file.save()
    return {"patient": patient, "old_file": old_file, "recent_file": recent_file}


def test_it_deletes_what_has_expired_and_prints_counts(expired, clock):
    old_name = expired["old_file"].file.name

    counts = purge()

    assert counts["password_reset_tokens"] == "deleted 1"
    assert counts["email_verification_tokens"] == "deleted 1"
    assert counts["read_notifications"] == "deleted 1"
    assert counts["deleted_files"] == "deleted 1"
    assert PasswordResetToken.objects.count() == 1
    assert EmailVerificationToken.objects.count() == 1
    assert Notification.objects.count() == 2
    assert not FileUpload.all_objects.filter(pk=expired["old_file"].pk).exists()
    assert not default_storage.exists(old_name)
    assert FileUpload.all_objects.filter(pk=expired["recent_file"].pk).exists()


def test_dry_run_deletes_nothing_and_prints_the_same_counts(expired):
    dry = purge("--dry-run")

    assert dry["password_reset_tokens"] == "would delete 1"
    assert dry["deleted_files"] == "would delete 1"
    assert PasswordResetToken.objects.count() == 2
    assert Notification.objects.count() == 3
    assert default_storage.exists(expired["old_file"].file.name)
    real = purge()
    assert {k: v.split()[-1] for k, v in real.items()} == {k: v.split()[-1] for k, v in dry.items()}


def test_expired_exports_are_deleted_with_their_files(clock, settings):
    patient = PatientProfileFactory().user
    old = privacy.export_request(user=patient)
    clock.shift(timedelta(hours=settings.EXPORT_LINK_HOURS + 1))
    fresh = privacy.export_request(user=patient)

    counts = purge()

    assert counts["data_exports"] == "deleted 1"
    assert not default_storage.exists(old.archive_name)
    assert default_storage.exists(fresh.archive_name)


def test_a_removed_file_a_message_shows_keeps_its_row_but_loses_its_bytes(clock):
    consultation = ConsultationFactory()
    upload = FileUploadFactory(patient=consultation.patient, consultation=consultation)
    MessageFactory(consultation=consultation, message_type="attachment", attachment=upload)
    upload.deleted_at = NOW - timedelta(days=60)
    upload.save()
    name = upload.file.name

    purge()

    kept = FileUpload.all_objects.get(pk=upload.pk)
    assert not kept.file
    assert not default_storage.exists(name)


def test_files_a_doctor_added_are_clinical_record_and_stay(clock):
    consultation = ConsultationFactory()
    upload = FileUploadFactory(patient=consultation.patient, uploaded_by=consultation.doctor)
    upload.deleted_at = NOW - timedelta(days=365)
    upload.save()

    purge()

    assert default_storage.exists(upload.file.name)


def test_medical_and_financial_records_are_never_purged(clock):
    prescription = IssuedPrescriptionFactory()
    consultation = prescription.consultation
    message = MessageFactory(consultation=consultation)
    Consultation.all_objects.filter(pk=consultation.pk).update(deleted_at=NOW - timedelta(days=3650))
    Message.all_objects.filter(pk=message.pk).update(deleted_at=NOW - timedelta(days=3650))
    Prescription.all_objects.filter(pk=prescription.pk).update(deleted_at=NOW - timedelta(days=3650))

    purge()

    assert Consultation.all_objects.filter(pk=consultation.pk).exists()
    assert Message.all_objects.filter(pk=message.pk).exists()
    assert Prescription.all_objects.filter(pk=prescription.pk).exists()
