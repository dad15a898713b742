from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AdminLog, User
from accounts.tests.factories import (
    TEST_PASSWORD,
    AdminLogFactory,
    EmailVerificationTokenFactory,
    NotificationFactory,
    PasswordResetTokenFactory,
    PatientUserFactory,
)
from dhanwantari.testing.admin import changelist_growth
from doctors.tests.factories import verified_doctor
from patients.tests.factories import patient_with_profile

pytestmark = pytest.mark.django_db


def make_user(i: int) -> None:
    # Patients and doctors with profiles (display_name reads them), a
    # phone-only account and a soft-deleted one.
    kind = i % 4
    if kind == 0:
        patient_with_profile()
    elif kind == 1:
        verified_doctor()
    elif kind == 2:
        PatientUserFactory(email=None, phone=f"+9198{i:08d}")
    else:
        patient_with_profile().soft_delete()


ROWS = {
    "accounts_user": make_user,
    "accounts_notification": lambda i: NotificationFactory(user=patient_with_profile()),
    "accounts_adminlog": lambda i: AdminLogFactory(),
    "accounts_passwordresettoken": lambda i: PasswordResetTokenFactory(),
    "accounts_emailverificationtoken": lambda i: EmailVerificationTokenFactory(),
}


@pytest.mark.parametrize("changelist_name", ROWS)
def test_the_changelist_runs_as_many_queries_for_30_rows_as_for_3(staff_client, changelist_name):
    make_row = ROWS[changelist_name]
    url = reverse(f"admin:{changelist_name}_changelist")
    (few_queries, few_rows), (many_queries, many_rows) = changelist_growth(staff_client, url, make_row)

    assert many_rows == few_rows + 27
    assert many_queries == few_queries


@pytest.mark.parametrize(
    "changelist_name, make_object",
    [
        ("accounts_user", patient_with_profile),
        ("accounts_notification", NotificationFactory),
        ("accounts_adminlog", AdminLogFactory),
        ("accounts_passwordresettoken", PasswordResetTokenFactory),
        ("accounts_emailverificationtoken", EmailVerificationTokenFactory),
    ],
)
def test_the_change_page_opens(staff_client, changelist_name, make_object):
    obj = make_object()
    response = staff_client.get(reverse(f"admin:{changelist_name}_change", args=[obj.pk]))
    assert response.status_code == 200


def test_a_patient_is_sent_to_the_login_page(client):
    client.force_login(PatientUserFactory())
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_searching_users_by_email_finds_that_user(staff_client):
    wanted = PatientUserFactory(email="meera.iyer@example.test")
    PatientUserFactory.create_batch(3)

    response = staff_client.get(reverse("admin:accounts_user_changelist"), {"q": "meera.iyer@"})

    assert list(response.context["cl"].result_list) == [wanted]


def test_searching_users_by_profile_name_finds_patients_and_doctors(staff_client):
    patient = patient_with_profile(full_name="Kavya Raman")
    doctor = verified_doctor(full_name="Dr. Kavya Menon")
    patient_with_profile(full_name="Someone Else")

    response = staff_client.get(reverse("admin:accounts_user_changelist"), {"q": "kavya"})

    assert set(response.context["cl"].result_list) == {patient, doctor}


def test_soft_deleted_users_are_listed_and_can_be_filtered(staff_client):
    alive = PatientUserFactory()
    gone = PatientUserFactory()
    gone.soft_delete()
    url = reverse("admin:accounts_user_changelist")

    everyone = set(staff_client.get(url).context["cl"].result_list)
    deleted = set(staff_client.get(url, {"deleted": "yes"}).context["cl"].result_list)
    not_deleted = set(staff_client.get(url, {"deleted": "no"}).context["cl"].result_list)

    assert {alive, gone} <= everyone
    assert deleted == {gone}
    assert gone not in not_deleted
    assert alive in not_deleted


def test_the_locked_filter_lists_only_locked_accounts(staff_client):
    locked = PatientUserFactory(locked_until=timezone.now() + timedelta(minutes=15))
    PatientUserFactory(locked_until=timezone.now() - timedelta(minutes=15))

    response = staff_client.get(reverse("admin:accounts_user_changelist"), {"locked": "yes"})

    assert list(response.context["cl"].result_list) == [locked]


def test_a_soft_deleted_users_change_page_opens(staff_client):
    user = PatientUserFactory()
    user.soft_delete()
    response = staff_client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert response.status_code == 200


def _add_user(client, **fields):
    data = {
        "email": "",
        "phone": "",
        "role": "patient",
        "usable_password": "true",
        "password1": TEST_PASSWORD,
        "password2": TEST_PASSWORD,
        **fields,
    }
    return client.post(reverse("admin:accounts_user_add"), data)


