"""Closing an account: re-authentication first, then a soft delete that ends
every session, makes sign-in impossible and frees the email and phone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import AdminLog, AuditAction, User
from accounts.tests.factories import TEST_PASSWORD, PatientUserFactory, StaffUserFactory
from doctors.models import DoctorProfile
from doctors.tests.factories import DoctorProfileFactory
from patients.models import PatientProfile
from patients.tests.factories import PatientProfileFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)
PASSWORD = "saffron-kettle-1987-quiet"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def asha() -> User:
    return PatientProfileFactory(
        user=PatientUserFactory(email="asha@example.test", phone="+919812345678", phone_verified=True)
    ).user


def sign_in(client: Client, login: str, password: str = TEST_PASSWORD):
    return client.post(reverse("account_login"), {"login": login, "password": password})


def signed_in_user(client: Client):
    return client.get(reverse("healthz")).wsgi_request.user


def ask_to_delete(client: Client, confirm: str = "DELETE"):
    return client.post(reverse("accounts:delete"), {"confirm": confirm})


def reauthenticate(client: Client, password: str = TEST_PASSWORD, next_url: str | None = None):
    url = reverse("account_reauthenticate") + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"password": password})


def delete_account(client: Client, password: str = TEST_PASSWORD):
    """The whole flow: ask, re-enter the password, and allauth replays the request."""
    asked = ask_to_delete(client)
    assert urlsplit(asked["Location"]).path == reverse("account_reauthenticate")
    return client.post(asked["Location"], {"password": password})


# --- re-authentication ---------------------------------------------------------------------


def test_deleting_asks_for_the_password_again_even_just_after_sign_in(client, asha):
    sign_in(client, "asha@example.test")

    response = ask_to_delete(client)

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("account_reauthenticate")
    assert parse_qs(location.query)["next"] == [reverse("accounts:delete")]
    asha.refresh_from_db()
    assert asha.deleted_at is None
    assert asha.is_active


def test_after_re_entering_the_password_the_account_is_closed(client, asha, clock):
    sign_in(client, "asha@example.test")

    response = delete_account(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    closed = User.all_objects.get(pk=asha.pk)
    assert closed.deleted_at == START
    assert not closed.is_active
    assert not closed.has_usable_password()
    assert closed.email is None
    assert closed.phone is None
    # Erasure: not even the deleted_* copies keep the address and number.
    assert closed.deleted_email == ""
    assert closed.deleted_phone == ""
    assert not EmailAddress.objects.filter(email__iexact="asha@example.test").exists()
    assert PatientProfile.all_objects.get(user_id=asha.pk).deleted_at == START
    assert not User.objects.filter(pk=asha.pk).exists()
    assert not signed_in_user(client).is_authenticated


def test_closing_an_account_writes_the_audit_trail(client, asha):
    sign_in(client, "asha@example.test")

    delete_account(client)

    row = AdminLog.objects.get(table_name="users", record_id=asha.pk, action=AuditAction.SOFT_DELETE)
    assert row.user_id == asha.pk
    # The audit trail is kept, so it records that they were erased, not what they were.
    assert row.old_values == {"had_email": True, "had_phone": True, "is_active": True}
    assert {k: row.new_values[k] for k in ("email", "phone", "is_active")} == {
        "email": None,
        "phone": None,
        "is_active": False,
    }
    assert "asha@example.test" not in str(row.old_values) + str(row.new_values)
    assert row.ip_address == "127.0.0.1"


def test_a_wrong_password_at_re_authentication_closes_nothing(client, asha):
    sign_in(client, "asha@example.test")

    response = delete_account(client, password="not my password")

    assert response.status_code == 200
    assert "password" in response.context["form"].errors
    asha.refresh_from_db()
    assert asha.deleted_at is None
    assert signed_in_user(client) == asha


def test_re_authentication_lasts_five_minutes(client, asha, clock):
    sign_in(client, "asha@example.test")
    reauthenticate(client, next_url="/")
    clock.shift(timedelta(minutes=5, seconds=1))

    response = ask_to_delete(client)

    assert urlsplit(response["Location"]).path == reverse("account_reauthenticate")
    assert User.objects.filter(pk=asha.pk).exists()


def test_within_five_minutes_of_re_authentication_the_request_goes_through(client, asha, clock):
    sign_in(client, "asha@example.test")
    reauthenticate(client, next_url="/")
    clock.shift(timedelta(minutes=4))

    response = ask_to_delete(client)

    assert response["Location"] == reverse("home")
    assert not User.objects.filter(pk=asha.pk).exists()


def test_the_page_itself_opens_without_re_authentication_and_closes_nothing(client, asha):
    sign_in(client, "asha@example.test")

    response = client.get(reverse("accounts:delete"))

    assert response.status_code == 200
    assert "confirm" in response.context["form"].fields
    assert User.objects.filter(pk=asha.pk).exists()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = ask_to_delete(client)

    assert urlsplit(response["Location"]).path == reverse("account_login")


# --- after closing ------------------------------------------------------------------------


def test_a_closed_account_cannot_sign_in_by_email_or_phone(client, asha):
    sign_in(client, "asha@example.test")
    delete_account(client)

    unknown = sign_in(Client(), "nobody@example.test")
    by_email = sign_in(Client(), "asha@example.test")
    by_phone = sign_in(Client(), "98123 45678")

    assert by_email.status_code == by_phone.status_code == 200
    assert by_email.context["form"].errors == unknown.context["form"].errors  # no hint the account existed
    assert "not correct" in by_phone.context["form"].non_field_errors()[0]


def test_closing_an_account_signs_out_its_other_sessions(client, asha):
    phone = Client()
    sign_in(phone, "98123 45678")
    sign_in(client, "asha@example.test")

    delete_account(client)

    assert not signed_in_user(phone).is_authenticated


def test_a_closed_account_gets_no_password_reset_link(client, asha):
    sign_in(client, "asha@example.test")
    delete_account(client)
    mail.outbox.clear()

    response = Client().post(reverse("account_reset_password"), {"email": "asha@example.test"})

    assert response["Location"] == reverse("account_reset_password_done")
    assert "/accounts/password/reset/key/" not in "".join(m.body for m in mail.outbox)
    assert not asha.__class__.all_objects.get(pk=asha.pk).has_usable_password()


def test_the_email_and_phone_are_free_for_a_new_sign_up(client, asha):
    sign_in(client, "asha@example.test")
    delete_account(client)

    response = Client().post(
        reverse("account_signup"),
        {
            "full_name": "Asha Rao",
            "email": "asha@example.test",
            "phone": "98123 45678",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "role": "patient",
        },
    )

    assert response.status_code == 302
    new = User.objects.get(email="asha@example.test")
    assert new.pk != asha.pk
    assert new.phone == "+919812345678"
    assert PatientProfile.objects.get(user=new).full_name == "Asha Rao"
    assert User.all_objects.get(pk=asha.pk).deleted_email == ""


def test_a_doctor_closing_their_account_leaves_the_listing(client):
    doctor = DoctorProfileFactory(user__email="dr.mehta@example.test").user
    sign_in(client, "dr.mehta@example.test")

    delete_account(client)

    assert DoctorProfile.all_objects.get(user_id=doctor.pk).is_deleted
    from doctors.models import ActiveDoctor

    assert not ActiveDoctor.objects.filter(user_id=doctor.pk).exists()


# --- staff --------------------------------------------------------------------------------


def test_staff_accounts_cannot_be_closed_by_their_owner(client):
    staff = StaffUserFactory()

    with pytest.raises(services.AccountDeletionError):
        services.account_delete(user=staff)

    staff.refresh_from_db()
    assert staff.is_active
    assert staff.deleted_at is None
    assert not AdminLog.objects.filter(action=AuditAction.SOFT_DELETE).exists()


def test_staff_asking_to_close_their_account_are_refused_on_the_page(client):
    staff = StaffUserFactory()
    client.force_login(staff)
    reauthenticate(client, next_url="/")

    response = ask_to_delete(client)

    assert response.status_code == 200
    assert "Staff accounts are closed by an administrator." in response.content.decode()
    staff.refresh_from_db()
    assert staff.is_active


@pytest.mark.parametrize("typed", ["", "delete", "DELETE ME", "yes"])
def test_closing_needs_delete_typed_in_capitals(client, asha, typed):
    sign_in(client, "asha@example.test")
    reauthenticate(client, next_url="/")

    response = ask_to_delete(client, confirm=typed)

    assert response.status_code == 200
    assert User.objects.filter(pk=asha.pk).exists()
