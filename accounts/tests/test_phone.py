"""Phone verification by texted one-time code: at sign-up, at sign-in with an
unverified number, and when a signed-in person changes their number."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import TEST_PASSWORD, PatientUserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "saffron-kettle-1987-quiet"
START = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)


class SMSOutbox(list):
    def send(self, *, to: str, message: str) -> None:
        self.append((to, message))

    def codes(self) -> list[str]:
        return [m.group(1) for _, text in self if (m := re.match(r"(\S+) is your Dhanwantari verification code", text))]

    @property
    def last_code(self) -> str:
        return self.codes()[-1]


@pytest.fixture
def sms(monkeypatch) -> SMSOutbox:
    outbox = SMSOutbox()
    monkeypatch.setattr("accounts.sms.get_sms_backend", lambda: outbox)
    return outbox


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def sign_up_by_phone(client: Client, phone: str = "98123 45678"):
    response = client.post(
        reverse("account_signup"),
        {"full_name": "Ravi Kumar", "phone": phone, "password1": PASSWORD, "password2": PASSWORD, "role": "patient"},
    )
    assert response["Location"] == reverse("account_verify_phone")
    return response


def enter_code(client: Client, code: str):
    return client.post(reverse("account_verify_phone"), {"action": "verify", "code": code})


def resend(client: Client):
    return client.post(reverse("account_verify_phone"), {"action": "resend"})


def signed_in_user(client: Client):
    return client.get(reverse("healthz")).wsgi_request.user


def ravi() -> User:
    return User.objects.get(phone="+919812345678")


def wrong(code: str) -> str:
    return "ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ" else "YYYY-YYYY"


# --- at sign-up ------------------------------------------------------------------------


def test_the_texted_code_verifies_the_number_and_signs_in(client, sms, clock):
    sign_up_by_phone(client)
    assert not signed_in_user(client).is_authenticated  # not until the code

    response = enter_code(client, sms.last_code)

    assert response.status_code == 302
    user = ravi()
    assert user.phone_verified
    assert user.phone_verified_at == START
    assert signed_in_user(client) == user


def test_the_code_is_texted_to_the_number_given(client, sms):
    sign_up_by_phone(client)

    ((to, text),) = sms
    assert to == "+919812345678"
    assert "expires in 10 minutes" in text


def test_a_wrong_code_is_refused(client, sms):
    sign_up_by_phone(client)

    response = enter_code(client, wrong(sms.last_code))

    assert response.status_code == 200
    assert response.context["form"].errors["code"] == ["Incorrect code."]
    assert not ravi().phone_verified
    assert not signed_in_user(client).is_authenticated


def test_two_wrong_codes_still_leave_the_right_one_usable(client, sms):
    sign_up_by_phone(client)
    enter_code(client, wrong(sms.last_code))
    enter_code(client, wrong(sms.last_code))

    enter_code(client, sms.last_code)

    assert ravi().phone_verified
    assert signed_in_user(client) == ravi()


def test_three_wrong_codes_kill_the_code(client, sms):
    sign_up_by_phone(client)
    enter_code(client, wrong(sms.last_code))
    enter_code(client, wrong(sms.last_code))
    third = enter_code(client, wrong(sms.last_code))

    assert third.status_code == 302
    assert third["Location"] == reverse("account_login")

    enter_code(client, sms.last_code)  # the right code, too late

    assert not ravi().phone_verified
    assert not signed_in_user(client).is_authenticated


def test_the_code_still_works_just_before_ten_minutes(client, sms, clock):
    sign_up_by_phone(client)
    clock.shift(timedelta(minutes=9, seconds=59))

    enter_code(client, sms.last_code)

    assert ravi().phone_verified


def test_the_code_expires_after_ten_minutes(client, sms, clock):
    sign_up_by_phone(client)
    clock.shift(timedelta(minutes=10, seconds=1))

    response = enter_code(client, sms.last_code)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert not ravi().phone_verified
    assert not signed_in_user(client).is_authenticated


def test_a_code_for_one_number_does_not_verify_another(sms):
    first, second = Client(), Client()
    sign_up_by_phone(first, "98123 45678")
    first_code = sms.last_code
    sign_up_by_phone(second, "98123 45679")

    enter_code(second, first_code)

    assert not User.objects.get(phone="+919812345679").phone_verified
    assert not signed_in_user(second).is_authenticated


# --- resending -----------------------------------------------------------------------------


def test_a_resend_within_thirty_seconds_is_refused(client, sms, clock):
    sign_up_by_phone(client)
    clock.shift(timedelta(seconds=10))

    response = resend(client)

    assert response.status_code == 302
    assert len(sms) == 1
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("too many requests" in m.lower() for m in messages), messages


def test_a_resend_after_thirty_seconds_texts_a_new_code_that_replaces_the_old(client, sms, clock):
    sign_up_by_phone(client)
    old_code = sms.last_code
    clock.shift(timedelta(seconds=31))

    resend(client)

    assert len(sms) == 2
    assert sms.last_code != old_code
    enter_code(client, old_code)
    assert not ravi().phone_verified
    enter_code(client, sms.last_code)
    assert ravi().phone_verified


def test_resends_stop_after_a_few(client, sms, clock):
    sign_up_by_phone(client)
    for _ in range(6):
        clock.shift(timedelta(seconds=31))
        resend(client)

    assert 1 < len(sms) <= 1 + 3


def test_three_resends_are_allowed_as_configured(client, sms, clock):
    sign_up_by_phone(client)
    for _ in range(3):
        clock.shift(timedelta(seconds=31))
        resend(client)

    assert len(sms) == 1 + 3


def test_resending_does_not_restore_the_wrong_tries(client, sms, clock):
    # Three wrong tries kill the code; a resend in between must not reset the count.
    sign_up_by_phone(client)
    enter_code(client, "ZZZZ-ZZZ1")
    enter_code(client, "ZZZZ-ZZZ2")
    clock.shift(timedelta(seconds=31))
    resend(client)

    response = enter_code(client, "ZZZZ-ZZZ3")

    assert response["Location"] == reverse("account_login")
    enter_code(client, sms.last_code)
    assert not ravi().phone_verified


# --- at sign-in ---------------------------------------------------------------------------


def test_signing_in_with_an_unverified_number_asks_for_the_code_first(client, sms):
    user = PatientUserFactory(email=None, phone="+919812345678", phone_verified=False)

    response = client.post(reverse("account_login"), {"login": "98123 45678", "password": TEST_PASSWORD})

    assert response["Location"] == reverse("account_verify_phone")
    assert not signed_in_user(client).is_authenticated
    enter_code(client, sms.last_code)
    assert signed_in_user(client) == user
    user.refresh_from_db()
    assert user.phone_verified


def test_a_verified_number_signs_in_without_a_code(client, sms):
    user = PatientUserFactory(email=None, phone="+919812345678", phone_verified=True)

    client.post(reverse("account_login"), {"login": "98123 45678", "password": TEST_PASSWORD})

    assert signed_in_user(client) == user
    assert sms == []


def test_the_code_page_cannot_be_used_without_a_sign_up_or_sign_in_in_progress(client, sms):
    response = enter_code(client, "ABCD-EFGH")

    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")


# --- changing the number ----------------------------------------------------------------------


def test_changing_the_number_asks_for_the_password_first(client, sms):
    PatientUserFactory(email="asha@example.test", phone="+919812345678", phone_verified=True)
    client.post(reverse("account_login"), {"login": "asha@example.test", "password": TEST_PASSWORD})

    response = client.post(reverse("account_change_phone"), {"phone": "98123 45600"})

    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert sms == []


def test_a_signed_in_patient_changes_their_number_with_a_texted_code(client, sms):
    user = PatientUserFactory(email="asha@example.test", phone="+919812345678", phone_verified=True)
    client.post(reverse("account_login"), {"login": "asha@example.test", "password": TEST_PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})

    response = client.post(reverse("account_change_phone"), {"phone": "98123 45600"})

    assert response["Location"] == reverse("account_verify_phone")
    assert sms[-1][0] == "+919812345600"
    user.refresh_from_db()
    assert user.phone == "+919812345678"  # unchanged until the code proves the new one

    enter_code(client, sms.last_code)

    user.refresh_from_db()
    assert user.phone == "+919812345600"
    assert user.phone_verified


def test_a_wrong_code_does_not_change_the_number(client, sms):
    user = PatientUserFactory(email="asha@example.test", phone="+919812345678", phone_verified=True)
    client.post(reverse("account_login"), {"login": "asha@example.test", "password": TEST_PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    client.post(reverse("account_change_phone"), {"phone": "98123 45600"})

    for _ in range(3):
        enter_code(client, wrong(sms.last_code))
    enter_code(client, sms.last_code)

    user.refresh_from_db()
    assert user.phone == "+919812345678"
