"""Prescribing end to end, in a real browser on 390px phones.

Dr. Asha Kulkarni, on her phone, opens the consultation she is in, writes a
two-remedy prescription with the remedy suggestions (one picked by tapping,
one with the keyboard), moves the second remedy up, previews it and issues
it. Her patient, on his own phone, opens My prescriptions from his dashboard
and downloads the PDF.

Every page on the way is checked: no console errors or failed requests,
nothing wider than the phone, no inline script or style in the served HTML.
Screenshots go to test-artifacts/ for a person to judge.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from consultations.tests.factories import ConsultationFactory
from dhanwantari.testing.browser import assert_sound, screenshot, sign_in, watch_for_problems
from doctors.tests.factories import DoctorProfileFactory
from patients.tests.factories import PatientProfileFactory
from prescriptions.models import Prescription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_doctor_writes_and_issues_on_a_phone_and_the_patient_downloads_the_pdf(
    phone_page: Page, second_phone: Page, tmp_path, remedy_catalogue
):
    doctor = DoctorProfileFactory(full_name="Dr. Asha Kulkarni", registration_number="MH-HOM-24680")
    patient = PatientProfileFactory(full_name="Rohan Das")
    consultation = ConsultationFactory(doctor=doctor.user, patient=patient.user, status="in_progress", mode="in_person")

    # The doctor starts from the consultation she is in.
    clinic = phone_page
    clinic_problems = watch_for_problems(clinic)
    sign_in(clinic, doctor.user.email)
    clinic.goto(reverse("consultations:detail", args=[consultation.pk]))
    clinic.get_by_role("link", name="Write prescription").tap()
    expect(clinic.get_by_role("heading", level=1)).to_have_text("Rohan Das")
    rows = clinic.locator("[data-row]")
    expect(rows).to_have_count(1)  # the script keeps one blank row of the three
    assert_sound(clinic, clinic_problems)

    # Remedy 1: a few letters, then a tap on the suggestion.
    first = rows.nth(0)
    first.get_by_label("Remedy", exact=True).press_sequentially("arn", delay=40)
    suggestion = clinic.get_by_role("option", name=re.compile(r"^Arnica montana"))
    expect(suggestion).to_be_visible()
    screenshot(clinic, "rx-editor-suggestions-phone")
    suggestion.tap()
    expect(first.get_by_label("Remedy", exact=True)).to_have_value("Arnica montana")
    expect(first.get_by_label("Potency", exact=True)).to_be_focused()
    clinic.keyboard.type("30")
    first.get_by_label("Dose", exact=True).fill("4 globules")
    first.get_by_label("Repetition", exact=True).select_option(label="Three times a day")
    first.get_by_label("For how long").fill("5 days")

    # Remedy 2: added, picked with the keyboard, then moved up.
    clinic.get_by_role("button", name="Add remedy").tap()
    expect(rows).to_have_count(2)
    second = rows.nth(1)
    name = second.get_by_label("Remedy", exact=True)
    expect(name).to_be_focused()
    name.press_sequentially("nux v", delay=40)
    expect(clinic.get_by_role("option", name=re.compile(r"^Nux vomica"))).to_be_visible()
    name.press("ArrowDown")
    name.press("Enter")
    expect(name).to_have_value("Nux vomica")
    second.get_by_label("Potency", exact=True).fill("200")
    second.get_by_label("Repetition", exact=True).select_option(label="At bedtime")
    second.get_by_role("button", name="Move remedy 2 up").tap()
    expect(rows.nth(0).get_by_label("Remedy", exact=True)).to_have_value("Nux vomica")
    assert_sound(clinic, clinic_problems)
    screenshot(clinic, "rx-editor-phone")

    # Preview, then issue: the confirm step.
    clinic.get_by_role("button", name="Preview and issue").tap()
    expect(clinic.get_by_role("heading", name="Check, then issue")).to_be_visible()
    document = clinic.locator("[data-rx-document]")
    expect(document).to_contain_text("Nux vomica 200C")
    expect(document).to_contain_text("Arnica montana 30C")
    expect(document).to_contain_text("Reg. No. MH-HOM-24680")
    assert_sound(clinic, clinic_problems)
    screenshot(clinic, "rx-preview-phone")
    clinic.get_by_role("button", name="Issue to Rohan Das").tap()
    expect(clinic.get_by_text("Prescription issued. Rohan Das has been notified")).to_be_visible()
    expect(clinic.get_by_role("heading", name="Check, then issue")).to_have_count(0)
    assert_sound(clinic, clinic_problems)

    rx = Prescription.objects.get()
    assert rx.status == "issued"
    assert [(i.remedy_name, i.potency, i.repetition) for i in rx.items.order_by("position")] == [
        ("Nux vomica", "200C", "hs"),
        ("Arnica montana", "30C", "tds"),
    ]

    # The patient, on his phone: dashboard, My prescriptions, Download PDF.
    home = second_phone
    home_problems = watch_for_problems(home)
    sign_in(home, patient.user.email)
    home.get_by_role("link", name="My consultations").tap()
    expect(home.locator('[data-section="prescriptions"]')).to_contain_text("Dr. Asha Kulkarni")
    assert_sound(home, home_problems)
    screenshot(home, "rx-patient-dashboard-phone")
    home.get_by_role("link", name=re.compile(r"^My prescriptions")).tap()
    expect(home.get_by_role("heading", level=1)).to_have_text("My prescriptions")
    card = home.locator(f'[data-prescription="{rx.pk}"]')
    expect(card).to_contain_text("Dr. Asha Kulkarni")
    expect(card).to_contain_text("Nux vomica 200C")
    assert_sound(home, home_problems)
    screenshot(home, "rx-my-prescriptions-phone")

    # The download is a file, not a page: the problem watch keeps HTML pages only.
    home.unroute("**/*")
    with home.expect_download() as download_info:
        card.get_by_role("link", name=re.compile(r"^Download PDF")).tap()
    download = download_info.value
    assert re.fullmatch(r"prescription-\d{4}-\d{2}-\d{2}-asha-kulkarni\.pdf", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = "\n".join(page.extract_text() for page in PdfReader(saved).pages)
    for expected in ("Dr. Asha Kulkarni", "Rohan Das", "Nux vomica 200C", "Arnica montana 30C", rx.verification_code):
        assert expected in text
    assert list(home_problems) == []


@pytest.fixture
def phone_without_js(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        java_script_enabled=False,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_the_editor_works_without_javascript(phone_without_js: Page, remedy_catalogue):
    doctor = DoctorProfileFactory(full_name="Dr. Asha Kulkarni")
    consultation = ConsultationFactory(
        doctor=doctor.user, patient=PatientProfileFactory(full_name="Rohan Das").user, status="completed"
    )
    page = phone_without_js
    problems = watch_for_problems(page)
    sign_in(page, doctor.user.email)
    page.goto(reverse("prescriptions:write", args=[consultation.pk]))

    rows = page.locator("[data-row]")
    expect(rows).to_have_count(3)  # blank rows to fill; no Add button without the script
    expect(page.get_by_role("button", name="Add remedy")).to_be_hidden()
    expect(rows.nth(0).get_by_label("Position")).to_be_visible()
    # Abbreviations are enough: the server finds the remedy in the catalogue.
    rows.nth(0).get_by_label("Remedy", exact=True).fill("Ars.")
    rows.nth(0).get_by_label("Potency", exact=True).fill("30")
    rows.nth(1).get_by_label("Remedy", exact=True).fill("Puls.")
    rows.nth(1).get_by_label("Potency", exact=True).fill("abc")
    page.get_by_role("button", name="Save draft").tap()

    # The bad potency is shown next to its field, and nothing was saved.
    expect(page.get_by_role("alert")).to_contain_text("Remedy 2, potency")
    expect(rows.nth(1).locator(".field__error")).to_contain_text("“abc” is not a potency we know")
    assert not Prescription.objects.exists()
    # A form sent back with errors answers 400, as every form here does; that one is expected.
    assert [problem for problem in problems if "400" not in problem] == []
    problems.clear()
    rows.nth(1).get_by_label("Potency", exact=True).fill("200")
    page.get_by_role("button", name="Save draft").tap()

    expect(page.get_by_text("Draft saved.")).to_be_visible()
    rx = Prescription.objects.get()
    assert [(i.remedy_name, i.potency) for i in rx.items.order_by("position")] == [
        ("Arsenicum album", "30C"),
        ("Pulsatilla nigricans", "200C"),
    ]
    assert_sound(page, problems)
    screenshot(page, "rx-editor-no-js-phone")
