"""Sign-up as a patient (email or mobile) or as a doctor, the password rules,
and sign-up that does not reveal which addresses have accounts."""

from __future__ import annotations

import importlib

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import EMAIL_OR_PHONE_REQUIRED, Role, User
from accounts.policies import is_verified_doctor
from accounts.tests.factories import TEST_PASSWORD, PatientUserFactory
from doctors.models import ActiveDoctor, DoctorProfile, VerificationStatus
from doctors.queries import featured_doctors
from patients.models import PatientProfile

pytestmark = pytest.mark.django_db

PASSWORD = "saffron-kettle-1987-quiet"


class SMSOutbox(list):
    def send(self, *, to: str, message: str) -> None:
        self.append((to, message))


@pytest.fixture
def sms(monkeypatch) -> SMSOutbox:
    outbox = SMSOutbox()
    monkeypatch.setattr("accounts.sms.get_sms_backend", lambda: outbox)
    return outbox


def sign_up(client: Client, url: str | None = None, **fields):
    data = {"full_name": "Asha Rao", "password1": PASSWORD, "password2": PASSWORD, "role": "patient", **fields}
    return client.post(url or reverse("account_signup"), data)


def signed_in_user(client: Client):
    return client.get(reverse("healthz")).wsgi_request.user


def errors(response) -> dict[str, list[str]]:
    return {field: [str(e) for e in errs] for field, errs in response.context["form"].errors.items()}


# --- patients ------------------------------------------------------------------------


def test_a_patient_signs_up_with_email_and_gets_a_patient_profile(client):
    response = sign_up(client, email="Asha@Example.test", full_name="  Asha   Rao ")

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:dashboard")
    user = User.objects.get(email="asha@example.test")
    assert user.role == Role.PATIENT
    assert user.pk.startswith("patient_")
    assert user.check_password(PASSWORD)
    assert PatientProfile.objects.get(user=user).full_name == "Asha Rao"
    assert not DoctorProfile.objects.filter(user=user).exists()


def test_a_new_patient_is_signed_in_and_asked_to_confirm_their_email(client):
    sign_up(client, email="asha@example.test")

    user = User.objects.get(email="asha@example.test")
    assert signed_in_user(client) == user
    assert not user.email_verified
    (message,) = mail.outbox
    assert message.to == ["asha@example.test"]
    assert "/accounts/confirm-email/" in message.body


def test_a_patient_signs_up_with_an_indian_mobile_number_typed_without_country_code(client, sms):
    response = sign_up(client, phone="098123 45678")

    assert response.status_code == 302
    assert response["Location"] == reverse("account_verify_phone")
    user = User.objects.get(phone="+919812345678")
    assert user.email is None
    assert not user.phone_verified
    assert PatientProfile.objects.filter(user=user).exists()
    ((to, message),) = sms
    assert to == "+919812345678"
    assert "verification code" in message
    assert mail.outbox == []


def test_a_patient_signs_up_with_an_international_mobile_number(client, sms):
    sign_up(client, phone="+44 7911 123456")

    assert User.objects.filter(phone="+447911123456").exists()
    assert sms[0][0] == "+447911123456"


def test_a_patient_can_give_both_email_and_mobile(client, sms):
    sign_up(client, email="asha@example.test", phone="98123 45678")

    user = User.objects.get(email="asha@example.test")
    assert user.phone == "+919812345678"


@pytest.mark.parametrize("phone", ["12345", "98123 4567", "+91 00000 00000", "not a number"])
def test_an_invalid_mobile_number_is_refused(client, phone):
    response = sign_up(client, phone=phone)

    assert response.status_code == 200
    assert "phone" in errors(response)
    assert not User.objects.exists()


def test_sign_up_needs_an_email_or_a_mobile_number(client):
    response = sign_up(client)

    assert response.status_code == 200
    assert errors(response)["email"] == [EMAIL_OR_PHONE_REQUIRED]
    assert not User.objects.exists()


@pytest.mark.parametrize("name", ["", " ", "A"])
def test_sign_up_needs_a_full_name(client, name):
    response = sign_up(client, email="asha@example.test", full_name=name)

    assert "full_name" in errors(response)
    assert not User.objects.exists()


# --- doctors -------------------------------------------------------------------------


def test_the_doctor_sign_up_page_chooses_the_doctor_role(client):
    response = client.get(reverse("account_signup_doctor"))

    assert response.status_code == 200
    assert response.context["form"]["role"].value() == Role.DOCTOR
    assert response.context["signup_as_doctor"]


def test_a_doctor_signs_up_with_an_unverified_draft_profile(client):
    response = sign_up(client, reverse("account_signup_doctor"), email="dr.mehta@example.test", role="doctor")

    assert response.status_code == 302
    user = User.objects.get(email="dr.mehta@example.test")
    assert user.role == Role.DOCTOR
    assert user.pk.startswith("doctor_")
    profile = DoctorProfile.objects.get(user=user)
    assert profile.full_name == "Asha Rao"
    assert profile.verification_status == VerificationStatus.DRAFT == "draft"
    assert not PatientProfile.objects.filter(user=user).exists()


