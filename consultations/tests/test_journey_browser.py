"""Issue 5's journeys end to end, in a real browser on 390px phones.

A new patient finds a doctor, taps a free time, books it and is told how to
pay; the doctor, on a second phone, finds the booking on her dashboard and
records the payment, and the patient sees it paid. The same with Razorpay
Checkout against the fake gateway. A patient cancels one of two bookings from
the dashboard, is told beforehand that the whole fee comes back and then sees
the refund owed (or, paid through Razorpay, refunded). A patient moves a
booking to another time.

Every page on the way is checked: no console errors or failed requests,
nothing wider than the phone, no inline script or style in the served HTML.
Screenshots go to test-artifacts/ (gitignored) for a person to judge.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import dateformat, timezone
from playwright.sync_api import Page, expect

from consultations.models import Consultation
from consultations.tests.factories import ConsultationFactory
from consultations.views.booking import BOOKED_PAY, BOOKED_PAY_CLINIC
from dhanwantari.testing.browser import assert_sound, screenshot, sign_in, watch_for_problems
from dhanwantari.testing.fake_razorpay import FakeRazorpay
from doctors import services as doctor_services
from doctors.tests.factories import DoctorProfileFactory
from patients.tests.factories import PatientProfileFactory
from payments.tests.conftest import pay_with_razorpay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DASHBOARD = reverse("consultations:dashboard")


@pytest.fixture
def gateway(settings):
    """The fake Razorpay on loopback, with PAYMENT_PROVIDER and RAZORPAY_* pointing at it.

    The same as the `fake_razorpay` fixture of payments/tests/conftest.py, which
    this module cannot import without shadowing it in every test's arguments.
    """
    with FakeRazorpay() as fake:
        for name, value in fake.settings().items():
            setattr(settings, name, value)
        yield fake


def watch(page: Page):
    return watch_for_problems(page, loopback=True)


def listed_doctor(**fields):
    profile = DoctorProfileFactory(**fields)
    doctor_services.next_available_refresh(profile=profile)
    return profile


def when_shown(iso: str) -> datetime:
    """A <time datetime> or slot value as an aware datetime."""
    return datetime.fromisoformat(iso)


def card(page: Page, consultation_id: str):
    return page.locator(f'[data-consultation="{consultation_id}"]')


def find_and_book(page: Page, problems, *, doctor_name: str, patient, complaint: str, shot: str) -> Consultation:
    """From the directory: the doctor's page, the first free time, the booking form. Returns the booking."""
    page.goto(reverse("doctors:directory"))
    page.get_by_role("link", name=doctor_name).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(doctor_name)
    assert_sound(page, problems)
    screenshot(page, f"{shot}-doctor-profile-phone")

    first = page.locator(".doc-slot__link").first
    chosen = when_shown(first.locator("time").get_attribute("datetime"))
    first.tap()

    expect(page.get_by_role("heading", level=1)).to_have_text("Book a consultation")
    # The time tapped on the doctor's page is already chosen.
    picked = page.locator('input[name="slot"]:checked')
    expect(picked).to_have_count(1)
    assert when_shown(picked.get_attribute("value")) == chosen
    page.get_by_label("Video call").check()
    page.get_by_label("What is the main problem?").fill(complaint)
    page.get_by_label("Since when?").fill("Three weeks")
    page.get_by_label("How bad is it?").select_option("moderate")
    expect(page.locator('[aria-labelledby="step-fee"]')).to_contain_text("₹500")
    page.get_by_label("I agree to the fee and the cancellation policy").check()
    assert_sound(page, problems)
    screenshot(page, f"{shot}-book-phone")
    page.get_by_role("button", name="Book consultation").tap()

    expect(page.get_by_role("heading", level=1)).to_have_text("Payment")
    booking = Consultation.objects.get(patient=patient)
    assert booking.scheduled_at == chosen
    assert (booking.mode, booking.status, booking.payment_status) == ("video", "scheduled", "pending")
    assert booking.symptoms["complaints"][0]["severity"] == "moderate"
    return booking


