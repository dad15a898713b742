"""The staff console: roles, the dashboard, actions through the services, list budgets, db_roles."""

from __future__ import annotations

import io
import secrets
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from accounts.audit import AuditedAdminMixin
from accounts.models import AdminLog, User
from accounts.tests.factories import PatientUserFactory, StaffUserFactory
from consultations.models import Consultation
from consultations.tests.factories import AIConsultationFactory, ConsultationFactory, MessageFactory
from dhanwantari.admin_dashboard import staff_dashboard
from dhanwantari.testing.admin import changelist_growth
from doctors.models import VerificationStatus
from doctors.tests.factories import DoctorReviewFactory, verified_doctor
from doctors.tests.test_verification import pending_doctor
from patients.tests.factories import patient_with_profile

pytestmark = pytest.mark.django_db

SECRET_NOTE = "Suspect Natrum mur constitution; grief since 2019."


def staff_member(*groups: str) -> User:
    """A staff account (with TOTP, as the console demands) in the given groups, not a superuser."""
    user = StaffUserFactory(is_superuser=False)
    user.groups.set(Group.objects.filter(name__in=groups))
    return user


def console(user: User) -> Client:
    client = Client()
    client.force_login(user)
    client.get(reverse("admin:index"))  # the first request writes the session's idle clock
    return client


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def action_names(response) -> set[str]:
    form = response.context["action_form"]  # None when the page offers no action at all
    return {value for value, _ in form.fields["action"].choices if value} if form is not None else set()


# --- roles ---------------------------------------------------------------------------------------------


def test_the_three_staff_groups_exist_after_migrate_with_their_permissions():
    support, moderator, administrator = (
        Group.objects.get(name=name) for name in (roles.SUPPORT, roles.MODERATOR, roles.ADMINISTRATOR)
    )

    def perms(group: Group) -> set[str]:
        return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}

    assert {"accounts.unlock_account", "accounts.resend_verification", "consultations.view_consultation"} <= perms(
        support
    )
    assert "consultations.view_clinical" not in perms(support)
    assert "accounts.change_user" not in perms(support)
    assert {"doctors.verify_doctorprofile", "doctors.change_doctorreview"} <= perms(moderator)
    assert "accounts.view_user" not in perms(moderator)
    assert {"accounts.manage_staff", "consultations.view_clinical", "auth.change_group"} <= perms(administrator)


def test_making_the_roles_again_changes_nothing():
    before = {g.name: g.permissions.count() for g in Group.objects.all()}
    roles.ensure_staff_roles()
    roles.ensure_staff_roles()
    assert {g.name: g.permissions.count() for g in Group.objects.all()} == before


def test_every_admin_in_the_console_is_audited():
    registry = admin.site._registry.items()
    unaudited = [model.__name__ for model, model_admin in registry if not isinstance(model_admin, AuditedAdminMixin)]
    assert unaudited == []


# --- clinical fields by role -------------------------------------------------------------------------


def test_support_reads_a_consultation_without_its_clinical_notes():
    consultation = ConsultationFactory(doctor_notes=SECRET_NOTE, status="completed")

    response = console(staff_member(roles.SUPPORT)).get(change_url(consultation))

    assert response.status_code == 200
    html = response.content.decode()
    assert SECRET_NOTE not in html
    assert "Recurring headache" not in html  # the chief complaint and symptoms
    assert consultation.pk in html


def test_an_administrator_reads_the_clinical_notes():
    consultation = ConsultationFactory(doctor_notes=SECRET_NOTE, status="completed")
    response = console(staff_member(roles.ADMINISTRATOR)).get(change_url(consultation))
    assert SECRET_NOTE in response.content.decode()


def test_support_reads_a_message_without_its_body():
    message = MessageFactory(body="The rash is on my inner thigh")
    response = console(staff_member(roles.SUPPORT)).get(change_url(message))
    assert response.status_code == 200
    assert "inner thigh" not in response.content.decode()


def test_support_cannot_open_patient_profiles_or_prescription_items():
    client = console(staff_member(roles.SUPPORT))
    profile = patient_with_profile().patient_profile
    assert client.get(change_url(profile)).status_code == 403
    assert client.get(reverse("admin:prescriptions_prescriptionitem_changelist")).status_code == 403


# --- staff access: only administrators manage staff ------------------------------------------------------


