"""The health profile in a real browser, on a 390px phone: signed in through
the form, edited with the "Add another" button, saved, BMI shown; and the same
editor with JavaScript switched off (blank rows and "Remove" ticks only).

Every page on the way is checked for console errors, failed requests, sideways
scrolling and inline script or style (the CSP will forbid them). Screenshots go
to test-artifacts/ (gitignored) so a person can judge the design.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from dhanwantari.testing.browser import ARTIFACTS, assert_sound, screenshot, sign_in
from dhanwantari.testing.browser import watch_for_problems as watch
from patients.forms import PIN_INVALID
from patients.models import PatientProfile
from patients.tests.factories import PatientProfileFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def row(page: Page, list_id: str, number: int):
    """The n-th row (1-based) of a list editor."""
    return page.locator(f"#{list_id} [data-row]").nth(number - 1)


def test_a_patient_edits_their_profile_on_a_phone_and_adds_rows_with_the_button(phone_page: Page):
    page = phone_page
    profile = PatientProfileFactory(
        full_name="Asha Rao",
        height_cm=None,
        weight_kg=None,
        allergies=[{"name": "Pollen", "severity": "moderate"}],
        medications=[],
    )
    problems = watch(page)
    sign_in(page, profile.user.email)

    page.goto(reverse("patients:profile"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your health profile")
    expect(page.locator("[data-stat=bmi]")).to_contain_text("Add height and weight")
    page.get_by_role("link", name="Edit profile").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit your health profile")
    assert_sound(page, problems)

    page.get_by_label("Height", exact=True).fill("170")
    page.get_by_label("Weight", exact=True).fill("68")
    page.get_by_label("Blood group", exact=True).select_option("O+")
    page.get_by_label("Preferred language").select_option(label="Marathi")

    # The script takes away the spare blank rows: the saved allergy is alone,
    # and "Add another" brings a second row.
    allergies = page.locator("#allergies")
    expect(allergies.locator("[data-row]")).to_have_count(1)
    expect(page.locator("#id_allergies-TOTAL_FORMS")).to_have_value("1")
    add_allergy = allergies.get_by_role("button", name="Add another allergy")
    expect(add_allergy).to_be_visible()
    add_allergy.tap()
    expect(allergies.locator("[data-row]")).to_have_count(2)
    expect(page.locator("#id_allergies-TOTAL_FORMS")).to_have_value("2")
    second = row(page, "allergies", 2)
    expect(second.get_by_role("group", name="Allergy 2")).to_be_visible()
    expect(second.get_by_label("Allergic to")).to_be_focused()
    second.get_by_label("Allergic to").fill("Peanuts")
    second.get_by_label("Severity").select_option(label="Life-threatening")
    second.get_by_label("Reaction").fill("throat swells")

    # An empty list keeps one blank row to type in.
    medications = page.locator("#medications")
    expect(medications.locator("[data-row]")).to_have_count(1)
    first = row(page, "medications", 1)
    first.get_by_label("Name").fill("Thyroxine")
    first.get_by_label("Dose").fill("50 mcg")
    first.get_by_label("How often").fill("once a day")

    page.get_by_label("Past medical history").fill("Typhoid in 2010.")
    emergency = page.locator("#emergency")
    emergency.get_by_label("Name").fill("Ravi Rao")
    emergency.get_by_label("Phone number").fill("98123 45678")
    emergency.get_by_label("Relation to you").fill("husband")
    page.get_by_label("Address line 1").fill("12 Lakshmi Road")
    page.get_by_label("Town or city").fill("Pune")
    page.get_by_label("PIN or postal code").fill("411 001")
    assert_sound(page, problems)
    screenshot(page, "profile-edit-phone")
    # What a phone shows mid-form: Save and Cancel stay in reach.
    page.locator("#medications").scroll_into_view_if_needed()
    expect(page.get_by_role("button", name="Save profile")).to_be_in_viewport()
    page.screenshot(path=ARTIFACTS / "profile-edit-phone-viewport.png")

    page.get_by_role("button", name="Save profile").tap()

    expect(page).to_have_url(re.compile(r"/account/profile/$"))
    expect(page.locator(".alert--success")).to_contain_text("Your profile is saved.")
    expect(page.locator("[data-stat=bmi]")).to_contain_text("23.5")
    expect(page.locator("[data-stat=bmi]")).to_contain_text("170 cm · 68 kg")
    expect(page.locator("[data-list=allergies]")).to_contain_text("Peanuts")
    expect(page.locator("[data-list=allergies]")).to_contain_text("Life-threatening")
    expect(page.locator("[data-list=medications]")).to_contain_text("50 mcg · once a day")
    expect(page.get_by_role("link", name="+91 98123 45678")).to_have_attribute("href", "tel:+919812345678")
    assert_sound(page, problems)
    screenshot(page, "profile-phone")

    # Nothing scrolls sideways on the narrowest phone we support either; and a desktop look.
    for path in (reverse("patients:profile"), reverse("patients:profile_edit")):
        page.goto(path)
        page.set_viewport_size({"width": 360, "height": 740})
        assert_sound(page, problems)
        page.set_viewport_size({"width": 1280, "height": 800})
        screenshot(page, "profile-desktop" if path.endswith("profile/") else "profile-edit-desktop")
        page.set_viewport_size(PHONE)

    profile = PatientProfile.objects.get(pk=profile.pk)
    assert profile.bmi == Decimal("23.53")
    assert profile.allergies == [
        {"name": "Pollen", "severity": "moderate"},
        {"name": "Peanuts", "severity": "life_threatening", "reaction": "throat swells"},
    ]
    assert profile.medications == [{"name": "Thyroxine", "dosage": "50 mcg", "frequency": "once a day"}]
    assert profile.preferred_language == "mr"
    assert profile.postal_code == "411001"
    assert profile.emergency_contact_phone == "+919812345678"


def test_the_profile_editor_works_without_javascript(browser, live_server):
    profile = PatientProfileFactory(full_name="Asha Rao", allergies=[{"name": "Pollen", "severity": "moderate"}])
    context = browser.new_context(
        java_script_enabled=False,
        base_url=live_server.url,
        locale="en-IN",
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        problems = watch(page)
        sign_in(page, profile.user.email)
        page.goto(reverse("patients:profile_edit"))

        allergies = page.locator("#allergies")
        expect(allergies.get_by_role("button", name="Add another allergy")).to_be_hidden()
        # The saved row can be removed; a blank row takes the new allergy.
        row(page, "allergies", 1).get_by_label("Remove").check()
        second = row(page, "allergies", 2)
        second.get_by_label("Allergic to").fill("House dust")
        second.get_by_label("Severity").select_option(label="Mild")
        # A severity without a name, and a five-digit PIN: both refused.
        row(page, "allergies", 3).get_by_label("Severity").select_option(label="Severe")
        page.get_by_label("PIN or postal code").fill("12345")
        page.get_by_role("button", name="Save profile").tap()

        summary = page.locator("[data-error-summary]")
        expect(summary).to_contain_text("Nothing was saved. Please fix these 2 things")
        pin = page.get_by_label("PIN or postal code")
        expect(pin).to_have_attribute("aria-invalid", "true")
        expect(page.locator(".field--error").filter(has=pin).locator(".field__error")).to_have_text(PIN_INVALID)
        third = row(page, "allergies", 3)
        expect(third.get_by_label("Allergic to")).to_have_attribute("aria-invalid", "true")
        expect(third.locator(".field--error").filter(has=page.get_by_label("Allergic to"))).to_contain_text(
            "Name the allergy"
        )
        # What was typed is still there, the removal still ticked.
        expect(row(page, "allergies", 1).get_by_label("Remove")).to_be_checked()
        expect(row(page, "allergies", 2).get_by_label("Allergic to")).to_have_value("House dust")
        assert_sound(page, problems)
        screenshot(page, "profile-edit-errors-nojs-phone")
        assert PatientProfile.objects.get(pk=profile.pk).allergies == [{"name": "Pollen", "severity": "moderate"}]

        summary.get_by_role("link", name=re.compile("PIN or postal code")).click()
        page.get_by_label("PIN or postal code").fill("411001")
        row(page, "allergies", 3).get_by_label("Severity").select_option(label="Not sure")
        page.get_by_role("button", name="Save profile").tap()

        expect(page).to_have_url(re.compile(r"/account/profile/$"))
        allergy_list = page.locator("[data-list=allergies]")
        expect(allergy_list).to_contain_text("House dust")
        expect(allergy_list).not_to_contain_text("Pollen")
        expect(page.locator("[data-stat=bmi]")).to_contain_text("22.1")
        assert_sound(page, problems)
        screenshot(page, "profile-nojs-phone")
        assert PatientProfile.objects.get(pk=profile.pk).allergies == [{"name": "House dust", "severity": "mild"}]
    finally:
        context.close()
