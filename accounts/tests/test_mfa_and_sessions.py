"""Two-factor authentication (TOTP and recovery codes, required for staff), the
admin's sign-in through allauth, idle timeouts and password change."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import TEST_PASSWORD, PatientUserFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-77"
START = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def totp(secret: str, *, steps: int = 0) -> str:
    """The code an authenticator app shows now (or `steps` periods from now)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + steps))


def sign_in(client: Client, login: str, password: str = TEST_PASSWORD, next_url: str | None = None):
    url = reverse("account_login") + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"login": login, "password": password})


def enter_mfa_code(client: Client, code: str):
    return client.post(reverse("mfa_authenticate"), {"code": code})


def signed_in_user(client: Client, path: str | None = None):
    return client.get(path or reverse("healthz")).wsgi_request.user


# --- staff must have two-factor ----------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/", "/admin/accounts/user/", "/admin/accounts/adminlog/"])
def test_staff_without_two_factor_are_sent_from_the_admin_to_set_it_up(client, path):
    client.force_login(StaffUserFactory(totp=False))

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_staff_without_two_factor_cannot_run_admin_actions_either(client):
    patient = PatientUserFactory(locked_until=datetime(2030, 1, 1, tzinfo=UTC))
    client.force_login(StaffUserFactory(totp=False))

    response = client.post(
        reverse("admin:accounts_user_changelist"), {"action": "unlock_accounts", "_selected_action": [patient.pk]}
    )

    assert response["Location"] == reverse("mfa_activate_totp")
    patient.refresh_from_db()
    assert patient.locked_until is not None


def test_staff_with_two_factor_reach_the_admin(client):
    client.force_login(StaffUserFactory())

    assert client.get("/admin/").status_code == 200


def test_a_signed_in_patient_at_the_admin_is_refused_not_sent_to_two_factor_setup(client):
    client.force_login(PatientUserFactory())

    response = client.get("/admin/login/")

    assert response.status_code == 403


# --- the admin signs in through allauth ------------------------------------------------------


def test_the_admin_login_page_sends_visitors_to_allauths_sign_in(client):
    response = client.get("/admin/login/?next=/admin/accounts/user/")

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("account_login")
    assert parse_qs(location.query)["next"] == ["/admin/accounts/user/"]


def test_posting_to_the_admin_login_form_does_not_sign_in(client):
    # Django's own admin form would skip the lock and the second factor.
    staff = StaffUserFactory()

    response = client.post("/admin/login/", {"username": staff.email, "password": TEST_PASSWORD})

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("account_login")
    assert not signed_in_user(client).is_authenticated


def test_staff_sign_in_to_the_admin_with_password_and_code(client, clock):
    staff = StaffUserFactory()

    response = sign_in(client, staff.email, next_url="/admin/")

    assert response["Location"] == reverse("mfa_authenticate")
    assert not signed_in_user(client).is_authenticated  # the password alone is not enough
    staff.refresh_from_db()
    assert staff.login_count == 0

    response = enter_mfa_code(client, totp(staff.totp_secret))

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert signed_in_user(client) == staff
    staff.refresh_from_db()
    assert staff.login_count == 1
    assert staff.last_login == START
    assert client.get("/admin/").status_code == 200


def test_any_user_with_totp_is_asked_for_the_code(client, clock):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    patient = PatientUserFactory()
    secret = generate_totp_secret()
    TOTP.activate(patient, secret)

    assert sign_in(client, patient.email)["Location"] == reverse("mfa_authenticate")
    enter_mfa_code(client, totp(secret))

    assert signed_in_user(client) == patient


@pytest.mark.parametrize("code", ["000000", "123456", "", "not-a-code"])
def test_a_wrong_code_does_not_sign_in(client, clock, code):
    staff = StaffUserFactory()
    if code == totp(staff.totp_secret):  # one in a million
        code = "999999" if code != "999999" else "111111"
    sign_in(client, staff.email)

    response = enter_mfa_code(client, code)

    assert response.status_code == 200
    assert "code" in response.context["form"].errors
    assert not signed_in_user(client).is_authenticated


def test_a_code_from_another_period_does_not_sign_in(client, clock):
    staff = StaffUserFactory()
    sign_in(client, staff.email)

    enter_mfa_code(client, totp(staff.totp_secret, steps=-2))
    enter_mfa_code(client, totp(staff.totp_secret, steps=2))

    assert not signed_in_user(client).is_authenticated


def test_a_code_cannot_be_used_twice(clock):
    staff = StaffUserFactory()
    code = totp(staff.totp_secret)
    first, second = Client(), Client()
    sign_in(first, staff.email)
    enter_mfa_code(first, code)
    sign_in(second, staff.email)

    enter_mfa_code(second, code)  # seen over a shoulder, replayed within the period

    assert signed_in_user(first) == staff
    assert not signed_in_user(second).is_authenticated


def test_a_code_for_another_user_does_not_sign_in(client, clock):
    staff, other = StaffUserFactory(), StaffUserFactory()
    sign_in(client, staff.email)

    enter_mfa_code(client, totp(other.totp_secret))

    assert not signed_in_user(client).is_authenticated