def test_a_moderator_cannot_open_the_user_admin_at_all():
    client = console(staff_member(roles.MODERATOR))
    assert client.get(changelist_url(User)).status_code == 403
    assert client.get(change_url(PatientUserFactory())).status_code == 403


def test_support_sees_staff_fields_only_as_text():
    patient = PatientUserFactory()
    response = console(staff_member(roles.SUPPORT)).get(change_url(patient))
    assert response.status_code == 200
    assert 'name="is_staff"' not in response.content.decode()
    assert 'name="groups"' not in response.content.decode()


def test_staff_who_may_change_users_still_cannot_grant_staff_access():
    from django.contrib.auth.models import Permission

    editor = staff_member(roles.SUPPORT)
    editor.user_permissions.add(Permission.objects.get(codename="change_user", content_type__app_label="accounts"))
    patient = PatientUserFactory()
    client = console(editor)

    page = client.get(change_url(patient))
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields if name != "password"}
    data.update(is_staff="on", is_superuser="on", groups=[Group.objects.get(name=roles.ADMINISTRATOR).pk])
    client.post(change_url(patient), data)

    patient.refresh_from_db()
    assert not patient.is_staff and not patient.is_superuser
    assert not patient.groups.exists()
    # ... nor edit a member of staff (their password, their address) at all.
    other_staff = staff_member(roles.SUPPORT)
    assert client.post(change_url(other_staff), {"email": "taken@example.test"}).status_code == 403


