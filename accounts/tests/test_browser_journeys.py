"""Account journeys in a real browser: sign-up (patient, doctor, by phone),
email confirmation, sign-out and sign-in, the lock after failed sign-ins.

Every page on the way is checked the same way: no console errors or failed
requests, nothing wider than a 360px phone, no inline script or style (the
Content-Security-Policy will forbid them). Screenshots go to test-artifacts/
(gitignored) so a person can judge the design.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.models import Notification, Role, User
from accounts.tests.factories import TEST_PASSWORD, PatientUserFactory
from dhanwantari.testing.browser import (
    NARROWEST_PHONE,
    assert_sound,
    assert_sound_at_360,
    screenshot,
    watch_for_problems,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "quiet-river-morning-42"


def link_in(message: mail.EmailMessage) -> str:
    """The one link in an email, as a path (the live server's host is the browser's base URL)."""
    urls = re.findall(r"https?://[^\s<>\"]+", message.body)
    assert len(urls) == 1, message.body
    return re.sub(r"^https?://[^/]+", "", urls[0])


def assert_header_is_one_row(page: Page) -> None:
    """From 1024px the brand, the main nav and the account links share one line."""
    main_nav = page.get_by_role("navigation", name="Main")
    tops = {
        round(box["y"] + box["height"] / 2)
        for box in (
            page.locator(".brand").bounding_box(),
            main_nav.get_by_role("link").first.bounding_box(),
            main_nav.get_by_role("link").last.bounding_box(),
            account_nav(page).locator("li").last.bounding_box(),
        )
    }
    assert max(tops) - min(tops) <= 4, f"header wraps: centres at {sorted(tops)}"


def account_nav(page: Page):
    """The header's account links (the settings pages have an "Account settings" nav too)."""
    return page.get_by_role("navigation", name="Account", exact=True)


