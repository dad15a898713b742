"""The audit trail: every write in the console, every read of a medical record by someone else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import models
from django.test import Client
from django.test.utils import isolate_apps
from django.urls import reverse
from django.utils import timezone

from accounts.audit import REDACTED, record_read, redacted_values
from accounts.models import AdminLog, User
from accounts.tests.factories import AdminLogFactory, PatientUserFactory, StaffUserFactory
from consultations.tests.factories import ConsultationFactory, MessageFactory
from doctors.tests.factories import verified_doctor
from patients.tests.factories import patient_with_profile
from prescriptions.models import Remedy

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (StaffConsoleTest)"


@pytest.fixture
def superuser() -> User:
    return StaffUserFactory()


@pytest.fixture
def console(superuser) -> Client:
    client = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7")
    client.force_login(superuser)
    client.get(reverse("admin:index"))  # the session's idle clock
    return client


def rows(**filters):
    return AdminLog.objects.filter(**filters)


# --- redaction ------------------------------------------------------------------------------------------


class EncryptedTextField(models.TextField):
    """Stands in for dhanwantari.crypto's field: recognised by its class name."""


@isolate_apps("accounts")
def test_secrets_and_clinical_text_are_redacted_and_the_rest_kept():
    class Sample(models.Model):
        case_notes = EncryptedTextField()
        city = models.CharField(max_length=20)

        class Meta:
            app_label = "accounts"

        def __str__(self) -> str:
            return self.city

    values = {
        "password": "pbkdf2_sha256$1$salt$hash",
        "token_hash": "abc",
        "totp_secret": "JBSWY3DP",
        "razorpay_api_key": "rzp_live_x",
        "doctor_notes": "grief",
        "case_notes": "encrypted text",
        "city": "Pune",
        "fee": 500,
    }
    assert redacted_values(Sample, values) == {
        "password": REDACTED,
        "token_hash": REDACTED,
        "totp_secret": REDACTED,
        "razorpay_api_key": REDACTED,
        "doctor_notes": REDACTED,
        "case_notes": REDACTED,
        "city": "Pune",
        "fee": 500,
    }


# --- writes in the console --------------------------------------------------------------------------------


def test_a_change_in_the_console_writes_one_row_with_before_after_ip_and_browser(console, superuser):
    remedy = Remedy.objects.create(name="Testium metallicum", abbreviation="Test-m.")
    console.post(
        reverse("admin:prescriptions_remedy_change", args=[remedy.pk]),
        {"name": "Testium metallicum", "abbreviation": "Tst-m.", "also_known_as": "", "active": "on"},
    )
    log = rows(table_name="remedies", record_id=str(remedy.pk)).get()
    assert log.user == superuser
    assert log.action == "update"
    assert log.old_values == {"abbreviation": "Test-m."}
    assert log.new_values == {"abbreviation": "Tst-m."}
    assert log.ip_address == "203.0.113.7"
    assert log.user_agent == BROWSER


def test_clinical_fields_changed_in_the_console_are_recorded_as_changed_not_copied(console):
    consultation = ConsultationFactory(doctor_notes="first impression", status="completed")
    url = reverse("admin:consultations_consultation_change", args=[consultation.pk])
    form = console.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["symptoms"] = form["symptoms"].value()
    data["doctor_notes"] = "Natrum muriaticum picture"
    response = console.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    log = rows(table_name="consultations", record_id=consultation.pk, action="update").get()
    assert log.old_values["doctor_notes"] == REDACTED
    assert log.new_values["doctor_notes"] == REDACTED
    assert "Natrum" not in str(log.new_values) and "first impression" not in str(log.old_values)


def test_adding_a_user_records_no_password(console):
    console.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "new.patient@example.test",
            "phone": "",
            "role": "patient",
            "usable_password": "true",
            "password1": "a long enough passphrase 42",
            "password2": "a long enough passphrase 42",
        },
    )
    user = User.objects.get(email="new.patient@example.test")
    log = rows(table_name="users", record_id=user.pk, action="create").get()
    assert log.new_values["password1"] == REDACTED
    assert "passphrase" not in str(log.new_values)


def test_a_delete_writes_one_row_per_row_deleted(console):
    one, two = Group.objects.create(name="Temp one"), Group.objects.create(name="Temp two")
    console.post(reverse("admin:auth_group_delete", args=[one.pk]), {"post": "yes"})
    console.post(
        reverse("admin:auth_group_changelist"),
        {"action": "delete_selected", "_selected_action": [two.pk], "post": "yes"},
    )
    assert not Group.objects.filter(name__startswith="Temp").exists()
    deleted = rows(table_name="auth_group", action="delete")
    assert sorted(deleted.values_list("record_id", flat=True)) == sorted([str(one.pk), str(two.pk)])
    assert deleted.get(record_id=str(one.pk)).old_values["name"] == "Temp one"


def test_an_action_without_a_service_writes_one_row_for_the_selection(console):
    # allauth's "mark verified" on its own admin: wrapped with the audit mixin at start-up.
    from allauth.account.models import EmailAddress

    address = EmailAddress.objects.get(user=PatientUserFactory(email_verified=False))
    console.post(
        reverse("admin:account_emailaddress_changelist"),
        {"action": "make_verified", "_selected_action": [address.pk]},
    )
    log = rows(table_name="account_emailaddress", action="action").get()
    assert log.new_values["action"] == "make_verified"
    assert log.new_values["ids"] == [str(address.pk)]


