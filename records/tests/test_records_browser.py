"""The records page in a real browser, on a 390px phone.

A patient opens her records from the dashboard, drops a lab report (a PNG the
test draws with known words) onto the upload form, watches the progress bar,
lands back on her records with the file listed, and finds it by searching for
a word that appears only inside the picture (read by Tesseract). Then the
treating doctor opens it through the consultation.

Every page is checked on the way: no console errors or failed requests,
nothing wider than the phone, no inline script or style in the served HTML.
Screenshots go to test-artifacts/ (gitignored) for a person to judge.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.models import AdminLog
from consultations.tests.factories import ConsultationFactory
from dhanwantari.testing.browser import sign_in
from doctors.tests.factories import DoctorProfileFactory
from patients.tests.factories import PatientProfileFactory
from records.models import FileUpload
from records.tests.factories import text_image

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
RECORDS = reverse("records:index")
INLINE = [
    re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE),
    re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE),
    re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE),
]
REPORT = ["Thyrocare Laboratories", "Serum Ferritin 42 ng/mL", "Haemoglobin 13.5 g/dL"]


class Watch(list):
    """Problems seen so far, and the HTML documents served (checked for inline code)."""

    def __init__(self) -> None:
        super().__init__()
        self.documents: list[tuple[str, str]] = []


def watch(page: Page) -> Watch:
    problems = Watch()
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("response", lambda res: problems.append(f"HTTP {res.status}: {res.url}") if res.status >= 400 else None)
    page.on(
        "requestfailed",
        lambda req: problems.append(f"failed: {req.url}") if "ERR_ABORTED" not in (req.failure or "") else None,
    )

    def keep_documents(route) -> None:
        if route.request.resource_type != "document":
            route.fallback()
            return
        response = route.fetch(max_redirects=0)
        if response.ok:
            problems.documents.append((route.request.url, response.text()))
        route.fulfill(response=response)

    page.route("**/*", keep_documents)
    return problems


def assert_sound(page: Page, problems: Watch) -> None:
    assert list(problems) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{page.url} scrolls sideways"
    while problems.documents:
        url, html = problems.documents.pop()
        for pattern in INLINE:
            found = pattern.search(html)
            assert found is None, f"{url} serves {found.group(0)!r}"


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def drop_file(page: Page, selector: str, name: str, data: bytes, mime: str) -> None:
    """Drop a file onto an element, as dragging it from the desktop does."""
    transfer = page.evaluate_handle(
        """([name, b64, mime]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: mime }));
            return transfer;
        }""",
        [name, base64.b64encode(data).decode(), mime],
    )
    page.dispatch_event(selector, "dragenter", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


@pytest.fixture
def tesseract():
    if shutil.which("tesseract") is None:
        if os.environ.get("CI"):
            pytest.fail("Tesseract is not installed; `make sysdeps` installs it.")
        pytest.skip("Tesseract is not installed (apt-get install tesseract-ocr).")


def test_a_patient_uploads_a_lab_report_and_finds_it_by_a_word_inside_it(
    tesseract, phone_page: Page, browser, live_server
):
    patient = PatientProfileFactory(full_name="Meera Iyer").user
    doctor = DoctorProfileFactory(full_name="Dr. Asha Kulkarni").user
    consultation = ConsultationFactory(patient=patient, doctor=doctor, status="scheduled")
    page = phone_page
    problems = watch(page)

    sign_in(page, patient.email)
    page.goto(reverse("consultations:dashboard"))
    page.get_by_role("link", name="Your records").click()
    expect(page).to_have_url(re.compile(r"/records/$"))
    expect(page.get_by_text("No records yet")).to_be_visible()
    assert_sound(page, problems)

    drop_file(page, "[data-drop-zone]", "thyroid-and-iron.png", text_image(REPORT), "image/png")
    expect(page.locator("[data-chosen]")).to_contain_text("thyroid-and-iron.png")
    page.get_by_label("What are they?").select_option("lab_report")
    page.get_by_label("Notes (optional)").fill("Fasting sample")
    screenshot(page, "records-1-chosen")

    expect(page.locator("[data-progress-box]")).to_be_hidden()
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("[data-progress-box]")).to_be_visible()
    expect(page.locator("[data-upload-progress]")).to_have_attribute("value", "100")

    expect(page.get_by_text("Added 1 file: “thyroid-and-iron.png”.")).to_be_visible()
    expect(page.locator("[data-progress-box]")).to_be_hidden()  # a fresh page: the list, not the bar
    expect(page.locator(".rec-file")).to_have_count(1)
    expect(page.locator(".rec-file__thumb img")).to_be_visible()
    screenshot(page, "records-2-uploaded")
    assert_sound(page, problems)

    upload = FileUpload.objects.get()
    assert (upload.category, upload.notes, upload.ocr_status) == ("lab_report", "Fasting sample", "done")

    # "Ferritin" is in no name and no note: only in the picture.
    page.get_by_label("Search names, notes and text in the files").fill("ferritin")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"q=ferritin"))
    expect(page.get_by_text("1 file found for “ferritin”.")).to_be_visible()
    expect(page.locator(".rec-file__name")).to_have_text("thyroid-and-iron.png")
    screenshot(page, "records-3-found")
    page.get_by_label("Search names, notes and text in the files").fill("cholesterol")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("Nothing found")).to_be_visible()
    assert_sound(page, problems)

    # The doctor opens the patient's records through the consultation, on a desktop.
    desk = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    try:
        doctor_page = desk.new_page()
        doctor_page.set_default_timeout(10_000)
        doctor_problems = watch(doctor_page)
        sign_in(doctor_page, doctor.email)
        doctor_page.goto(reverse("consultations:detail", args=[consultation.pk]))
        doctor_page.get_by_role("link", name="Open Meera Iyer's records").click()
        expect(doctor_page.get_by_role("heading", name="Meera Iyer's records")).to_be_visible()
        expect(doctor_page.locator(".rec-file__thumb img")).to_be_visible()
        screenshot(doctor_page, "records-4-doctor")
        assert_sound(doctor_page, doctor_problems)
    finally:
        desk.close()
    assert AdminLog.objects.filter(table_name="file_uploads", action="view", user_id=doctor.pk).count() >= 2


def test_without_javascript_the_plain_form_uploads_too(browser, live_server):
    patient = PatientProfileFactory(full_name="Kabir Shah").user
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in(page, patient.email)
        page.goto(RECORDS)
        page.set_input_files(
            "input[type=file]",
            files=[{"name": "x-ray.png", "mimeType": "image/png", "buffer": text_image(["Chest PA view"])}],
        )
        page.get_by_role("button", name="Upload").click()
        expect(page.get_by_text("Added 1 file: “x-ray.png”.")).to_be_visible()
    finally:
        context.close()