def test_a_new_patient_books_pays_the_clinic_and_the_doctor_records_it(phone_page: Page, second_phone: Page):
    doctor = listed_doctor(full_name="Dr. Asha Kulkarni")
    patient = PatientProfileFactory(full_name="Meera Iyer").user
    complaint = "Right-sided headache for three weeks, worse in the sun"

    home = phone_page
    home_problems = watch(home)
    sign_in(home, patient.email)
    booking = find_and_book(
        home, home_problems, doctor_name="Dr. Asha Kulkarni", patient=patient, complaint=complaint, shot="offline"
    )

    # The pay page says the booking is made and how to pay the clinic.
    expect(home.get_by_text(BOOKED_PAY_CLINIC)).to_be_visible()
    expect(home.locator("[data-payment-status]")).to_have_text("Payment pending")
    expect(home.get_by_role("heading", name="Pay at the clinic")).to_be_visible()
    expect(home.locator(".pay-action")).to_contain_text("the clinic records its number here")
    expect(home.get_by_role("button", name=re.compile("^Pay "))).to_have_count(0)
    assert_sound(home, home_problems)
    screenshot(home, "offline-pay-phone")
    home.get_by_role("link", name="Your consultation").tap()
    expect(home.get_by_role("heading", level=1)).to_have_text("Dr. Asha Kulkarni")
    expect(home.locator('[data-section="payment"] [data-payment-status]')).to_have_text("Payment pending")
    assert_sound(home, home_problems)
    screenshot(home, "offline-consultation-unpaid-phone")

    # The doctor finds it on her dashboard, with the patient's name and complaint.
    clinic = second_phone
    clinic_problems = watch(clinic)
    sign_in(clinic, doctor.user.email)
    clinic.get_by_role("link", name="Appointments").tap()
    expect(clinic.get_by_role("heading", level=1)).to_have_text("Your appointments")
    row = card(clinic, booking.pk)
    expect(row).to_contain_text("Meera Iyer")
    expect(row).to_contain_text(complaint)
    expect(row.locator("[data-payment-status]")).to_have_text("Payment pending")
    # "Payments to record" lists a fee once its day has come. The first free
    # time is today when the suite runs in working hours, a later day after
    # them: the list must say so either way.
    due = clinic.locator('[data-money="payment"]')
    if timezone.localtime(booking.scheduled_at).date() == timezone.localdate():
        expect(due).to_contain_text("Meera Iyer")
    else:
        expect(due).to_have_count(0)
    assert_sound(clinic, clinic_problems)
    screenshot(clinic, "offline-doctor-dashboard-phone")

    # She opens it and records the payment with the receipt number.
    row.get_by_role("link", name="Meera Iyer", exact=True).tap()
    expect(clinic.get_by_role("heading", level=1)).to_have_text("Meera Iyer")
    assert_sound(clinic, clinic_problems)
    clinic.get_by_role("link", name="Record payment").tap()
    expect(clinic.get_by_role("heading", level=1)).to_have_text("Record a payment")
    expect(clinic.get_by_label("Amount received (INR)")).to_have_value("500.00")
    clinic.get_by_label("Receipt number").fill("AR-2026-0042")
    assert_sound(clinic, clinic_problems)
    screenshot(clinic, "offline-record-payment-phone")
    clinic.get_by_role("button", name="Record payment").tap()
    expect(clinic.get_by_text("Payment recorded. The patient has been told.")).to_be_visible()
    expect(clinic.locator('[data-section="payment"] [data-payment-status]')).to_have_text("Paid")
    assert_sound(clinic, clinic_problems)
    clinic.goto(DASHBOARD)
    expect(card(clinic, booking.pk).locator("[data-payment-status]")).to_have_text("Paid")
    expect(clinic.locator('[data-money="payment"]')).to_have_count(0)
    assert_sound(clinic, clinic_problems)

    # The patient reloads the consultation: paid, nothing more to do.
    home.reload()
    payment = home.locator('[data-section="payment"]')
    expect(payment.locator("[data-payment-status]")).to_have_text("Paid")
    expect(payment).to_contain_text("Paid. Thank you.")
    expect(payment.get_by_role("link", name="Pay now")).to_have_count(0)
    assert_sound(home, home_problems)
    screenshot(home, "offline-consultation-paid-phone")
    row = Consultation.objects.get(pk=booking.pk)
    assert (row.payment_status, row.payment_method, row.payment_reference) == ("paid", "offline", "AR-2026-0042")


