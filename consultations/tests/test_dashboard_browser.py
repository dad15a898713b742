"""The dashboards and the waiting room in a real browser, on 390px phones.

A doctor sees a new video booking on her dashboard and opens its waiting room;
her patient, on another phone (a second browser context), joins from his
dashboard, sees that the doctor has joined, and is told he is admitted and
taken to the consultation page when she presses "Admit and start". Then she
completes it from the consultation page.

Every page is checked on the way: no console errors or failed requests,
nothing wider than the phone, no inline script or style in the served HTML.
Screenshots go to test-artifacts/ (gitignored) for a person to judge.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from consultations.models import Consultation
from consultations.tests.factories import ConsultationFactory, MessageFactory
from dhanwantari.testing.browser import assert_sound, screenshot, sign_in
from dhanwantari.testing.browser import watch_for_problems as watch
from doctors.tests.factories import DoctorProfileFactory
from patients.tests.factories import PatientProfileFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DASHBOARD = reverse("consultations:dashboard")
# The patient's page asks every 5 s and moves 3 s after being admitted.
WAIT_MS = 15_000


def assert_big_enough(page: Page, selector: str) -> None:
    """Every visible button or button-link in `selector` is at least 44px tall (a thumb's width)."""
    heights = page.locator(f"{selector} .button").evaluate_all(
        "els => els.filter(e => e.offsetParent !== null).map(e => e.getBoundingClientRect().height)"
    )
    assert heights, f"no buttons in {selector}"
    assert min(heights) >= 40, heights  # .button--small is 40px; the rest 44px or more


def test_the_doctor_admits_a_waiting_patient_and_both_phones_follow(phone_page: Page, second_phone: Page):
    doctor = DoctorProfileFactory(full_name="Dr. Asha Kulkarni")
    patient = PatientProfileFactory(full_name="Meera Iyer")
    consultation = ConsultationFactory(
        doctor=doctor.user,
        patient=patient.user,
        mode="video",
        scheduled_at=timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=6),
        chief_complaint="Right-sided headache for three weeks, worse in the sun",
    )
    ConsultationFactory(
        doctor=doctor.user,
        patient=PatientProfileFactory(full_name="Arjun Rao").user,
        mode="in_person",
        scheduled_at=timezone.now() + timedelta(days=2),
        payment_method="pay_at_clinic",
    )
    MessageFactory(consultation=consultation, sender=patient.user, body="I have my reports ready.")

    # The doctor sees the booking on her dashboard, with Start already offered.
    clinic = phone_page
    clinic_problems = watch(clinic)
    sign_in(clinic, doctor.user.email)
    clinic.get_by_role("navigation", name="Main").get_by_role("link", name="Appointments").tap()
    expect(clinic.get_by_role("heading", level=1)).to_have_text("Your appointments")
    booking = clinic.locator(f'[data-consultation="{consultation.pk}"]')
    expect(booking).to_contain_text("Meera Iyer")
    expect(booking).to_contain_text("1 unread message")
    expect(booking.get_by_role("button", name="Start consultation with Meera Iyer")).to_be_visible()
    assert_sound(clinic, clinic_problems)
    assert_big_enough(clinic, f'[data-consultation="{consultation.pk}"]')
    screenshot(clinic, "doctor-dashboard-phone")

    # The patient joins from his dashboard; the doctor is not there yet.
    home = second_phone
    home_problems = watch(home)
    sign_in(home, patient.user.email)
    home.goto(DASHBOARD)
    expect(home.get_by_role("heading", level=1)).to_have_text("Your consultations")
    mine = home.locator(f'[data-consultation="{consultation.pk}"]')
    expect(mine).to_contain_text("Dr. Asha Kulkarni")
    assert_sound(home, home_problems)
    screenshot(home, "patient-dashboard-phone")
    mine.get_by_role("link", name="Join the waiting room for Dr. Asha Kulkarni").tap()
    expect(home.get_by_role("heading", level=1)).to_have_text("Waiting room")
    presence = home.get_by_role("status")
    expect(presence).to_have_text("Dr. Asha Kulkarni has not joined yet.")
    expect(home.locator("[data-countdown]")).to_have_text(re.compile(r"^Starts in \d+ min \d\d s$"))
    expect(home.get_by_role("button", name="Let the doctor know I'm here")).to_be_hidden()

    # The doctor opens the waiting room: each sees the other.
    booking.get_by_role("link", name="Open the waiting room for Meera Iyer").tap()
    expect(clinic.get_by_role("status")).to_have_text("Meera Iyer is waiting.", timeout=WAIT_MS)
    expect(presence).to_have_text("Dr. Asha Kulkarni has joined and will admit you shortly.", timeout=WAIT_MS)
    assert_sound(home, home_problems)
    assert_sound(clinic, clinic_problems)
    screenshot(home, "waiting-room-patient-phone")
    screenshot(clinic, "waiting-room-doctor-phone")

    # Admit and start: the doctor lands in the room, the patient is told and follows.
    clinic.get_by_role("button", name="Admit and start").tap()
    room = reverse("consultations:detail", args=[consultation.pk])
    expect(clinic).to_have_url(re.compile(rf"{room}#room$"))
    expect(clinic.get_by_role("heading", name="The consultation room opens here")).to_be_visible()
    expect(clinic.get_by_text("The consultation has started.")).to_be_visible()
    expect(presence).to_contain_text("Dr. Asha Kulkarni has admitted you.", timeout=WAIT_MS)
    expect(home.locator("[data-admitted]")).to_be_visible()
    screenshot(home, "waiting-room-admitted-phone")
    expect(home).to_have_url(re.compile(rf"{room}#room$"), timeout=WAIT_MS)
    expect(home.get_by_role("heading", name="The consultation room opens here")).to_be_visible()
    assert Consultation.objects.get(pk=consultation.pk).status == "in_progress"
    assert_sound(home, home_problems)
    assert_sound(clinic, clinic_problems)
    screenshot(clinic, "consultation-in-progress-doctor-phone")

    # The doctor completes it from the consultation page.
    clinic.get_by_role("button", name="Complete").tap()
    expect(clinic.get_by_text("The consultation is complete.")).to_be_visible()
    expect(clinic.locator('[data-status="completed"]').first).to_be_visible()
    assert Consultation.objects.get(pk=consultation.pk).status == "completed"
    assert_sound(clinic, clinic_problems)
    screenshot(clinic, "consultation-completed-doctor-phone")


def test_a_refused_quick_action_is_explained_on_the_dashboard(phone_page: Page):
    doctor = DoctorProfileFactory(full_name="Dr. Asha Kulkarni")
    consultation = ConsultationFactory(
        doctor=doctor.user,
        patient=PatientProfileFactory(full_name="Meera Iyer").user,
        scheduled_at=timezone.now() + timedelta(minutes=8),
    )
    page = phone_page
    sign_in(page, doctor.user.email)
    page.goto(DASHBOARD)
    start = page.get_by_role("button", name="Start consultation with Meera Iyer")
    expect(start).to_be_visible()
    # Meanwhile the patient cancels on another device.
    Consultation.objects.filter(pk=consultation.pk).update(status="cancelled", cancellation_reason="Fever gone")
    start.tap()
    expect(page).to_have_url(re.compile(rf"{DASHBOARD}$"))
    expect(page.get_by_text("A consultation that is cancelled cannot be moved on like that")).to_be_visible()
    expect(page.locator(f'[data-consultation="{consultation.pk}"]')).to_have_count(0)