def test_an_unverified_doctor_can_sign_in_but_is_neither_listed_nor_bookable(client):
    sign_up(client, reverse("account_signup_doctor"), email="dr.mehta@example.test", role="doctor")
    client.post(reverse("account_logout"))

    response = client.post(reverse("account_login"), {"login": "dr.mehta@example.test", "password": PASSWORD})

    assert response.status_code == 302
    doctor = signed_in_user(client)
    assert doctor.email == "dr.mehta@example.test"
    assert not ActiveDoctor.objects.filter(user=doctor).exists()
    assert doctor.pk not in [d.user_id for d in featured_doctors()]
    assert not is_verified_doctor(doctor)

    # The same doctor once staff verify them: listed and bookable.
    DoctorProfile.objects.filter(user=doctor).update(verification_status=VerificationStatus.VERIFIED)
    assert ActiveDoctor.objects.filter(user=doctor).exists()
    assert is_verified_doctor(doctor)


@pytest.mark.parametrize("role", ["admin", "staff", ""])
def test_nobody_can_sign_up_as_anything_but_patient_or_doctor(client, role):
    response = sign_up(client, email="mallory@example.test", role=role)

    assert response.status_code == 200
    assert "role" in errors(response)
    assert not User.all_objects.exists()


def test_sign_up_ignores_posted_staff_flags(client):
    sign_up(client, email="mallory@example.test", is_staff="on", is_superuser="on", email_verified="on")

    user = User.objects.get(email="mallory@example.test")
    assert not user.is_staff
    assert not user.is_superuser
    assert not user.email_verified


# --- passwords -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "complaint"),
    [
        ("Kx7#pq2", "too short"),
        ("password123", "too common"),
        ("8241739650", "entirely numeric"),
        ("asha.rao.example", "too similar"),
    ],
)
def test_passwords_must_pass_djangos_validators(client, password, complaint):
    response = sign_up(client, email="asha.rao@example.test", password1=password, password2=password)

    assert response.status_code == 200
    assert complaint in " ".join(errors(response)["password1"])
    assert not User.objects.exists()


def test_the_two_passwords_must_match(client):
    response = sign_up(client, email="asha@example.test", password2=PASSWORD + "x")

    assert response.status_code == 200
    assert "password2" in errors(response)
    assert not User.objects.exists()


def test_production_hashes_passwords_with_argon2(client, settings):
    # The suite swaps in MD5 for speed (conftest.py); read production's list
    # from the settings module itself and sign up with it.
    production = importlib.import_module("dhanwantari.settings")
    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS

    sign_up(client, email="asha@example.test")

    user = User.objects.get(email="asha@example.test")
    assert user.password.startswith("argon2$argon2id$")
    assert PASSWORD not in user.password
    assert user.check_password(PASSWORD)


# --- not revealing who has an account ------------------------------------------------------


def test_sign_up_with_a_taken_email_answers_like_a_new_one_and_mails_the_owner(client):
    owner = PatientUserFactory(email="taken@example.test")

    taken = sign_up(client, email="Taken@Example.test", full_name="Mallory")
    fresh = sign_up(Client(), email="fresh@example.test")

    assert taken.status_code == fresh.status_code == 302
    assert taken["Location"] == fresh["Location"]
    assert "already" not in taken.content.decode().lower()
    assert [m.to for m in mail.outbox] == [["taken@example.test"], ["fresh@example.test"]]
    assert "already" in mail.outbox[0].subject.lower()
    assert "/accounts/confirm-email/" not in mail.outbox[0].body
    # Nothing about the existing account changed and nobody got into it.
    assert User.objects.filter(email__iexact="taken@example.test").count() == 1
    owner.refresh_from_db()
    assert owner.check_password(TEST_PASSWORD)
    assert not signed_in_user(client).is_authenticated


def test_sign_up_with_a_taken_mobile_number_answers_like_a_new_one_and_texts_the_owner(client, sms):
    PatientUserFactory(email=None, phone="+919812345678", phone_verified=True)

    taken = sign_up(client, phone="98123 45678")
    fresh = sign_up(Client(), phone="98123 45679")

    assert taken.status_code == fresh.status_code == 302
    assert taken["Location"] == fresh["Location"] == reverse("account_verify_phone")
    assert User.objects.filter(phone="+919812345678").count() == 1
    to, message = sms[0]
    assert to == "+919812345678"
    assert "already has an account" in message
    assert "verification code" not in message


def test_a_taken_email_with_a_new_mobile_number_creates_nothing_and_texts_no_one(client, sms):
    PatientUserFactory(email="taken@example.test")

    response = sign_up(client, email="taken@example.test", phone="98123 45678")

    assert response.status_code == 302
    assert response["Location"] == reverse("account_verify_phone")
    assert not User.objects.filter(phone="+919812345678").exists()
    assert sms == []  # the number has no account; the email's owner is mailed
    assert [m.to for m in mail.outbox] == [["taken@example.test"]]
