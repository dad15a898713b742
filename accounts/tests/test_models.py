"""The accounts tables: users, notifications, admin_logs and the token tables."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import AdminLog, Notification, Role, User
from accounts.tests.factories import (
    TEST_PASSWORD,
    AdminLogFactory,
    DoctorUserFactory,
    EmailVerificationTokenFactory,
    NotificationFactory,
    PasswordResetTokenFactory,
    PatientUserFactory,
    UserFactory,
)
from consultations.models import Consultation
from consultations.tests.factories import ConsultationFactory
from doctors.tests.factories import DoctorProfileFactory
from patients.tests.factories import PatientProfileFactory

pytestmark = pytest.mark.django_db

# Crockford base32, 26 characters: what python-ulid prints.
ULID_RE = r"[0-9A-HJKMNP-TV-Z]{26}"


# --- ids --------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.PATIENT, Role.DOCTOR, Role.ADMIN])
def test_a_user_id_is_the_role_then_a_ulid(role):
    user = UserFactory(role=role)

    assert re.fullmatch(rf"{role}_{ULID_RE}", user.pk)


def test_user_ids_are_unique():
    ids = {UserFactory().pk for _ in range(20)}

    assert len(ids) == 20


def test_a_later_user_sorts_after_an_earlier_one():
    first = PatientUserFactory()
    # ULIDs order by millisecond; within one millisecond only the random part differs.
    time.sleep(0.005)
    second = PatientUserFactory()

    assert second.pk > first.pk
    assert list(User.objects.order_by("pk").values_list("pk", flat=True)) == [first.pk, second.pk]


# --- email and phone -----------------------------------------------------------


def test_it_stores_the_email_lower_cased():
    user = User.objects.create_user(email="  Asha.Rao@Example.TEST ", password=TEST_PASSWORD)
    user.refresh_from_db()

    assert user.email == "asha.rao@example.test"


def test_it_finds_a_user_by_email_in_any_case():
    user = UserFactory(email="asha@example.test")

    assert authenticate(username="ASHA@Example.test", password=TEST_PASSWORD) == user


def test_full_clean_refuses_a_user_without_email_or_phone():
    user = User(role=Role.PATIENT, email="", phone="")

    with pytest.raises(ValidationError) as exc:
        user.full_clean(exclude=["password"])

    assert "An account needs an email address or a phone number." in exc.value.messages


def test_the_database_refuses_a_user_without_email_or_phone():
    user = User(role=Role.PATIENT, email=None, phone=None)

    with pytest.raises(IntegrityError), transaction.atomic():
        user.save()

    assert not User.all_objects.exists()


def test_a_user_may_sign_up_with_a_phone_only():
    user = UserFactory(email=None, phone="+919812345678")

    user.full_clean(exclude=["password"])
    user.refresh_from_db()
    assert user.email is None
    assert user.phone == "+919812345678"


@pytest.mark.parametrize("phone", ["9812345678", "+91 98123 45678", "+0123456789", "+9198123456789012"])
def test_it_refuses_a_phone_that_is_not_e164(phone):
    user = User(role=Role.PATIENT, email="asha@example.test", phone=phone)

    with pytest.raises(ValidationError) as exc:
        user.full_clean(exclude=["password"])

    assert "Enter the number in international form, e.g. +919812345678." in exc.value.message_dict["phone"]


def test_it_refuses_a_second_user_with_the_same_email_in_another_case():
    UserFactory(email="asha@example.test")

    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(email="Asha@Example.test")

    assert User.objects.filter(email="asha@example.test").count() == 1


def test_full_clean_reports_a_taken_email():
    UserFactory(email="asha@example.test")

    with pytest.raises(ValidationError) as exc:
        User(role=Role.PATIENT, email="asha@example.test").full_clean(exclude=["password"])

    assert "email" in exc.value.message_dict


def test_it_refuses_a_second_user_with_the_same_phone():
    UserFactory(email=None, phone="+919812345678")

    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(email=None, phone="+919812345678")

    assert User.objects.filter(phone="+919812345678").count() == 1


def test_two_phone_only_users_do_not_collide_on_an_empty_email():
    # Empty emails are stored as NULL, which a unique index allows many times.
    UserFactory(email="", phone="+919812345678")
    UserFactory(email="", phone="+919812345679")

    assert User.objects.filter(email__isnull=True).count() == 2


# --- soft delete ----------------------------------------------------------------


def test_a_soft_deleted_user_disappears_from_the_default_manager_but_not_from_all_objects():
    user = PatientUserFactory()

    user.soft_delete()

    assert not User.objects.filter(pk=user.pk).exists()
    assert User.all_objects.get(pk=user.pk).deleted_at is not None


def test_a_soft_deleted_user_cannot_sign_in():
    user = PatientUserFactory(email="asha@example.test")
    assert authenticate(username="asha@example.test", password=TEST_PASSWORD) == user

    user.soft_delete()

    assert authenticate(username="asha@example.test", password=TEST_PASSWORD) is None


def test_a_consultation_still_shows_its_soft_deleted_patient():
    consultation = ConsultationFactory()
    patient = consultation.patient

    patient.soft_delete()

    assert Consultation.objects.get(pk=consultation.pk).patient == patient


# --- superusers and names ----------------------------------------------------------


def test_create_superuser_makes_a_staff_admin():
    user = User.objects.create_superuser("Root@Example.test", TEST_PASSWORD)

    assert user.role == Role.ADMIN
    assert user.pk.startswith("admin_")
    assert user.is_staff
    assert user.is_superuser
    assert user.email == "root@example.test"


def test_display_name_is_the_patient_profiles_name():
    profile = PatientProfileFactory(full_name="Asha Rao")

    assert User.objects.get(pk=profile.user_id).display_name == "Asha Rao"


def test_display_name_is_the_doctor_profiles_name():
    profile = DoctorProfileFactory(full_name="Dr. Vikram Iyer")

    assert User.objects.get(pk=profile.user_id).display_name == "Dr. Vikram Iyer"


def test_display_name_falls_back_to_the_login_without_a_profile():
    user = DoctorUserFactory(email="new.doctor@example.test")

    assert User.objects.get(pk=user.pk).display_name == "new.doctor@example.test"


# --- audit log --------------------------------------------------------------------


def test_an_audit_row_cannot_be_changed_after_it_is_written():
    log = AdminLogFactory(description="Locked the account")
    log.description = "Nothing happened"

    with pytest.raises(TypeError, match="append-only"):
        log.save()

    assert AdminLog.objects.get(pk=log.pk).description == "Locked the account"


def test_an_audit_row_cannot_be_deleted():
    log = AdminLogFactory()

    with pytest.raises(TypeError, match="append-only"):
        log.delete()

    assert AdminLog.objects.filter(pk=log.pk).exists()


def test_audit_rows_cannot_be_updated_in_bulk():
    log = AdminLogFactory(description="Locked the account")

    with pytest.raises(TypeError, match="append-only"):
        AdminLog.objects.filter(pk=log.pk).update(description="Nothing happened")

    assert AdminLog.objects.get(pk=log.pk).description == "Locked the account"


def test_audit_rows_cannot_be_deleted_in_bulk():
    AdminLogFactory.create_batch(2)

    with pytest.raises(TypeError, match="append-only"):
        AdminLog.objects.all().delete()

    assert AdminLog.objects.count() == 2


# --- notifications ---------------------------------------------------------------


@pytest.mark.parametrize(
    "deeplink",
    [
        "https://evil.example",
        "//evil.example",
        "javascript:alert(1)",
        # Browsers treat a backslash like a slash, and drop tabs and newlines,
        # so these two are the same as "//evil.example".
        "/\\evil.example",
        "/\t/evil.example",
    ],
)
def test_a_notification_refuses_a_deeplink_to_another_site(deeplink):
    notification = NotificationFactory()
    notification.deeplink = deeplink

    with pytest.raises(ValidationError) as exc:
        notification.full_clean()

    assert "deeplink" in exc.value.message_dict


def test_a_notification_accepts_a_path_on_this_site():
    notification = NotificationFactory(deeplink="/consultations/x")

    notification.full_clean()
    assert Notification.objects.get(pk=notification.pk).deeplink == "/consultations/x"


# --- tokens ----------------------------------------------------------------------


def test_a_fresh_password_reset_token_is_usable():
    token = PasswordResetTokenFactory()

    assert not token.is_expired
    assert token.is_usable


def test_an_expired_password_reset_token_is_not_usable():
    token = PasswordResetTokenFactory(expires_at=timezone.now() - timedelta(seconds=1))

    assert token.is_expired
    assert not token.is_usable


def test_a_used_password_reset_token_is_not_usable():
    token = PasswordResetTokenFactory(used_at=timezone.now())

    assert not token.is_expired
    assert not token.is_usable


def test_a_token_is_expired_at_the_moment_it_expires():
    now = timezone.now()
    token = PasswordResetTokenFactory(expires_at=now)

    with mock.patch("accounts.models.timezone.now", return_value=now):
        assert token.is_expired


def test_a_fresh_email_verification_token_is_usable():
    token = EmailVerificationTokenFactory()

    assert token.is_usable


def test_an_expired_email_verification_token_is_not_usable():
    token = EmailVerificationTokenFactory(expires_at=timezone.now() - timedelta(minutes=1))

    assert token.is_expired
    assert not token.is_usable


def test_a_used_email_verification_token_is_not_usable():
    token = EmailVerificationTokenFactory(verified_at=timezone.now())

    assert not token.is_usable
