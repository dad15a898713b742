"""`manage.py generate_load_data` (dhanwantari/loadgen.py) at a tiny scale."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.models import Notification, User
from consultations.models import Consultation, ConsultationType, Message, PatientConsultationHistory, Status
from dhanwantari import loadgen
from doctors.models import ActiveDoctor, DoctorProfile, DoctorReview
from patients.models import PatientProfile
from prescriptions.models import Prescription, PrescriptionItem

pytestmark = pytest.mark.django_db

SCALE = 0.002  # 4 doctors, 100 patients, 400 consultations, 2,000 messages …
SAMPLE = 60  # rows of each table put through full_clean


def generate(*extra: str, seed: int = 7) -> str:
    out = StringIO()
    call_command("generate_load_data", "--scale", str(SCALE), "--seed", str(seed), "--force", *extra, stdout=out)
    return out.getvalue()


def shape() -> dict[str, object]:
    """What the same seed must reproduce: counts and the spread of the columns that matter."""

    def spread(model, *columns: str) -> dict:
        rows = model._base_manager.values_list(*columns).annotate(n=Count("pk")).order_by()
        return {tuple(row[:-1]): row[-1] for row in rows}

    return {
        "counts": loadgen.table_counts(),
        "consultations": spread(Consultation, "consultation_type", "status", "mode", "payment_status"),
        "doctors": spread(DoctorProfile, "verification_status", "city", "consultation_fee"),
        "messages": spread(Message, "message_type", "body"),
        "items": spread(PrescriptionItem, "potency_scale", "potency_value", "dosage_form"),
        "reviews": spread(DoctorReview, "rating", "is_visible"),
        "notifications": spread(Notification, "kind"),
    }


def test_it_fills_every_table_in_the_expected_proportions():
    out = generate()
    planned = loadgen.plan(SCALE)

    assert DoctorProfile.all_objects.count() == planned["doctors"]
    assert PatientProfile.all_objects.count() == planned["patients"]
    assert loadgen.generated_users().count() == planned["doctors"] + planned["patients"]
    assert Consultation.all_objects.count() == planned["consultations"]
    assert Message.all_objects.count() == planned["messages"]
    assert Prescription.all_objects.count() == planned["prescriptions"]
    assert PrescriptionItem.objects.count() >= planned["prescriptions"]
    assert DoctorReview.all_objects.count() == planned["reviews"]
    assert Notification.objects.count() == planned["notifications"]
    # Every status, both types and some AI intakes; most consultations finished.
    statuses = set(Consultation.all_objects.values_list("status", flat=True))
    assert statuses >= {Status.REQUESTED, Status.SCHEDULED, Status.COMPLETED, Status.CANCELLED}
    assert Consultation.all_objects.filter(consultation_type=ConsultationType.AI).exists()
    assert Consultation.all_objects.filter(scheduled_at__gt=timezone.now()).exists()
    assert "messages" in out and "Done in" in out


def test_every_generated_row_passes_its_models_full_clean():
    generate()
    for model in (
        User,
        DoctorProfile,
        PatientProfile,
        Consultation,
        Message,
        Prescription,
        PrescriptionItem,
        DoctorReview,
        Notification,
    ):
        rows = list(model._base_manager.order_by("?")[:SAMPLE])
        assert rows, model
        for row in rows:
            try:
                # full_clean checks the JSON columns against their schemas and every CheckConstraint.
                row.full_clean(exclude=["password"] if model is User else None)
            except ValidationError as exc:  # pragma: no cover - the message says which row broke what
                pytest.fail(f"{model.__name__} {row.pk}: {exc}")


def test_payment_columns_follow_the_status():
    generate()
    consultations = Consultation.all_objects
    assert not consultations.filter(payment_status="paid", paid_at__isnull=True).exists()
    assert not consultations.filter(payment_status="refunded", refunded_at__isnull=True).exists()
    assert (
        not consultations.filter(status=Status.CANCELLED)
        .exclude(payment_status__in=["refunded", "refund_pending", "not_required"])
        .exists()
    )
    assert not consultations.filter(status=Status.COMPLETED, doctor__isnull=False, ended_at__isnull=True).exists()
    ai = consultations.filter(consultation_type=ConsultationType.AI)
    assert not ai.exclude(payment_status="not_required", doctor__isnull=True).exists()


def test_reviews_are_of_completed_consultations_and_ratings_match_them():
    generate()
    assert not DoctorReview.all_objects.exclude(consultation__status=Status.COMPLETED).exists()
    assert not DoctorReview.all_objects.exclude(doctor_id=F("consultation__doctor_id")).exists()
    for profile in DoctorProfile.all_objects.annotate(
        visible=Count("user__reviews_received", filter=Q(user__reviews_received__is_visible=True))
    ):
        assert profile.rating_count == profile.visible
        assert (profile.rating_avg > 0) == (profile.visible > 0)


def test_the_spec_views_return_generated_rows():
    generate()
    assert ActiveDoctor.objects.count() >= 1
    patient_id = Consultation.all_objects.values_list("patient_id", flat=True).first()
    assert PatientConsultationHistory.objects.filter(patient_id=patient_id).exists()
    assert DoctorProfile.objects.filter(next_available_at__isnull=False).exists()


def test_it_refuses_a_second_run_without_append():
    generate()
    with pytest.raises(CommandError, match="already holds generated load data"):
        generate()
    generate("--append")
    assert Consultation.all_objects.count() == 2 * loadgen.plan(SCALE)["consultations"]


def test_it_refuses_to_run_with_debug_off_without_force(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match=loadgen.REFUSED_NOT_DEBUG[:20]):
        call_command("generate_load_data", "--scale", str(SCALE), stdout=StringIO())
    assert not loadgen.generated_users().exists()


def test_the_same_seed_gives_the_same_counts_and_distributions():
    def run(seed: int) -> dict[str, object]:
        with transaction.atomic():
            generate(seed=seed)
            result = shape()
            transaction.set_rollback(True)
        return result

    first, second, other = run(3), run(3), run(4)
    assert first == second
    assert first["consultations"] != other["consultations"]
