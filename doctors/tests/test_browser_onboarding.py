"""A doctor completes their profile on a phone, and a patient reviews a consultation.

Checked like every browser journey: no console errors or failed requests,
nothing wider than the phone, no inline script or style in what was served.
Screenshots go to test-artifacts/ for a person to judge.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from consultations.tests.factories import ConsultationFactory
from dhanwantari.testing.browser import (
    ARTIFACTS,
    assert_sound,
    assert_sound_at_360,
    screenshot,
    sign_in,
    watch_for_problems,
)
from doctors.models import DoctorDocument, DoctorProfile, DoctorReview
from doctors.tests.factories import DoctorProfileFactory
from doctors.tests.test_profile_onboarding import new_doctor
from doctors.tests.test_uploads import jpeg_with_gps, pdf_bytes
from patients.tests.factories import patient_with_profile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUNE = {"latitude": 18.5204303, "longitude": 73.8567437}


def test_a_new_doctor_completes_their_profile_and_submits_it_on_a_phone(phone_page: Page):
    page = phone_page
    profile = new_doctor(full_name="Dr. Meera Kulkarni")
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation(PUNE)
    problems = watch_for_problems(page)
    sign_in(page, profile.user.email)

    page.goto(reverse("doctors:profile_edit"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your doctor profile")
    expect(page.locator("[data-verification-status]")).to_contain_text("Profile incomplete")
    expect(page.locator("[data-checklist] .dp-checklist__item--done")).to_have_count(0)
    assert_sound(page, problems)
    screenshot(page, "doctor-profile-new-phone")
    assert_sound_at_360(page, problems)

    page.get_by_label("Registration number").fill("MH-HOM-40213")
    page.get_by_label("Registered with").fill("Maharashtra Council of Homoeopathy")
    page.get_by_label("Qualifications").fill("BHMS\nMD (Hom)")
    page.get_by_label("Years in practice").fill("12")
    for label in ("Classical homeopathy", "Children's health", "English", "Marathi", "Video call", "Chat"):
        page.get_by_label(label, exact=True).check()
    page.get_by_label("About you").fill("Classical homeopath in Pune. I see many children with recurring colds.")
    page.get_by_label("Add a photo").set_input_files(
        files=[{"name": "meera.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps(size=(900, 1200))}]
    )
    page.get_by_label("First consultation").fill("600")
    page.get_by_label("Follow-up fee in rupees").fill("300")
    page.get_by_label("Clinic name").fill("Sanjeevani Homeopathy Clinic")
    page.get_by_label("Address").fill("12 FC Road, Shivajinagar")
    page.get_by_label("City or town").fill("Pune")
    page.get_by_label("State").fill("Maharashtra")
    page.get_by_label("PIN code").fill("411004")

    # The small enhancement: the browser's position fills the map fields.
    location = page.get_by_role("button", name="Use my current location")
    expect(location).to_be_visible()
    location.tap()
    expect(page.get_by_label("Latitude")).to_have_value("18.520430")
    expect(page.get_by_label("Longitude")).to_have_value("73.856744")
    expect(page.locator("[data-location-status]")).to_contain_text("Filled in")
    screenshot(page, "doctor-profile-filled-phone")
    # What the doctor sees mid-form: the save bar stays at the bottom of the screen.
    page.get_by_label("City or town").scroll_into_view_if_needed()
    expect(page.get_by_role("button", name="Save profile")).to_be_in_viewport()
    page.screenshot(path=ARTIFACTS / "doctor-profile-savebar-phone.png")

    page.get_by_role("button", name="Save profile").tap()
    expect(page.locator(".alert--success")).to_contain_text("Your profile is saved.")
    profile.refresh_from_db()
    assert profile.registration_number == "MH-HOM-40213"
    assert profile.photo.name.startswith("doctors/photos/")
    assert (str(profile.latitude), str(profile.longitude)) == ("18.520430", "73.856744")
    expect(page.get_by_role("img", name="Your current photo")).to_be_visible()
    # Served by the photo view (MEDIA has no URL): the square, re-encoded JPEG.
    page.wait_for_function("document.querySelector('img.dp-photo__image').complete")
    assert page.evaluate("document.querySelector('img.dp-photo__image').naturalWidth") == 512

    # Submitting before the certificate is there names what is missing.
    page.get_by_role("button", name="Submit for verification").tap()
    expect(page.locator(".alert--error")).to_contain_text("add your registration certificate")

    page.get_by_label("What is it?").select_option("registration")
    page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": "Registration certificate.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}]
    )
    page.get_by_role("button", name="Upload document").tap()
    expect(page.locator("[data-documents]")).to_contain_text("Registration certificate.pdf")
    assert DoctorDocument.objects.filter(doctor=profile.user).count() == 1
    expect(page.locator("[data-checklist] .dp-checklist__item:not(.dp-checklist__item--done)")).to_have_count(0)
    assert_sound(page, problems)
    screenshot(page, "doctor-profile-complete-phone")

    page.get_by_role("button", name="Submit for verification").tap()
    expect(page.locator(".alert--success")).to_contain_text("Your profile is with our staff")
    expect(page.locator("[data-verification-status]")).to_contain_text("Awaiting verification")
    assert DoctorProfile.objects.get(pk=profile.pk).verification_status == "pending"
    assert_sound(page, problems)
    screenshot(page, "doctor-profile-pending-phone")


def test_the_profile_page_works_without_javascript(browser, live_server):
    profile = new_doctor()
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    page = context.new_page()
    try:
        sign_in(page, profile.user.email)
        page.goto(reverse("doctors:profile_edit"))

        # The location button needs JS, so without it there is none; the fields are typed in.
        expect(page.get_by_role("button", name="Use my current location")).to_be_hidden()
        page.get_by_label("Registration number").fill("TN-HOM-2207")
        page.get_by_label("Latitude").fill("13.0827")
        page.get_by_label("Longitude").fill("80.2707")
        page.get_by_role("button", name="Save profile").click()

        expect(page.locator(".messages .alert--success")).to_contain_text("Your profile is saved.")
        profile.refresh_from_db()
        assert (profile.registration_number, str(profile.latitude)) == ("TN-HOM-2207", "13.082700")
    finally:
        context.close()


def test_a_verified_doctor_sees_the_warning_before_changing_credentials(phone_page: Page):
    page = phone_page
    profile = DoctorProfileFactory(full_name="Dr. Arjun Menon", clinic_address="MG Road, Ernakulam", city="Kochi")
    problems = watch_for_problems(page)
    sign_in(page, profile.user.email)

    page.goto(reverse("doctors:profile_edit"))
    warning = page.locator("#credentials-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("sends your profile back to our staff for verification")
    assert_sound(page, problems)
    screenshot(page, "doctor-profile-verified-phone")

    page.get_by_label("Registration number").fill("KL-HOM-777")
    page.get_by_role("button", name="Save profile").tap()

    expect(page.locator(".messages .alert--warning")).to_contain_text("back with our staff for verification")
    expect(page.locator("[data-verification-status]")).to_contain_text("Awaiting verification")


def test_a_patient_rates_a_completed_consultation_on_a_phone(phone_page: Page):
    page = phone_page
    doctor = DoctorProfileFactory(full_name="Dr. Meera Kulkarni")
    patient = patient_with_profile()
    consultation = ConsultationFactory(patient=patient, doctor=doctor.user, status="completed")
    problems = watch_for_problems(page)
    sign_in(page, patient.email)

    page.goto(reverse("doctors:review_write", args=[consultation.pk]))
    expect(page.get_by_role("heading", level=1)).to_have_text("How was your consultation?")
    expect(page.get_by_text("Dr. Meera Kulkarni")).to_be_visible()
    assert_sound(page, problems)
    screenshot(page, "review-write-phone")

    page.locator("label.dp-stars__option").filter(has_text="Good").tap()
    page.get_by_label("Your review").fill("Listened patiently and explained the remedy clearly.")
    page.get_by_role("button", name="Publish review").tap()

    expect(page.locator(".alert--success")).to_contain_text("Thank you")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your review")
    review = DoctorReview.objects.get(consultation=consultation)
    assert review.rating == 4
    doctor.refresh_from_db()
    assert (str(doctor.rating_avg), doctor.rating_count) == ("4.00", 1)
    assert_sound(page, problems)
    screenshot(page, "review-edit-phone")
    assert_sound_at_360(page, problems)
