"""records.services.files_upload: the one way a file enters a patient's records.

Honest files are stored re-encoded under random names with their SHA-256, a
thumbnail and an audit row; each hostile file is refused with its own reason
and leaves nothing on disk or in the table; accepted files of a batch are kept
when others are refused; a failure half way removes what was written.
"""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import AdminLog
from consultations.tests.factories import ConsultationFactory
from records import services
from records.models import FileUpload, OcrStatus
from records.services import RecordsError, UploadRefused, files_upload
from records.tests.factories import (
    GPS_IFD,
    decompression_bomb,
    image_bytes,
    jpeg_with_gps,
    named,
    pdf_with_hidden_script,
    scanned_pdf,
    text_pdf,
)

pytestmark = pytest.mark.django_db


def upload(data: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


# --- honest files ------------------------------------------------------------------------


def test_a_patient_uploads_a_png_and_it_is_stored_under_a_random_name_with_a_thumbnail(patient, files_on_disk):
    batch = files_upload(
        patient=patient, by=patient, files=[upload(image_bytes("PNG"), "cbc report.png")], category="lab_report"
    )

    assert batch.rejected == []
    [stored] = batch.stored
    row = FileUpload.objects.get()
    assert row == stored
    assert (row.original_filename, row.content_type, row.category) == ("cbc report.png", "image/png", "lab_report")
    assert row.file.name == f"records/{patient.pk}/{row.pk}.png"
    assert row.thumbnail.name == f"records/{patient.pk}/{row.pk}-thumb.jpg"
    assert files_on_disk() == sorted([row.file.name, row.thumbnail.name])
    content = row.file.read()
    assert row.sha256 == hashlib.sha256(content).hexdigest()
    assert row.size_bytes == len(content)
    assert (row.metadata["width"], row.metadata["height"]) == (640, 480)
    thumbnail = Image.open(row.thumbnail)
    assert thumbnail.format == "JPEG" and max(thumbnail.size) == 320
    assert row.ocr_status == OcrStatus.PENDING


def test_the_gps_position_in_a_phone_photo_is_gone_after_upload(patient):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get(GPS_IFD)  # the test photo really has GPS

    [row] = files_upload(patient=patient, by=patient, files=[upload(original, "rash.jpg")], category="photo").stored

    stored = row.file.read()
    assert dict(Image.open(io.BytesIO(stored)).getexif()) == {}
    assert b"PhoneMaker" not in stored
    assert dict(Image.open(row.thumbnail).getexif()) == {}


def test_a_photo_is_not_sent_to_ocr(patient):
    [row] = files_upload(
        patient=patient, by=patient, files=[upload(image_bytes(), "rash.png")], category="photo"
    ).stored
    assert row.ocr_status == OcrStatus.NOT_APPLICABLE


def test_a_pdf_is_stored_as_it_came_with_its_page_count_and_no_thumbnail(patient):
    data = text_pdf(["Haemoglobin 13.5 g/dL"])

    [row] = files_upload(patient=patient, by=patient, files=[upload(data, "cbc.pdf")], category="lab_report").stored

    assert row.file.read() == data
    assert row.metadata == {"pages": 1}
    assert not row.thumbnail


def test_several_files_at_once_share_the_category_notes_and_consultation(patient, consultation):
    files = [upload(image_bytes(colour=(1, 2, 3)), "a.png"), upload(scanned_pdf(["x"]), "b.pdf")]

    batch = files_upload(
        patient=patient,
        by=patient,
        files=files,
        category="imaging",
        consultation=consultation,
        notes="  Ultrasound, Ruby Hall  ",
    )

    assert len(batch.stored) == 2
    assert {(r.category, r.notes, r.consultation_id) for r in FileUpload.objects.all()} == {
        ("imaging", "Ultrasound, Ruby Hall", consultation.pk)
    }


def test_each_stored_file_is_audited(patient):
    [row] = files_upload(patient=patient, by=patient, files=[upload(image_bytes(), "a.png")]).stored

    log = AdminLog.objects.get(table_name="file_uploads", record_id=row.pk)
    assert (log.user_id, log.action) == (patient.pk, "create")
    assert log.new_values["sha256"] == row.sha256


def test_ocr_is_queued_only_after_the_transaction_commits(patient, django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr(services, "_enqueue_ocr", queued.extend)

    with django_capture_on_commit_callbacks() as callbacks:
        batch = files_upload(patient=patient, by=patient, files=[upload(image_bytes(), "a.png")])
        assert queued == []

    assert len(callbacks) == 1
    callbacks[0]()
    assert queued == [batch.stored[0].pk]


# --- duplicates ---------------------------------------------------------------------------


def test_the_same_file_uploaded_again_is_kept_and_flagged_as_a_copy(patient):
    data = text_pdf(["Lipid profile"])
    [first] = files_upload(patient=patient, by=patient, files=[upload(data, "lipids.pdf")]).stored

    batch = files_upload(patient=patient, by=patient, files=[upload(data, "lipids (1).pdf")])

    [copy] = batch.stored
    assert copy.metadata["duplicate_of"] == first.pk
    assert batch.duplicates == [copy]
    [sentence] = services.duplicate_messages(batch)
    assert "“lipids (1).pdf” is the same file as “lipids.pdf”" in sentence
    assert FileUpload.objects.count() == 2


def test_two_copies_in_one_batch_flag_the_second(patient):
    data = image_bytes(colour=(9, 9, 9))
    batch = files_upload(patient=patient, by=patient, files=[upload(data, "a.png"), upload(data, "b.png")])

    first, second = batch.stored
    assert "duplicate_of" not in first.metadata
    assert second.metadata["duplicate_of"] == first.pk


def test_another_patients_identical_file_is_not_a_duplicate(patient, other_patient):
    data = image_bytes(colour=(5, 5, 5))
    files_upload(patient=other_patient, by=other_patient, files=[upload(data, "a.png")])

    [row] = files_upload(patient=patient, by=patient, files=[upload(data, "a.png")]).stored

    assert "duplicate_of" not in row.metadata


# --- hostile files ------------------------------------------------------------------------

PNG_HEADER = b"\x89PNG\r\n\x1a\n"
PAGE = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 240 + b"This program cannot be run in DOS mode"
JS_PDF = b"%PDF-1.7\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n%%EOF\n"

HOSTILE = [
    pytest.param(lambda: upload(PNG_HEADER + PAGE, "cat.png"), "markup", id="HTML with a PNG header"),
    pytest.param(lambda: upload(EXE, "report.pdf"), "not_allowed", id="an .exe renamed .pdf"),
    pytest.param(lambda: upload(text_pdf(["x"]), "x.pdf.exe"), "name_mismatch", id="x.pdf.exe"),
    pytest.param(lambda: named(image_bytes(), "../../etc/passwd.png"), "bad_name", id="../../etc/passwd.png"),
    pytest.param(lambda: named(image_bytes(), "..\\..\\boot.ini.png"), "bad_name", id="a Windows path"),
    pytest.param(lambda: upload(decompression_bomb(), "bomb.png"), "too_many_pixels", id="a decompression bomb PNG"),
    pytest.param(lambda: upload(image_bytes(size=(900, 900)) + b"\0" * 20_000, "big.png"), "too_large", id="oversized"),
    pytest.param(lambda: upload(b"", "empty.pdf"), "empty", id="an empty file"),
    pytest.param(lambda: upload(JS_PDF, "report.pdf"), "active_pdf", id="a PDF with JavaScript"),
    pytest.param(lambda: upload(pdf_with_hidden_script(), "report.pdf"), "active_pdf", id="JavaScript in an objstm"),
    pytest.param(lambda: upload(text_pdf(["x"])[:-60], "cut.pdf"), "damaged_pdf", id="a cut PDF"),
    pytest.param(lambda: upload(b"GIF89a" + b"\0" * 50, "a.gif"), "not_allowed", id="a GIF"),
]


@pytest.fixture
def small_cap(settings):
    # Big enough for every honest file here, too small for the oversized one.
    settings.RECORDS_MAX_UPLOAD_BYTES = 12_000


@pytest.mark.parametrize("make_file, reason", HOSTILE)
def test_a_hostile_file_is_refused_with_its_reason_and_leaves_nothing(
    patient, small_cap, files_on_disk, make_file, reason
):
    batch = files_upload(patient=patient, by=patient, files=[make_file()], category="lab_report")

    assert batch.stored == []
    [rejected] = batch.rejected
    assert rejected.code == reason
    assert rejected.reason  # a sentence a person can act on
    assert FileUpload.all_objects.count() == 0
    assert files_on_disk() == []
    assert not AdminLog.objects.filter(table_name="file_uploads").exists()


def test_a_password_protected_pdf_is_refused(patient):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)

    batch = files_upload(patient=patient, by=patient, files=[upload(buffer.getvalue(), "locked.pdf")])

    assert [r.code for r in batch.rejected] == ["locked_pdf"]


def test_good_files_in_a_batch_are_kept_when_others_are_refused(patient, files_on_disk):
    batch = files_upload(
        patient=patient,
        by=patient,
        files=[upload(image_bytes(), "good.png"), upload(EXE, "bad.pdf"), upload(text_pdf(["ok"]), "good.pdf")],
    )

    assert [r.original_filename for r in batch.stored] == ["good.png", "good.pdf"]
    assert [(r.name, r.code) for r in batch.rejected] == [("bad.pdf", "not_allowed")]
    assert FileUpload.objects.count() == 2
    assert len(files_on_disk()) == 3  # two files and the PNG's thumbnail


def test_a_failure_while_storing_removes_every_file_already_written(patient, files_on_disk, monkeypatch):
    real_save = FileUpload.save
    calls = []

    def fail_on_second(self, *args, **kwargs):
        calls.append(self)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(FileUpload, "save", fail_on_second)

    with pytest.raises(RuntimeError):
        files_upload(
            patient=patient, by=patient, files=[upload(image_bytes(), "a.png"), upload(text_pdf(["b"]), "b.pdf")]
        )

    assert FileUpload.all_objects.count() == 0
    assert files_on_disk() == []
    assert not AdminLog.objects.filter(table_name="file_uploads").exists()


# --- who may upload -----------------------------------------------------------------------


def test_a_doctor_adds_a_file_through_their_consultation_and_it_is_linked_to_it(patient, doctor, consultation):
    [row] = files_upload(
        patient=patient, by=doctor, consultation=consultation, files=[upload(image_bytes(), "old-rx.png")]
    ).stored

    assert (row.patient_id, row.uploaded_by_id, row.consultation_id) == (patient.pk, doctor.pk, consultation.pk)


@pytest.mark.parametrize(
    "who, link, code",
    [
        ("doctor", None, "doctor_needs_consultation"),
        ("other_doctor", "consultation", "wrong_consultation"),
        ("doctor", "cancelled", "wrong_consultation"),
        ("patient", "others", "wrong_consultation"),
        ("other_patient", None, "not_allowed"),
        ("staff", None, "not_allowed"),
    ],
)
def test_an_upload_by_the_wrong_person_or_through_the_wrong_consultation_is_refused_whole(
    request, patient, doctor, consultation, other_patient, files_on_disk, who, link, code
):
    by = request.getfixturevalue(who)
    linked = {
        None: None,
        "consultation": consultation,
        "cancelled": ConsultationFactory(patient=patient, doctor=doctor, status="cancelled"),
        "others": ConsultationFactory(patient=other_patient, doctor=doctor),
    }[link]

    with pytest.raises(UploadRefused) as refused:
        files_upload(patient=patient, by=by, consultation=linked, files=[upload(image_bytes(), "a.png")])

    assert refused.value.reason == code
    assert FileUpload.all_objects.count() == 0
    assert files_on_disk() == []


def test_files_go_only_into_a_patients_records(doctor):
    with pytest.raises(UploadRefused):
        files_upload(patient=doctor, by=doctor, files=[upload(image_bytes(), "a.png")])


@pytest.mark.parametrize(
    "kwargs, code",
    [
        ({"files": []}, "no_files"),
        ({"files": [None]}, "no_files"),
        ({"category": "x-ray"}, "bad_category"),
        ({"notes": "n" * 1001}, "notes_too_long"),
    ],
)
def test_a_batch_that_makes_no_sense_is_refused_whole(patient, kwargs, code):
    arguments = {"files": [upload(image_bytes(), "a.png")], "category": "other", **kwargs}
    with pytest.raises(RecordsError) as refused:
        files_upload(patient=patient, by=patient, **arguments)
    assert refused.value.reason == code


def test_more_files_than_the_setting_allows_are_refused(patient, settings):
    settings.RECORDS_MAX_FILES_PER_UPLOAD = 2
    with pytest.raises(RecordsError, match="at most 2 files"):
        files_upload(patient=patient, by=patient, files=[upload(image_bytes(), f"{i}.png") for i in range(3)])


# --- removing ---------------------------------------------------------------------------


def test_the_patient_removes_a_file_softly_and_it_is_audited(patient):
    [row] = files_upload(patient=patient, by=patient, files=[upload(image_bytes(), "a.png")]).stored

    services.file_delete(upload=row, by=patient)

    assert not FileUpload.objects.exists()
    assert FileUpload.all_objects.get().deleted_at is not None
    assert AdminLog.objects.filter(table_name="file_uploads", record_id=row.pk, action="soft_delete").exists()


def test_nobody_but_the_patient_removes_a_file(patient, doctor, consultation, staff):
    [row] = files_upload(patient=patient, by=patient, files=[upload(image_bytes(), "a.png")]).stored
    for someone in (doctor, staff):
        with pytest.raises(RecordsError):
            services.file_delete(upload=row, by=someone)
    assert FileUpload.objects.filter(pk=row.pk).exists()
