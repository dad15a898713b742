from __future__ import annotations

import pytest
from django.urls import reverse

from consultations.tests.factories import ConsultationFactory
from dhanwantari.testing.admin import changelist_growth
from patients.tests.factories import patient_with_profile
from records.models import FileUpload
from records.tests.factories import FileUploadFactory

pytestmark = pytest.mark.django_db


def make_upload(i: int) -> None:
    patient = patient_with_profile()
    consultation = ConsultationFactory(patient=patient) if i % 2 else None
    upload = FileUploadFactory(patient=patient, consultation=consultation)
    if i % 5 == 0:
        upload.soft_delete()


def test_the_changelist_runs_as_many_queries_for_30_rows_as_for_3(staff_client):
    url = reverse("admin:records_fileupload_changelist")
    (few_queries, few_rows), (many_queries, many_rows) = changelist_growth(staff_client, url, make_upload)

    assert (few_rows, many_rows) == (3, 30)
    assert many_queries == few_queries


def test_the_change_page_opens_and_shows_the_ocr_text(staff_client):
    upload = FileUploadFactory(ocr_text="Haemoglobin 9.8 g/dL", ocr_status="done")
    response = staff_client.get(reverse("admin:records_fileupload_change", args=[upload.pk]))
    assert response.status_code == 200
    assert b"Haemoglobin 9.8" in response.content
    assert upload.file.name.encode() in response.content


def test_the_changelist_does_not_show_the_ocr_text(staff_client):
    FileUploadFactory(ocr_text="Haemoglobin 9.8 g/dL", ocr_status="done")
    response = staff_client.get(reverse("admin:records_fileupload_changelist"))
    assert b"Haemoglobin" not in response.content


def test_a_soft_deleted_file_is_visible_to_staff(staff_client):
    upload = FileUploadFactory()
    upload.soft_delete()

    response = staff_client.get(reverse("admin:records_fileupload_changelist"), {"deleted": "yes"})

    assert list(response.context["cl"].result_list) == [upload]


def test_files_are_not_uploaded_through_the_admin(staff_client):
    assert staff_client.get(reverse("admin:records_fileupload_add")).status_code == 403


def test_staff_can_refile_an_upload_under_another_category_and_nothing_else(staff_client):
    upload = FileUploadFactory(category="other")

    response = staff_client.post(
        reverse("admin:records_fileupload_change", args=[upload.pk]),
        {"category": "imaging", "original_filename": "renamed.pdf", "ocr_text": "forged"},
    )

    assert response.status_code == 302
    stored = FileUpload.objects.get(pk=upload.pk)
    assert (stored.category, stored.original_filename, stored.ocr_text) == ("imaging", "cbc-report.pdf", "")


def test_searching_by_file_name_finds_the_upload(staff_client):
    wanted = FileUploadFactory(original_filename="thyroid-panel-2025.pdf")
    FileUploadFactory.create_batch(2)

    response = staff_client.get(reverse("admin:records_fileupload_changelist"), {"q": "thyroid-panel"})

    assert list(response.context["cl"].result_list) == [wanted]
