"""Data protection: "Download my data" (re-authentication, background build,
owner-only expiring link, what the archive holds and leaves out), the staff
export action, and erasure when an account is closed."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.core.files.storage import default_storage
from django.urls import reverse

from accounts import privacy, services
from accounts.models import AdminLog, AuditAction, Notification, PasswordResetToken, User
from accounts.sockets import CLOSE_EVENT, user_group
from accounts.tests.factories import (
    TEST_PASSWORD,
    DoctorUserFactory,
    NotificationFactory,
    PasswordResetTokenFactory,
    StaffUserFactory,
)
from consultations.models import Consultation, Message
from consultations.tests.factories import ConsultationFactory, MessageFactory
from doctors.tests.factories import DoctorProfileFactory
from patients.models import PatientProfile
from patients.tests.factories import PatientProfileFactory
from payments.models import PaymentEvent
from prescriptions.models import Prescription, PrescriptionItem
from prescriptions.tests.factories import IssuedPrescriptionFactory, PrescriptionItemFactory
from records.models import FileUpload
from records.tests.factories import MINIMAL_PDF, FileUploadFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def asha() -> User:
    return PatientProfileFactory(
        user__email="asha@example.test",
        user__phone="+919812345678",
        full_name="Asha Rao",
        medical_history="Migraine since 2019.",
    ).user


@pytest.fixture
def record(asha):
    """A consultation with both sides' messages, an issued prescription, a payment, a file, a notification."""
    doctor = DoctorProfileFactory(full_name="Dr. Meera Joshi").user
    consultation = ConsultationFactory(
        patient=asha, doctor=doctor, status="completed", doctor_notes="Private: consider Belladonna 200C."
    )
    MessageFactory(consultation=consultation, sender=asha, body="The headache is worse in the sun.")
    MessageFactory(consultation=consultation, sender=doctor, body="Take the remedy at night.")
    prescription = IssuedPrescriptionFactory(consultation=consultation)
    # Items of an issued prescription go in through bulk_create, as the factory explains.
    PrescriptionItem.objects.bulk_create(
        [PrescriptionItemFactory.build(prescription=prescription, remedy_name="Belladonna", is_placebo=False)]
    )
    PaymentEvent.objects.create(
        provider="razorpay",
        event_id="evt_1",
        event_type="payment.captured",
        consultation=consultation,
        amount="500.00",
        currency="INR",
        payload={"payment": {"email": "asha@example.test", "contact": "+919812345678", "amount": 50000}},
    )
    upload = FileUploadFactory(patient=asha, original_filename="cbc-report.pdf", notes="Fasting sample")
    NotificationFactory(user=asha, title="Your prescription is ready")
    return {"consultation": consultation, "doctor": doctor, "prescription": prescription, "upload": upload}


def reauthenticate(client, password: str = TEST_PASSWORD):
    return client.post(reverse("account_reauthenticate") + "?next=/", {"password": password})


def ask_for_export(client):
    """Ask, re-enter the password, and allauth replays the request."""
    asked = client.post(reverse("accounts:data_export"))
    assert urlsplit(asked["Location"]).path == reverse("account_reauthenticate")
    return client.post(asked["Location"], {"password": TEST_PASSWORD})


def archive_of(response) -> tuple[dict, zipfile.ZipFile]:
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return json.loads(archive.read("data.json")), archive


# --- asking for an export ----------------------------------------------------------------


def test_the_page_lists_nothing_before_the_first_export(client, asha):
    client.force_login(asha)

    response = client.get(reverse("accounts:data_export"))

    assert response.status_code == 200
    assert response.context["exports"] == []


def test_asking_for_an_export_needs_the_password_again(client, asha):
    client.force_login(asha)

    response = client.post(reverse("accounts:data_export"))

    assert urlsplit(response["Location"]).path == reverse("account_reauthenticate")
    assert privacy.exports_for(user=asha) == []


def test_a_wrong_password_builds_nothing(client, asha):
    client.force_login(asha)
    asked = client.post(reverse("accounts:data_export"))

    response = client.post(asked["Location"], {"password": "not my password"})

    assert response.status_code == 200
    assert privacy.exports_for(user=asha) == []


def test_after_re_authentication_the_archive_is_built_and_listed(client, asha, record, clock):
    client.force_login(asha)

    response = ask_for_export(client)

    assert response["Location"] == reverse("accounts:data_export")
    [export] = privacy.exports_for(user=asha)
    assert export.status == privacy.READY
    assert export.expires_at == START + timedelta(hours=24)
    page = client.get(reverse("accounts:data_export"))
    assert reverse("accounts:data_export_download", args=[export.id]) in page.content.decode()
    row = AdminLog.objects.get(table_name="users", record_id=asha.pk, action=AuditAction.ACTION)
    # Enough to tell exports apart, not enough to fetch one.
    assert row.new_values == {"export": export.id[:8] + "…"}


