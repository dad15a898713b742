"""The records pages: the patient's /records/ (upload, timeline, search, remove)
and the treating doctor's /consultations/<id>/records/.

For each: the happy path, the outsider (404), the wrong role (403), the wrong
method (405), bad input (a clear error, nothing written), and a query budget
that does not move between 3 files and 45.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AdminLog
from consultations.tests.factories import ConsultationFactory
from records.models import FileUpload
from records.tests.factories import FileUploadFactory, image_bytes, text_pdf

pytestmark = pytest.mark.django_db

RECORDS = reverse("records:index")
UPLOAD = reverse("records:upload")
EXE = b"MZ\x90\x00" + b"\x00" * 300


def signed_in(client, user):
    client.force_login(user)
    return client


def png(name: str = "report.png", colour=(10, 20, 30)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(colour=colour), content_type="image/png")


def texts(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def followed_messages(client, response) -> list[str]:
    page = client.get(response["Location"])
    return [str(m) for m in page.context["messages"]]


# --- who gets the page ----------------------------------------------------------------


def test_a_patient_sees_their_records_page_with_the_upload_form(client, patient):
    response = signed_in(client, patient).get(RECORDS)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'name="files"' in html and "multiple" in html
    assert "data-upload-progress" in html
    assert 'data-empty="records"' in html


def test_a_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get(RECORDS)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("who", ["doctor", "staff"])
def test_doctors_and_staff_have_no_records_page_of_their_own(request, client, who):
    assert signed_in(client, request.getfixturevalue(who)).get(RECORDS).status_code == 403


def test_the_page_answers_only_get(client, patient):
    assert signed_in(client, patient).post(RECORDS).status_code == 405


def test_the_patient_dashboard_links_to_the_records_page(client, patient):
    html = signed_in(client, patient).get(reverse("consultations:dashboard")).content.decode()
    assert f'href="{RECORDS}"' in html


def test_the_consultation_page_links_each_party_to_the_records(client, patient, doctor, consultation):
    page = reverse("consultations:detail", args=[consultation.pk])
    as_patient = signed_in(client, patient).get(page).content.decode()
    assert f'href="{RECORDS}?consultation={consultation.pk}#upload"' in as_patient
    as_doctor = signed_in(client, doctor).get(page).content.decode()
    assert f'href="{reverse("records:consultation_files", args=[consultation.pk])}"' in as_doctor


# --- uploading without JavaScript ------------------------------------------------------------


def test_a_plain_form_upload_adds_the_files_and_says_so(client, patient):
    response = signed_in(client, patient).post(
        UPLOAD,
        {"files": [png("cbc.png"), SimpleUploadedFile("lft.pdf", text_pdf(["ALT 32"]))], "category": "lab_report"},
    )

    assert response.status_code == 302 and response["Location"] == RECORDS
    assert FileUpload.objects.filter(patient=patient).count() == 2
    [said] = followed_messages(client, response)
    assert said.startswith("Added 2 files: “cbc.png” and “lft.pdf”.")


def test_refused_files_are_named_with_their_reason_and_the_others_are_kept(client, patient):
    response = signed_in(client, patient).post(
        UPLOAD, {"files": [png("good.png"), SimpleUploadedFile("virus.pdf", EXE)], "category": "other"}
    )

    assert FileUpload.objects.get().original_filename == "good.png"
    said = followed_messages(client, response)
    assert said[0].startswith("Added 1 of 2 files: “good.png”. It is kept.")
    assert said[1].startswith("“virus.pdf” was not added: ")


def test_when_every_file_is_refused_nothing_is_added_and_the_page_says_why(client, patient):
    response = signed_in(client, patient).post(
        UPLOAD, {"files": [SimpleUploadedFile("e.pdf", b"")], "category": "other"}
    )
    said = followed_messages(client, response)
    assert said[0] == "No file was added."
    assert "empty" in said[1]
    assert not FileUpload.all_objects.exists()


def test_a_copy_of_an_earlier_file_is_kept_and_pointed_out(client, patient):
    signed_in(client, patient).post(UPLOAD, {"files": [png("a.png")], "category": "other"})
    response = client.post(UPLOAD, {"files": [png("again.png")], "category": "other"})
    said = followed_messages(client, response)
    assert any("“again.png” is the same file as “a.png”" in sentence for sentence in said)


def test_a_path_in_a_browser_sent_name_is_cut_to_the_file_name_and_stored_under_a_random_one(client, patient):
    # Django's multipart parser keeps only the last part of a name a client sends.
    signed_in(client, patient).post(UPLOAD, {"files": [png("../../etc/passwd.png")], "category": "other"})

    row = FileUpload.objects.get()
    assert row.original_filename == "passwd.png"
    assert row.file.name == f"records/{patient.pk}/{row.pk}.png"


def test_an_upload_with_no_file_is_a_form_error_and_writes_nothing(client, patient):
    response = signed_in(client, patient).post(UPLOAD, {"category": "other"})
    assert response.status_code == 400
    assert "Choose at least one file to upload." in response.content.decode()
    assert not FileUpload.all_objects.exists()


def test_the_file_can_be_linked_only_to_one_of_the_patients_own_consultations(
    client, patient, other_patient, consultation
):
    theirs = ConsultationFactory(patient=other_patient)
    response = signed_in(client, patient).post(UPLOAD, {"files": [png()], "consultation": theirs.pk})
    assert response.status_code == 400
    assert not FileUpload.all_objects.exists()

    client.post(UPLOAD, {"files": [png()], "consultation": consultation.pk, "category": "other"})
    assert FileUpload.objects.get().consultation_id == consultation.pk


def test_the_consultation_link_from_its_page_chooses_it_in_the_form(client, patient, consultation):
    html = signed_in(client, patient).get(RECORDS, {"consultation": consultation.pk}).content.decode()
    assert re.search(rf'<option value="{consultation.pk}" selected>', html)


def test_doctors_cannot_use_the_patients_upload(client, doctor):
    assert signed_in(client, doctor).post(UPLOAD, {"files": [png()]}).status_code == 403


# --- uploading with the page's script (JSON) ---------------------------------------------------


def test_the_scripts_upload_gets_json_naming_what_was_added_and_refused(client, patient):
    response = signed_in(client, patient).post(
        UPLOAD,
        {"files": [png("good.png"), SimpleUploadedFile("virus.pdf", EXE)], "category": "lab_report"},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 200
    answer = json.loads(response.content)
    assert answer["redirect"] == RECORDS
    assert answer["added"] == ["good.png"]
    assert [r["name"] for r in answer["rejected"]] == ["virus.pdf"]
    # The page it moves to lists the same, from the session.
    assert len(client.get(RECORDS).context["messages"]) == 2


def test_the_scripts_upload_with_no_file_gets_the_error_as_json(client, patient):
    response = signed_in(client, patient).post(UPLOAD, {"category": "other"}, headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert json.loads(response.content) == {"errors": ["Choose at least one file to upload."]}


# --- the timeline, search, filters --------------------------------------------------------


def file_ids(response) -> list[str]:
    return [f.pk for day in response.context["records"].days for group in day.groups for f in group.files]


def test_the_timeline_groups_files_by_day_then_kind(client, patient):
    now = timezone.now()
    FileUploadFactory(patient=patient, category="photo", created_at=now)
    FileUploadFactory(patient=patient, category="lab_report", created_at=now - timedelta(minutes=1))
    FileUploadFactory(patient=patient, category="lab_report", created_at=now - timedelta(days=3))

    records = signed_in(client, patient).get(RECORDS).context["records"]

    assert [[group.title for group in day.groups] for day in records.days] == [
        ["Lab reports", "Photos"],
        ["Lab reports"],
    ]


def test_only_the_patients_own_living_files_are_listed(client, patient, other_patient):
    mine = FileUploadFactory(patient=patient)
    FileUploadFactory(patient=other_patient)
    FileUploadFactory(patient=patient).soft_delete()
    assert file_ids(signed_in(client, patient).get(RECORDS)) == [mine.pk]


@pytest.mark.parametrize(
    "q, wanted",
    [
        ("thyroid", "name"),
        ("ruby", "notes"),
        ("FERRITIN", "ocr"),
        ("ferritin 42", "ocr"),
        ("ferritin thyroid", None),
    ],
)
def test_search_looks_in_the_name_the_notes_and_the_text_read_from_the_file(client, patient, q, wanted):
    files = {
        "name": FileUploadFactory(patient=patient, original_filename="thyroid-panel.pdf"),
        "notes": FileUploadFactory(patient=patient, notes="Ultrasound at Ruby Hall"),
        "ocr": FileUploadFactory(patient=patient, ocr_text="Serum Ferritin 42 ng/mL", ocr_status="done"),
    }
    found = file_ids(signed_in(client, patient).get(RECORDS, {"q": q}))
    assert found == ([files[wanted].pk] if wanted else [])


def test_filtering_by_kind_shows_only_that_kind_and_counts_every_kind(client, patient):
    lab = FileUploadFactory(patient=patient, category="lab_report")
    FileUploadFactory(patient=patient, category="imaging")
    response = signed_in(client, patient).get(RECORDS, {"category": "lab_report"})
    assert file_ids(response) == [lab.pk]
    counts = {c.value: c.count for c in response.context["records"].counts}
    assert (counts["lab_report"], counts["imaging"], counts["photo"]) == (1, 1, 0)


def test_an_unknown_kind_is_ignored(client, patient):
    FileUploadFactory(patient=patient)
    assert len(file_ids(signed_in(client, patient).get(RECORDS, {"category": "<script>"}))) == 1


def test_the_timeline_pages_by_twenty(client, patient):
    FileUploadFactory.create_batch(25, patient=patient)
    first = signed_in(client, patient).get(RECORDS)
    second = client.get(RECORDS, {"page": 2})
    assert (len(file_ids(first)), len(file_ids(second))) == (20, 5)
    assert 'rel="next"' in first.content.decode()


def test_the_ocr_state_and_copies_are_shown(client, patient):
    FileUploadFactory(patient=patient, ocr_status="unavailable", metadata={"duplicate_of": "file_x"})
    html = signed_in(client, patient).get(RECORDS).content.decode()
    assert 'data-ocr="unavailable"' in html and "OCR not installed" in html
    assert "data-duplicate" in html


def test_the_page_never_links_to_media(client, patient):
    FileUploadFactory(patient=patient)
    assert "/media/" not in signed_in(client, patient).get(RECORDS).content.decode()


# --- removing ----------------------------------------------------------------------------


def test_the_patient_removes_a_file_and_returns_where_they_were(client, patient):
    upload = FileUploadFactory(patient=patient)
    response = signed_in(client, patient).post(
        reverse("records:delete", args=[upload.pk]), {"next": f"{RECORDS}?category=lab_report"}
    )
    assert response["Location"] == f"{RECORDS}?category=lab_report"
    assert not FileUpload.objects.exists()


def test_removing_sends_nobody_to_another_site(client, patient):
    upload = FileUploadFactory(patient=patient)
    response = signed_in(client, patient).post(
        reverse("records:delete", args=[upload.pk]), {"next": "https://evil.test/"}
    )
    assert response["Location"] == RECORDS


def test_someone_elses_file_cannot_be_removed(client, other_patient):
    upload = FileUploadFactory()
    assert signed_in(client, other_patient).post(reverse("records:delete", args=[upload.pk])).status_code == 404
    assert FileUpload.objects.filter(pk=upload.pk).exists()


def test_removing_takes_only_post(client, patient):
    upload = FileUploadFactory(patient=patient)
    assert signed_in(client, patient).get(reverse("records:delete", args=[upload.pk])).status_code == 405


# --- the doctor's view through a consultation --------------------------------------------------


def test_the_treating_doctor_sees_the_patients_files_and_the_listing_is_audited(client, patient, doctor, consultation):
    upload = FileUploadFactory(patient=patient, original_filename="old-prescription.pdf")
    url = reverse("records:consultation_files", args=[consultation.pk])

    response = signed_in(client, doctor).get(url, REMOTE_ADDR="198.51.100.4")

    assert response.status_code == 200
    assert file_ids(response) == [upload.pk]
    assert "Meera Iyer's records" in response.content.decode()
    assert "Remove" not in response.content.decode()
    log = AdminLog.objects.get(table_name="file_uploads", action="view")
    assert (log.user_id, log.record_id, log.ip_address) == (doctor.pk, patient.pk, "198.51.100.4")


@pytest.mark.parametrize("who", ["other_doctor", "patient"])
def test_nobody_else_gets_the_doctors_view(request, client, consultation, who):
    user = request.getfixturevalue(who)
    url = reverse("records:consultation_files", args=[consultation.pk])
    assert signed_in(client, user).get(url).status_code == (404 if who == "other_doctor" else 403)


def test_a_cancelled_consultation_opens_no_records(client, patient, doctor):
    cancelled = ConsultationFactory(patient=patient, doctor=doctor, status="cancelled")
    url = reverse("records:consultation_files", args=[cancelled.pk])
    assert signed_in(client, doctor).get(url).status_code == 404


def test_the_doctor_adds_a_file_linked_to_the_consultation(client, patient, doctor, consultation):
    url = reverse("records:consultation_upload", args=[consultation.pk])
    response = signed_in(client, doctor).post(url, {"files": [png("old-rx.png")], "category": "prescription_scan"})

    assert response["Location"] == reverse("records:consultation_files", args=[consultation.pk])
    row = FileUpload.objects.get()
    assert (row.patient_id, row.uploaded_by_id, row.consultation_id) == (patient.pk, doctor.pk, consultation.pk)


def test_another_doctor_cannot_add_through_someone_elses_consultation(client, other_doctor, consultation):
    url = reverse("records:consultation_upload", args=[consultation.pk])
    assert signed_in(client, other_doctor).post(url, {"files": [png()]}).status_code == 404
    assert not FileUpload.all_objects.exists()


# --- query budgets ------------------------------------------------------------------------


def count_queries(client, url: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries)


def make_files(patient, n: int) -> None:
    now = timezone.now()
    for i in range(n):
        FileUploadFactory(
            patient=patient,
            category=["lab_report", "imaging", "photo", "other"][i % 4],
            created_at=now - timedelta(hours=i * 7),
            ocr_text=f"Haemoglobin {i}",
            uploaded_by=patient if i % 3 else ConsultationFactory(patient=patient).doctor,
        )


@pytest.mark.parametrize("params", [{}, {"q": "haemoglobin", "category": "lab_report"}])
def test_the_records_page_costs_the_same_queries_for_3_files_as_for_45(client, patient, params):
    signed_in(client, patient).get(RECORDS)  # warm-up: the session's idle clock is written once
    make_files(patient, 3)
    few = count_queries(client, RECORDS, params)
    make_files(patient, 42)
    many = count_queries(client, RECORDS, params)
    assert few == many, (few, many)


def test_the_doctors_view_costs_the_same_queries_for_3_files_as_for_45(client, patient, doctor, consultation):
    url = reverse("records:consultation_files", args=[consultation.pk])
    signed_in(client, doctor).get(url)
    make_files(patient, 3)
    few = count_queries(client, url)
    make_files(patient, 42)
    many = count_queries(client, url)
    assert few == many, (few, many)
