"""Finding a doctor and setting working hours, in a real browser on a 390px phone.

A patient searches by specialisation near a city (then near where the phone
is), opens a doctor and sees their next free slots; a doctor signs in, sets
weekly hours with the "add" and "copy Monday" helpers and sees the preview
fill with slots; and the editor saves without JavaScript too.

Every page is checked on the way: no console errors or failed requests,
nothing wider than the phone, no inline script or style in the served HTML.
Screenshots go to test-artifacts/ (gitignored) for a person to judge.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from dhanwantari.testing.browser import assert_sound, screenshot, sign_in
from dhanwantari.testing.browser import watch_for_problems as watch
from doctors import geo, services
from doctors.models import DoctorProfile
from doctors.tests.factories import DoctorProfileFactory, DoctorReviewFactory, weekday_hours
from patients.tests.factories import PatientProfileFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def at(city: str) -> dict[str, Decimal]:
    latitude, longitude = geo.CITIES[city]
    return {"city": city, "latitude": Decimal(f"{latitude:.6f}"), "longitude": Decimal(f"{longitude:.6f}")}


def listed_doctor(**fields) -> DoctorProfile:
    profile = DoctorProfileFactory(availability=weekday_hours(), **fields)
    services.next_available_refresh(profile=profile)
    return profile


def test_a_patient_finds_a_doctor_near_a_city_and_sees_their_next_slots(phone_page: Page):
    page = phone_page
    problems = watch(page)
    pune = listed_doctor(
        full_name="Dr. Asha Kulkarni",
        specializations=["classical", "paediatrics"],
        clinic_name="Arogya Clinic",
        rating_avg=Decimal("4.50"),
        rating_count=2,
        **at("Pune"),
    )
    for name, rating, comment in [
        ("Meera Iyer", 5, "Took a full history and explained the remedy clearly. My son's eczema is much better."),
        ("Arjun Rao", 4, "Patient and thorough. The video call started on time."),
    ]:
        patient = PatientProfileFactory(full_name=name).user
        DoctorReviewFactory(
            consultation__doctor=pune.user, consultation__patient=patient, rating=rating, comment=comment
        )
    listed_doctor(full_name="Dr. Ravi Menon", specializations=["classical"], clinic_name="Sanjeevani", **at("Mumbai"))
    listed_doctor(full_name="Dr. Skin Only", specializations=["dermatology"], **at("Pune"))

    page.goto(reverse("doctors:directory"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a homeopathic doctor")
    expect(page.locator("[data-doctor-card]")).to_have_count(3)
    assert_sound(page, problems)
    screenshot(page, "directory-phone")

    page.get_by_label("Near", exact=True).fill("Pune")
    page.get_by_label("Within", exact=True).select_option("100")
    page.get_by_text("More filters").tap()
    page.get_by_label("Specialisation").select_option("classical")
    page.get_by_role("button", name="Search").tap()

    expect(page.get_by_role("heading", level=2, name=re.compile("doctor"))).to_have_text(
        "1 doctor within 100 km of Pune"
    )
    cards = page.locator("[data-doctor-card]")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Dr. Asha Kulkarni")
    expect(cards.first.locator("[data-distance]")).to_have_text("Under 1 km away")
    assert_sound(page, problems)

    page.get_by_label("Within", exact=True).select_option("any")
    page.get_by_role("button", name="Search").tap()
    expect(cards).to_have_count(2)
    expect(cards.nth(1)).to_contain_text("Dr. Ravi Menon")
    expect(cards.nth(1).locator("[data-distance]")).to_have_text(re.compile(r"^1[12]\d km away$"))
    screenshot(page, "directory-near-pune-phone")

    # The whole card is the link to the doctor's page.
    cards.first.tap()
    expect(page).to_have_url(re.compile(rf"/doctors/{pune.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Dr. Asha Kulkarni")
    expect(page.get_by_text("MH-HOM-")).to_be_visible()
    days = page.locator("[data-slot-days] > li")
    expect(days.first).to_be_visible()
    assert days.count() >= 4  # at least four weekdays fall in any seven days
    expect(days.first.locator("time").first).to_have_text(re.compile(r"^\d{1,2}:\d{2} [AP]M$"))
    expect(days.first.get_by_role("link").first).to_have_attribute("href", re.compile(r"/book/\?slot="))
    reviews = page.locator("#reviews")
    expect(reviews).to_contain_text("Meera · ")
    expect(reviews).not_to_contain_text("Iyer")
    assert_sound(page, problems)
    screenshot(page, "doctor-public-phone")


def test_a_patient_searches_near_where_their_phone_is(phone_page: Page):
    page = phone_page
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 19.0760, "longitude": 72.8777})  # Mumbai
    problems = watch(page)
    listed_doctor(full_name="Dr. Asha Kulkarni", **at("Pune"))
    listed_doctor(full_name="Dr. Ravi Menon", **at("Mumbai"))

    page.goto(reverse("doctors:directory"))
    page.get_by_role("button", name="Use my location").tap()

    expect(page.get_by_role("heading", level=2, name=re.compile("doctor"))).to_have_text(
        "1 doctor within 50 km of your location"
    )
    expect(page.locator("[data-doctor-card]").first).to_contain_text("Dr. Ravi Menon")
    expect(page.get_by_label("Sort by")).to_have_value("")  # best match: with a place, nearest first
    assert_sound(page, problems)
    screenshot(page, "directory-my-location-phone")


def test_a_doctor_sets_weekly_hours_on_a_phone_and_the_preview_shows_the_slots(phone_page: Page):
    page = phone_page
    problems = watch(page)
    profile = DoctorProfileFactory(
        full_name="Dr. Asha Kulkarni",
        availability={"timezone": "Asia/Kolkata", "slot_minutes": 20, "buffer_minutes": 5, "weekly": {}},
    )
    sign_in(page, profile.user.email)

    page.goto(reverse("doctors:availability"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your working hours")
    expect(page.locator("[data-preview-empty]")).to_be_visible()
    assert_sound(page, problems)
    screenshot(page, "availability-empty-phone")

    monday = page.locator('[data-day="mon"]')
    monday.get_by_label("From, Monday row 1").fill("09:00")
    monday.get_by_label("To, Monday row 1").fill("10:00")
    monday.get_by_role("button", name="Add hours on Monday").tap()
    monday.locator('input[name="mon-1-start"]').fill("18:00")
    monday.locator('input[name="mon-1-end"]').fill("19:00")
    page.get_by_role("button", name="Copy Monday to Tuesday–Friday").tap()
    expect(page.locator("[data-copy-status]")).to_contain_text("Copied Monday's 2 ranges")
    expect(page.locator('input[name="fri-1-start"]')).to_have_value("18:00")
    page.get_by_label("Consultation length (minutes)").fill("30")
    page.get_by_label("Break after each (minutes)").fill("0")
    screenshot(page, "availability-filled-phone")
    page.get_by_role("button", name="Save working hours").tap()

    expect(page.locator(".alert--success")).to_contain_text("Your working hours are saved")
    profile.refresh_from_db()
    expected_ranges = [{"start": "09:00", "end": "10:00"}, {"start": "18:00", "end": "19:00"}]
    assert profile.availability["weekly"] == dict.fromkeys(["mon", "tue", "wed", "thu", "fri"], expected_ranges)
    assert profile.availability["slot_minutes"] == 30
    preview = page.locator("[data-preview]")
    expect(preview).to_be_visible()
    expect(preview.locator("time", has_text="09:30").first).to_be_visible()
    expect(preview.locator("time", has_text="18:30").first).to_be_visible()
    assert profile.next_available_at is not None
    assert_sound(page, problems)
    screenshot(page, "availability-saved-phone")


def test_a_doctor_sees_a_refused_range_beside_its_day(phone_page: Page):
    page = phone_page
    problems = watch(page)
    profile = DoctorProfileFactory(availability=weekday_hours())
    sign_in(page, profile.user.email)

    page.goto(reverse("doctors:availability"))
    tuesday = page.locator('[data-day="tue"]')
    tuesday.locator('input[name="tue-2-start"]').fill("12:00")
    tuesday.locator('input[name="tue-2-end"]').fill("14:00")  # overlaps 10:00–13:00
    page.get_by_role("button", name="Save working hours").tap()

    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(tuesday.locator("#tue-errors")).to_have_text("Working ranges overlap.")
    profile.refresh_from_db()
    assert profile.availability == weekday_hours()
    # the error summary is 'problems'-free: a 200 with the form again
    assert_sound(page, problems)
    tuesday.scroll_into_view_if_needed()
    screenshot(page, "availability-error-phone")


def test_the_editor_saves_without_javascript(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        profile = DoctorProfileFactory(availability=weekday_hours())
        sign_in(page, profile.user.email)
        page.goto(reverse("doctors:availability"))
        expect(page.get_by_role("button", name="Copy Monday to Tuesday–Friday")).to_be_hidden()

        page.locator('input[name="sat-0-start"]').fill("10:00")
        page.locator('input[name="sat-0-end"]').fill("12:00")
        page.locator('input[name="mon-1-DELETE"]').check()
        page.locator('input[name="overrides-0-date"]').fill("2030-01-01")
        page.get_by_role("button", name="Save working hours").click()

        expect(page.locator(".alert--success")).to_be_visible()
        profile.refresh_from_db()
        assert profile.availability["weekly"]["sat"] == [{"start": "10:00", "end": "12:00"}]
        assert profile.availability["weekly"]["mon"] == [{"start": "10:00", "end": "13:00"}]
        assert profile.availability["overrides"] == [{"date": "2030-01-01", "ranges": []}]
    finally:
        context.close()