def test_the_archive_is_not_under_a_public_url(asha, settings):
    export = privacy.export_request(user=asha)

    assert export.archive_name.startswith(f"exports/{asha.pk}/")
    assert default_storage.exists(export.archive_name)
    assert not export.archive_name.startswith(settings.STATIC_URL)


# --- downloading ----------------------------------------------------------------------------


def test_the_owner_downloads_an_attachment_that_is_never_cached(client, asha, record):
    export = privacy.export_request(user=asha)
    client.force_login(asha)

    response = client.get(reverse("accounts:data_export_download", args=[export.id]))

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/zip"


def test_the_archive_holds_everything_about_the_patient(client, asha, record):
    export = privacy.export_request(user=asha)
    client.force_login(asha)

    data, archive = archive_of(client.get(reverse("accounts:data_export_download", args=[export.id])))

    assert data["user"]["email"] == "asha@example.test"
    assert data["patient_profile"]["medical_history"] == "Migraine since 2019."
    [consultation] = data["consultations"]
    assert [m["body"] for m in consultation["messages"]] == [
        "The headache is worse in the sun.",
        "Take the remedy at night.",
    ]
    assert [m["from"] for m in consultation["messages"]] == ["you", "doctor"]
    assert consultation["payment"]["fee_amount"] == "500.00"
    assert consultation["payment_events"][0]["event_type"] == "payment.captured"
    assert data["prescriptions"][0]["items"][0]["remedy_name"] == "Belladonna"
    assert data["notifications"][0]["title"] == "Your prescription is ready"
    [upload] = data["files"]
    assert upload["original_filename"] == "cbc-report.pdf"
    assert archive.read(upload["path_in_archive"]) == MINIMAL_PDF


def test_the_archive_leaves_out_secrets_staff_notes_and_other_peoples_data(client, asha, record):
    PasswordResetTokenFactory(user=asha)
    export = privacy.export_request(user=asha)
    client.force_login(asha)

    data, _ = archive_of(client.get(reverse("accounts:data_export_download", args=[export.id])))

    text = json.dumps(data)
    assert asha.password not in text
    assert "password" not in data["user"]
    assert "token" not in text
    assert "Belladonna 200C" not in text  # the doctor's private clinical notes
    assert "is_placebo" not in text  # not shown to patients
    assert record["doctor"].email not in text
    assert "payload" not in json.dumps(data["consultations"][0]["payment_events"])


def test_someone_else_gets_404_for_the_link(client, asha, record):
    export = privacy.export_request(user=asha)
    client.force_login(PatientProfileFactory().user)

    response = client.get(reverse("accounts:data_export_download", args=[export.id]))

    assert response.status_code == 404


def test_after_the_link_expires_it_answers_410(client, asha, clock):
    export = privacy.export_request(user=asha)
    client.force_login(asha)
    clock.shift(timedelta(hours=24, seconds=1))

    response = client.get(reverse("accounts:data_export_download", args=[export.id]))

    assert response.status_code == 410


def test_a_malformed_id_is_404_not_a_path(client, asha):
    client.force_login(asha)

    response = client.get(reverse("accounts:data_export_download", args=["..%2F..%2Fsettings"]))

    assert response.status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, asha):
    export = privacy.export_request(user=asha)

    response = client.get(reverse("accounts:data_export_download", args=[export.id]))

    assert urlsplit(response["Location"]).path == reverse("account_login")


def test_downloading_is_get_only(client, asha):
    export = privacy.export_request(user=asha)
    client.force_login(asha)

    response = client.post(reverse("accounts:data_export_download", args=[export.id]))

    assert response.status_code == 405


def test_a_doctors_archive_has_their_profile_but_not_their_patients_records(client, record):
    doctor = record["doctor"]
    export = privacy.export_request(user=doctor)
    client.force_login(doctor)

    data, _ = archive_of(client.get(reverse("accounts:data_export_download", args=[export.id])))

    assert data["doctor_profile"]["full_name"] == "Dr. Meera Joshi"
    assert data["consultations"][0]["fee_amount"] == "500.00"
    text = json.dumps(data)
    assert "headache" not in text.lower()
    assert "asha" not in text.lower()


# --- staff ---------------------------------------------------------------------------------


def test_staff_export_a_patients_data_from_admin_and_it_is_audited(client, asha, record):
    staff = StaffUserFactory()
    client.force_login(staff)

    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "export_personal_data", "_selected_action": [asha.pk]},
        follow=True,
    )

    assert response.status_code == 200
    [export] = privacy.exports_for(user=asha)
    assert export.status == privacy.READY
    row = AdminLog.objects.get(user=staff, record_id=asha.pk, action=AuditAction.ACTION)
    assert "Staff asked" in row.description
    download = client.get(reverse("accounts:data_export_staff_download", args=[asha.pk, export.id]))
    assert download.status_code == 200
    assert AdminLog.objects.filter(user=staff, record_id=asha.pk, action=AuditAction.VIEW).exists()


