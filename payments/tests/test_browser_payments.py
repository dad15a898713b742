"""A patient pays through Razorpay Checkout against the fake gateway, in a real browser.

Checked like every browser journey: no console errors or failed requests,
nothing wider than the phone, no inline script or style in what was served.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from consultations.models import Consultation
from dhanwantari.testing.browser import assert_sound, assert_sound_at_360, screenshot, sign_in, watch_for_problems
from payments.models import PaymentEvent
from payments.tests.conftest import booked

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch(page: Page):
    return watch_for_problems(page, loopback=True)


def test_a_patient_pays_with_razorpay_and_sees_paid(phone_page: Page, fake_razorpay):
    page = phone_page
    consultation = booked()
    problems = watch(page)
    sign_in(page, consultation.patient.email)

    page.goto(reverse("payments:pay", args=[consultation.pk]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment")
    expect(page.locator("[data-payment-status]")).to_have_text("Payment pending")
    pay = page.get_by_role("button", name="Pay INR 500.00")
    expect(pay).to_be_visible()
    assert_sound(page, problems)
    assert_sound_at_360(page, problems)
    screenshot(page, "pay-razorpay-phone")

    pay.tap()
    dialog = page.get_by_role("dialog", name="Razorpay test checkout")
    expect(dialog).to_contain_text("INR 500.00")
    dialog.get_by_role("button", name="Pay", exact=True).tap()

    # The handler posts Razorpay's answer; the server checks it and shows the truth.
    expect(page.locator("[data-payment-status]")).to_have_text("Paid")
    expect(page.get_by_text("Payment received. Thank you!")).to_be_visible()
    assert_sound(page, problems)
    screenshot(page, "pay-razorpay-paid-phone")
    row = Consultation.objects.get(pk=consultation.pk)
    assert (row.payment_status, row.payment_method) == ("paid", "razorpay")
    assert PaymentEvent.objects.get(consultation=row).event_type == "checkout.verified"


def test_a_failed_payment_is_shown_and_stays_unpaid(page: Page, fake_razorpay, live_server):
    consultation = booked()
    # The fake also sends Razorpay's payment.failed webhook, as the real one would.
    fake_razorpay.webhook_url = live_server.url + reverse("payments:razorpay_webhook")
    problems = watch(page)
    sign_in(page, consultation.patient.email)

    page.goto(reverse("payments:pay", args=[consultation.pk]))
    page.get_by_role("button", name="Pay INR 500.00").click()
    page.get_by_role("dialog", name="Razorpay test checkout").get_by_role("button", name="Fail").click()

    message = page.get_by_role("alert")
    expect(message).to_contain_text("Payment failed: Your payment could not be completed as the bank declined it.")
    expect(message).to_contain_text("You have not been charged")
    expect(page.get_by_role("button", name="Pay INR 500.00")).to_be_enabled()
    assert Consultation.objects.get(pk=consultation.pk).payment_status != "paid"
    screenshot(page, "pay-razorpay-failed")

    page.reload()
    expect(page.locator("[data-payment-status]")).to_have_text("Payment failed")
    expect(page.locator("[data-payment-failure]")).to_contain_text("the bank declined it")
    expect(page.get_by_role("button", name="Pay INR 500.00")).to_be_visible()
    assert_sound(page, problems)
    assert fake_razorpay.webhooks_sent == [("payment.failed", 200)]
    row = Consultation.objects.get(pk=consultation.pk)
    assert (row.payment_status, row.paid_at) == ("failed", None)
