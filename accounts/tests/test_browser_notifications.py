"""The notification centre and its settings in a real browser, on a phone and a desktop.

Screenshots go to test-artifacts/ (gitignored) so a person can judge the design.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Notification
from accounts.tests.factories import NotificationFactory
from patients.tests.factories import patient_with_profile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"

# notifications.css: .ntf--unread .ntf__inner { background: var(--color-surface-tinted) } = teal-50 #eef7f5.
UNREAD_BACKGROUND = "rgb(238, 247, 245)"


@pytest.fixture
def patient():
    return patient_with_profile(full_name="Asha Rao")


def sign_in(page: Page, user, live_server) -> None:
    """Use a session made by Django's test client: the sign-in form has its own tests."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


@pytest.fixture
def inbox(patient):
    """What a patient's week looks like: unread news on top, older read ones below."""
    now = timezone.now()
    make = NotificationFactory
    make(
        user=patient,
        kind="consultation_reminder",
        title="Your video consultation starts in 1 hour",
        body="Dr. Meera Kulkarni · today at 4:30 PM. Join from your consultation page a few minutes early.",
        deeplink="/",
        created_at=now - timedelta(minutes=12),
    )
    make(
        user=patient,
        kind="prescription_issued",
        title="Dr. Arjun Venkataraman issued your prescription",
        body="Open it to see how and when to take your remedies.",
        deeplink="/",
        created_at=now - timedelta(hours=3),
    )
    make(
        user=patient,
        kind="message_received",
        title="New message from Dr. Farah Siddiqui",
        body="",
        deeplink="/",
        created_at=now - timedelta(hours=26),
    )
    make(
        user=patient,
        kind="payment_received",
        title="Payment received: ₹800 for your consultation on 2 December",
        body="Your receipt is in your account.",
        deeplink="",
        created_at=now - timedelta(days=3),
        read_at=now - timedelta(days=2),
    )
    make(
        user=patient,
        kind="welcome",
        title="Welcome to Dhanwantari",
        body="Confirm your email address so you can book consultations. Your records stay private to you and "
        "the doctors you consult.",
        deeplink="/",
        created_at=now - timedelta(days=9),
        read_at=now - timedelta(days=8),
    )


def has_no_horizontal_overflow(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_notification_centre_on_a_phone(phone_page: Page, live_server, patient, inbox):
    page = phone_page
    sign_in(page, patient, live_server)

    page.goto("/notifications/", wait_until="networkidle")

    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    expect(page.get_by_text("3 unread")).to_be_visible()
    items = page.locator(".ntf")
    expect(items).to_have_count(5)
    expect(items.first).to_contain_text("Your video consultation starts in 1 hour")
    expect(items.first).to_contain_text("12 minutes ago")
    expect(items.first.locator(".ntf__inner")).to_have_css("background-color", UNREAD_BACKGROUND)
    expect(items.nth(3).locator(".ntf__inner")).to_have_css("background-color", "rgba(0, 0, 0, 0)")
    assert has_no_horizontal_overflow(page)
    # Every button is a comfortable thumb target.
    for button in page.locator(".ntf-page button").all():
        assert button.bounding_box()["height"] >= 40

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "notifications-phone.png", full_page=True)

    # Mark one read: it loses its unread look, without JavaScript.
    items.nth(1).get_by_role("button", name="Mark read").tap()
    expect(page.get_by_text("2 unread")).to_be_visible()
    expect(page.locator(".ntf--unread")).to_have_count(2)

    # Open follows the deeplink and marks it read.
    page.locator(".ntf").first.get_by_role("button", name="Open").tap()
    page.wait_for_url(f"{live_server.url}/")
    assert Notification.objects.filter(user=patient, read_at__isnull=True).count() == 1

    page.goto("/notifications/")
    page.get_by_role("button", name="Mark all as read").tap()
    expect(page.get_by_text("Marked 1 notification as read.")).to_be_visible()
    expect(page.locator(".ntf--unread")).to_have_count(0)
    expect(page.get_by_role("button", name="Mark all as read")).to_have_count(0)


def test_the_notification_centre_on_a_desktop(page: Page, live_server, patient, inbox):
    sign_in(page, patient, live_server)

    page.goto("/notifications/", wait_until="networkidle")

    expect(page.locator(".ntf")).to_have_count(5)
    assert has_no_horizontal_overflow(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "notifications-desktop.png", full_page=True)


def test_an_empty_notification_centre_on_a_phone(phone_page: Page, live_server, patient):
    page = phone_page
    sign_in(page, patient, live_server)

    page.goto("/notifications/", wait_until="networkidle")

    expect(page.get_by_text("No notifications yet")).to_be_visible()
    assert has_no_horizontal_overflow(page)
    page.screenshot(path=ARTIFACTS / "notifications-empty-phone.png", full_page=True)


def test_notification_settings_on_a_phone(phone_page: Page, live_server, patient):
    page = phone_page
    sign_in(page, patient, live_server)

    page.goto("/account/notifications/", wait_until="networkidle")

    expect(page.get_by_role("heading", level=1)).to_have_text("Notification settings")
    expect(page.get_by_text("Text messages need a verified mobile number.")).to_be_visible()
    security = page.get_by_role("checkbox", name="Email: Security alerts about your account (always sent)")
    expect(security).to_be_checked()
    expect(security).to_be_disabled()
    assert has_no_horizontal_overflow(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "notification-settings-phone.png", full_page=True)

    # Tapping the cell around a checkbox ticks it; saving keeps the choice.
    booked_sms = page.get_by_role("checkbox", name="SMS: Booking confirmations")
    expect(booked_sms).not_to_be_checked()
    booked_sms.tap()
    page.get_by_role("button", name="Save choices").tap()
    expect(page.get_by_text("Your notification choices are saved.")).to_be_visible()
    expect(page.get_by_role("checkbox", name="SMS: Booking confirmations")).to_be_checked()
