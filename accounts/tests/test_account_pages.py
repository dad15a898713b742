"""The account pages as rendered: our layout around every allauth page, the
sign-up and sign-in forms with errors beside their fields, the header's
account links, the overview for patients and doctors, and the emails.

The browser journeys (accounts/tests/test_browser_journeys.py) prove the same
pages work when clicked through; these pin down what each page says and whom
it is for, quickly.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail, signing
from django.test import Client
from django.test.html import Element, parse_html
from django.urls import reverse
from django.utils import timezone

from accounts.models import EMAIL_OR_PHONE_REQUIRED, Role, User
from accounts.tests.factories import (
    TEST_PASSWORD,
    NotificationFactory,
    PatientUserFactory,
    StaffUserFactory,
)
from doctors.tests.factories import DoctorProfileFactory
from patients.tests.factories import PatientProfileFactory

pytestmark = pytest.mark.django_db

PASSWORD = "monsoon-ledger-4471-quiet"
BRAND = '<span class="brand__name">Dhanwantari</span>'


# --- helpers ---------------------------------------------------------------------


def html_of(response) -> Element:
    return parse_html(response.content.decode())


def find_all(node, predicate) -> list[Element]:
    """Every element under `node` (depth first) for which predicate(element) holds."""
    found = []
    for child in getattr(node, "children", []):
        if isinstance(child, Element):
            if predicate(child):
                found.append(child)
            found.extend(find_all(child, predicate))
    return found


def attr(element: Element, name: str) -> str | None:
    for key, value in element.attributes:
        if key == name:
            return value
    return None


def has_class(element: Element, name: str) -> bool:
    return name in (attr(element, "class") or "").split()


def by_id(node, element_id: str) -> Element:
    (element,) = find_all(node, lambda e: attr(e, "id") == element_id)
    return element


def text_of(node) -> str:
    if isinstance(node, str):
        return node
    return " ".join(text_of(child) for child in node.children)


def field_box(page: Element, input_id: str) -> Element:
    """The .field wrapper that holds the input with this id."""
    (box,) = [
        e for e in find_all(page, lambda e: has_class(e, "field")) if find_all(e, lambda i: attr(i, "id") == input_id)
    ]
    return box


def sign_in(client: Client, user) -> None:
    """Through the form, as a person would: allauth records when they authenticated
    (force_login does not, and the 2FA pages then ask to re-authenticate)."""
    response = client.post(reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.context["form"].errors


def sign_up(client: Client, url: str | None = None, **fields):
    data = {"full_name": "Asha Rao", "password1": PASSWORD, "password2": PASSWORD, "role": "patient", **fields}
    return client.post(url or reverse("account_signup"), data)


def assert_ours(response) -> None:
    """Rendered in our base layout, ready for a CSP without inline script or style."""
    assert response.status_code == 200
    content = response.content.decode()
    assert BRAND in content
    assert 'href="/static/css/app.css"' in content
    assert "style=" not in content
    assert not re.search(r"<script(?![^>]*\ssrc=)", content), "inline <script>"


# --- every page in our layout ----------------------------------------------------------


@pytest.mark.parametrize(
    "url_name",
    [
        "account_login",
        "account_signup",
        "account_signup_doctor",
        "account_reset_password",
        "account_reset_password_done",
    ],
)
def test_the_signed_out_pages_render_in_our_layout(client, url_name):
    response = client.get(reverse(url_name))

    assert_ours(response)
    assert 'class="entrance__card' in response.content.decode()


SETTINGS = [
    # (url name, the settings-nav link marked as the current page)
    ("accounts:dashboard", "Account overview"),
    ("account_email", "Email"),
    ("account_change_phone", "Mobile number"),
    ("account_change_password", "Password"),
    ("mfa_index", "Two-factor authentication"),
    ("accounts:delete", "Close account"),
]


@pytest.mark.parametrize(("url_name", "current"), SETTINGS)
def test_each_settings_page_renders_for_its_owner_with_the_settings_nav(client, url_name, current):
    sign_in(client, PatientProfileFactory(full_name="Asha Rao").user)

    response = client.get(reverse(url_name))

    assert_ours(response)
    page = html_of(response)
    (nav,) = find_all(page, lambda e: e.name == "nav" and attr(e, "aria-label") == "Account settings")
    (here,) = find_all(nav, lambda e: attr(e, "aria-current") == "page")
    assert text_of(here).strip() == current


@pytest.mark.parametrize(("url_name", "current"), SETTINGS)
def test_settings_pages_send_a_signed_out_visitor_to_sign_in(client, url_name, current):
    url = reverse(url_name)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert f"next={url}" in response["Location"].replace("%2F", "/")


def test_a_doctor_sees_the_same_settings_pages(client):
    sign_in(client, DoctorProfileFactory(verification_status="draft").user)

    for url_name, _ in SETTINGS:
        assert_ours(client.get(reverse(url_name)))


def test_setting_up_two_factor_asks_for_the_password_again_then_shows_the_qr_code(client):
    user = PatientUserFactory()
    sign_in(client, user)

    response = client.get(reverse("mfa_activate_totp"), follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("account_reauthenticate"))
    assert_ours(response)
    assert "Confirm it's you" in response.content.decode()

    response = client.post(response.redirect_chain[-1][0], {"password": TEST_PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("mfa_activate_totp")
    assert_ours(response)
    page = html_of(response)
    (qr,) = find_all(page, lambda e: e.name == "img" and has_class(e, "account-img--qr"))
    assert attr(qr, "src").startswith("data:image/svg+xml")
    (here,) = find_all(page, lambda e: attr(e, "aria-current") == "page")
    assert text_of(here).strip() == "Two-factor authentication"


def test_an_expired_confirmation_link_says_so_in_our_layout(client):
    response = client.get(reverse("account_confirm_email", args=["MQ:1abcde:not-a-real-signature"]))

    assert_ours(response)
    assert "This link has expired or was already used." in response.content.decode()


def test_a_spent_password_reset_link_says_so_in_our_layout(client):
    user = PatientUserFactory()

    response = client.get(
        reverse("account_reset_password_from_key", kwargs={"uidb36": user.pk, "key": "set-password"}), follow=True
    )

    assert_ours(response)
    assert "This link has expired" in response.content.decode()


def test_the_second_step_of_a_two_factor_sign_in_is_ours(client):
    from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value

    user = PatientUserFactory()
    secret = generate_totp_secret()
    TOTP.activate(user, secret)

    response = client.post(reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("mfa_authenticate")
    assert_ours(response)
    assert "Enter your code" in response.content.decode()

    code = format_hotp_value(hotp_value(secret, int(timezone.now().timestamp()) // 30))
    response = client.post(reverse("mfa_authenticate"), {"code": code})

    assert response.status_code == 302
    assert client.get(reverse("accounts:dashboard")).status_code == 200


# --- sign-up --------------------------------------------------------------------------


def test_the_patient_sign_up_invites_patients_and_carries_the_patient_role(client):
    response = client.get(reverse("account_signup"))

    page = html_of(response)
    assert text_of(find_all(page, lambda e: e.name == "h1")[0]).strip() == "Create your account"
    role = by_id(page, "id_role")
    assert (attr(role, "type"), attr(role, "value")) == ("hidden", "patient")
    (form,) = find_all(page, lambda e: e.name == "form" and has_class(e, "form--entrance"))
    assert attr(form, "action") == reverse("account_signup")
    assert find_all(page, lambda e: e.name == "a" and attr(e, "href") == reverse("account_signup_doctor"))
    assert find_all(page, lambda e: e.name == "a" and attr(e, "href") == reverse("account_login"))


def test_the_doctor_sign_up_says_staff_verify_and_carries_the_doctor_role(client):
    response = client.get(reverse("account_signup_doctor"))

    page = html_of(response)
    assert text_of(find_all(page, lambda e: e.name == "h1")[0]).strip() == "Join as a homeopathic doctor"
    assert "Our staff verify your registration before patients can find or book you." in text_of(page)
    role = by_id(page, "id_role")
    assert (attr(role, "type"), attr(role, "value")) == ("hidden", "doctor")
    # It posts to itself, so a form with errors comes back as the doctor page.
    (form,) = find_all(page, lambda e: e.name == "form" and has_class(e, "form--entrance"))
    assert attr(form, "action") == reverse("account_signup_doctor")
    assert find_all(page, lambda e: e.name == "a" and attr(e, "href") == reverse("account_signup"))


def test_mismatched_passwords_are_marked_on_the_second_password_and_nothing_is_created(client):
    response = sign_up(client, email="asha@example.test", password2=PASSWORD + "!")

    assert response.status_code == 200
    page = html_of(response)
    box = field_box(page, "id_password2")
    assert has_class(box, "field--error")
    assert "You must type the same password each time." in text_of(by_id(box, "id_password2_error"))
    password2 = by_id(box, "id_password2")
    assert attr(password2, "aria-invalid") == "true"
    assert "id_password2_error" in attr(password2, "aria-describedby")
    # The other fields are not marked.
    assert not has_class(field_box(page, "id_email"), "field--error")
    assert not User.objects.exists()
    assert mail.outbox == []


def test_neither_email_nor_phone_is_marked_on_the_email_field_and_nothing_is_created(client):
    response = sign_up(client)

    page = html_of(response)
    box = field_box(page, "id_email")
    assert has_class(box, "field--error")
    assert text_of(by_id(box, "id_email_error")).strip() == EMAIL_OR_PHONE_REQUIRED
    assert attr(by_id(box, "id_email"), "aria-describedby") == "id_email_helptext id_email_error"
    assert not User.objects.exists()


def test_a_tampered_role_is_refused_in_the_alert_at_the_top_and_nothing_is_created(client):
    response = sign_up(client, email="asha@example.test", role="admin")

    assert response.status_code == 200
    page = html_of(response)
    (alert,) = find_all(page, lambda e: attr(e, "role") == "alert")
    assert "admin is not one of the available choices" in text_of(alert)
    # No visible field is to blame, so the alert does not send the person looking for one.
    assert "marked below" not in text_of(alert)
    assert not find_all(page, lambda e: has_class(e, "field--error"))
    assert not User.objects.exists()
    assert not User.all_objects.filter(role=Role.ADMIN).exists()


def test_a_doctor_with_errors_stays_on_the_doctor_sign_up(client):
    response = sign_up(
        client, reverse("account_signup_doctor"), role="doctor", email="meera@example.test", password2="x"
    )

    assert response.status_code == 200
    assert response.context["signup_as_doctor"] is True
    assert "Join as a homeopathic doctor" in response.content.decode()
    assert not User.objects.exists()


# --- sign-in --------------------------------------------------------------------------


def test_the_sign_in_page_asks_for_email_or_mobile_and_links_to_reset_and_sign_up(client):
    response = client.get(reverse("account_login"))

    assert_ours(response)
    page = html_of(response)
    (label,) = find_all(page, lambda e: e.name == "label" and attr(e, "for") == "id_login")
    assert text_of(label).strip() == "Email or mobile number"
    hrefs = {attr(a, "href") for a in find_all(page, lambda e: e.name == "a")}
    assert {reverse("account_reset_password"), reverse("account_signup"), reverse("account_signup_doctor")} <= hrefs


def test_a_locked_account_sees_when_it_unlocks_in_the_alert_at_the_top(client):
    user = PatientUserFactory()
    for _ in range(5):
        client.post(reverse("account_login"), {"login": user.email, "password": "not-it"})

    response = client.post(reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD})

    page = html_of(response)
    (alert,) = find_all(page, lambda e: attr(e, "role") == "alert")
    assert "locked until" in text_of(alert)
    assert not response.wsgi_request.user.is_authenticated


# --- the header -----------------------------------------------------------------------


def account_nav(response) -> Element:
    (nav,) = find_all(html_of(response), lambda e: e.name == "nav" and attr(e, "aria-label") == "Account")
    return nav


def test_signed_out_the_header_offers_sign_in_and_sign_up(client):
    nav = account_nav(client.get(reverse("home")))

    links = {text_of(a).strip(): attr(a, "href") for a in find_all(nav, lambda e: e.name == "a")}
    assert links == {"Sign in": reverse("account_login"), "Sign up": reverse("account_signup")}


def test_signed_in_the_header_shows_the_name_the_unread_count_and_my_account(client):
    user = PatientProfileFactory(full_name="Asha Rao").user
    user.notifications.all().delete()
    NotificationFactory.create_batch(3, user=user)
    client.force_login(user)

    nav = account_nav(client.get(reverse("home")))

    (bell,) = find_all(nav, lambda e: e.name == "a" and attr(e, "href") == reverse("accounts:notifications"))
    assert attr(bell, "aria-label") == "Notifications, 3 unread"
    (badge,) = find_all(bell, lambda e: attr(e, "data-unread-count") is not None)
    assert text_of(badge).strip() == "3"
    (me,) = find_all(nav, lambda e: e.name == "a" and attr(e, "href") == reverse("accounts:dashboard"))
    assert "Asha Rao" in text_of(me)
    assert "My account" in text_of(me)


def test_with_nothing_unread_the_header_shows_no_badge(client):
    user = PatientUserFactory()
    user.notifications.update(read_at="2026-01-01T00:00:00Z")
    client.force_login(user)

    nav = account_nav(client.get(reverse("home")))

    (bell,) = find_all(nav, lambda e: e.name == "a" and attr(e, "href") == reverse("accounts:notifications"))
    assert attr(bell, "aria-label") == "Notifications"
    assert not find_all(bell, lambda e: attr(e, "data-unread-count") is not None)


def test_sign_out_in_the_header_is_a_post_form_never_a_link(client):
    client.force_login(PatientUserFactory())

    response = client.get(reverse("accounts:dashboard"))

    nav = account_nav(response)
    (form,) = find_all(nav, lambda e: e.name == "form")
    assert attr(form, "method") == "post"
    assert attr(form, "action") == reverse("account_logout")
    assert find_all(form, lambda e: attr(e, "name") == "csrfmiddlewaretoken")
    assert not find_all(html_of(response), lambda e: e.name == "a" and attr(e, "href") == reverse("account_logout"))


def test_opening_the_sign_out_address_asks_instead_of_signing_out(client):
    user = PatientUserFactory()
    client.force_login(user)

    response = client.get(reverse("account_logout"))

    assert_ours(response)
    assert response.wsgi_request.user == user
    assert client.get(reverse("accounts:dashboard")).status_code == 200


# --- the overview ---------------------------------------------------------------------


def test_a_patient_with_an_unconfirmed_email_is_asked_to_confirm_it_to_book(client):
    user = PatientProfileFactory(user__email_verified=False).user
    client.force_login(user)

    response = client.get(reverse("accounts:dashboard"))

    page = html_of(response)
    (banner,) = find_all(page, lambda e: attr(e, "data-confirm-email-banner") is not None)
    assert "Confirm your email to book consultations" in text_of(banner)
    assert find_all(banner, lambda e: e.name == "a" and attr(e, "href") == reverse("account_email"))


def test_a_patient_with_a_confirmed_email_sees_no_banner(client):
    client.force_login(PatientProfileFactory(user__email_verified=True).user)

    response = client.get(reverse("accounts:dashboard"))

    assert b"data-confirm-email-banner" not in response.content


def test_the_overview_lists_recent_notifications_and_links_to_all(client):
    user = PatientUserFactory()
    NotificationFactory(user=user, title="Your consultation is booked for Monday")
    client.force_login(user)

    response = client.get(reverse("accounts:dashboard"))

    (recent,) = find_all(html_of(response), lambda e: attr(e, "data-recent-notifications") is not None)
    assert "Your consultation is booked for Monday" in text_of(recent)
    assert f'href="{reverse("accounts:notifications")}"' in response.content.decode()


@pytest.mark.parametrize(
    ("status", "says"),
    [
        ("draft", "Complete your profile and submit it for verification"),
        ("pending", "Our staff are verifying your registration"),
        ("rejected", "The council has no record of registration number HMP-0000."),
        ("verified", "You are listed"),
    ],
)
def test_a_doctor_sees_where_their_verification_stands(client, status, says):
    profile = DoctorProfileFactory(
        verification_status=status,
        rejection_reason="The council has no record of registration number HMP-0000." if status == "rejected" else "",
        user__email_verified=False,
    )
    client.force_login(profile.user)

    response = client.get(reverse("accounts:dashboard"))

    page = html_of(response)
    (box,) = find_all(page, lambda e: attr(e, "data-verification-status") is not None)
    assert attr(box, "data-verification-status") == status
    assert says in text_of(box)
    # Doctors do not book, so they are not told to confirm an email to book.
    assert not find_all(page, lambda e: attr(e, "data-confirm-email-banner") is not None)


def test_a_member_of_staff_without_a_profile_gets_a_plain_overview(client):
    client.force_login(StaffUserFactory(email="ops@example.test"))

    response = client.get(reverse("accounts:dashboard"))

    assert_ours(response)
    assert "Hello, ops@example.test" in response.content.decode()
    page = html_of(response)
    assert not find_all(page, lambda e: attr(e, "data-confirm-email-banner") is not None)
    assert not find_all(page, lambda e: attr(e, "data-verification-status") is not None)


def test_a_new_doctor_is_a_doctor_with_a_draft_profile(client):
    sign_up(client, reverse("account_signup_doctor"), role="doctor", email="meera@example.test")

    user = User.objects.get(email="meera@example.test")
    assert user.role == Role.DOCTOR
    assert user.doctor_profile.verification_status == "draft"
    response = client.get(reverse("accounts:dashboard"))
    assert "Complete your profile and submit it for verification" in response.content.decode()


# --- closing the account ----------------------------------------------------------------


def test_the_close_account_page_says_what_happens_and_asks_for_delete(client):
    client.force_login(PatientUserFactory())

    response = client.get(reverse("accounts:delete"))

    assert_ours(response)
    text = text_of(html_of(response))
    assert "nobody can sign in to this account again" in text
    assert "email address and mobile number are freed" in text
    assert "as long as the law requires" in text
    assert 'name="confirm"' in response.content.decode()


def test_a_wrong_confirmation_is_marked_on_the_field_and_the_account_stays(client):
    user = PatientUserFactory()
    sign_in(client, user)
    # Closing the account is sensitive: allauth asks for the password again first.
    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})

    response = client.post(reverse("accounts:delete"), {"confirm": "delete"})

    box = field_box(html_of(response), "id_confirm")
    assert has_class(box, "field--error")
    assert "Type DELETE in capital letters" in text_of(by_id(box, "id_confirm_error"))
    user.refresh_from_db()
    assert user.is_active


# --- emails ---------------------------------------------------------------------------


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://[^\s<>\"']+", text)


def test_the_confirmation_email_is_ours_and_carries_only_its_link(client):
    sign_up(client, email="asha@example.test")

    (message,) = mail.outbox
    assert message.subject == "Dhanwantari: Confirm your email address"
    assert message.body.startswith("Namaste,")
    assert message.body.rstrip().endswith("The Dhanwantari team")
    (link,) = links_in(message.body)
    assert "/accounts/confirm-email/" in link
    assert "Asha" not in message.body  # nothing about the person beyond the link
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    assert set(links_in(html)) == {link}


def test_the_password_reset_email_is_ours_and_carries_only_its_link(client):
    PatientUserFactory(email="asha@example.test")

    client.post(reverse("account_reset_password"), {"email": "asha@example.test"})

    (message,) = mail.outbox
    assert message.subject == "Dhanwantari: Reset your password"
    (link,) = links_in(message.body)
    assert "/accounts/password/reset/key/" in link
    assert "within an hour" in message.body
    assert message.body.replace(link, "").count("patient") == 0  # no user id or username beyond the link
    ((html, _),) = message.alternatives
    assert set(links_in(html)) == {link}


def test_a_changed_password_is_reported_with_the_time_and_the_reset_link_only(client):
    user = PatientUserFactory()
    client.force_login(user)

    client.post(
        reverse("account_change_password"),
        {"oldpassword": TEST_PASSWORD, "password1": PASSWORD, "password2": PASSWORD},
    )

    (message,) = mail.outbox
    assert message.subject == "Dhanwantari: Your password was changed"
    assert "When: " in message.body
    (link,) = links_in(message.body)
    assert link.endswith(reverse("account_reset_password"))
    assert "IP" not in message.body  # allauth's default lists the address and browser


# --- email confirmation ---------------------------------------------------------------------


def test_the_confirm_page_posts_back_to_the_emailed_link_even_seconds_later(client):
    sign_up(client, email="asha@example.test")
    (link,) = links_in(mail.outbox[0].body)
    path = link.split("testserver", 1)[1]

    # allauth signs confirmation keys anew on every read, with the current
    # second in them; only the emailed key is on record (single use).
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        page = client.get(path)
        assert [f for f in find_all(html_of(page), lambda e: e.name == "form") if attr(f, "action") == path]
        response = client.post(path)

    assert response.status_code == 302
    assert User.objects.get(email="asha@example.test").email_verified


def test_the_emailed_link_works_even_if_the_clock_ticks_while_it_is_sent(client, monkeypatch):
    ticks = iter(range(10_000))
    real_timestamp = signing.TimestampSigner.timestamp
    monkeypatch.setattr(
        signing.TimestampSigner,
        "timestamp",
        lambda self: signing.b62_encode(signing.b62_decode(real_timestamp(self)) + next(ticks)),
    )
    sign_up(client, email="asha@example.test")
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", real_timestamp)
    (link,) = links_in(mail.outbox[0].body)

    response = client.get(link.split("testserver", 1)[1])

    assert response.context["can_confirm"]