def test_the_code_page_alone_does_not_sign_anyone_in(client, clock):
    staff = StaffUserFactory()

    response = enter_mfa_code(client, totp(staff.totp_secret))

    assert response.status_code == 302
    assert not signed_in_user(client).is_authenticated


def test_a_recovery_code_signs_in_once():
    staff = StaffUserFactory()
    codes = RecoveryCodes.activate(staff).get_unused_codes()

    first = Client()
    sign_in(first, staff.email)
    enter_mfa_code(first, codes[0])
    assert signed_in_user(first) == staff

    again = Client()
    sign_in(again, staff.email)
    response = enter_mfa_code(again, codes[0])
    assert response.status_code == 200
    assert not signed_in_user(again).is_authenticated

    enter_mfa_code(again, codes[1])
    assert signed_in_user(again) == staff
    assert codes[0] not in RecoveryCodes.activate(staff).get_unused_codes()


# --- idle sessions --------------------------------------------------------------------------


def test_a_patient_idle_longer_than_the_limit_is_signed_out(client, clock, settings):
    client.force_login(PatientUserFactory())
    client.get(reverse("healthz"))
    clock.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT + 1))

    response = client.get(reverse("healthz"))

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("account_login")
    assert parse_qs(location.query)["next"] == [reverse("healthz")]
    assert not signed_in_user(client).is_authenticated


def test_an_idle_sign_out_tells_the_person_why(client, clock, settings):
    client.force_login(PatientUserFactory())
    client.get(reverse("healthz"))
    clock.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT + 1))
    client.get(reverse("healthz"))

    next_page = client.get(reverse("healthz"))

    notes = [str(m) for m in get_messages(next_page.wsgi_request)]
    assert notes == ["You were signed out after a period of inactivity. Please sign in again."]


def test_an_old_last_seen_in_the_session_signs_out(client, settings):
    client.force_login(PatientUserFactory())
    session = client.session
    session["_last_seen"] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT - 5
    session.save()

    response = client.get(reverse("healthz"))

    assert urlsplit(response["Location"]).path == reverse("account_login")
    assert not signed_in_user(client).is_authenticated


def test_a_patient_idle_for_less_than_the_limit_stays_signed_in(client, clock, settings):
    patient = PatientUserFactory()
    client.force_login(patient)
    client.get(reverse("healthz"))
    clock.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT - 60))

    assert signed_in_user(client) == patient


def test_activity_keeps_a_session_alive(client, clock, settings):
    patient = PatientUserFactory()
    client.force_login(patient)
    for _ in range(4):
        client.get(reverse("healthz"))
        clock.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT - 60))

    assert signed_in_user(client) == patient


def test_staff_are_signed_out_sooner_than_patients(clock, settings):
    assert settings.STAFF_SESSION_IDLE_TIMEOUT < settings.SESSION_IDLE_TIMEOUT
    staff, patient = StaffUserFactory(), PatientUserFactory()
    staff_client, patient_client = Client(), Client()
    staff_client.force_login(staff)
    patient_client.force_login(patient)
    staff_client.get(reverse("healthz"))
    patient_client.get(reverse("healthz"))

    clock.shift(timedelta(seconds=settings.STAFF_SESSION_IDLE_TIMEOUT + 1))

    assert not signed_in_user(staff_client).is_authenticated
    assert signed_in_user(patient_client) == patient


def test_after_an_idle_sign_out_the_sign_in_page_returns_to_the_same_page_and_query(client, clock, settings):
    client.force_login(PatientUserFactory())
    client.get(reverse("healthz"))
    clock.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT + 1))
    path = reverse("healthz") + "?page=2&sort=name"

    response = client.get(path)

    assert parse_qs(urlsplit(response["Location"]).query)["next"] == [path]


# --- changing the password -----------------------------------------------------------------


def change_password(client: Client, old: str = TEST_PASSWORD, new: str = NEW_PASSWORD):
    return client.post(reverse("account_change_password"), {"oldpassword": old, "password1": new, "password2": new})


def test_changing_the_password_ends_other_sessions_but_keeps_this_one():
    patient = PatientUserFactory()
    laptop, phone = Client(), Client()
    sign_in(laptop, patient.email)
    sign_in(phone, patient.email)

    response = change_password(laptop)

    assert response.status_code == 302
    assert signed_in_user(laptop) == patient
    assert not signed_in_user(phone).is_authenticated
    assert sign_in(Client(), patient.email, NEW_PASSWORD).status_code == 302


def test_changing_the_password_needs_the_current_one():
    patient = PatientUserFactory()
    laptop, phone = Client(), Client()
    sign_in(laptop, patient.email)
    sign_in(phone, patient.email)

    response = change_password(laptop, old="a guess at the password")

    assert response.status_code == 200
    assert "oldpassword" in response.context["form"].errors
    assert signed_in_user(phone) == patient
    patient.refresh_from_db()
    assert patient.check_password(TEST_PASSWORD)


def test_a_new_password_must_pass_the_password_rules(client):
    patient = PatientUserFactory()
    sign_in(client, patient.email)

    response = change_password(client, new="12345")

    assert response.status_code == 200
    assert "password1" in response.context["form"].errors
    patient.refresh_from_db()
    assert patient.check_password(TEST_PASSWORD)


def test_signed_out_visitors_cannot_change_a_password(client):
    response = change_password(client)

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("account_login")
