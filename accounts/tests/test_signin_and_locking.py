"""Sign-in by email or phone, the same answer for unknown and wrong, per-account
locking, login tracking and client IPs read behind trusted proxies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import AdminLog, AuditAction, User
from accounts.tests.factories import TEST_PASSWORD, PatientUserFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

WRONG_PASSWORD = "not the password at all"
# 04:30 UTC is 10:00 in Asia/Kolkata (the site's zone): lock messages read in IST.
START = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def patient():
    return PatientUserFactory(email="asha@example.test", phone="+919812345678", phone_verified=True)


def sign_in(client: Client, login: str, password: str = TEST_PASSWORD, **headers):
    return client.post(reverse("account_login"), {"login": login, "password": password}, **headers)


def signed_in_user(client: Client):
    """Who the site thinks this client is on its next request."""
    return client.get(reverse("healthz")).wsgi_request.user


def form_errors(response) -> list[str]:
    return [str(e) for errors in response.context["form"].errors.values() for e in errors]


def fail(client: Client, login: str, times: int = 1, **headers) -> None:
    for _ in range(times):
        response = sign_in(client, login, WRONG_PASSWORD, **headers)
        assert response.status_code == 200, "a failed sign-in shows the form again"


# --- signing in ---------------------------------------------------------------------


def test_a_patient_signs_in_with_their_email_in_any_case(client, patient):
    response = sign_in(client, "  Asha@Example.TEST ")

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:dashboard")
    assert signed_in_user(client) == patient


def test_a_patient_signs_in_with_their_mobile_number_typed_the_indian_way(client, patient):
    response = sign_in(client, "098123 45678")

    assert response.status_code == 302
    assert signed_in_user(client) == patient


def test_a_patient_signs_in_with_their_number_in_international_form(client, patient):
    sign_in(client, "+91 98123 45678")

    assert signed_in_user(client) == patient


def test_a_wrong_password_is_refused(client, patient):
    response = sign_in(client, "asha@example.test", WRONG_PASSWORD)

    assert response.status_code == 200
    assert form_errors(response) == ["The email address and/or password you specified are not correct."]
    assert not signed_in_user(client).is_authenticated


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(client, patient):
    wrong = sign_in(client, "asha@example.test", WRONG_PASSWORD)
    unknown = sign_in(Client(), "nobody@example.test", WRONG_PASSWORD)

    assert wrong.status_code == unknown.status_code == 200
    assert form_errors(wrong) == form_errors(unknown)
    assert wrong.context["form"].errors == unknown.context["form"].errors
    assert form_errors(wrong)[0] in wrong.content.decode()
    assert form_errors(unknown)[0] in unknown.content.decode()


def test_a_wrong_password_and_an_unknown_phone_get_the_same_answer(client, patient):
    wrong = sign_in(client, "98123 45678", WRONG_PASSWORD)
    unknown = sign_in(Client(), "98765 43210", WRONG_PASSWORD)

    assert wrong.context["form"].errors == unknown.context["form"].errors
    assert "not correct" in form_errors(wrong)[0]


def test_a_deactivated_account_cannot_sign_in(client):
    user = PatientUserFactory(is_active=False)

    response = sign_in(client, user.email)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_inactive")
    assert not signed_in_user(client).is_authenticated


# --- login tracking ---------------------------------------------------------------------


def test_a_sign_in_records_when_from_where_and_how_often(client, patient, clock):
    sign_in(client, "asha@example.test", REMOTE_ADDR="203.0.113.9")
    patient.refresh_from_db()
    assert patient.last_login == START
    assert patient.last_login_ip == "203.0.113.9"
    assert patient.login_count == 1

    clock.shift(timedelta(hours=3))
    sign_in(Client(), "98123 45678", REMOTE_ADDR="2001:db8::1")
    patient.refresh_from_db()
    assert patient.last_login == START + timedelta(hours=3)
    assert patient.last_login_ip == "2001:db8::1"
    assert patient.login_count == 2


def test_a_failed_sign_in_is_not_tracked_as_a_login(client, patient):
    fail(client, "asha@example.test")

    patient.refresh_from_db()
    assert patient.login_count == 0
    assert patient.last_login is None
    assert patient.last_login_ip is None


# --- client IPs behind proxies ------------------------------------------------------------

FORGED_XFF = "1.2.3.4, 198.51.100.7"  # the client wrote 1.2.3.4; our proxy appended what it saw


def test_behind_one_trusted_proxy_the_address_that_proxy_saw_is_recorded(client, patient, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1

    sign_in(client, "asha@example.test", HTTP_X_FORWARDED_FOR=FORGED_XFF, REMOTE_ADDR="10.0.0.1")

    patient.refresh_from_db()
    assert patient.last_login_ip == "198.51.100.7"


def test_without_trusted_proxies_a_forwarded_for_header_is_ignored(client, patient, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0

    sign_in(client, "asha@example.test", HTTP_X_FORWARDED_FOR=FORGED_XFF, REMOTE_ADDR="10.0.0.1")

    patient.refresh_from_db()
    assert patient.last_login_ip == "10.0.0.1"


def test_the_lock_audit_row_records_the_address_the_trusted_proxy_saw(client, patient, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1

    for n in range(5):
        fail(client, "asha@example.test", HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 198.51.100.7", REMOTE_ADDR="10.0.0.1")

    row = AdminLog.objects.get(table_name="users", record_id=patient.pk, action=AuditAction.ACTION)
    assert row.ip_address == "198.51.100.7"
    assert row.description == "Locked after 5 failed sign-ins."
    assert row.user is None


@pytest.mark.parametrize("proxy_count", [0, 1])
def test_a_forged_forwarded_for_does_not_dodge_the_per_ip_limit(client, patient, settings, proxy_count):
    # allauth allows 10 failed sign-ins a minute per client IP. Each guess goes
    # to another (unknown) account, so no account lock is involved; a new
    # forged X-Forwarded-For each time must not make a new client.
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = proxy_count
    for n in range(10):
        fail(client, f"guess{n}@example.test", HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 198.51.100.7", REMOTE_ADDR="10.0.0.1")

    response = sign_in(
        client, "asha@example.test", HTTP_X_FORWARDED_FOR="7.7.7.7, 198.51.100.7", REMOTE_ADDR="10.0.0.1"
    )

    assert response.status_code == 200
    assert form_errors(response) == ["Too many failed login attempts. Try again later."]
    assert not signed_in_user(client).is_authenticated


# --- locking ---------------------------------------------------------------------------


def locked_message(response) -> str:
    errors = form_errors(response)
    assert len(errors) == 1, errors
    return errors[0]


def test_five_failures_within_fifteen_minutes_lock_the_account(client, patient, clock):
    for _ in range(4):
        fail(client, "asha@example.test")
        clock.shift(timedelta(minutes=3))
    fail(client, "asha@example.test")  # the fifth, 12 minutes after the first

    patient.refresh_from_db()
    assert patient.failed_login_attempts == 5
    assert patient.locked_until == START + timedelta(minutes=12 + 15)
    assert patient.is_locked


def test_while_locked_even_the_right_password_is_refused_with_the_time_it_ends(client, patient, clock):
    fail(client, "asha@example.test", times=5)  # at 10:00 IST

    response = sign_in(client, "asha@example.test")

    assert response.status_code == 200
    message = locked_message(response)
    assert "locked until 10:15" in message
    assert "02 Mar 2026" in message
    assert message in response.content.decode()
    assert not signed_in_user(client).is_authenticated


def test_the_lock_also_refuses_sign_in_by_phone(client, patient, clock):
    fail(client, "asha@example.test", times=5)

    response = sign_in(client, "98123 45678")

    assert "locked until 10:15" in locked_message(response)
    assert not signed_in_user(client).is_authenticated


def test_four_failures_then_a_sixteen_minute_pause_then_one_more_do_not_lock(client, patient, clock):
    fail(client, "asha@example.test", times=4)
    clock.shift(timedelta(minutes=16))
    fail(client, "asha@example.test")

    patient.refresh_from_db()
    assert patient.locked_until is None
    assert patient.failed_login_attempts == 1
    assert sign_in(client, "asha@example.test").status_code == 302


def test_five_failures_spread_over_more_than_fifteen_minutes_do_not_lock(client, patient, clock):
    # Each failure is only four minutes after the one before, yet the five
    # span 16 minutes: no 15-minute window holds five of them.
    for _ in range(4):
        fail(client, "asha@example.test")
        clock.shift(timedelta(minutes=4))
    fail(client, "asha@example.test")

    patient.refresh_from_db()
    assert patient.locked_until is None
    assert patient.failed_login_attempts == 4  # the first fell out of the window

    clock.shift(timedelta(minutes=1))
    fail(client, "asha@example.test")  # now five within 13 minutes

    patient.refresh_from_db()
    assert patient.is_locked


def test_the_lock_counts_failures_for_one_account_from_any_ip(patient, clock):
    for n in range(5):
        fail(Client(), "asha@example.test", REMOTE_ADDR=f"203.0.113.{n + 1}")

    patient.refresh_from_db()
    assert patient.is_locked
    response = sign_in(Client(), "asha@example.test", REMOTE_ADDR="198.51.100.99")
    assert "locked until" in locked_message(response)


def test_failures_on_other_accounts_do_not_count_towards_this_one(client, patient, clock):
    other = PatientUserFactory()
    fail(client, other.email, times=4)
    fail(client, "asha@example.test")

    patient.refresh_from_db()
    assert patient.failed_login_attempts == 1
    assert not patient.is_locked


def test_after_fifteen_minutes_the_lock_ends(client, patient, clock):
    fail(client, "asha@example.test", times=5)
    clock.shift(timedelta(minutes=14, seconds=59))
    assert "locked until" in locked_message(sign_in(client, "asha@example.test"))

    clock.shift(timedelta(seconds=2))
    response = sign_in(client, "asha@example.test")

    assert response.status_code == 302
    assert signed_in_user(client) == patient
    patient.refresh_from_db()
    assert patient.locked_until is None
    assert patient.failed_login_attempts == 0


def test_a_successful_sign_in_resets_the_failure_count(client, patient, clock):
    fail(client, "asha@example.test", times=4)
    sign_in(client, "asha@example.test")
    patient.refresh_from_db()
    assert patient.failed_login_attempts == 0
    assert patient.last_failed_login_at is None

    client.post(reverse("account_logout"))
    fail(client, "asha@example.test", times=4)  # 8 in 15 minutes, but only 4 since the success

    patient.refresh_from_db()
    assert patient.failed_login_attempts == 4
    assert not patient.is_locked


def test_locking_writes_the_audit_trail_and_tells_the_owner(client, patient, clock):
    fail(client, "asha@example.test", times=5)

    assert AdminLog.objects.filter(record_id=patient.pk, description__startswith="Locked after").count() == 1
    assert patient.notifications.filter(kind="account_locked").count() == 1


def test_an_unknown_email_locks_with_the_same_message_as_a_real_account(clock):
    PatientUserFactory(email="real@example.test")
    # From two addresses, to stay under allauth's per-IP limit of 10 a minute.
    fail(Client(), "real@example.test", times=5, REMOTE_ADDR="203.0.113.1")
    fail(Client(), "ghost@example.test", times=5, REMOTE_ADDR="203.0.113.2")

    real = locked_message(sign_in(Client(), "real@example.test", REMOTE_ADDR="203.0.113.3"))
    ghost = locked_message(sign_in(Client(), "ghost@example.test", WRONG_PASSWORD, REMOTE_ADDR="203.0.113.3"))

    assert "locked until 10:15" in real
    assert ghost == real


# --- staff unlock -------------------------------------------------------------------------


def test_staff_unlock_a_locked_account_from_the_admin_and_it_is_audited(client, patient, clock):
    fail(client, "asha@example.test", times=5)
    staff = StaffUserFactory()
    staff_client = Client()
    staff_client.force_login(staff)

    response = staff_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "unlock_accounts", "_selected_action": [patient.pk]},
        REMOTE_ADDR="192.0.2.10",
    )

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.locked_until is None
    assert patient.failed_login_attempts == 0
    row = AdminLog.objects.get(record_id=patient.pk, description="Unlocked by staff.")
    assert row.user == staff
    assert row.old_values["failed_login_attempts"] == 5
    assert row.new_values == {"failed_login_attempts": 0, "locked_until": None}
    assert row.ip_address == "192.0.2.10"
    assert sign_in(client, "asha@example.test").status_code == 302
    assert signed_in_user(client) == patient


def test_someone_who_is_not_staff_cannot_unlock_an_account(patient, clock):
    for _ in range(5):
        services.login_failure_record(user=patient, login=patient.email)
    intruder = PatientUserFactory()

    with pytest.raises(PermissionError):
        services.account_unlock(user=patient, by=intruder)

    assert User.objects.get(pk=patient.pk).is_locked
    assert not AdminLog.objects.filter(description="Unlocked by staff.").exists()
