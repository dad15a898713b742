"""One-time links: email verification (24 h) and password reset (1 h), each
recorded as a digest, single use, and the reset's effects on locks and sessions."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import AdminLog, EmailVerificationToken, PasswordResetToken, User
from accounts.tests.factories import TEST_PASSWORD, PatientUserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-77"
START = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def link_in(message) -> str:
    """The path of the one link in an email."""
    (url,) = re.findall(r"https?://testserver(/\S+)", message.body)
    return url


def signed_in_user(client: Client):
    return client.get(reverse("healthz")).wsgi_request.user


def sign_in(client: Client, login: str, password: str = TEST_PASSWORD):
    return client.post(reverse("account_login"), {"login": login, "password": password})


# --- email verification -------------------------------------------------------------


def sign_up(client: Client, email: str = "asha@example.test") -> User:
    client.post(
        reverse("account_signup"),
        {
            "full_name": "Asha Rao",
            "email": email,
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "role": "patient",
        },
    )
    return User.objects.get(email=email)


def confirmation_key(message) -> str:
    return link_in(message).rstrip("/").rsplit("/", 1)[1]


def test_signing_up_records_the_verification_link_as_a_digest_that_lives_24_hours(client, clock):
    user = sign_up(client)

    (message,) = mail.outbox
    key = confirmation_key(message)
    token = EmailVerificationToken.objects.get(user=user)
    assert token.email == "asha@example.test"
    assert token.token_hash == sha256(key)
    assert key not in {str(value) for value in token.__dict__.values()}
    assert token.expires_at == START + timedelta(hours=24)
    assert token.verified_at is None
    assert not user.email_verified


def test_the_emailed_link_verifies_the_address_and_closes_its_token(client, clock):
    user = sign_up(client)
    link = link_in(mail.outbox[0])

    assert client.get(link).status_code == 200  # the confirmation page
    response = client.post(link)

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email_verified
    assert user.email_verified_at == START
    assert EmailVerificationToken.objects.get(user=user).verified_at == START
    assert EmailAddress.objects.get(user=user, email="asha@example.test").verified


def test_a_verification_link_works_only_once(client, clock):
    user = sign_up(client)
    link = link_in(mail.outbox[0])
    client.post(link)
    clock.shift(timedelta(minutes=5))

    response = client.post(link)

    assert response.status_code == 404
    assert EmailVerificationToken.objects.get(user=user).verified_at == START


def test_a_verification_link_still_works_just_before_24_hours(client, clock):
    user = sign_up(client)
    clock.shift(timedelta(hours=23, minutes=59))

    client.post(link_in(mail.outbox[0]))

    user.refresh_from_db()
    assert user.email_verified


def test_a_verification_link_expires_after_24_hours(client, clock):
    user = sign_up(client)
    clock.shift(timedelta(hours=24, minutes=1))

    response = client.post(link_in(mail.outbox[0]))

    assert response.status_code == 404
    user.refresh_from_db()
    assert not user.email_verified
    assert EmailVerificationToken.objects.get(user=user).verified_at is None


def test_a_correctly_signed_link_without_a_recorded_token_is_refused(client):
    # allauth's keys are signed: anyone holding one the site never recorded
    # (a copy made before the row was closed, say) must still be refused.
    user = sign_up(client)
    EmailVerificationToken.objects.filter(user=user).delete()
    address = EmailAddress.objects.get(user=user)
    key = EmailConfirmationHMAC(address).key

    response = client.post(reverse("account_confirm_email", kwargs={"key": key}))

    assert response.status_code == 404
    user.refresh_from_db()
    assert not user.email_verified


def test_every_verification_email_sent_is_recorded(client, clock):
    user = sign_up(client)
    clock.shift(timedelta(minutes=4))  # allauth's resend cool-down is 3 minutes

    client.post(reverse("account_email"), {"email": "asha@example.test", "action_send": ""})

    assert len(mail.outbox) == 2
    hashes = set(EmailVerificationToken.objects.filter(user=user).values_list("token_hash", flat=True))
    assert hashes == {sha256(confirmation_key(message)) for message in mail.outbox}


def test_a_link_for_someone_elses_address_does_not_verify_the_visitor(clock):
    victim_client, attacker_client = Client(), Client()
    victim = sign_up(victim_client, "victim@example.test")
    attacker = sign_up(attacker_client, "attacker@example.test")
    victim_link = link_in(mail.outbox[0])

    attacker_client.post(victim_link)

    attacker.refresh_from_db()
    victim.refresh_from_db()
    assert not attacker.email_verified
    assert victim.email_verified  # whoever holds the link proves that address, nothing else


def test_a_verified_patient_switches_to_a_new_email_only_after_its_link_is_clicked(client, clock):
    user = sign_up(client)
    client.post(link_in(mail.outbox[0]))
    clock.shift(timedelta(minutes=4))

    client.post(reverse("account_reauthenticate"), {"password": NEW_PASSWORD})
    client.post(reverse("account_email"), {"email": "asha.new@example.test", "action_add": ""})

    user.refresh_from_db()
    assert user.email == "asha@example.test"  # nothing changes on the word of whoever is signed in
    message = mail.outbox[-1]
    assert message.to == ["asha.new@example.test"]
    token = EmailVerificationToken.objects.get(email="asha.new@example.test")
    assert token.token_hash == sha256(confirmation_key(message))

    response = client.post(reverse("account_email"), {"email": "asha.new@example.test", "action_primary": ""})
    user.refresh_from_db()
    assert user.email == "asha@example.test"  # an unproven address cannot become the sign-in address
    assert response.status_code in (200, 302)

    client.post(link_in(message))
    client.post(reverse("account_email"), {"email": "asha.new@example.test", "action_primary": ""})

    user.refresh_from_db()
    assert user.email == "asha.new@example.test"
    assert user.email_verified
    token.refresh_from_db()
    assert token.verified_at is not None


def test_a_patient_who_has_not_verified_yet_can_correct_their_email(client):
    user = sign_up(client, "asha@exmaple.test")  # a typo at sign-up
    client.post(reverse("account_reauthenticate"), {"password": NEW_PASSWORD})

    response = client.post(reverse("account_email"), {"email": "asha@example.test", "action_add": ""})

    assert response.status_code == 302
    client.post(link_in(mail.outbox[-1]))
    user.refresh_from_db()
    assert user.email == "asha@example.test"
    assert user.email_verified


# --- password reset: requests ----------------------------------------------------------


def request_reset(client: Client, email: str, **headers):
    return client.post(reverse("account_reset_password"), {"email": email}, **headers)


def reset_key(message) -> str:
    """allauth's key: '<user id>-<token>'; the token is everything after the id."""
    return link_in(message).rstrip("/").rsplit("/", 1)[1]