def test_staff_can_create_a_user_with_only_a_phone_number(staff_client):
    response = _add_user(staff_client, phone="+919812345678")

    assert response.status_code == 302
    user = User.objects.get(phone="+919812345678")
    assert user.email is None
    assert user.id.startswith("patient_")
    assert user.check_password(TEST_PASSWORD)


def test_staff_can_create_a_doctor_with_an_email(staff_client):
    response = _add_user(staff_client, email="New.Doctor@Example.test", role="doctor")

    assert response.status_code == 302
    user = User.objects.get(email="new.doctor@example.test")
    assert user.id.startswith("doctor_")


def test_creating_a_user_without_email_or_phone_is_refused(staff_client):
    count = User.all_objects.count()

    response = _add_user(staff_client)

    assert response.status_code == 200
    assert (
        "An account needs an email address or a phone number." in response.context["adminform"].form.non_field_errors()
    )
    assert User.all_objects.count() == count


def test_a_deleted_users_email_is_refused_with_a_form_error(staff_client):
    gone = PatientUserFactory(email="gone@example.test")
    gone.soft_delete()

    response = _add_user(staff_client, email="gone@example.test")

    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors


def test_a_users_role_is_shown_but_not_editable_after_creation(staff_client):
    user = PatientUserFactory()
    response = staff_client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert "role" not in response.context["adminform"].form.fields
    assert b"Patient" in response.content


def test_staff_unlock_an_account_with_the_action_and_the_audit_trail_says_who(staff_client):
    user = PatientUserFactory(failed_login_attempts=5, locked_until=timezone.now() + timedelta(minutes=15))

    response = staff_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "unlock_accounts", "_selected_action": [user.pk]},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.failed_login_attempts, user.locked_until) == (0, None)
    log = AdminLog.objects.get(table_name="users", record_id=user.pk)
    assert log.user.is_staff
    assert log.new_values == {"failed_login_attempts": 0, "locked_until": None}


def test_the_lock_fields_cannot_be_edited_directly(staff_client):
    user = PatientUserFactory(failed_login_attempts=5, locked_until=timezone.now() + timedelta(minutes=15))

    response = staff_client.get(reverse("admin:accounts_user_change", args=[user.pk]))

    form = response.context["adminform"].form
    assert "failed_login_attempts" not in form.fields
    assert "locked_until" not in form.fields


def test_the_admin_log_add_page_is_forbidden_even_to_a_superuser(staff_client):
    response = staff_client.get(reverse("admin:accounts_adminlog_add"))
    assert response.status_code == 403


def test_the_admin_log_change_page_shows_the_entry_without_a_save_button(staff_client):
    log = AdminLogFactory(description="Deactivated after a fraud report")
    response = staff_client.get(reverse("admin:accounts_adminlog_change", args=[log.pk]))
    assert b"Deactivated after a fraud report" in response.content
    assert b'name="_save"' not in response.content


def test_posting_to_an_admin_log_change_page_changes_nothing(staff_client):
    log = AdminLogFactory(description="original")

    response = staff_client.post(
        reverse("admin:accounts_adminlog_change", args=[log.pk]),
        {"action": "delete", "table_name": "consultations", "description": "rewritten", "ip_address": "192.0.2.1"},
    )

    assert response.status_code == 403
    stored = AdminLog.objects.get(pk=log.pk)
    assert (stored.action, stored.table_name, stored.description, stored.ip_address) == (
        log.action,
        log.table_name,
        "original",
        log.ip_address,
    )


def test_an_admin_log_cannot_be_deleted_from_the_admin(staff_client):
    log = AdminLogFactory()
    url = reverse("admin:accounts_adminlog_delete", args=[log.pk])

    assert staff_client.get(url).status_code == 403
    assert staff_client.post(url, {"post": "yes"}).status_code == 403
    assert AdminLog.objects.filter(pk=log.pk).exists()


@pytest.mark.parametrize(
    "changelist_name, make_token",
    [
        ("accounts_passwordresettoken", PasswordResetTokenFactory),
        ("accounts_emailverificationtoken", EmailVerificationTokenFactory),
    ],
)
def test_token_pages_never_show_the_token_hash_and_are_read_only(staff_client, changelist_name, make_token):
    token = make_token()
    pages = [
        reverse(f"admin:{changelist_name}_changelist"),
        reverse(f"admin:{changelist_name}_change", args=[token.pk]),
    ]

    for url in pages:
        response = staff_client.get(url)
        assert response.status_code == 200
        assert token.token_hash.encode() not in response.content
    assert staff_client.get(reverse(f"admin:{changelist_name}_add")).status_code == 403
