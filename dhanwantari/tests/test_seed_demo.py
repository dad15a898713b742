"""`manage.py seed_demo`: idempotent, complete, and consistent with the spec."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from accounts.models import AdminLog, EmailVerificationToken, Notification, PasswordResetToken, Role, User
from accounts.tests.factories import PatientUserFactory
from consultations.models import Consultation, Message, Status
from dhanwantari.demo import DEFAULT_PASSWORD, REFUSED_REAL_DATA, rating_decimal
from dhanwantari.tests.test_sample_queries import CALCULATE_DOCTOR_RATING
from doctors.models import ActiveDoctor, DoctorProfile, DoctorReview
from patients.models import PatientProfile
from prescriptions.models import Prescription, PrescriptionItem
from records.models import FileUpload

pytestmark = pytest.mark.django_db

# The spec's 13 tables, counted through managers that also see soft-deleted rows.
TABLES = {
    "users": User.all_objects,
    "patient_profiles": PatientProfile.all_objects,
    "doctor_profiles": DoctorProfile.all_objects,
    "consultations": Consultation.all_objects,
    "messages": Message.all_objects,
    "prescriptions": Prescription.all_objects,
    "prescription_items": PrescriptionItem.objects,
    "file_uploads": FileUpload.all_objects,
    "notifications": Notification.objects,
    "admin_logs": AdminLog.objects,
    "password_reset_tokens": PasswordResetToken.objects,
    "email_verification_tokens": EmailVerificationToken.objects,
    "doctor_reviews": DoctorReview.all_objects,
}


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def snapshot() -> dict[str, list[str]]:
    return {table: sorted(manager.values_list("pk", flat=True)) for table, manager in TABLES.items()}


def test_running_it_twice_leaves_the_same_rows():
    seed()
    first = snapshot()
    passwords = dict(User.objects.values_list("id", "password"))

    seed()

    assert snapshot() == first
    assert dict(User.objects.values_list("id", "password")) == passwords
    counts = {table: len(ids) for table, ids in first.items()}
    assert counts["users"] == 20  # 19 sign-in accounts and the AI assistant's
    assert counts["patient_profiles"] == 10
    assert counts["doctor_profiles"] == 8
    assert counts["consultations"] >= 18
    assert all(counts[t] > 0 for t in ("messages", "prescriptions", "prescription_items", "notifications"))
    assert counts["doctor_reviews"] > 0
    assert counts["file_uploads"] == 0


def test_running_it_again_puts_edited_demo_rows_back():
    seed()
    Consultation.objects.filter(id="cons_demo_003").update(status="cancelled")
    Consultation.objects.get(id="cons_demo_007").soft_delete()
    User.objects.filter(id="patient_001").update(is_active=False, failed_login_attempts=5)

    seed()

    assert Consultation.objects.get(id="cons_demo_003").status == "scheduled"
    assert Consultation.objects.get(id="cons_demo_007").deleted_at is None
    patient = User.objects.get(id="patient_001")
    assert (patient.is_active, patient.failed_login_attempts) == (True, 0)


def test_every_consultation_status_and_both_types_are_present():
    seed()

    assert set(Consultation.objects.values_list("status", flat=True)) == set(Status.values)
    ai = Consultation.objects.filter(consultation_type="ai")
    assert ai.exists()
    assert all(c.doctor_id is None and c.triage_level for c in ai)
    assert set(ai.values_list("triage_level", flat=True)) >= {"routine", "emergency"}
    assert Consultation.objects.filter(consultation_type="doctor", doctor__isnull=False).exists()


def test_doctor_001_has_future_appointments_with_patient_001():
    seed()

    upcoming = Consultation.objects.filter(
        doctor_id="doctor_001", patient_id="patient_001", status="scheduled", scheduled_at__gt=timezone.now()
    )
    assert upcoming.count() >= 2


def test_demo_logins_exist_with_the_default_password():
    seed()

    patient = User.objects.get(id="patient_001")
    doctor = User.objects.get(id="doctor_001")
    admin = User.objects.get(id="admin_001")
    assert (patient.role, patient.email) == (Role.PATIENT, "asha.rao@demo.dhanwantari.in")
    assert patient.patient_profile.full_name == "Asha Rao"
    assert doctor.role == Role.DOCTOR
    assert doctor.doctor_profile.is_verified
    assert (admin.role, admin.is_staff, admin.is_superuser) == (Role.ADMIN, True, True)
    # Every sign-in account; the AI assistant's (the sender of its messages) has none.
    for user in User.objects.exclude(email=settings.AI_ASSISTANT_EMAIL):
        assert user.check_password(DEFAULT_PASSWORD), user.id
        assert user.email_verified, user.id
        assert user.email.endswith("@demo.dhanwantari.in"), user.id


def test_the_password_comes_from_demo_password(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "another-demo-secret")

    output = seed()

    assert User.objects.get(id="doctor_001").check_password("another-demo-secret")
    assert not User.objects.get(id="doctor_001").check_password(DEFAULT_PASSWORD)
    assert "another-demo-secret" not in output


def test_it_prints_the_demo_logins():
    output = seed()

    assert DEFAULT_PASSWORD in output
    for email, user_id in [
        ("asha.rao@demo.dhanwantari.in", "patient_001"),
        ("meera.deshpande@demo.dhanwantari.in", "doctor_001"),
        ("admin@demo.dhanwantari.in", "admin_001"),
    ]:
        line = next(line for line in output.splitlines() if user_id in line)
        assert email in line


def test_it_refuses_a_database_with_real_accounts_when_debug_is_off(settings):
    settings.DEBUG = False
    PatientUserFactory()

    with pytest.raises(CommandError, match="--force"):
        seed()

    assert REFUSED_REAL_DATA.startswith("This database")
    assert User.objects.count() == 1
    seed(force=True)
    assert User.objects.exclude(email=settings.AI_ASSISTANT_EMAIL).count() == 20


def test_active_doctors_lists_verified_doctors_only():
    seed()

    statuses = dict(DoctorProfile.objects.values_list("user_id", "verification_status"))
    assert statuses["doctor_007"] == "pending"
    assert statuses["doctor_008"] == "rejected"
    listed = set(ActiveDoctor.objects.values_list("user_id", flat=True))
    assert listed == {user_id for user_id, status in statuses.items() if status == "verified"}
    assert len(listed) == 6
    assert not listed & {"doctor_007", "doctor_008"}


def test_rating_avg_equals_the_specs_rating_query():
    seed()

    with connection.cursor() as cursor:
        cursor.execute(CALCULATE_DOCTOR_RATING)
        spec = {doctor_id: (avg, total) for doctor_id, avg, total in cursor.fetchall()}

    assert spec
    for profile in DoctorProfile.objects.all():
        avg, total = spec.get(profile.user_id, (0, 0))
        assert profile.rating_avg == rating_decimal(avg), profile.user_id
        assert profile.rating_count == total, profile.user_id
    assert DoctorReview.objects.filter(is_visible=False).exists()


def test_payments_follow_the_consultation_status():
    seed()

    for c in Consultation.objects.all():
        if c.consultation_type == "ai":
            assert (c.payment_status, c.fee_amount) == ("not_required", 0), c.id
        elif c.status == "completed":
            assert c.payment_status == "paid" and c.paid_at is not None, c.id
        if c.payment_status == "paid":
            assert c.paid_at is not None and c.payment_reference, c.id
        if c.payment_status == "refunded":
            assert c.status == "cancelled" and c.refunded_at is not None, c.id
            assert c.refund_amount == c.fee_amount, c.id
        if c.status == "cancelled":
            assert c.cancelled_at is not None and c.cancelled_by_id, c.id
        if c.status in ("requested", "scheduled"):
            assert c.started_at is None, c.id
    assert Consultation.objects.filter(payment_status="refunded").exists()


def test_prescriptions_cover_issued_and_draft_and_every_potency_scale():
    seed()

    assert set(Prescription.objects.values_list("status", flat=True)) == {"issued", "draft"}
    for rx in Prescription.objects.all():
        assert rx.consultation.status == "completed", rx.id
        assert (rx.patient_id, rx.doctor_id) == (rx.consultation.patient_id, rx.consultation.doctor_id)
        assert rx.items.exists(), rx.id
        assert (rx.issued_at is not None) == (rx.status == "issued"), rx.id
    potencies = {item.potency for item in PrescriptionItem.objects.all()}
    assert {"30C", "200C", "1M", "6X", "LM1", "Q"} <= potencies


def test_profiles_have_computed_bmi_and_structured_json():
    seed()

    for profile in PatientProfile.objects.all():
        assert profile.bmi is not None, profile.user_id
        assert profile.age is not None, profile.user_id
    asha = PatientProfile.objects.get(user_id="patient_001")
    assert asha.bmi == Decimal("22.46")
    assert {"name": "Pollen", "severity": "moderate", "reaction": "sneezing, watery eyes"} in asha.allergies
    assert asha.medications == [{"name": "Cetirizine", "dosage": "10mg", "frequency": "as needed"}]
    overrides = DoctorProfile.objects.get(user_id="doctor_001").availability["overrides"]
    assert any(o["ranges"] == [] for o in overrides)


def test_messages_notifications_and_reviews_are_seeded():
    seed()

    types = Counter(Message.objects.values_list("message_type", flat=True))
    assert types["text"] > 0 and types["system"] > 0
    assert Message.objects.values("consultation").distinct().count() >= 4
    mine = Notification.objects.filter(user_id="patient_001")
    assert mine.filter(read_at__isnull=True).exists()
    assert mine.filter(read_at__isnull=False).exists()
    for review in DoctorReview.objects.all():
        assert review.consultation.status == "completed", review.id
        assert (review.doctor_id, review.patient_id) == (review.consultation.doctor_id, review.consultation.patient_id)
    hidden = DoctorReview.objects.get(is_visible=False)
    assert hidden.hidden_reason and hidden.moderated_by_id == "admin_001"