def test_an_intermediate_page_is_not_an_action_done(console):
    consultation = ConsultationFactory()
    before = AdminLog.objects.count()
    console.post(
        reverse("admin:consultations_consultation_changelist"),
        {"action": "cancel_consultations", "_selected_action": [consultation.pk]},
    )
    assert AdminLog.objects.count() == before


# --- the trail itself ------------------------------------------------------------------------------------


def test_the_trail_cannot_be_added_to_changed_or_deleted_even_by_a_superuser(console):
    log = AdminLogFactory()
    assert console.get(reverse("admin:accounts_adminlog_add")).status_code == 403
    change = reverse("admin:accounts_adminlog_change", args=[log.pk])
    assert console.post(change, {"description": "tampered"}).status_code == 403
    assert console.post(reverse("admin:accounts_adminlog_delete", args=[log.pk]), {"post": "yes"}).status_code == 403
    log.refresh_from_db()
    assert log.description != "tampered"


def test_the_trail_is_searchable_by_user_record_and_date(console, superuser):
    patient = PatientUserFactory()
    record_read(reader=superuser, table="users", record_id=patient.pk, patient_id=None, what="test")
    other = AdminLogFactory(record_id="cons_other")
    url = reverse("admin:accounts_adminlog_changelist")

    def found(**params) -> set[str]:
        return {row.record_id for row in console.get(url, params).context["cl"].result_list}

    assert found(q=patient.pk) == {patient.pk}
    assert found(q=superuser.email) == {patient.pk}
    assert found(q="cons_other") == {"cons_other"}
    assert other.record_id in found(table_name__exact=other.table_name)
    tomorrow = str(timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1))
    assert found(created_at__gte=tomorrow) == set()
    assert patient.pk in found(created_at__lt=tomorrow)


# --- reads of medical records --------------------------------------------------------------------------------


def test_staff_opening_a_consultation_page_writes_one_view_row(console, superuser):
    consultation = ConsultationFactory()
    url = reverse("admin:consultations_consultation_change", args=[consultation.pk])
    console.get(url)
    log = rows(table_name="consultations", record_id=consultation.pk, action="view").get()
    assert log.user == superuser
    assert log.new_values == {"what": "staff console", "patient_id": consultation.patient_id}
    assert log.ip_address == "203.0.113.7"


@pytest.mark.parametrize(
    "admin_name, make",
    [
        ("patients_patientprofile", lambda: patient_with_profile().patient_profile),
        ("consultations_message", MessageFactory),
    ],
)
def test_staff_opening_a_patient_profile_or_a_message_writes_one_view_row(console, admin_name, make):
    obj = make()
    console.get(reverse(f"admin:{admin_name}_change", args=[obj.pk]))
    assert rows(table_name=obj._meta.db_table, record_id=obj.pk, action="view").count() == 1


def test_opening_the_patients_list_reads_no_record(console):
    patient_with_profile()
    console.get(reverse("admin:patients_patientprofile_changelist"))
    assert not rows(action="view").exists()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    client.get(reverse("consultations:dashboard"))
    return client


def test_the_doctor_reading_a_consultation_page_is_recorded_and_the_patient_is_not():
    consultation = ConsultationFactory(patient=patient_with_profile(), doctor=verified_doctor())
    url = reverse("consultations:detail", args=[consultation.pk])

    signed_in(consultation.patient).get(url)
    assert not rows(action="view").exists()

    signed_in(consultation.doctor).get(url)
    log = rows(action="view", table_name="consultations").get()
    assert log.user == consultation.doctor
    assert log.new_values == {"what": "consultation page", "patient_id": consultation.patient_id}


def test_the_doctor_reading_the_room_is_recorded(django_assert_num_queries):
    consultation = ConsultationFactory(patient=patient_with_profile(), doctor=verified_doctor(), status="in_progress")
    MessageFactory(consultation=consultation)
    client = signed_in(consultation.doctor)
    url = reverse("consultations:room", args=[consultation.pk])
    client.get(url)
    # 1 session, 2 user, 3 the consultation, 4 the page of messages, 5 the audit
    # INSERT (the one query a doctor's read adds), 6 the header's badge, 7 the
    # header's profile. (test_room_page.py's 9 include the idle clock's 3 writes.)
    with django_assert_num_queries(7):
        client.get(url)
    assert rows(action="view", table_name="consultations", new_values__what="consultation room").count() == 2


def test_the_doctors_consultation_page_costs_one_insert_for_the_audit(django_assert_num_queries):
    consultation = ConsultationFactory(patient=patient_with_profile(), doctor=verified_doctor(), status="completed")
    client = signed_in(consultation.doctor)
    url = reverse("consultations:detail", args=[consultation.pk])
    client.get(url)
    # 1 session, 2 user, 3 the consultation, 4 its prescriptions (none, so no
    # remedies query), 5 the audit INSERT, 6 the header's badge, 7 the header's profile.
    with django_assert_num_queries(7):
        client.get(url)
