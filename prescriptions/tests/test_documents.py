"""The prescription as the patient and a pharmacy get it: the printable page, the
PDF (parsed back with pypdf), and who may open either."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from accounts.models import AdminLog
from prescriptions import services
from prescriptions.services import ItemData
from prescriptions.tests.conftest import ARNICA, SULPHUR_LM, draft, issued
from prescriptions.tests.test_services import checked_image

pytestmark = pytest.mark.django_db

PLACEBO = ItemData(remedy_name="Saccharum lactis", dosage_form="powder", dose="1 powder", is_placebo=True)


def pdf_text(response) -> str:
    reader = PdfReader(io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def rx(consultation):
    services.doctor_signature_update(
        profile=consultation.doctor.doctor_profile, by=consultation.doctor, signature=checked_image()
    )
    return issued(consultation, items=[ARNICA, SULPHUR_LM, PLACEBO], general_advice="Rest the foot; no coffee.")


def test_the_pdf_carries_doctor_registration_patient_remedies_and_code(client, rx):
    client.force_login(rx.patient)

    response = client.get(reverse("prescriptions:pdf", args=[rx.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="prescription-')
    assert response["Cache-Control"] == "private, no-store"
    text = pdf_text(response)
    for expected in (
        "Arogya Homeopathy Clinic",
        "Dr. Asha Kulkarni",
        "BHMS, MD (Hom)",
        "Reg. No. MH-HOM-24680",
        "Maharashtra Council of Homoeopathy",
        "Meera Iyer",
        "Female",
        "Arnica montana 30C",
        "Sulphur LM1",
        "LM1 for 15 days, then LM2 for 15 days",
        "Three times a day",
        "Rest the foot; no coffee.",
        rx.verification_code,
        f"/rx/verify/{rx.verification_code}/",
    ):
        assert expected in text, expected
    # The placebo is dispensed under its name, never labelled as one to the patient.
    assert "Saccharum lactis" in text
    assert "placebo" not in text.lower()


def test_the_pdf_embeds_the_doctors_signature(client, rx):
    client.force_login(rx.patient)
    reader = PdfReader(io.BytesIO(client.get(reverse("prescriptions:pdf", args=[rx.pk])).content))
    # The signature, and the verification QR code (a square bitmap, 8 pixels a module).
    images = reader.pages[0].images
    assert len(images) == 2
    sizes = sorted(image.image.size for image in images)
    assert any(w == h and w % 8 == 0 for w, h in sizes)


def test_the_printable_page_says_what_the_pdf_says(client, rx):
    client.force_login(rx.patient)

    html = client.get(reverse("prescriptions:detail", args=[rx.pk])).content.decode()

    for expected in (
        "Dr. Asha Kulkarni",
        "Reg. No. MH-HOM-24680",
        "Meera Iyer",
        "Arnica montana 30C",
        rx.verification_code,
    ):
        assert expected in html
    assert reverse("prescriptions:signature", args=[rx.pk]) in html
    assert reverse("prescriptions:pdf", args=[rx.pk]) in html
    assert "Placebo" not in html


def test_the_doctor_sees_the_placebo_marked(client, rx):
    client.force_login(rx.doctor)
    html = client.get(reverse("prescriptions:detail", args=[rx.pk])).content.decode()
    assert '<span class="tag">Placebo</span>' in html


def test_a_withdrawn_prescription_says_so_and_points_to_its_correction(client, consultation):
    original = issued(consultation)
    new = services.prescription_correct(prescription=original, doctor=consultation.doctor, reason="Wrong potency.")
    services.prescription_issue(prescription=new, doctor=consultation.doctor)
    client.force_login(consultation.patient)

    html = client.get(reverse("prescriptions:detail", args=[original.pk])).content.decode()
    text = pdf_text(client.get(reverse("prescriptions:pdf", args=[original.pk])))

    assert 'data-banner="withdrawn"' in html
    assert "Wrong potency." in html
    assert reverse("prescriptions:detail", args=[new.pk]) in html
    assert "WITHDRAWN" in text


# --- who may open it ------------------------------------------------------------------------

VIEWS = ["detail", "pdf", "signature"]


def who(name, rx, other_doctor, other_patient, staff):
    return {
        "patient": rx.patient,
        "prescribing doctor": rx.doctor,
        "staff": staff,
        "other doctor": other_doctor,
        "other patient": other_patient,
    }[name]


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize(
    ("name", "status"),
    [("patient", 200), ("prescribing doctor", 200), ("staff", 200), ("other doctor", 404), ("other patient", 404)],
)
def test_the_access_matrix(client, rx, other_doctor, other_patient, staff, view, name, status):
    client.force_login(who(name, rx, other_doctor, other_patient, staff))
    assert client.get(reverse(f"prescriptions:{view}", args=[rx.pk])).status_code == status


@pytest.mark.parametrize("view", VIEWS)
def test_a_made_up_id_is_the_same_404(client, rx, view):
    client.force_login(rx.patient)
    assert client.get(reverse(f"prescriptions:{view}", args=["rx_01JUNKJUNKJUNKJUNKJUNKJUNK"])).status_code == 404


@pytest.mark.parametrize("view", VIEWS)
def test_anonymous_visitors_are_sent_to_sign_in_for_real_and_made_up_ids_alike(client, rx, view):
    real = client.get(reverse(f"prescriptions:{view}", args=[rx.pk]))
    fake = client.get(reverse(f"prescriptions:{view}", args=["rx_01JUNKJUNKJUNKJUNKJUNKJUNK"]))

    assert (real.status_code, fake.status_code) == (302, 302)
    assert real["Location"].startswith(reverse("account_login"))
    assert fake["Location"].startswith(reverse("account_login"))
    assert rx.verification_code not in real.content.decode()


def test_a_draft_is_not_the_patients_yet(client, consultation):
    rx = draft(consultation)
    client.force_login(consultation.patient)
    assert client.get(reverse("prescriptions:detail", args=[rx.pk])).status_code == 404
    assert client.get(reverse("prescriptions:pdf", args=[rx.pk])).status_code == 404


def test_pdf_reads_by_anyone_but_the_patient_are_audited(client, rx, staff):
    for reader in (rx.patient, rx.doctor, staff):
        client.force_login(reader)
        client.get(reverse("prescriptions:pdf", args=[rx.pk]))

    reads = AdminLog.objects.filter(table_name="prescriptions", record_id=rx.pk, action="view")
    assert sorted(reads.values_list("user_id", flat=True)) == sorted([rx.doctor_id, staff.pk])
    assert all(log.new_values["what"] == "pdf" for log in reads)