def sign_in(page: Page, login: str, password: str) -> None:
    page.get_by_label("Email or mobile number").fill(login)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_patient_signs_up_on_a_phone_confirms_email_and_signs_back_in(phone_page: Page):
    page = phone_page
    page.set_viewport_size(NARROWEST_PHONE)
    problems = watch_for_problems(page)

    page.goto("/")
    expect(account_nav(page).get_by_role("link", name="Sign in")).to_be_in_viewport()
    account_nav(page).get_by_role("link", name="Sign up").tap()

    expect(page.get_by_role("heading", level=1)).to_have_text("Create your account")
    expect(page.locator("input[type=hidden][name=role]")).to_have_value("patient")
    assert_sound(page, problems)
    screenshot(page, "signup-phone")

    page.get_by_label("Full name").fill("Asha Rao")
    page.get_by_label("Email address").fill("asha@example.test")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account").tap()

    # Signed in straight away, on the overview, asked to confirm the email.
    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Asha Rao")
    banner = page.locator("[data-confirm-email-banner]")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Confirm your email to book consultations")
    expect(banner.get_by_role("link")).to_have_attribute("href", "/accounts/email/")
    expect(account_nav(page)).to_contain_text("Asha Rao")
    assert_sound(page, problems)
    screenshot(page, "dashboard-patient-phone")

    user = User.objects.get(email="asha@example.test")
    assert user.role == Role.PATIENT
    assert not user.email_verified

    # The link from the email shows a confirm button; confirming removes the banner.
    (confirmation,) = [m for m in mail.outbox if "asha@example.test" in m.to]
    assert "Confirm" in confirmation.subject
    page.goto(link_in(confirmation))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your email address")
    expect(page.get_by_text("asha@example.test").first).to_be_visible()
    assert_sound(page, problems)
    screenshot(page, "confirm-email-phone")
    page.get_by_role("button", name="Confirm").tap()

    expect(page.locator(".alert--success").first).to_contain_text("confirmed")
    user.refresh_from_db()
    assert user.email_verified
    page.goto("/account/")
    expect(page.locator("[data-confirm-email-banner]")).to_have_count(0)

    # Sign out is a button (a POST), then sign in again with email and password.
    account_nav(page).get_by_role("button", name="Sign out").tap()
    expect(account_nav(page).get_by_role("link", name="Sign in")).to_be_visible()
    account_nav(page).get_by_role("link", name="Sign in").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert_sound(page, problems)
    screenshot(page, "signin-phone")
    sign_in(page, "asha@example.test", NEW_PASSWORD)

    expect(page).to_have_url(re.compile(r"/account/$"))
    unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    assert unread >= 1
    bell = page.get_by_role("link", name=f"Notifications, {unread} unread")
    expect(bell).to_be_visible()
    expect(bell.locator("[data-unread-count]")).to_have_text(str(unread))
    expect(page.locator("[data-recent-notifications]")).to_contain_text("Welcome to Dhanwantari")
    assert_sound(page, problems)

    bell.tap()
    expect(page).to_have_url(re.compile(r"/notifications/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    expect(page.get_by_text("Welcome to Dhanwantari").first).to_be_visible()
    assert_sound(page, problems)


def test_sign_up_errors_sit_next_to_their_fields(phone_page: Page):
    page = phone_page
    page.set_viewport_size(NARROWEST_PHONE)
    problems = watch_for_problems(page)
    page.goto("/accounts/signup/")

    page.get_by_label("Full name").fill("Asha Rao")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD + "x")
    page.get_by_role("button", name="Create account").tap()

    expect(page.get_by_role("alert")).to_contain_text("Please check what is marked below.")
    email = page.get_by_label("Email address")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_email_error")).to_have_text("An account needs an email address or a phone number.")
    assert "id_email_error" in email.get_attribute("aria-describedby")
    password2 = page.get_by_label("Password again")
    expect(password2).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_password2_error")).to_contain_text("same password")
    # The field's error is inside the field's own box, under its input.
    assert page.locator(".field--error").filter(has=password2).locator(".field__error").count() == 1
    assert_sound(page, problems)
    screenshot(page, "signup-errors-phone")
    assert User.objects.count() == 0


def test_a_doctor_signs_up_and_is_told_what_verification_needs(page: Page):
    problems = watch_for_problems(page)
    page.goto("/")
    page.get_by_role("contentinfo").get_by_role("link", name="Join as a doctor").click()

    expect(page).to_have_url(re.compile(r"/accounts/signup/doctor/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Join as a homeopathic doctor")
    expect(page.get_by_text("Our staff verify your registration before patients can find or book you.")).to_be_visible()
    expect(page.locator("input[type=hidden][name=role]")).to_have_value("doctor")
    expect(page.get_by_role("link", name="Sign up as a patient")).to_be_visible()
    assert_sound(page, problems)
    assert_sound_at_360(page, problems)
    screenshot(page, "signup-doctor-desktop")

    page.get_by_label("Full name").fill("Dr. Meera Kulkarni")
    page.get_by_label("Email address").fill("meera@example.test")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create doctor account").click()

    expect(page).to_have_url(re.compile(r"/account/$"))
    status = page.locator("[data-verification-status]")
    expect(status).to_have_attribute("data-verification-status", "draft")
    expect(status).to_contain_text("Complete your profile and submit it for verification")
    expect(status).to_contain_text("registration number")
    # Doctors are not asked to confirm an email in order to book.
    expect(page.locator("[data-confirm-email-banner]")).to_have_count(0)
    assert_sound(page, problems)
    screenshot(page, "dashboard-doctor-desktop")
    assert_sound_at_360(page, problems)

    user = User.objects.get(email="meera@example.test")
    assert user.role == Role.DOCTOR
    assert user.doctor_profile.verification_status == "draft"
    assert not hasattr(user, "patient_profile")


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(page: Page):
    PatientUserFactory(email="locked@example.test")
    problems = watch_for_problems(page)
    page.goto("/accounts/login/")

    for _ in range(settings.LOGIN_LOCK_THRESHOLD):
        sign_in(page, "locked@example.test", "not-the-password")
        expect(page.get_by_role("alert")).to_be_visible()
    sign_in(page, "locked@example.test", TEST_PASSWORD)

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("locked until")
    expect(alert).to_be_in_viewport()
    expect(page.get_by_role("link", name="Forgot your password?")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    assert_sound(page, problems)
    screenshot(page, "signin-locked-desktop")
    assert_sound_at_360(page, problems)


def test_a_patient_signs_up_with_a_mobile_number_only(phone_page: Page, monkeypatch):
    texts: list[tuple[str, str]] = []
    monkeypatch.setattr("accounts.adapters.send_sms", lambda *, to, message: texts.append((to, message)))
    page = phone_page
    page.set_viewport_size(NARROWEST_PHONE)
    problems = watch_for_problems(page)
    page.goto("/accounts/signup/")

    page.get_by_label("Full name").fill("Ravi Kumar")
    page.get_by_label("Mobile number").fill("98123 45678")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account").tap()

    expect(page.get_by_role("heading", level=1)).to_have_text("Enter the code we texted you")
    ((to, message),) = texts
    assert to == "+919812345678"
    code = re.match(r"(\S+) is your Dhanwantari verification code", message).group(1)
    assert_sound(page, problems)
    screenshot(page, "verify-phone-phone")

    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Confirm").tap()

    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Ravi Kumar")
    assert_sound(page, problems)
    user = User.objects.get(phone="+919812345678")
    assert user.phone_verified
    assert user.email is None


SETTINGS_PAGES = [
    # (path, the settings link marked as the current page, the page's heading, screenshot)
    ("/account/", "Account overview", "Hello, Lakshmi Narayanan Subramaniam", "settings-overview"),
    ("/accounts/email/", "Email", "Email addresses", "settings-email"),
    ("/accounts/phone/change/", "Mobile number", "Mobile number", "settings-phone"),
    ("/accounts/password/change/", "Password", "Change your password", "settings-password"),
    ("/accounts/2fa/", "Two-factor authentication", "Two-factor authentication", "settings-2fa"),
    ("/account/delete/", "Close account", "Close your account", "settings-close-account"),
]


def test_account_settings_pages_share_one_layout_on_a_phone_and_a_desktop(phone_page: Page):
    from patients.tests.factories import PatientProfileFactory

    # A long name: the header must still fit a phone and a 1024px screen.
    profile = PatientProfileFactory(full_name="Lakshmi Narayanan Subramaniam")
    user = profile.user
    page = phone_page
    page.set_viewport_size(NARROWEST_PHONE)
    problems = watch_for_problems(page)
    page.goto("/accounts/login/")
    sign_in(page, user.email, TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/account/$"))

    for path, current, heading, name in SETTINGS_PAGES:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        settings_nav = page.get_by_role("navigation", name="Account settings")
        expect(settings_nav.locator("[aria-current=page]")).to_have_text(current)
        # The row of links scrolls sideways on a phone; the current one is brought into view.
        expect(settings_nav.locator("[aria-current=page]")).to_be_in_viewport()
        assert_sound(page, problems)
        screenshot(page, f"{name}-phone")
        page.set_viewport_size({"width": 1024, "height": 768})
        assert_sound(page, problems)
        assert_header_is_one_row(page)
        screenshot(page, f"{name}-desktop")
        page.set_viewport_size(NARROWEST_PHONE)