def test_a_reset_request_is_recorded_with_a_digest_a_one_hour_expiry_and_the_ip(client, clock, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    user = PatientUserFactory(email="asha@example.test")

    response = request_reset(
        client,
        "asha@example.test",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7",
        REMOTE_ADDR="10.0.0.1",
        HTTP_USER_AGENT="Firefox",
    )

    assert response.status_code == 302
    (message,) = mail.outbox
    key = reset_key(message)
    assert key.startswith(f"{user.pk}-")
    token = key.removeprefix(f"{user.pk}-")
    row = PasswordResetToken.objects.get(user=user)
    assert row.token_hash == sha256(token)
    assert token not in {str(value) for value in row.__dict__.values()}
    assert row.expires_at == START + timedelta(hours=1)
    assert row.requested_ip == "198.51.100.7"
    assert row.user_agent == "Firefox"
    assert row.used_at is None


def test_every_reset_request_is_recorded(client, clock):
    user = PatientUserFactory(email="asha@example.test")
    request_reset(client, "asha@example.test")
    clock.shift(timedelta(minutes=2))
    request_reset(client, "asha@example.test")

    assert PasswordResetToken.objects.filter(user=user).count() == 2


def test_a_reset_for_an_unknown_email_looks_the_same_as_for_a_known_one(client):
    PatientUserFactory(email="asha@example.test")

    known = request_reset(client, "asha@example.test")
    unknown = request_reset(Client(), "nobody@example.test")

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("account_reset_password_done")
    assert [m.to for m in mail.outbox] == [["asha@example.test"], ["nobody@example.test"]]
    assert "reset" in mail.outbox[0].body.lower()
    assert "/accounts/password/reset/key/" not in mail.outbox[1].body  # no link for an account that does not exist
    assert PasswordResetToken.objects.count() == 1


# --- password reset: the link --------------------------------------------------------


def open_reset_link(client: Client, message):
    """Follow the emailed link: allauth moves the key into the session and
    redirects to the form at a URL without it."""
    response = client.get(link_in(message))
    assert response.status_code == 302, "the link should lead to the new-password form"
    return response["Location"]


def reset_password(client: Client, message, password: str = NEW_PASSWORD):
    form_url = open_reset_link(client, message)
    return client.post(form_url, {"password1": password, "password2": password})


def test_the_emailed_reset_link_opens_the_reset_form(client):
    PatientUserFactory(email="asha@example.test")
    request_reset(client, "asha@example.test")

    form_url = open_reset_link(client, mail.outbox[0])

    assert client.get(form_url).context["form"] is not None


def test_the_reset_link_sets_a_new_password(client, clock):
    user = PatientUserFactory(email="asha@example.test")
    request_reset(client, "asha@example.test")

    response = reset_password(client, mail.outbox[0])

    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_from_key_done")
    assert sign_in(Client(), "asha@example.test", TEST_PASSWORD).status_code == 200  # old one refused
    fresh = Client()
    assert sign_in(fresh, "asha@example.test", NEW_PASSWORD).status_code == 302
    assert signed_in_user(fresh) == user
    assert PasswordResetToken.objects.get(user=user).used_at == START


def test_a_reset_link_works_only_once(client):
    PatientUserFactory(email="asha@example.test")
    request_reset(client, "asha@example.test")
    reset_password(client, mail.outbox[0])

    response = Client().get(link_in(mail.outbox[0]))

    assert response.status_code == 200
    assert response.context["token_fail"]


def test_using_one_reset_link_closes_every_other_open_one(client, clock):
    user = PatientUserFactory(email="asha@example.test")
    request_reset(client, "asha@example.test")
    clock.shift(timedelta(minutes=2))
    request_reset(client, "asha@example.test")

    reset_password(client, mail.outbox[1])

    assert Client().get(link_in(mail.outbox[0])).context["token_fail"]
    assert not PasswordResetToken.objects.filter(user=user, used_at__isnull=True).exists()


def test_a_reset_link_still_works_just_before_an_hour(client, clock):
    PatientUserFactory(email="asha@example.test")
    request_reset(client, "asha@example.test")
    clock.shift(timedelta(minutes=59))

    assert reset_password(client, mail.outbox[0]).status_code == 302
    assert sign_in(Client(), "asha@example.test", NEW_PASSWORD).status_code == 302


def test_a_reset_link_expires_after_an_hour(client, clock):
    PatientUserFactory(email="asha@example.test")
    request_reset(client, "asha@example.test")
    clock.shift(timedelta(hours=1, minutes=1))

    response = client.get(link_in(mail.outbox[0]))

    assert response.context["token_fail"]
    assert sign_in(Client(), "asha@example.test", TEST_PASSWORD).status_code == 302  # password unchanged


def test_a_valid_django_token_without_a_recorded_request_is_refused(client):
    # Django's own token for this user checks out, but the site never sent
    # it: without a usable row in password_reset_tokens it must not work.
    user = PatientUserFactory(email="asha@example.test")
    token = PasswordResetTokenGenerator().make_token(user)

    response = client.get(reverse("account_reset_password_from_key", kwargs={"uidb36": user.pk, "key": token}))

    assert response.status_code == 200
    assert response.context["token_fail"]


def test_a_reset_link_for_one_account_does_not_open_another(client):
    PatientUserFactory(email="asha@example.test")
    other = PatientUserFactory(email="ravi@example.test")
    request_reset(client, "asha@example.test")
    token = reset_key(mail.outbox[0]).split("-", 1)[1]

    response = client.get(reverse("account_reset_password_from_key", kwargs={"uidb36": other.pk, "key": token}))

    assert response.context["token_fail"]


def test_a_reset_works_while_the_account_is_locked_and_lifts_the_lock(client, clock):
    user = PatientUserFactory(email="asha@example.test")
    for _ in range(5):
        sign_in(Client(), "asha@example.test", "wrong password, again")
    user.refresh_from_db()
    assert user.is_locked

    request_reset(client, "asha@example.test")
    reset_password(client, mail.outbox[0])

    user.refresh_from_db()
    assert not user.is_locked
    assert user.failed_login_attempts == 0
    fresh = Client()
    assert sign_in(fresh, "asha@example.test", NEW_PASSWORD).status_code == 302
    assert signed_in_user(fresh) == user
    assert AdminLog.objects.filter(record_id=user.pk, description__startswith="Password reset by email").exists()


def test_after_a_reset_every_other_session_of_that_user_ends(client):
    user = PatientUserFactory(email="asha@example.test")
    laptop, phone = Client(), Client()
    sign_in(laptop, "asha@example.test")
    sign_in(phone, "asha@example.test")
    assert signed_in_user(laptop) == user

    request_reset(client, "asha@example.test")
    reset_password(client, mail.outbox[0])

    assert not signed_in_user(laptop).is_authenticated
    assert not signed_in_user(phone).is_authenticated
    assert not signed_in_user(client).is_authenticated  # a reset does not sign in either


def test_the_new_password_must_pass_the_password_rules(client):
    PatientUserFactory(email="asha@example.test")
    request_reset(client, "asha@example.test")

    response = reset_password(client, mail.outbox[0], password="12345678")

    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["password1"])
    assert "too short" in errors
    assert "too common" in errors
    assert sign_in(Client(), "asha@example.test", TEST_PASSWORD).status_code == 302