def test_a_new_patient_books_and_pays_through_razorpay_and_the_doctor_sees_it_paid(
    phone_page: Page, second_phone: Page, gateway, live_server
):
    # Razorpay also sends its webhooks (payment.captured, order.paid), as it would.
    gateway.webhook_url = live_server.url + reverse("payments:razorpay_webhook")
    doctor = listed_doctor(full_name="Dr. Asha Kulkarni")
    patient = PatientProfileFactory(full_name="Meera Iyer").user

    home = phone_page
    home_problems = watch(home)
    sign_in(home, patient.email)
    booking = find_and_book(
        home,
        home_problems,
        doctor_name="Dr. Asha Kulkarni",
        patient=patient,
        complaint="Eczema on both hands, itching at night",
        shot="razorpay",
    )

    expect(home.get_by_text(BOOKED_PAY)).to_be_visible()
    expect(home.locator("[data-payment-status]")).to_have_text("Payment pending")
    pay = home.get_by_role("button", name="Pay INR 500.00")
    expect(pay).to_be_visible()
    assert_sound(home, home_problems)
    screenshot(home, "razorpay-pay-phone")
    pay.tap()
    dialog = home.get_by_role("dialog", name="Razorpay test checkout")
    expect(dialog).to_contain_text("Consultation with Dr. Asha Kulkarni: INR 500.00")
    dialog.get_by_role("button", name="Pay", exact=True).tap()

    expect(home.locator("[data-payment-status]")).to_have_text("Paid")
    expect(home.get_by_text("Payment received. Thank you!")).to_be_visible()
    expect(home.locator("[data-payment-result]")).to_contain_text("nothing more is owed")
    assert_sound(home, home_problems)
    screenshot(home, "razorpay-paid-phone")
    home.get_by_role("link", name="Your consultation").tap()
    payment = home.locator('[data-section="payment"]')
    expect(payment.locator("[data-payment-status]")).to_have_text("Paid")
    expect(payment).to_contain_text("Razorpay")
    assert_sound(home, home_problems)

    row = Consultation.objects.get(pk=booking.pk)
    assert (row.payment_status, row.payment_method) == ("paid", "razorpay")
    assert gateway.webhooks_sent == [("payment.captured", 200), ("order.paid", 200)]

    # The doctor sees it booked and paid: nothing for her to record.
    clinic = second_phone
    clinic_problems = watch(clinic)
    sign_in(clinic, doctor.user.email)
    clinic.goto(DASHBOARD)
    mine = card(clinic, booking.pk)
    expect(mine).to_contain_text("Meera Iyer")
    expect(mine.locator("[data-payment-status]")).to_have_text("Paid")
    expect(clinic.locator('[data-section="money"]')).to_have_count(0)
    assert_sound(clinic, clinic_problems)
    screenshot(clinic, "razorpay-doctor-dashboard-phone")