def test_staff_cannot_download_an_export_the_patient_made_for_themselves(client, asha):
    export = privacy.export_request(user=asha)
    client.force_login(StaffUserFactory())

    response = client.get(reverse("accounts:data_export_staff_download", args=[asha.pk, export.id]))

    assert response.status_code == 404


def test_the_staff_download_is_404_for_non_staff(client, asha):
    export = privacy.export_request(user=asha)
    client.force_login(asha)

    response = client.get(reverse("accounts:data_export_staff_download", args=[asha.pk, export.id]))

    assert response.status_code == 404


# --- erasure -------------------------------------------------------------------------------


def test_closing_an_account_erases_the_profile(asha, record, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.account_delete(user=asha)

    profile = PatientProfile.all_objects.get(user_id=asha.pk)
    assert profile.full_name == privacy.DELETED_NAME
    assert profile.date_of_birth is None
    assert profile.medical_history == ""
    assert profile.allergies == [] and profile.medications == []
    assert profile.city == ""
    closed = User.all_objects.get(pk=asha.pk)
    assert (closed.email, closed.phone, closed.deleted_email, closed.deleted_phone) == (None, None, "", "")


def test_closing_deletes_the_patients_files_from_storage(asha, record, django_capture_on_commit_callbacks):
    name = record["upload"].file.name
    assert default_storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        services.account_delete(user=asha)

    assert not default_storage.exists(name)
    upload = FileUpload.all_objects.get(pk=record["upload"].pk)
    assert upload.is_deleted
    assert upload.original_filename == privacy.DELETED_TEXT
    assert upload.notes == ""


def test_closing_blanks_the_patients_messages_and_keeps_the_doctors(asha, record):
    services.account_delete(user=asha)

    bodies = {m.sender_id: m.body for m in Message.all_objects.filter(consultation=record["consultation"])}
    assert bodies[asha.pk] == privacy.DELETED_TEXT
    assert bodies[record["doctor"].pk] == "Take the remedy at night."


def test_closing_keeps_prescriptions_consultations_and_payments_pseudonymised(asha, record):
    services.account_delete(user=asha)

    assert Prescription.all_objects.get(pk=record["prescription"].pk).patient_id == asha.pk
    assert Consultation.all_objects.get(pk=record["consultation"].pk).patient_id == asha.pk
    event = PaymentEvent.objects.get(event_id="evt_1")
    assert event.payload == {"payment": {"email": "", "contact": "", "amount": 50000}}


def test_closing_drops_notifications_and_tokens(asha, record):
    PasswordResetTokenFactory(user=asha)

    services.account_delete(user=asha)

    assert not Notification.objects.filter(user_id=asha.pk).exists()
    assert not PasswordResetToken.objects.filter(user_id=asha.pk).exists()


def test_closing_deletes_the_users_exports(asha, django_capture_on_commit_callbacks):
    export = privacy.export_request(user=asha)

    with django_capture_on_commit_callbacks(execute=True):
        services.account_delete(user=asha)

    assert not default_storage.exists(export.archive_name)
    assert privacy.exports_for(user=asha) == []


def test_closing_tells_the_users_open_sockets_to_close(asha, django_capture_on_commit_callbacks):
    layer = get_channel_layer()

    def close_account():
        with django_capture_on_commit_callbacks(execute=True):
            services.account_delete(user=asha)

    # One event loop for the listening channel, as a daphne process has: the
    # pub/sub layer knows a channel only in the loop that created it.
    async def listen_while_closing():
        channel = await layer.new_channel()
        await layer.group_add(user_group(asha.pk), channel)
        await sync_to_async(close_account)()
        return await asyncio.wait_for(layer.receive(channel), 5)

    event = async_to_sync(listen_while_closing)()
    assert event["type"] == CLOSE_EVENT


def test_a_doctor_with_issued_prescriptions_keeps_their_professional_identity(record):
    doctor = record["doctor"]

    services.account_delete(user=doctor)

    profile = doctor.__class__.all_objects.get(pk=doctor.pk).doctor_profile
    assert profile.full_name == "Dr. Meera Joshi"  # printed on the prescriptions that are kept
    assert profile.is_deleted
    assert profile.bio == ""


def test_a_doctor_without_prescriptions_is_fully_anonymised():
    doctor = DoctorProfileFactory(full_name="Dr. Ravi Kumar").user

    services.account_delete(user=doctor)

    profile = DoctorUserFactory._meta.model.all_objects.get(pk=doctor.pk).doctor_profile
    assert profile.full_name == privacy.DELETED_NAME
    assert profile.registration_number == ""