def test_an_administrator_grants_staff_access():
    administrator = console(staff_member(roles.ADMINISTRATOR))
    patient = PatientUserFactory()
    page = administrator.get(change_url(patient))
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields if name not in ("password", "user_permissions")}
    data.update(is_staff="on", groups=[Group.objects.get(name=roles.SUPPORT).pk], timezone="Asia/Kolkata")
    data = {k: v for k, v in data.items() if v is not None}
    response = administrator.post(change_url(patient), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    patient.refresh_from_db()
    assert patient.is_staff
    assert list(patient.groups.values_list("name", flat=True)) == [roles.SUPPORT]


def test_groups_are_for_administrators_only():
    assert console(staff_member(roles.SUPPORT)).get(changelist_url(Group)).status_code == 403
    assert console(staff_member(roles.ADMINISTRATOR)).get(changelist_url(Group)).status_code == 200


# --- actions through the services ----------------------------------------------------------------------------


def test_a_moderator_verifies_a_doctor():
    profile = pending_doctor()
    client = console(staff_member(roles.MODERATOR))
    rows_before = AdminLog.objects.filter(table_name="doctor_profiles", record_id=profile.pk).count()
    response = client.post(
        changelist_url(profile), {"action": "verify_doctors", "_selected_action": [profile.pk]}, follow=True
    )
    profile.refresh_from_db()
    assert profile.verification_status == VerificationStatus.VERIFIED
    assert "Verified 1 doctor; they are notified." in [str(m) for m in response.context["messages"]]
    # One row, the service's: the action adds none of its own.
    assert AdminLog.objects.filter(table_name="doctor_profiles", record_id=profile.pk).count() == rows_before + 1


def test_a_rejection_asks_for_a_reason_first():
    profile = pending_doctor()
    client = console(staff_member(roles.MODERATOR))
    data = {"action": "reject_doctors", "_selected_action": [profile.pk], "apply": "yes", "reason": ""}
    response = client.post(changelist_url(profile), data)
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    profile.refresh_from_db()
    assert profile.verification_status == VerificationStatus.PENDING


def test_support_unlocks_an_account_with_one_audit_row():
    locked = PatientUserFactory(locked_until=timezone.now() + timedelta(minutes=30), failed_login_attempts=5)
    client = console(staff_member(roles.SUPPORT))
    client.post(changelist_url(User), {"action": "unlock_accounts", "_selected_action": [locked.pk]})
    locked.refresh_from_db()
    assert locked.locked_until is None
    assert AdminLog.objects.filter(table_name="users", record_id=locked.pk).count() == 1


def test_support_resends_a_verification_email():
    unverified = PatientUserFactory(email_verified=False)
    client = console(staff_member(roles.SUPPORT))
    mail.outbox.clear()
    response = client.post(
        changelist_url(User), {"action": "resend_verification", "_selected_action": [unverified.pk]}, follow=True
    )
    assert "Sent 1 verification link." in [str(m) for m in response.context["messages"]]
    assert [m.to for m in mail.outbox] == [[unverified.email]]
    log = AdminLog.objects.get(table_name="users", record_id=unverified.pk)
    assert log.description == "Verification email resent by staff."


def test_support_has_no_cancel_action_and_an_administrator_has():
    ConsultationFactory()
    assert "cancel_consultations" not in action_names(
        console(staff_member(roles.SUPPORT)).get(changelist_url(Consultation))
    )
    assert "cancel_consultations" in action_names(
        console(staff_member(roles.ADMINISTRATOR)).get(changelist_url(Consultation))
    )


def test_staff_cancel_a_paid_consultation_and_the_refund_is_shown_then_settled():
    consultation = ConsultationFactory(
        doctor=verified_doctor(), payment_status="paid", payment_method="offline", fee_amount=Decimal("500.00")
    )
    client = console(staff_member(roles.ADMINISTRATOR))
    selected = {"action": "cancel_consultations", "_selected_action": [consultation.pk]}

    ask = client.post(changelist_url(Consultation), selected)
    assert "refund INR 500.00 of 500.00" in ask.content.decode()

    nothing = client.post(changelist_url(Consultation), {**selected, "apply": "yes", "reason": "  "})
    assert nothing.context["form"].errors["reason"]
    consultation.refresh_from_db()
    assert consultation.status == "scheduled"

    client.post(changelist_url(Consultation), {**selected, "apply": "yes", "reason": "Doctor is unwell today."})
    consultation.refresh_from_db()
    assert consultation.status == "cancelled"
    assert consultation.cancellation_reason == "Doctor is unwell today."
    assert consultation.payment_status == "refund_pending"
    assert consultation.refund_amount == Decimal("500.00")
    # consultation_transition wrote the row; the action added none.
    rows = AdminLog.objects.filter(table_name="consultations", record_id=consultation.pk, action="update")
    assert rows.count() == 1


def test_staff_restore_a_soft_deleted_consultation_with_an_audit_row():
    consultation = ConsultationFactory()
    consultation.soft_delete()
    client = console(staff_member(roles.ADMINISTRATOR))
    client.post(changelist_url(Consultation), {"action": "restore_rows", "_selected_action": [consultation.pk]})
    consultation.refresh_from_db()
    assert consultation.deleted_at is None
    log = AdminLog.objects.get(table_name="consultations", record_id=consultation.pk, action="restore")
    assert log.new_values == {"deleted_at": None}


def test_accounts_are_not_restored_by_a_flag():
    response = console(staff_member(roles.ADMINISTRATOR)).get(changelist_url(User))
    assert "restore_rows" not in action_names(response)


# --- the dashboard ---------------------------------------------------------------------------------------------


def tiles(sections) -> dict[str, tuple[int, str]]:
    return {tile.label: (tile.count, tile.url) for section in sections for tile in section.tiles}


def make_dashboard_rows(n: int) -> None:
    now = timezone.now()
    for _ in range(n):
        ConsultationFactory(scheduled_at=now + timedelta(minutes=5), status="scheduled")
        ConsultationFactory(payment_status="failed")
        AIConsultationFactory(triage_level="emergency")
        pending_doctor()
        DoctorReviewFactory(comment="Did not listen at all.")
        PatientUserFactory(locked_until=now + timedelta(minutes=10))


def test_the_dashboard_counts_what_needs_staff_and_links_to_exactly_those_rows():
    make_dashboard_rows(2)
    ConsultationFactory(scheduled_at=timezone.now() + timedelta(days=3))  # not today
    AIConsultationFactory(triage_level="emergency", created_at=timezone.now() - timedelta(days=9))  # too old
    DoctorReviewFactory(comment="")  # no words to moderate
    staff = staff_member(roles.ADMINISTRATOR)
    client = console(staff)

    found = tiles(staff_dashboard(user=staff))

    expected = {
        "Scheduled": 2,
        "Failed or disputed payments": 2,
        "AI emergencies, last 7 days": 2,
        "Doctors awaiting verification": 2,
        "Reviews awaiting moderation": 2,
        "Locked accounts": 2,
    }
    for label, count in expected.items():
        assert found[label][0] == count, label
        listed = client.get(found[label][1])
        assert listed.status_code == 200, label
        assert listed.context["cl"].result_count == count, label
    page = client.get(reverse("admin:index")).content.decode()
    assert "Doctors awaiting verification" in page
    assert 'id="staff-dashboard"' in page
    assert "Site administration" in page or "app-accounts" in page  # the app list is still there


def test_the_dashboard_costs_four_queries_however_many_rows(django_assert_num_queries):
    staff = staff_member(roles.ADMINISTRATOR)
    staff = User.objects.get(pk=staff.pk)
    staff.has_perm("accounts.view_user")  # permissions are cached on the user after the first look
    make_dashboard_rows(1)
    # consultations (one conditional aggregate), pending doctors, reviews, locked accounts
    with django_assert_num_queries(4):
        few = tiles(staff_dashboard(user=staff))
    make_dashboard_rows(4)
    with django_assert_num_queries(4):
        many = tiles(staff_dashboard(user=staff))
    assert many["Locked accounts"][0] == few["Locked accounts"][0] + 4


def test_a_moderator_sees_only_the_doctor_tiles():
    moderator = staff_member(roles.MODERATOR)
    labels = set(tiles(staff_dashboard(user=moderator)))
    assert labels == {"Doctors awaiting verification", "Reviews awaiting moderation"}


# --- list pages: a fixed number of queries ------------------------------------------------------------------


def make_user(i: int) -> None:
    if i % 3 == 0:
        patient_with_profile()
    elif i % 3 == 1:
        verified_doctor()
    else:
        PatientUserFactory(email=None, phone=f"+9197{i:08d}")


def make_consultation(i: int) -> None:
    if i % 3 == 2:
        AIConsultationFactory(patient=patient_with_profile())
    else:
        ConsultationFactory(patient=patient_with_profile(), doctor=verified_doctor())


def make_message(i: int) -> None:
    MessageFactory(consultation=ConsultationFactory(patient=patient_with_profile(), doctor=verified_doctor()))


@pytest.mark.parametrize(
    "model, make_row", [(User, make_user), (Consultation, make_consultation), ("message", make_message)]
)
@pytest.mark.parametrize("role", [roles.SUPPORT, roles.ADMINISTRATOR])
def test_the_big_changelists_cost_the_same_for_30_rows_as_for_3(model, make_row, role):
    url = reverse("admin:consultations_message_changelist") if model == "message" else changelist_url(model)
    client = console(staff_member(role))
    (few_queries, few_rows), (many_queries, many_rows) = changelist_growth(client, url, make_row)
    assert many_rows >= few_rows + 27
    assert many_queries == few_queries


# --- db_roles ------------------------------------------------------------------------------------------------


def roles_sql(**options) -> str:
    out = io.StringIO()
    call_command("db_roles", stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def test_db_roles_prints_per_table_grants_with_an_append_only_audit_trail():
    sql = roles_sql(app_user="dh_app", readonly_user="dh_ro", database="dhanwantari", host="10.0.%")

    assert "CREATE USER IF NOT EXISTS 'dh_app'@'10.0.%'" in sql
    assert "GRANT SELECT ON `dhanwantari`.`consultations` TO 'dh_ro'@'10.0.%';" in sql
    assert "GRANT SELECT ON `dhanwantari`.* TO" not in sql
    assert "GRANT SELECT, INSERT ON `dhanwantari`.`admin_logs` TO 'dh_app'@'10.0.%';" in sql
    assert "GRANT SELECT, INSERT, UPDATE, DELETE ON `dhanwantari`.`consultations` TO 'dh_app'@'10.0.%';" in sql
    assert "GRANT SELECT, INSERT, UPDATE, DELETE ON `dhanwantari`.`users` TO 'dh_app'@'10.0.%';" in sql
    assert "GRANT SELECT ON `dhanwantari`.`active_doctors` TO 'dh_app'@'10.0.%';" in sql
    assert "UPDATE, DELETE ON `dhanwantari`.`admin_logs`" not in sql


def test_the_read_only_role_cannot_read_sessions_tokens_mfa_secrets_or_password_hashes():
    sql = roles_sql(readonly_user="dh_ro", database="dhanwantari")
    readonly = [line for line in sql.splitlines() if line.endswith("TO 'dh_ro'@'%';")]

    assert readonly
    for secret in (
        "django_session",
        "mfa_authenticator",
        "account_emailconfirmation",
        "password_reset_tokens",
        "email_verification_tokens",
        "django_tasks_database_dbtaskresult",
    ):
        assert not any(f"`{secret}`" in line for line in readonly), secret
    [users] = [line for line in readonly if "`dhanwantari`.`users`" in line]
    assert users.startswith("GRANT SELECT (") and "`email`" in users and "`password`" not in users
    assert "GRANT SELECT ON `dhanwantari`.`active_doctors` TO 'dh_ro'@'%';" in sql


def test_db_roles_reads_the_passwords_from_the_environment_not_the_command_line(monkeypatch):
    from django.core.management.base import CommandError

    monkeypatch.setenv("DB_APP_PASSWORD", "app-secret")
    monkeypatch.setenv("DB_READONLY_PASSWORD", "ro-secret")
    sql = roles_sql(database="dhanwantari")
    assert "CREATE USER IF NOT EXISTS 'dh_app'@'%' IDENTIFIED BY 'app-secret';" in sql
    assert "CREATE USER IF NOT EXISTS 'dh_readonly'@'%' IDENTIFIED BY 'ro-secret';" in sql

    monkeypatch.delenv("DB_APP_PASSWORD")
    monkeypatch.delenv("DB_READONLY_PASSWORD")
    assert "IDENTIFIED BY '<APP_PASSWORD>'" in roles_sql(database="dhanwantari")
    with pytest.raises((CommandError, TypeError)):
        roles_sql(app_password="on-the-command-line")


def test_db_roles_refuses_a_name_that_could_inject_sql():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        roles_sql(app_user="x'; DROP USER root; --")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "mysql", reason="database roles are MySQL/MariaDB's")
def test_the_application_role_may_insert_into_the_audit_trail_but_never_update_it(monkeypatch):
    import MySQLdb

    suffix = secrets.token_hex(4)
    app_user, readonly_user, password = f"dh_app_{suffix}", f"dh_ro_{suffix}", secrets.token_urlsafe(16)
    settings_dict = connection.settings_dict
    monkeypatch.setenv("DB_APP_PASSWORD", password)
    monkeypatch.setenv("DB_READONLY_PASSWORD", password)
    sql = roles_sql(app_user=app_user, readonly_user=readonly_user, host="%")
    try:
        with connection.cursor() as cursor:
            for statement in sql.splitlines():
                if statement and not statement.startswith("--"):
                    cursor.execute(statement)
        as_app = MySQLdb.connect(
            host=settings_dict["HOST"] or "127.0.0.1",
            port=int(settings_dict["PORT"] or 3306),
            user=app_user,
            password=password,
            database=settings_dict["NAME"],
        )
        try:
            cursor = as_app.cursor()
            cursor.execute(
                "INSERT INTO admin_logs (id, action, table_name, record_id, description, user_agent, created_at) "
                "VALUES (%s, 'view', 'users', '', 'role test', '', NOW())",
                [f"log_roletest{suffix}"],
            )
            as_app.commit()
            with pytest.raises(MySQLdb.OperationalError) as refused:
                cursor.execute("UPDATE admin_logs SET description = 'changed' WHERE id = %s", [f"log_roletest{suffix}"])
            assert refused.value.args[0] == 1142  # UPDATE command denied
            with pytest.raises(MySQLdb.OperationalError):
                cursor.execute("DELETE FROM admin_logs WHERE id = %s", [f"log_roletest{suffix}"])
            cursor.execute("UPDATE users SET login_count = login_count WHERE id = 'nobody'")  # other tables: allowed
        finally:
            as_app.close()
        assert AdminLog.objects.filter(pk=f"log_roletest{suffix}", description="role test").exists()
        as_readonly = MySQLdb.connect(
            host=settings_dict["HOST"] or "127.0.0.1",
            port=int(settings_dict["PORT"] or 3306),
            user=readonly_user,
            password=password,
            database=settings_dict["NAME"],
        )
        try:
            cursor = as_readonly.cursor()
            cursor.execute("SELECT email FROM users WHERE id = 'nobody'")  # other columns: allowed
            with pytest.raises(MySQLdb.OperationalError):
                cursor.execute("SELECT password FROM users")
            with pytest.raises(MySQLdb.OperationalError):
                cursor.execute("SELECT session_key FROM django_session")
        finally:
            as_readonly.close()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP USER IF EXISTS '{app_user}'@'%'")
            cursor.execute(f"DROP USER IF EXISTS '{readonly_user}'@'%'")


def test_staff_move_a_consultation_to_a_free_slot_of_the_doctor():
    from consultations.services import consultation_book
    from doctors.availability import bookable_slots
    from doctors.tests.factories import DoctorProfileFactory

    profile = DoctorProfileFactory(consultation_modes=["video"])
    today = timezone.localdate()
    first, second = bookable_slots(profile, today + timedelta(days=3), today + timedelta(days=10))[:2]
    consultation = consultation_book(
        patient=PatientUserFactory(),
        doctor_profile=profile,
        mode="video",
        slot_start=first.start,
        chief_complaint="Cough",
    )
    client = console(staff_member(roles.ADMINISTRATOR))
    selected = {"action": "move_consultation", "_selected_action": [consultation.pk], "apply": "yes"}

    refused = client.post(changelist_url(Consultation), {**selected, "slot_start": "2001-01-01 03:00"})
    assert refused.status_code == 200
    assert refused.context["form"].errors["slot_start"]

    local = timezone.localtime(second.start).strftime("%Y-%m-%d %H:%M")
    client.post(changelist_url(Consultation), {**selected, "slot_start": local})
    consultation.refresh_from_db()
    assert consultation.scheduled_at == second.start
    assert AdminLog.objects.filter(record_id=consultation.pk, old_values__scheduled_at=first.start.isoformat()).exists()


def test_support_staff_cannot_open_prescriptions_or_medical_files_but_administrators_can():
    from prescriptions.tests.factories import IssuedPrescriptionFactory
    from records.tests.factories import FileUploadFactory

    prescription = IssuedPrescriptionFactory()
    upload = FileUploadFactory()
    pages = [
        reverse("prescriptions:detail", args=[prescription.pk]),
        reverse("prescriptions:pdf", args=[prescription.pk]),
        reverse("records:view", args=[upload.pk]),
    ]

    support = console(staff_member(roles.SUPPORT))
    administrator = console(staff_member(roles.ADMINISTRATOR))

    assert [support.get(page).status_code for page in pages] == [404, 404, 404]
    assert [administrator.get(page).status_code for page in pages[:2]] == [200, 200]


def test_support_cannot_probe_hidden_clinical_text_through_changelist_url_filters():
    ConsultationFactory(chief_complaint="Suspected tuberculosis")
    support = console(staff_member(roles.SUPPORT))
    url = changelist_url(Consultation)

    probed = support.get(url, {"chief_complaint__icontains": "tuberculosis"})
    messages_probe = support.get(reverse("admin:consultations_message_changelist"), {"body__icontains": "x"})

    # A refused lookup is a bad request (DisallowedModelAdminLookup), never a filtered list.
    assert probed.status_code == 400
    assert messages_probe.status_code == 400
    administrator = console(staff_member(roles.ADMINISTRATOR))
    assert administrator.get(url, {"chief_complaint__icontains": "tuberculosis"}).status_code == 200


def test_an_mfa_secret_is_never_shown_in_the_admin_nor_written_to_the_trail():
    from allauth.mfa.models import Authenticator

    owner = StaffUserFactory()
    factor = Authenticator.objects.filter(user=owner).first()
    assert factor is not None and factor.data
    administrator = console(staff_member(roles.ADMINISTRATOR))

    page = administrator.get(change_url(factor)).content.decode()
    secret = str(factor.data.get("secret", ""))
    assert secret and secret not in page

    administrator.post(reverse("admin:mfa_authenticator_delete", args=[factor.pk]), {"post": "yes"})
    assert not Authenticator.objects.filter(pk=factor.pk).exists()
    row = AdminLog.objects.filter(record_id=str(factor.pk)).order_by("-created_at").first()
    assert row is not None and secret not in str(row.old_values)


def test_a_password_set_by_staff_in_the_admin_is_audited():
    target = PatientUserFactory()
    administrator = console(staff_member(roles.ADMINISTRATOR))

    response = administrator.post(
        reverse("admin:auth_user_password_change", args=[target.pk]),
        {"password1": "a-new-Passw0rd-123", "password2": "a-new-Passw0rd-123", "usable_password": "true"},
    )

    assert response.status_code == 302
    row = AdminLog.objects.get(record_id=target.pk, description__contains="new password")
    assert row.new_values == {"password": "[redacted]"}