def test_a_patient_cancels_a_paid_booking_from_the_dashboard_and_sees_the_refund_owed(phone_page: Page):
    patient = PatientProfileFactory(full_name="Meera Iyer").user
    asha = DoctorProfileFactory(full_name="Dr. Asha Kulkarni").user
    ravi = DoctorProfileFactory(full_name="Dr. Ravi Menon").user
    paid = ConsultationFactory(
        patient=patient,
        doctor=asha,
        scheduled_at=timezone.now() + timedelta(days=3),
        payment_status="paid",
        payment_method="offline",
        payment_reference="AR-2026-0042",
        paid_at=timezone.now() - timedelta(hours=1),
    )
    other = ConsultationFactory(
        patient=patient,
        doctor=ravi,
        mode="in_person",
        scheduled_at=timezone.now() + timedelta(days=4),
        payment_method="pay_at_clinic",
    )

    page = phone_page
    problems = watch(page)
    sign_in(page, patient.email)
    page.get_by_role("link", name="My consultations").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your consultations")
    expect(card(page, paid.pk).locator("[data-payment-status]")).to_have_text("Paid")
    expect(card(page, other.pk).locator("[data-payment-status]")).to_have_text("Pay at the clinic")
    assert_sound(page, problems)
    screenshot(page, "cancel-dashboard-before-phone")

    # The cancel page says beforehand that the whole fee comes back.
    card(page, paid.pk).get_by_role("link", name="Cancel with Dr. Asha Kulkarni").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel this consultation?")
    expect(page.locator("[data-refund-summary]")).to_contain_text(
        "You will get the full INR 500.00 back. The clinic gives it back to you and records it here."
    )
    assert_sound(page, problems)
    screenshot(page, "cancel-page-phone")
    page.get_by_role("button", name="Cancel the consultation").tap()
    # A scheduled consultation needs a reason: asked for, nothing cancelled.
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel this consultation?")
    expect(page.get_by_text("Please give a reason for cancelling a scheduled consultation.")).to_be_visible()
    assert Consultation.objects.get(pk=paid.pk).status == "scheduled"
    assert_sound(page, problems)
    page.get_by_label("Why are you cancelling?").fill("The headache has gone; I am travelling that week.")
    page.get_by_role("button", name="Cancel the consultation").tap()

    # The consultation page: cancelled, refund owed by the clinic.
    expect(page.get_by_role("heading", level=1)).to_have_text("Dr. Asha Kulkarni")
    expect(
        page.get_by_text(
            "The consultation is cancelled. A refund of INR 500.00 is on its way. "
            "The clinic gives it back to you and records it here."
        )
    ).to_be_visible()
    expect(page.locator('[data-status="cancelled"]').first).to_be_visible()
    payment = page.locator('[data-section="payment"]')
    expect(payment.locator("[data-payment-status]")).to_have_text("Refund pending")
    expect(payment).to_contain_text("Your refund is on its way.")
    expect(page.locator("[data-cancellation-reason]")).to_have_text("The headache has gone; I am travelling that week.")
    assert_sound(page, problems)
    screenshot(page, "cancel-consultation-refund-pending-phone")

    # The dashboard: the other booking is untouched, the cancelled one is in
    # the past consultations with its refund state.
    page.get_by_role("link", name="Your consultations").tap()
    expect(card(page, paid.pk)).to_have_count(0)
    expect(card(page, other.pk).locator('[data-status="scheduled"]')).to_be_visible()
    past = page.locator('[data-section="history"] .history-list__item', has_text="Dr. Asha Kulkarni")
    expect(past.locator('[data-status="cancelled"]')).to_be_visible()
    expect(past.locator("[data-payment-status]")).to_have_text("Refund pending")
    assert_sound(page, problems)
    screenshot(page, "cancel-dashboard-after-phone")

    cancelled, untouched = Consultation.objects.get(pk=paid.pk), Consultation.objects.get(pk=other.pk)
    assert (cancelled.status, cancelled.payment_status, cancelled.refund_amount) == (
        "cancelled",
        "refund_pending",
        Decimal("500.00"),
    )
    assert (untouched.status, untouched.payment_status, untouched.scheduled_at) == (
        "scheduled",
        "pending",
        other.scheduled_at,
    )


