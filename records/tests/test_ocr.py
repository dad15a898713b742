"""OCR: records.ocr and the records.tasks.file_ocr task.

Real Tesseract on images the tests draw with known words, the text layer of
a digital PDF, a scanned PDF rendered by pdftoppm, and what happens where
the engines are missing (hidden from PATH) or switched off: the status says
so and nothing else breaks. Tesseract is a system package (scripts/sysdeps.sh
installs it); these tests skip without it, and fail without it under CI.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from records import ocr, services
from records.models import FileUpload, OcrStatus
from records.tasks import file_ocr
from records.tests.factories import FileUploadFactory, scanned_pdf, text_image, text_pdf

pytestmark = pytest.mark.django_db

LAB_REPORT = ["Haemoglobin 13.5 g/dL", "Serum Ferritin 42 ng/mL"]


@pytest.fixture
def tesseract():
    if shutil.which("tesseract") is None or shutil.which("pdftoppm") is None:
        if os.environ.get("CI"):
            pytest.fail("Tesseract or pdftoppm is not installed; `make sysdeps` installs them.")
        pytest.skip("Tesseract or pdftoppm is not installed (apt-get install tesseract-ocr poppler-utils).")


@pytest.fixture
def no_engines(settings, tmp_path, monkeypatch):
    """Neither Tesseract nor pdftoppm can be found: PATH points at an empty folder."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def stored(patient, data: bytes, name: str, category: str = "lab_report") -> FileUpload:
    [row] = services.files_upload(
        patient=patient, by=patient, files=[SimpleUploadedFile(name, data)], category=category
    ).stored
    return row


def words(text: str) -> set[str]:
    return set(text.lower().split())


# --- reading ------------------------------------------------------------------------------


def test_tesseract_reads_the_words_in_an_uploaded_image(tesseract, patient):
    upload = stored(patient, text_image(LAB_REPORT), "cbc.png")

    assert services.file_ocr_run(file_id=upload.pk) == OcrStatus.DONE

    upload.refresh_from_db()
    assert upload.ocr_status == OcrStatus.DONE
    assert {"haemoglobin", "ferritin", "13.5"} <= words(upload.ocr_text)
    assert upload.metadata["ocr"]["source"] == "tesseract"
    assert upload.metadata["ocr"]["languages"] == "eng+hin"


def test_a_jpeg_is_read_too(tesseract):
    result = ocr.extract_text(text_image(["Thyroid profile TSH"], fmt="JPEG"), "image/jpeg")
    assert result.status == OcrStatus.DONE
    assert {"thyroid", "profile"} <= words(result.text)


def test_a_digital_pdfs_text_layer_is_read_without_tesseract(no_engines, patient):
    upload = stored(patient, text_pdf(["Lipid profile", "Total cholesterol 182 mg/dL"]), "lipids.pdf")

    services.file_ocr_run(file_id=upload.pk)

    upload.refresh_from_db()
    assert upload.ocr_status == OcrStatus.DONE
    assert "Total cholesterol 182 mg/dL" in upload.ocr_text
    assert upload.metadata["ocr"]["source"] == "text_layer"


def test_a_scanned_pdf_is_rendered_by_pdftoppm_and_read_by_tesseract(tesseract, patient):
    upload = stored(patient, scanned_pdf(["Serum Creatinine 0.9", "Ultrasound abdomen"]), "scan.pdf")

    services.file_ocr_run(file_id=upload.pk)

    upload.refresh_from_db()
    assert upload.ocr_status == OcrStatus.DONE
    assert {"creatinine", "ultrasound"} <= words(upload.ocr_text)
    assert upload.metadata["ocr"]["scanned_pages"] == [1]


def test_the_task_runs_when_the_upload_commits_and_the_file_is_then_found_by_a_word_inside_it(
    tesseract, client, patient, django_capture_on_commit_callbacks
):
    client.force_login(patient)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("records:upload"),
            {"files": [SimpleUploadedFile("report.png", text_image(LAB_REPORT))], "category": "lab_report"},
        )

    upload = FileUpload.objects.get()
    assert upload.ocr_status == OcrStatus.DONE
    found = client.get(reverse("records:index"), {"q": "ferritin"}).context["records"].page.object_list
    assert [f.pk for f in found] == [upload.pk]


# --- engines missing, switched off, or failing -----------------------------------------------


def test_without_tesseract_an_image_says_ocr_is_unavailable_and_stays_usable(no_engines, client, patient):
    upload = stored(patient, text_image(LAB_REPORT), "cbc.png")

    file_ocr.enqueue(upload.pk)  # the immediate backend runs it here

    upload.refresh_from_db()
    assert upload.ocr_status == OcrStatus.UNAVAILABLE
    assert upload.metadata["ocr"]["detail"] == "Tesseract is not installed."
    client.force_login(patient)
    assert client.get(reverse("records:download", args=[upload.pk])).status_code == 200
    assert "OCR not installed" in client.get(reverse("records:index")).content.decode()


def test_without_pdftoppm_a_scanned_pdf_says_unavailable(tesseract, settings, patient):
    settings.RECORDS_PDFTOPPM_CMD = "/nonexistent/pdftoppm"
    upload = stored(patient, scanned_pdf(["Creatinine"]), "scan.pdf")

    services.file_ocr_run(file_id=upload.pk)

    upload.refresh_from_db()
    assert upload.ocr_status == OcrStatus.UNAVAILABLE
    assert "pdftoppm" in upload.metadata["ocr"]["detail"]


def test_ocr_switched_off_reads_no_image(settings):
    settings.RECORDS_OCR = False
    result = ocr.extract_text(text_image(["Haemoglobin"]), "image/png")
    assert (result.status, result.detail) == (OcrStatus.UNAVAILABLE, "OCR is switched off.")


def test_missing_languages_leave_ocr_unavailable(tesseract, settings):
    settings.RECORDS_OCR_LANGUAGES = "klingon"
    assert ocr.extract_text(text_image(["x"]), "image/png").status == OcrStatus.UNAVAILABLE


def test_a_file_the_engine_cannot_read_is_marked_failed(tesseract):
    result = ocr.extract_text(b"not an image at all", "image/png")
    assert result.status == OcrStatus.FAILED


def test_a_stored_file_that_has_gone_is_marked_failed(patient):
    upload = FileUploadFactory(patient=patient, ocr_status="pending")
    upload.file.storage.delete(upload.file.name)

    assert services.file_ocr_run(file_id=upload.pk) == OcrStatus.FAILED


def test_the_task_does_nothing_for_a_file_already_read_or_removed(patient):
    done = FileUploadFactory(patient=patient, ocr_status="done", ocr_text="kept")
    removed = FileUploadFactory(patient=patient, ocr_status="pending")
    removed.soft_delete()

    assert services.file_ocr_run(file_id=done.pk) is None
    assert services.file_ocr_run(file_id=removed.pk) is None
    done.refresh_from_db()
    assert done.ocr_text == "kept"


def test_the_command_reads_again_the_files_that_waited_for_tesseract(
    tesseract, patient, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    upload = stored(patient, text_image(LAB_REPORT), "cbc.png")
    FileUpload.objects.filter(pk=upload.pk).update(ocr_status=OcrStatus.UNAVAILABLE)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("records_ocr")

    upload.refresh_from_db()
    assert upload.ocr_status == OcrStatus.DONE


def test_the_command_refuses_while_tesseract_is_missing(no_engines):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="Tesseract is not installed"):
        call_command("records_ocr")
