"""records.views.file_serve: the one permission-checked way to a record's bytes.

The access matrix (owner, treating doctor, other doctor, other patient,
anonymous, staff) for the file, its inline view and its thumbnail; the
headers that keep a browser from running anything; and the admin_logs row
for every read by someone other than the patient.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AdminLog
from consultations.tests.factories import ConsultationFactory
from records.services import files_upload
from records.tests.factories import image_bytes, text_pdf

pytestmark = pytest.mark.django_db

REMOTE_ADDR = "203.0.113.7"


@pytest.fixture
def image(patient):
    [row] = files_upload(
        patient=patient, by=patient, files=[SimpleUploadedFile("rash.png", image_bytes())], category="photo"
    ).stored
    return row


@pytest.fixture
def pdf(patient):
    [row] = files_upload(
        patient=patient, by=patient, files=[SimpleUploadedFile("cbc report.pdf", text_pdf(["Hb 13.5"]))]
    ).stored
    return row


def fetch(client, user, name: str, upload):
    if user is not None:
        client.force_login(user)
    return client.get(reverse(f"records:{name}", args=[upload.pk]), REMOTE_ADDR=REMOTE_ADDR)


def reads(upload) -> list[AdminLog]:
    return list(AdminLog.objects.filter(table_name="file_uploads", record_id=upload.pk, action="view"))


MATRIX = [
    ("patient", 200, False),
    ("doctor", 200, True),
    ("staff", 200, True),
    ("other_doctor", 404, False),
    ("other_patient", 404, False),
]


@pytest.mark.parametrize("name", ["download", "view", "thumbnail"])
@pytest.mark.parametrize("who, status, audited", MATRIX)
def test_who_may_open_a_file(request, client, image, consultation, name, who, status, audited):
    user = request.getfixturevalue(who)

    response = fetch(client, user, name, image)

    assert response.status_code == status
    if status == 200:
        body = b"".join(response.streaming_content)
        stored = image.thumbnail if name == "thumbnail" else image.file
        stored.open("rb")
        assert body == stored.read()
    logs = reads(image)
    assert len(logs) == (1 if audited else 0)
    if audited:
        assert (logs[0].user_id, logs[0].ip_address) == (user.pk, REMOTE_ADDR)
        assert logs[0].new_values == {"patient_id": image.patient_id, "variant": name}


@pytest.mark.parametrize("name", ["download", "view", "thumbnail"])
def test_an_anonymous_visitor_is_sent_to_sign_in_and_gets_nothing(client, image, name):
    response = fetch(client, None, name, image)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert reads(image) == []


def test_a_missing_file_and_someone_elses_file_look_the_same(client, other_patient, image):
    client.force_login(other_patient)
    theirs = client.get(reverse("records:download", args=[image.pk]))
    missing = client.get(reverse("records:download", args=["file_01NOSUCHFILE0000000000000"]))
    assert theirs.status_code == missing.status_code == 404


@pytest.mark.parametrize("status", ["requested", "scheduled", "in_progress", "completed", "no_show"])
def test_a_doctor_whose_consultation_is_not_cancelled_may_read(client, patient, doctor, image, status):
    ConsultationFactory(patient=patient, doctor=doctor, status=status)
    assert fetch(client, doctor, "download", image).status_code == 200


def test_a_doctor_whose_only_consultation_was_cancelled_may_not(client, patient, doctor, image):
    ConsultationFactory(patient=patient, doctor=doctor, status="cancelled")
    assert fetch(client, doctor, "download", image).status_code == 404


def test_a_doctors_consultation_with_another_patient_gives_no_access(client, doctor, other_patient, image):
    ConsultationFactory(patient=other_patient, doctor=doctor)
    assert fetch(client, doctor, "download", image).status_code == 404


def test_a_download_is_an_attachment_with_the_stored_type_and_no_sniffing(client, patient, pdf):
    response = fetch(client, patient, "download", pdf)

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="cbc report.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert "sandbox" in response["Content-Security-Policy"]


def test_an_image_is_shown_inline_but_a_pdf_never_is(client, patient, image, pdf):
    shown = fetch(client, patient, "view", image)
    assert (shown["Content-Type"], shown["Content-Disposition"].split(";")[0]) == ("image/png", "inline")

    pdf_view = fetch(client, patient, "view", pdf)
    assert pdf_view["Content-Disposition"].startswith("attachment;")


def test_a_thumbnail_is_a_jpeg_with_the_same_headers(client, patient, image):
    response = fetch(client, patient, "thumbnail", image)
    assert response["Content-Type"] == "image/jpeg"
    assert (response["X-Content-Type-Options"], response["Cache-Control"]) == ("nosniff", "private, no-store")


def test_a_pdf_has_no_thumbnail(client, patient, pdf):
    assert fetch(client, patient, "thumbnail", pdf).status_code == 404


def test_a_removed_file_is_gone_for_the_owner_and_the_doctor_but_staff_still_see_it(
    client, patient, doctor, consultation, staff, image
):
    image.soft_delete()
    assert fetch(client, patient, "download", image).status_code == 404
    assert fetch(client, doctor, "download", image).status_code == 404
    assert fetch(client, staff, "download", image).status_code == 200


def test_a_file_missing_from_storage_is_a_404_not_an_error(client, patient, image):
    image.file.storage.delete(image.file.name)
    assert fetch(client, patient, "download", image).status_code == 404


def test_files_are_read_only_by_get(client, patient, image):
    client.force_login(patient)
    assert client.post(reverse("records:download", args=[image.pk])).status_code == 405


def test_media_root_is_not_served_by_any_url(client, patient, image):
    client.force_login(patient)
    assert client.get(f"/media/{image.file.name}").status_code == 404