def test_a_booking_paid_through_razorpay_and_cancelled_ends_refunded(phone_page: Page, gateway):
    patient = PatientProfileFactory(full_name="Meera Iyer").user
    booking = ConsultationFactory(
        patient=patient,
        doctor=DoctorProfileFactory(full_name="Dr. Asha Kulkarni").user,
        scheduled_at=timezone.now() + timedelta(days=3),
    )
    pay_with_razorpay(gateway, booking)

    page = phone_page
    problems = watch(page)
    sign_in(page, patient.email)
    page.goto(reverse("consultations:detail", args=[booking.pk]))
    expect(page.locator('[data-section="payment"] [data-payment-status]')).to_have_text("Paid")
    page.get_by_role("link", name="Cancel", exact=True).tap()
    expect(page.locator("[data-refund-summary]")).to_contain_text(
        "You will get the full INR 500.00 back. It goes back to the account you paid from."
    )
    page.get_by_label("Why are you cancelling?").fill("I have to travel for work.")
    page.get_by_role("button", name="Cancel the consultation").tap()

    # Razorpay takes the refund at once (the fake processes it): refunded.
    expect(page.get_by_text("The consultation is cancelled. A refund of INR 500.00 is on its way.")).to_be_visible()
    payment = page.locator('[data-section="payment"]')
    expect(payment.locator("[data-payment-status]")).to_have_text("Refunded")
    expect(payment).to_contain_text("The refund has been made.")
    assert_sound(page, problems)
    screenshot(page, "cancel-razorpay-refunded-phone")
    page.goto(reverse("payments:pay", args=[booking.pk]))
    expect(page.locator("[data-payment-result]")).to_contain_text("Refunded. INR 500.00 went back to you")
    assert_sound(page, problems)

    row = Consultation.objects.get(pk=booking.pk)
    assert (row.status, row.payment_status, row.refund_amount) == ("cancelled", "refunded", Decimal("500.00"))
    assert [refund["amount"] for refund in gateway.refunds.values()] == [50000]


def test_a_patient_moves_a_booking_to_another_time(phone_page: Page):
    patient = PatientProfileFactory(full_name="Meera Iyer").user
    booking = ConsultationFactory(
        patient=patient,
        doctor=DoctorProfileFactory(full_name="Dr. Asha Kulkarni").user,
        scheduled_at=timezone.now() + timedelta(days=3),
        mode="video",
    )

    page = phone_page
    problems = watch(page)
    sign_in(page, patient.email)
    page.goto(DASHBOARD)
    card(page, booking.pk).get_by_role("link", name="Dr. Asha Kulkarni", exact=True).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dr. Asha Kulkarni")
    page.get_by_role("link", name="Reschedule").tap()

    expect(page.get_by_role("heading", level=1)).to_have_text("Move to another time")
    expect(page.get_by_text("You can move this booking 2 more times.")).to_be_visible()
    assert_sound(page, problems)
    screenshot(page, "reschedule-page-phone")
    # Another day than the first: open it and take its first time.
    day = page.locator(".bk-day").nth(1)
    day.locator("summary").tap()
    slot = day.locator('input[name="slot"]').first
    new_time = when_shown(slot.get_attribute("value"))
    day.locator(".bk-slot").first.tap()
    expect(slot).to_be_checked()
    page.get_by_role("button", name="Move the consultation").tap()

    local = timezone.localtime(new_time)
    clock = dateformat.format(local, "g:i A")
    expect(
        page.get_by_text(f"The consultation has moved to {local:%a} {local.day} {local:%b %Y}, {clock}.")
    ).to_be_visible()
    expect(page.locator("[data-when] time")).to_have_attribute("datetime", local.isoformat())
    expect(page.locator("[data-when]")).to_contain_text(f"{local:%A} {local.day} {local:%B %Y}, {clock}")
    assert_sound(page, problems)
    screenshot(page, "reschedule-moved-phone")
    page.get_by_role("link", name="Reschedule").tap()
    expect(page.get_by_text("You can move this booking 1 more time.")).to_be_visible()

    row = Consultation.objects.get(pk=booking.pk)
    assert (row.scheduled_at, row.reschedule_count, row.status) == (new_time, 1, "scheduled")
